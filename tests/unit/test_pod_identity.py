"""Pod Identity roles: one per service account, trusted only for that account of this cluster; and the
database secret's own key, which only the pods' roles (and the deployer setting the value) may decrypt."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.unit.conftest import render_tokens

ASSOCIATION = "AWS::EKS::PodIdentityAssociation"


def _role_of(template: dict[str, Any], role_arn: Any) -> dict[str, Any]:
    logical_id = role_arn["Fn::GetAtt"][0]
    return template["Resources"][logical_id]


@pytest.mark.parametrize("role", ["Workloads", "Monitoring"])
def test_each_service_account_has_a_role_of_its_own(dev, role):
    template = dev.templates[role]
    associations = [r for r in template["Resources"].values() if r["Type"] == ASSOCIATION]
    assert associations
    role_ids = [a["Properties"]["RoleArn"]["Fn::GetAtt"][0] for a in associations]
    assert len(set(role_ids)) == len(associations), "two service accounts share a role"


@pytest.mark.parametrize("role", ["Workloads", "Monitoring"])
def test_trust_is_limited_to_the_account_the_cluster_and_the_service_account(dev, role):
    template = dev.templates[role]
    for association in (r for r in template["Resources"].values() if r["Type"] == ASSOCIATION):
        props = association["Properties"]
        trust = _role_of(template, props["RoleArn"])["Properties"]["AssumeRolePolicyDocument"]
        (statement,) = trust["Statement"]
        assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
        assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
        equals = statement["Condition"]["StringEquals"]
        assert equals["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}  # dev has no account: the deploy's
        assert equals["aws:RequestTag/kubernetes-namespace"] == props["Namespace"]
        assert equals["aws:RequestTag/kubernetes-service-account"] == props["ServiceAccount"]
        assert "aws:RequestTag/eks-cluster-arn" in equals
        # This cluster's associations: arn:...:eks:<region>:<account>:podidentityassociation/<cluster>/*
        source_arn = render_tokens(statement["Condition"]["ArnLike"]["aws:SourceArn"])
        assert re.fullmatch(r"arn:aws:eks:us-east-1:<token>:podidentityassociation/<token>/\*", source_arn)


def test_ebs_csi_role_is_trusted_for_its_controller_only(dev):
    template = dev.templates["Cluster"]
    addon = next(
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::EKS::Addon" and r["Properties"]["AddonName"] == "aws-ebs-csi-driver"
    )
    (association,) = addon["Properties"]["PodIdentityAssociations"]
    trust = _role_of(template, association["RoleArn"])["Properties"]["AssumeRolePolicyDocument"]
    equals = trust["Statement"][0]["Condition"]["StringEquals"]
    assert equals["aws:RequestTag/kubernetes-namespace"] == "kube-system"
    assert equals["aws:RequestTag/kubernetes-service-account"] == association["ServiceAccount"]


def test_only_prod_encrypts_the_database_secret_with_its_own_key(dev, prod):
    assert "KmsKeyId" not in dev.single_resource("Workloads", "AWS::SecretsManager::Secret")["Properties"]
    assert "KmsKeyId" in prod.single_resource("Workloads", "AWS::SecretsManager::Secret")["Properties"]


def test_database_key_lets_only_the_pod_roles_and_the_deployer_decrypt(prod):
    template = prod.templates["Workloads"]
    secret = prod.single_resource("Workloads", "AWS::SecretsManager::Secret")
    key = template["Resources"][secret["Properties"]["KmsKeyId"]["Fn::GetAtt"][0]]
    pod_roles = {
        a["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        for a in template["Resources"].values()
        if a["Type"] == ASSOCIATION
    }
    decrypters: list[Any] = []
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if any(a in ("kms:*", "kms:Decrypt") for a in actions):
            assert (
                statement["Condition"]["StringEquals"]["kms:ViaService"]
                == "secretsmanager.us-east-1.amazonaws.com"
            )
            principals = statement["Principal"]["AWS"]
            decrypters.extend(principals if isinstance(principals, list) else [principals])
    roles = {p["Fn::GetAtt"][0] for p in decrypters if isinstance(p, dict) and "Fn::GetAtt" in p}
    others = [p for p in decrypters if not (isinstance(p, dict) and "Fn::GetAtt" in p)]
    assert roles == pod_roles
    assert len(others) == 1
    assert others[0]["Fn::Sub"].endswith(":role/cdk-hnb659fds-cfn-exec-role-123456789012-us-east-1")
    assert "arn:aws:iam::123456789012:root" not in [str(p) for p in decrypters]
