"""The bill's arithmetic and the template counting, without a synth: hand-written templates and a price
book whose numbers make every line's product distinct (test_bill.py checks the same on the synthesized
dev environment). Expected dollars are worked out by hand from bill.py's documented meaning: a line is its
quantity times its unit price, an unpriced line is None and stays out of the total."""

from __future__ import annotations

import json
from typing import Any

import pytest

from config.environments import dev
from observability.bill import Usage, bill
from observability.billed_resources import BilledResources, LogGroup, count
from observability.model.prices import Price, PriceBook

USD = {
    "eks_cluster_hour": 0.1,
    "ebs_gp3_gb_month": 0.08,
    "nat_gateway_hour": 0.05,
    "nat_gateway_gb": 0.04,
    "interface_endpoint_az_hour": 0.01,
    "interface_endpoint_gb": 0.02,
    "alb_hour": 0.03,
    "alb_lcu_hour": 0.008,
    "amp_ingestion": 0.9,
    "amp_storage_gb_month": 0.03,
    "amp_query_billion_samples": 0.1,
    "grafana_editor_month": 9.0,
    "grafana_viewer_month": 5.0,
    "kms_key_month": 1.0,
    "secret_month": 0.4,
    "logs_ingested_gb": 0.5,
    "logs_stored_gb_month": 0.03,
    "cloudwatch_alarm_month": 0.1,
    "lambda_million_requests": 0.2,
    "lambda_gb_second": 0.00001667,
}


def price(usd: float | None) -> Price:
    return Price(usd=usd, unit="unit", source="https://example.com/", read="2026-12-06")


def book(**overrides: float | None) -> PriceBook:
    """100 hours a month (not 730): the hourly lines read as hours x price at a glance."""
    return PriceBook(
        region="us-east-1",
        hours_per_month=100,
        prices={key: price(overrides.get(key, usd)) for key, usd in USD.items()},
        instance_hour={"m7i.large": price(0.5), "m6i.large": price(None)},
    )


RESOURCES = BilledResources(
    clusters=1,
    nat_gateways=2,
    interface_endpoints=3,
    interface_endpoint_zones=6,
    load_balancers=2,
    kms_keys=4,
    log_groups=(LogGroup(retention_days=30), LogGroup(retention_days=60), LogGroup(retention_days=None)),
    function_memory_mb=(512, 1024),
    secrets=5,
    alarms=7,
    grafana_workspaces=1,
    prometheus_workspaces=1,
    volume_gib=40,
)


def test_each_line_is_its_quantity_times_its_price():
    # dev: 2 nodes at its minimum, m7i.large first, metrics kept 150 days.
    result = bill(config=dev(), prices=book(), resources=RESOURCES, samples_per_month=2e9)
    lines = {line.item: line.monthly_usd for line in result.lines}
    expected = {
        "EKS control plane": 10.0,  # 1 x 100 h x $0.10
        "Nodes (2 x m7i.large)": 100.0,  # 2 x 100 h x $0.50
        "EBS gp3 volumes (40 GiB claimed)": 3.2,  # 40 x $0.08
        "NAT gateways (2)": 10.0,  # 2 x 100 h x $0.05
        "NAT data processed": 4.0,  # 100 GB (Usage) x $0.04
        "Interface endpoints (3, 6 zone-attachments)": 6.0,  # 6 x 100 h x $0.01
        "Interface endpoint data": 1.0,  # 50 GB (Usage) x $0.02
        "Load balancers (2 ALB)": 6.0,  # 2 x 100 h x $0.03
        "Load balancer capacity units": 1.6,  # 2 x 1 LCU x 100 h x $0.008
        "AMP ingestion": 180.0,  # 2e9 samples = 200 x 10 M x $0.90
        # 2e9 samples a month kept 150 days (5 months) at 2 bytes each, 1 GB = 2^30 bytes, x $0.03
        "AMP storage (150 days)": 2e9 * 5 * 2 / 2**30 * 0.03,
        "AMP query samples": 1.0,  # 1 workspace x 10 billion x $0.10
        "Grafana editors": 18.0,  # 2 x $9
        "Grafana viewers": 25.0,  # 5 x $5
        "KMS keys (4)": 4.0,
        "Secrets (5)": 2.0,
        "CloudWatch Logs ingested (3 groups)": 0.75,  # 3 x 0.5 GB x $0.50
        # 0.5 GB a month kept 30 days, 60 days and not at all (no retention counted): 1.5 GB x $0.03
        "CloudWatch Logs stored (each group's retention)": 0.045,
        "CloudWatch alarms (7)": 0.7,
        "Lambda requests (2 functions)": 0.0004,  # 2 x 1,000 requests x $0.20 / M
        "Lambda duration": 0.025005,  # (0.5 + 1) GB x 1,000 x 1 s x $0.00001667
    }
    # Exact to float rounding: 1e7 samples and 1e6 requests are the price units, not 10,000,001.
    assert lines == pytest.approx(expected, rel=1e-12)
    assert result.total_usd == pytest.approx(sum(expected.values()), rel=1e-12)
    assert result.unpriced == ()
    assert (result.environment, result.region, result.nodes, result.samples_per_month) == (
        "dev",
        "us-east-1",
        2,
        2e9,
    )


