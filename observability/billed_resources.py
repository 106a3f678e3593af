"""What the synthesized templates create that AWS bills, counted from the templates themselves: a new
key, endpoint, log group, function or volume in a stack changes the bill without editing this module."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

KUBERNETES_RESOURCE = "Custom::AWSCDK-EKS-KubernetesResource"
LAMBDA_DEFAULT_MEMORY_MB = 128  # a function without MemorySize gets Lambda's default
_GIB = re.compile(r"^(\d+)Gi$")
# The AWS Load Balancer Controller puts every Ingress of one group on one load balancer.
_INGRESS_GROUP = "alb.ingress.kubernetes.io/group.name"


@dataclass(frozen=True, kw_only=True)
class LogGroup:
    retention_days: int | None  # None: never expires (or set outside the template)


@dataclass(frozen=True, kw_only=True)
class BilledResources:
    clusters: int
    nat_gateways: int
    interface_endpoints: int
    interface_endpoint_zones: int  # endpoint-zone pairs: each is billed by the hour
    load_balancers: int  # from the Ingress objects the AWS Load Balancer Controller turns into ALBs
    kms_keys: int
    log_groups: tuple[LogGroup, ...]
    function_memory_mb: tuple[int, ...]  # one per Lambda function
    secrets: int
    alarms: int
    grafana_workspaces: int
    prometheus_workspaces: int
    volume_gib: int  # persistent volumes the charts claim (StatefulSet claim templates x replicas)


def _resources(templates: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for template in templates:
        yield from template.get("Resources", {}).values()


def _text(value: Any) -> str:
    """A CloudFormation string (literal or Fn::Join) with every unresolved part as `<token>`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_text(part) for part in parts)
    return "<token>"


def _manifests(resources: list[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    for resource in resources:
        if resource["Type"] == KUBERNETES_RESOURCE:
            yield from json.loads(_text(resource["Properties"]["Manifest"]))


def _claimed_gib(statefulset: Mapping[str, Any]) -> int:
    spec = statefulset["spec"]
    sizes = [t["spec"]["resources"]["requests"]["storage"] for t in spec.get("volumeClaimTemplates", [])]
    matches = [_GIB.match(size) for size in sizes]
    if not all(matches):
        raise ValueError(f"volume sizes must be whole Gi (got {sizes!r})")
    return int(spec.get("replicas", 1)) * sum(int(m.group(1)) for m in matches if m)


def count(templates: Iterable[Mapping[str, Any]], *, az_count: int) -> BilledResources:
    """The billed resources in `templates` (every stack and nested stack of one environment); an
    endpoint whose subnets are not a literal list is counted in `az_count` zones."""
    resources = list(_resources(templates))

    def of(resource_type: str) -> list[Mapping[str, Any]]:
        return [r for r in resources if r["Type"] == resource_type]

    interface = [
        r for r in of("AWS::EC2::VPCEndpoint") if r["Properties"].get("VpcEndpointType") == "Interface"
    ]
    subnets = [r["Properties"].get("SubnetIds") for r in interface]
    manifests = list(_manifests(resources))
    ingresses = [m for m in manifests if m["kind"] == "Ingress"]
    groups = {
        m["metadata"].get("annotations", {}).get(_INGRESS_GROUP, m["metadata"]["name"]) for m in ingresses
    }
    return BilledResources(
        clusters=len(of("AWS::EKS::Cluster")),
        nat_gateways=len(of("AWS::EC2::NatGateway")),
        interface_endpoints=len(interface),
        interface_endpoint_zones=sum(len(s) if isinstance(s, list) else az_count for s in subnets),
        load_balancers=len(groups),
        kms_keys=len(of("AWS::KMS::Key")),
        log_groups=tuple(
            LogGroup(retention_days=r.get("Properties", {}).get("RetentionInDays"))
            # Custom::LogRetention: a group a service creates (EKS's control plane log), its retention ours.
            for r in [*of("AWS::Logs::LogGroup"), *of("Custom::LogRetention")]
        ),
        function_memory_mb=tuple(
            int(r["Properties"].get("MemorySize", LAMBDA_DEFAULT_MEMORY_MB))
            for r in of("AWS::Lambda::Function")
        ),
        secrets=len(of("AWS::SecretsManager::Secret")),
        alarms=len(of("AWS::CloudWatch::Alarm")),
        grafana_workspaces=len(of("AWS::Grafana::Workspace")),
        prometheus_workspaces=len(of("AWS::APS::Workspace")),
        volume_gib=sum(_claimed_gib(m) for m in manifests if m["kind"] == "StatefulSet"),
    )
