"""No credential in plain text: not in templates, manifests, snapshots, nor as a Kubernetes Secret."""

from __future__ import annotations

import json
import re
from pathlib import Path

from k8s.secrets import DB_SECRET_PROVIDER_CLASS
from observability import names

SNAPSHOTS = Path(__file__).parent / "__snapshots__"
# Keys that would carry a credential's value if someone inlined one.
CREDENTIAL_KEYS = re.compile(r"(password|passwd|secret_?string|api_?key|token)$", re.IGNORECASE)


def _credential_values(document: object, path: str = "") -> list[str]:
    """Paths of string values stored under credential-like keys (file paths and refs excepted)."""
    found: list[str] = []
    if isinstance(document, dict):
        for key, value in document.items():
            where = f"{path}/{key}"
            if CREDENTIAL_KEYS.search(str(key)) and isinstance(value, str) and not value.startswith("/"):
                found.append(where)
            found.extend(_credential_values(value, where))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.extend(_credential_values(value, f"{path}[{index}]"))
    return found


def test_no_kubernetes_secret_objects_are_applied(synthesized):
    for variant in synthesized.values():
        assert [o for o in variant.kubernetes_manifests() if o["kind"] == "Secret"] == []


def test_containers_get_credentials_only_as_mounted_files(synthesized):
    for variant in synthesized.values():
        for manifest in variant.kubernetes_manifests():
            if manifest["kind"] not in ("Deployment", "StatefulSet"):
                continue
            for container in manifest["spec"]["template"]["spec"]["containers"]:
                for env in container.get("env", []):
                    if re.search("PASS", env["name"]):
                        assert env["name"].endswith("_FILE"), env
                        assert env["value"].startswith(names.SECRETS_MOUNT_PATH + "/"), env
                    # No secretKeyRef (there is no Secret object): only the downward API's pod fields.
                    assert set(env.get("valueFrom", {})) <= {"fieldRef"}, env


def test_password_is_generated_by_secrets_manager_not_written(dev):
    (secret,) = dev.template("Workloads").find_resources("AWS::SecretsManager::Secret").values()
    properties = secret["Properties"]
    assert "SecretString" not in properties
    generator = properties["GenerateSecretString"]
    assert generator["GenerateStringKey"] == "password"
    assert json.loads(generator["SecretStringTemplate"]) == {"username": names.POSTGRES_USER}


def test_pods_read_the_secret_with_their_own_pod_identity(dev):
    template = dev.template("Workloads")
    associations = template.find_resources("AWS::EKS::PodIdentityAssociation")
    assert sorted(
        (a["Properties"]["Namespace"], a["Properties"]["ServiceAccount"]) for a in associations.values()
    ) == [
        (names.APP_NAMESPACE, names.WEBAPP),
        (names.APP_NAMESPACE, names.POSTGRES),
    ]
    policies = template.find_resources("AWS::IAM::Policy")
    # One role per service account, each allowed to read exactly this secret.
    assert sorted(p["Properties"]["Roles"][0]["Ref"] for p in policies.values()) == sorted(
        a["Properties"]["RoleArn"]["Fn::GetAtt"][0] for a in associations.values()
    )
    for policy in policies.values():
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert sorted(statement["Action"]) == [
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetSecretValue",
        ]
        assert statement["Resource"] == {
            "Ref": next(iter(template.find_resources("AWS::SecretsManager::Secret")))
        }
    provider_class = dev.kubernetes_object("SecretProviderClass", DB_SECRET_PROVIDER_CLASS)
    assert provider_class["spec"]["parameters"]["usePodIdentity"] == "true"
    assert provider_class["spec"]["provider"] == "aws"


def test_templates_and_manifests_hold_no_credential_values(synthesized):
    for variant in synthesized.values():
        for role, template in variant.templates.items():
            assert _credential_values(template) == [], role
        assert _credential_values(variant.kubernetes_manifests()) == []


def test_snapshots_hold_no_credential_values():
    snapshots = sorted(SNAPSHOTS.rglob("*.json"))
    assert snapshots
    for snapshot in snapshots:
        assert _credential_values(json.loads(snapshot.read_text())) == [], snapshot.name


def test_the_scan_finds_an_inlined_password():
    """Guards the scans above: they must flag a literal credential."""
    leaked = {"Properties": {"Env": [{"Name": "DB", "MasterUserPassword": "hunter2"}]}}
    assert _credential_values(leaked) == ["/Properties/Env[0]/MasterUserPassword"]