def test_usage_and_node_count_are_the_callers():
    usage = Usage(
        nat_gb_per_month=10,
        endpoint_gb_per_month=20,
        alb_average_lcus=3,
        grafana_editors=1,
        grafana_viewers=0,
        log_gb_per_group_month=2,
        lambda_invocations_per_function_month=4_000_000,
        lambda_seconds_per_invocation=0.5,
        amp_bytes_per_sample=1,
        amp_query_billion_samples_month=30,
    )
    result = bill(config=dev(), prices=book(), resources=RESOURCES, samples_per_month=0, nodes=5, usage=usage)
    lines = {line.item: line.monthly_usd for line in result.lines}
    assert result.nodes == 5
    assert lines["Nodes (5 x m7i.large)"] == pytest.approx(250.0)  # 5 x 100 h x $0.50
    assert lines["NAT data processed"] == pytest.approx(0.4)  # 10 GB x $0.04
    assert lines["Interface endpoint data"] == pytest.approx(0.4)  # 20 GB x $0.02
    assert lines["Load balancer capacity units"] == pytest.approx(4.8)  # 2 x 3 LCU x 100 h x $0.008
    assert lines["Grafana editors"] == pytest.approx(9.0)
    assert lines["Grafana viewers"] == 0
    assert lines["CloudWatch Logs ingested (3 groups)"] == pytest.approx(3.0)  # 3 x 2 GB x $0.50
    assert lines["CloudWatch Logs stored (each group's retention)"] == pytest.approx(0.18)  # 2 x 3 GB x $0.03
    assert lines["AMP query samples"] == pytest.approx(3.0)  # 30 billion x $0.10
    assert lines["AMP ingestion"] == 0
    assert lines["AMP storage (150 days)"] == 0
    assert lines["Lambda requests (2 functions)"] == pytest.approx(1.6)  # 8 M requests x $0.20
    # (0.5 + 1) GB x 4 M x 0.5 s = 3 M GB-seconds x $0.00001667
    assert lines["Lambda duration"] == pytest.approx(50.01)


def test_no_nat_and_no_endpoints_bill_no_data_through_them():
    none = BilledResources(**{**RESOURCES.__dict__, "nat_gateways": 0, "interface_endpoints": 0})
    lines = {
        line.item: line.monthly_usd
        for line in bill(config=dev(), prices=book(), resources=none, samples_per_month=0).lines
    }
    assert lines["NAT gateways (0)"] == 0
    assert lines["NAT data processed"] == 0
    assert lines["Interface endpoint data"] == 0


def test_an_unpriced_line_is_none_and_out_of_the_total():
    result = bill(
        config=dev(), prices=book(kms_key_month=None), resources=RESOURCES, samples_per_month=0, nodes=0
    )
    lines = {line.item: line.monthly_usd for line in result.lines}
    assert lines["KMS keys (4)"] is None
    assert result.unpriced == ("KMS keys (4)",)
    priced = bill(config=dev(), prices=book(), resources=RESOURCES, samples_per_month=0, nodes=0)
    assert result.total_usd == pytest.approx(priced.total_usd - 4.0)


