"""Synthesizes each configuration variant once per test session and hands out its templates."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# jsii runs `node` from PATH; make sure it is the venv's Node 24 even when pytest is run directly.
os.environ.setdefault("JSII_NODE", str(Path(sys.executable).with_name("node")))
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk
from aws_cdk.assertions import Template

from app import build
from config import CapacityMode, EndpointAccessMode, PlatformConfig, environment_config
from config.monitoring import Collector
from config.workloads import IngressScheme
from stacks.platform_stage import PlatformStage

KUBERNETES_RESOURCE = "Custom::AWSCDK-EKS-KubernetesResource"
STACK_ROLES = ("Network", "Cluster", "Workloads", "Monitoring", "Grafana", "Verification")
TLS_CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0b6f2a3c-1d4e-4f5a-9b8c-7d6e5f4a3b2c"


def auto_mode_config() -> PlatformConfig:
    """Auto Mode, no NAT (isolated subnets + endpoints), public endpoint restricted, one admin, the
    web app on an internet-facing load balancer with a TLS certificate, admitting one CIDR."""
    dev = environment_config("dev")
    return dataclasses.replace(
        dev,
        name="auto",
        capacity_mode=CapacityMode.AUTO,
        nat_gateways=0,
        endpoint_access=EndpointAccessMode.PUBLIC_AND_PRIVATE,
        public_access_cidrs=("203.0.113.0/24",),
        admin_principal_arns=("arn:aws:iam::123456789012:role/PlatformAdmin",),
        workloads=dataclasses.replace(
            dev.workloads,
            ingress_scheme=IngressScheme.INTERNET_FACING,
            tls_certificate_arn=TLS_CERTIFICATE_ARN,
            ingress_allowed_cidrs=("198.51.100.0/24",),
        ),
    )


def managed_collector_config() -> PlatformConfig:
    """dev with AMP's managed collector scraping instead of our agents (monitoring.collector: managed)."""
    dev = environment_config("dev")
    return dataclasses.replace(
        dev, name="managed", monitoring=dataclasses.replace(dev.monitoring, collector=Collector.MANAGED)
    )


VARIANTS = {
    "dev": lambda: environment_config("dev"),
    "prod": lambda: dataclasses.replace(environment_config("prod"), account="123456789012"),
    "auto": auto_mode_config,
    "managed": managed_collector_config,
}


@dataclasses.dataclass(frozen=True)
class Synthesized:
    """One environment's cloud assembly: templates by stack role ("Network", "Cluster")."""

    config: PlatformConfig
    stage: PlatformStage
    outdir: Path
    templates: dict[str, dict[str, Any]]
    # The nested stacks' templates, by construct path (the monitoring stack's: one per AMP rule groups
    # namespace, two per team).
    nested_templates: dict[str, dict[str, Any]]

    def template(self, role: str) -> Template:
        return Template.from_json(self.templates[role])

    def single_resource(self, role: str, resource_type: str) -> dict[str, Any]:
        """The one resource of `resource_type` in the stack `role` (a test fails if there are more)."""
        resources = self.template(role).find_resources(resource_type)
        assert len(resources) == 1, f"expected one {resource_type}, found {len(resources)}"
        return dict(next(iter(resources.values())))

    def kubernetes_manifests(self, role: str | None = None) -> list[dict[str, Any]]:
        """Every Kubernetes object the stacks (or the stack `role`) apply, tokens rendered as `<token>`."""
        objects: list[dict[str, Any]] = []
        for stack_role in [role] if role else STACK_ROLES:
            for resource in self.templates[stack_role]["Resources"].values():
                if resource["Type"] == KUBERNETES_RESOURCE:
                    objects.extend(json.loads(render_tokens(resource["Properties"]["Manifest"])))
        return objects

    def kubernetes_object(self, kind: str, name: str) -> dict[str, Any]:
        matches = [
            o for o in self.kubernetes_manifests() if o["kind"] == kind and o["metadata"]["name"] == name
        ]
        assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
        return matches[0]


def run_cfn_lint(templates: list[str]) -> subprocess.CompletedProcess[str]:
    """cfn-lint from this venv on `templates`, failing only on errors (aws-cdk-lib's EKS templates warn)."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--non-zero-exit-code", "error", *templates],
        capture_output=True,
        text=True,
        timeout=300,
    )


def render_tokens(value: Any) -> str:
    """A CloudFormation string (literal or Fn::Join) with every unresolved part replaced by `<token>`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(render_tokens(part) for part in parts)
    return "<token>"


REPOSITORY = Path(__file__).resolve().parents[2]
# The feature flags `cdk synth` reads from cdk.json: tests synthesize exactly what the CLI would.
CDK_CONTEXT = json.loads((REPOSITORY / "cdk.json").read_text())["context"]


def synthesize(config: PlatformConfig, outdir: Path) -> Synthesized:
    app = cdk.App(outdir=str(outdir), context=CDK_CONTEXT)
    stage = build(app, config)
    app.synth()
    assembly = stage.synth()
    stacks = {
        "Network": stage.network,
        "Cluster": stage.cluster,
        "Workloads": stage.workloads,
        "Monitoring": stage.monitoring,
        "Grafana": stage.grafana,
        "Verification": stage.verification,
    }
    templates = {role: assembly.get_stack_artifact(s.artifact_id).template for role, s in stacks.items()}
    nested_templates = {
        nested.node.path: json.loads((Path(assembly.directory) / nested.template_file).read_text())
        for nested in stage.node.find_all()
        if isinstance(nested, cdk.NestedStack)
    }
    return Synthesized(
        config=config, stage=stage, outdir=outdir, templates=templates, nested_templates=nested_templates
    )


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synthesized]:
    """All variants, synthesized once per session (each synth costs seconds)."""
    return {
        name: synthesize(make_config(), tmp_path_factory.mktemp(f"cdk-{name}"))
        for name, make_config in VARIANTS.items()
    }


@pytest.fixture(scope="session")
def dev(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["dev"]


@pytest.fixture(scope="session")
def auto(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["auto"]


@pytest.fixture(scope="session")
def managed(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["managed"]


@pytest.fixture(scope="session")
def prod(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["prod"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Under xdist, keep every synth-based test on one worker so the session synth happens once.
    for item in items:
        if "tests/unit" in str(item.path):
            item.add_marker(pytest.mark.xdist_group("cdk-synth"))
