"""The VPC: zones, subnets, NAT gateways, flow logs and the endpoints an isolated cluster needs."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Annotations, Match


def test_vpc_uses_the_configured_cidr(dev):
    dev.template("Network").has_resource_properties(
        "AWS::EC2::VPC", {"CidrBlock": "10.40.0.0/16", "EnableDnsHostnames": True, "EnableDnsSupport": True}
    )


@pytest.mark.parametrize(
    ("variant", "zones", "nat_gateways"), [("dev", 2, 1), ("prod", 3, 3), ("auto", 2, 0)]
)
def test_subnets_per_zone_and_nat_count_follow_config(synthesized, variant, zones, nat_gateways):
    template = synthesized[variant].template("Network")
    groups = _subnets_by_group(template)
    assert sorted(groups) == ["InternalLoadBalancers", "Private", "Public"]
    for group in groups.values():
        assert len(group) == zones
        assert {s["AvailabilityZone"] for s in group} == set(synthesized[variant].config.availability_zones)
    assert {s["CidrBlock"].split("/")[1] for s in groups["Private"]} == {"20"}  # room for pod IPs
    assert not any(s["MapPublicIpOnLaunch"] for s in groups["Private"] + groups["InternalLoadBalancers"])
    template.resource_count_is("AWS::EC2::NatGateway", nat_gateways)


def _subnets_by_group(template) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for subnet in template.find_resources("AWS::EC2::Subnet").values():
        tags = {t["Key"]: t["Value"] for t in subnet["Properties"]["Tags"]}
        groups.setdefault(tags["aws-cdk:subnet-name"], []).append(subnet["Properties"])
    return groups


def test_subnets_are_tagged_for_load_balancer_discovery(dev):
    subnets = dev.template("Network").find_resources("AWS::EC2::Subnet")
    for subnet in subnets.values():
        tags = {t["Key"]: t["Value"] for t in subnet["Properties"]["Tags"]}
        role = (
            "kubernetes.io/role/elb"
            if subnet["Properties"]["MapPublicIpOnLaunch"]
            else "kubernetes.io/role/internal-elb"
        )
        assert tags.get(role) == "1"


@pytest.mark.parametrize("variant", ["dev", "prod", "auto"])
def test_flow_logs_capture_all_traffic_to_an_expiring_log_group(synthesized, variant):
    template = synthesized[variant].template("Network")
    template.has_resource_properties(
        "AWS::EC2::FlowLog",
        {"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"},
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"RetentionInDays": synthesized[variant].config.log_retention_days}
    )


def test_isolated_subnets_get_the_endpoints_nodes_need(auto):
    template = auto.template("Network")
    endpoints = template.find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
    )
    prefix = f"com.amazonaws.{auto.config.region}."
    services = sorted(e["Properties"]["ServiceName"].removeprefix(prefix) for e in endpoints.values())
    assert services == sorted(
        ["ecr.api", "ecr.dkr", "sts", "eks", "eks-auth", "ec2", "logs", "secretsmanager", "aps-workspaces"]
    ), services
    for security_group in template.find_resources("AWS::EC2::SecurityGroup").values():
        for rule in security_group["Properties"].get("SecurityGroupIngress", []):
            assert rule["CidrIp"] == auto.config.vpc_cidr
            assert (rule["FromPort"], rule["ToPort"]) == (443, 443)


def test_nat_vpcs_need_no_interface_endpoints_but_keep_s3_gateway(dev):
    template = dev.template("Network")
    assert (
        template.find_resources("AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}})
        == {}
    )
    template.has_resource_properties("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"})


def test_default_security_group_is_locked_down(dev):
    # aws-cdk-lib removes the default security group's rules through a custom resource.
    dev.template("Network").resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_vpc_keeps_its_logical_id(dev):
    assert dev.template("Network").to_json()["Resources"]["NetworkVpc7FB7348F"]["Type"] == "AWS::EC2::VPC"


def test_a_vpc_without_nat_warns_what_it_does_not_cover(synthesized):
    """Public images and Helm charts need the internet: every synth of a NAT-less VPC says so."""
    for variant, warned in (("auto", True), ("dev", False), ("prod", False)):
        warnings = Annotations.from_stack(synthesized[variant].stage.network).find_warning(
            "*", Match.string_like_regexp("nat_gateways=0")
        )
        assert bool(warnings) is warned, variant
        if warned:
            assert "mirror them into this account" in str(warnings[0].entry.data)