def join(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", list(parts)]}


def kubernetes(*manifests: dict[str, Any], split_at: int = 10) -> dict[str, Any]:
    """A cdk8s manifest resource whose JSON text CloudFormation joins from two literal halves."""
    text = json.dumps(list(manifests))
    return {
        "Type": "Custom::AWSCDK-EKS-KubernetesResource",
        "Properties": {"Manifest": join(text[:split_at], text[split_at:])},
    }


def ingress(name: str, group: str | None = None) -> dict[str, Any]:
    """An Ingress, with the AWS Load Balancer Controller's group annotation when `group` is given (and no
    annotations at all otherwise)."""
    metadata: dict[str, Any] = {"name": name}
    if group:
        metadata["annotations"] = {"alb.ingress.kubernetes.io/group.name": group}
    return {"kind": "Ingress", "metadata": metadata}


def statefulset(sizes: list[str], replicas: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "volumeClaimTemplates": [{"spec": {"resources": {"requests": {"storage": s}}}} for s in sizes]
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {"kind": "StatefulSet", "metadata": {"name": "db"}, "spec": spec}


def of(kind: str, **properties: Any) -> dict[str, Any]:
    return {"Type": kind, "Properties": properties}


def test_templates_are_counted_by_resource_type():
    stack = {
        "Resources": {
            "Cluster": of("AWS::EKS::Cluster"),
            "Nat1": of("AWS::EC2::NatGateway"),
            "Nat2": of("AWS::EC2::NatGateway"),
            "Key": of("AWS::KMS::Key"),
            "Secret": of("AWS::SecretsManager::Secret"),
            "Alarm1": of("AWS::CloudWatch::Alarm"),
            "Alarm2": of("AWS::CloudWatch::Alarm"),
            "Alarm3": of("AWS::CloudWatch::Alarm"),
            "Grafana": of("AWS::Grafana::Workspace"),
            "Amp1": of("AWS::APS::Workspace"),
            "Amp2": of("AWS::APS::Workspace"),
            "Logs": of("AWS::Logs::LogGroup", RetentionInDays=30),
            "Forever": of("AWS::Logs::LogGroup"),
            "Bare": {"Type": "AWS::Logs::LogGroup"},  # no Properties at all: never expires
            "Fn": of("AWS::Lambda::Function", MemorySize=256),
            "Fn2": of("AWS::Lambda::Function"),  # Lambda's default, 128 MB
        }
    }
    nested = {
        "Resources": {
            "Eks": {"Type": "Custom::LogRetention", "Properties": {"RetentionInDays": 731}},
            "Key2": of("AWS::KMS::Key"),
        }
    }
    found = count([stack, nested, {}], az_count=3)
    assert (found.clusters, found.nat_gateways, found.kms_keys) == (1, 2, 2)
    assert (found.secrets, found.alarms) == (1, 3)
    assert (found.grafana_workspaces, found.prometheus_workspaces) == (1, 2)
    assert found.log_groups == (
        LogGroup(retention_days=30),
        LogGroup(retention_days=None),
        LogGroup(retention_days=None),
        LogGroup(retention_days=731),
    )
    assert found.function_memory_mb == (256, 128)
    assert (found.interface_endpoints, found.interface_endpoint_zones) == (0, 0)
    assert (found.load_balancers, found.volume_gib) == (0, 0)


def test_interface_endpoints_are_billed_per_zone_and_gateway_endpoints_not():
    stack = {
        "Resources": {
            "S3": of("AWS::EC2::VPCEndpoint", VpcEndpointType="Gateway"),
            "Default": of("AWS::EC2::VPCEndpoint"),  # CloudFormation's default type: Gateway
            "Two": of("AWS::EC2::VPCEndpoint", VpcEndpointType="Interface", SubnetIds=["a", "b"]),
            # Subnets CloudFormation resolves at deploy time: the environment's zone count.
            "Tokens": of("AWS::EC2::VPCEndpoint", VpcEndpointType="Interface", SubnetIds={"Ref": "Subnets"}),
            "One": of("AWS::EC2::VPCEndpoint", VpcEndpointType="Interface", SubnetIds=["c"]),
        }
    }
    found = count([stack], az_count=3)
    assert (found.interface_endpoints, found.interface_endpoint_zones) == (3, 6)  # 2 + 3 + 1


def test_ingresses_of_one_group_share_a_load_balancer():
    text = json.dumps(
        [
            ingress("web", group="public"),
            ingress("api", group="public"),
            ingress("admin-@"),  # no group: a load balancer of its own; its name has a deploy-time token
            ingress("billing"),
            {"kind": "Service", "metadata": {"name": "web"}},
        ]
    )
    before, after = text.split("@")
    manifests = {
        "Type": "Custom::AWSCDK-EKS-KubernetesResource",
        "Properties": {"Manifest": join(before, {"Ref": "Suffix"}, after)},
    }
    found = count([{"Resources": {"Manifest": manifests}}], az_count=2)
    assert found.load_balancers == 3  # the group "public" (web and api), admin-<token>, billing


def test_claimed_volumes_are_templates_times_replicas():
    manifests = kubernetes(
        statefulset(["10Gi"], replicas=2),
        statefulset(["20Gi", "5Gi"]),  # no replicas: Kubernetes's default, 1
        {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}},
        {"kind": "StatefulSet", "metadata": {"name": "cache"}, "spec": {"replicas": 2}},  # claims nothing
        split_at=3,
    )
    found = count([{"Resources": {"Manifest": manifests, "Key": of("AWS::KMS::Key")}}], az_count=2)
    assert found.volume_gib == 45  # 2 x 10 + 25
    assert found.kms_keys == 1


def test_a_volume_size_that_is_not_whole_gi_is_refused():
    manifests = kubernetes(statefulset(["10Gi", "500Mi"]))
    with pytest.raises(ValueError, match=r"volume sizes must be whole Gi \(got \['10Gi', '500Mi'\]\)"):
        count([{"Resources": {"Manifest": manifests}}], az_count=2)
    with pytest.raises(ValueError, match="whole Gi"):
        count([{"Resources": {"Manifest": kubernetes(statefulset(["10Gix"]))}}], az_count=2)
