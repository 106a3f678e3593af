"""The kubectl provider's ServiceToken stays the same function, and every stack reaches it the same way.

CloudFormation refuses to change a custom resource's `ServiceToken` ("Updates aren't supported"): if the
provider's entry point were replaced (a renamed logical id after a CDK upgrade, or a create-only property
set), every manifest would be stranded on a deleted function. These tests fail on any such change.
"""

from __future__ import annotations

import pytest

from tests.unit.conftest import STACK_ROLES

# aws-cdk-lib 2.275's id for `Eks/Cluster/KubectlProvider/Provider/framework-onEvent`, pinned in
# stacks/constructs/eks_cluster.py: the function deployed stacks already have.
ENTRY_POINT = "EksClusterKubectlProviderframeworkonEvent13CC64B3"
# The export aws-cdk-lib derives from that id (same suffix in every stage: only the stack name differs).
EXPORT_SUFFIX = "ExportsOutputFnGetAttEksClusterKubectlProviderframeworkonEvent13CC64B3Arn2A052BF7"
STAGES = {"dev": "Dev", "prod": "Prod", "auto": "Auto"}
# AWS::Lambda::Function's create-only properties (cfn-lint's schema): setting any of them replaces it.
LAMBDA_CREATE_ONLY = ("FunctionName", "PackageType", "TenancyConfig")
KUBECTL_RESOURCE_TYPES = ("Custom::AWSCDK-EKS-KubernetesResource", "Custom::AWSCDK-EKS-HelmChart")


def _kubectl_resources(template: dict) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] in KUBECTL_RESOURCE_TYPES}


@pytest.mark.parametrize("variant", STAGES)
def test_entry_point_keeps_its_logical_id_and_is_never_replaced(synthesized, variant):
    resources = synthesized[variant].templates["Cluster"]["Resources"]
    function = resources[ENTRY_POINT]
    assert function["Type"] == "AWS::Lambda::Function"
    assert function["Properties"]["Handler"] == "framework.onEvent"
    for create_only in LAMBDA_CREATE_ONLY:
        assert create_only not in function["Properties"], f"{create_only} would replace the entry point"
    # The cluster stack's own manifests and charts use it directly.
    local = _kubectl_resources(synthesized[variant].templates["Cluster"])
    assert local
    for logical_id, resource in local.items():
        assert resource["Properties"]["ServiceToken"] == {"Fn::GetAtt": [ENTRY_POINT, "Arn"]}, logical_id


@pytest.mark.parametrize("variant", STAGES)
def test_entry_point_is_exported_under_a_fixed_name(synthesized, variant):
    outputs = synthesized[variant].templates["Cluster"]["Outputs"]
    export_name = f"{STAGES[variant]}-Cluster:{EXPORT_SUFFIX}"
    exporting = {
        name: output
        for name, output in outputs.items()
        if output.get("Value") == {"Fn::GetAtt": [ENTRY_POINT, "Arn"]}
    }
    # The strong export, and the weak output that stacks deployed before the pin read (kept so that
    # rolling back their first update can still resolve it).
    assert exporting == {
        "ExportsOutputFnGetAttEksClusterKubectlProviderframeworkonEvent13CC64B3Arn2A052BF7": {
            "Value": {"Fn::GetAtt": [ENTRY_POINT, "Arn"]},
            "Export": {"Name": export_name},
        },
        "PublishOutputFnGetAttEksClusterKubectlProviderframeworkonEvent13CC64B3Arn5186E981": {
            "Value": {"Fn::GetAtt": [ENTRY_POINT, "Arn"]},
        },
    }


@pytest.mark.parametrize("variant", STAGES)
def test_every_other_stack_imports_exactly_that_export(synthesized, variant):
    synth = synthesized[variant]
    import_value = {"Fn::ImportValue": f"{STAGES[variant]}-Cluster:{EXPORT_SUFFIX}"}
    seen = {}
    for role in STACK_ROLES:
        if role == "Cluster":
            continue
        template = synth.templates[role]
        resources = _kubectl_resources(template)
        seen[role] = len(resources)
        for logical_id, resource in resources.items():
            assert resource["Properties"]["ServiceToken"] == import_value, f"{role}/{logical_id}"
        # Nothing else in the stack reads the entry point by a weak reference.
        assert ENTRY_POINT not in _stack_outputs_read(template), role
    # The stacks whose manifests the token must keep reachable (so the loop above cannot pass empty).
    assert seen["Workloads"] >= 4
    assert seen["Monitoring"] >= 5
    assert seen["Verification"] >= 1


def _stack_outputs_read(template: dict) -> str:
    """The output names the stack reads with `Fn::GetStackOutput`, joined."""
    names: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if "Fn::GetStackOutput" in value:
                names.append(str(value["Fn::GetStackOutput"].get("OutputName")))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(template)
    return " ".join(names)
