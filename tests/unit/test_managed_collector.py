"""`monitoring.collector: managed`: AMP's managed collector (`AWS::APS::Scraper`) scrapes the cluster, and no
agent of ours runs. Expected values come from the AMP user guide ("Using an AWS managed collector",
AMP-collector-how-to.html) and the CloudFormation resource (AWS::APS::Scraper)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_aps as aps
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Capture, Match, Template

from observability import names
from stacks.constructs.managed_collector import ManagedCollector
from tests.unit.conftest import Synthesized, render_tokens

CLUSTER_ARN = "arn:aws:eks:us-east-1:123456789012:cluster/example"
# What exists only where agents run (k8s/monitoring/prometheus_agent_chart.py).
AGENT_KINDS = ("StatefulSet", "ServiceAccount", "ConfigMap", "ClusterRole", "ClusterRoleBinding")


def _scraper(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.single_resource("Monitoring", "AWS::APS::Scraper")["Properties"]


def _scrape_configuration(synthesized: Synthesized) -> dict[str, Any]:
    """The YAML inside `Fn::Base64`, with the cluster name (a deploy-time value) as `<token>`."""
    blob = _scraper(synthesized)["ScrapeConfiguration"]["ConfigurationBlob"]
    return yaml.safe_load(render_tokens(blob["Fn::Base64"]))


def _agent_objects(synthesized: Synthesized) -> list[dict[str, Any]]:
    return [
        o
        for o in synthesized.kubernetes_manifests("Monitoring")
        if o["kind"] in AGENT_KINDS and o["metadata"]["name"].startswith(names.PROMETHEUS_AGENT)
    ]


def test_dev_keeps_the_agent_and_has_no_scraper(dev):
    dev.template("Monitoring").resource_count_is("AWS::APS::Scraper", 0)
    assert _agent_objects(dev)


def test_no_agent_runs_with_the_managed_collector(managed):
    assert _agent_objects(managed) == []
    template = managed.template("Monitoring")
    # No identity for an agent: no Pod Identity association, no remote-write grant.
    template.resource_count_is("AWS::EKS::PodIdentityAssociation", 0)
    assert not [
        p
        for p in template.find_resources("AWS::IAM::Policy").values()
        if "aps:RemoteWrite" in str(p["Properties"]["PolicyDocument"])
    ]


def test_scraper_reads_the_cluster_from_its_subnets_and_writes_to_the_workspace(managed):
    properties = _scraper(managed)
    eks = properties["Source"]["EksConfiguration"]
    # "at least two subnets, in at least two availability zones"; the cluster's security group.
    assert len(eks["SubnetIds"]) == len(managed.config.availability_zones) >= 2
    assert len(eks["SecurityGroupIds"]) == 1
    assert "ClusterSecurityGroupId" in str(eks["SecurityGroupIds"])
    assert "Arn" in str(eks["ClusterArn"])
    workspace_id = next(iter(managed.template("Monitoring").find_resources("AWS::APS::Workspace")))
    assert properties["Destination"] == {
        "AmpConfiguration": {"WorkspaceArn": {"Fn::GetAtt": [workspace_id, "Arn"]}}
    }
    logging = properties["ScraperLoggingConfiguration"]
    assert {c["Type"] for c in logging["ScraperComponents"]} == {"SERVICE_DISCOVERY", "COLLECTOR", "EXPORTER"}
    assert logging["LoggingDestination"]["CloudWatchLogs"]["LogGroupArn"]["Fn::GetAtt"][1] == "Arn"


def test_scrape_configuration_holds_only_what_the_collector_accepts(managed):
    config = _scrape_configuration(managed)
    # Sections allowed: global, scrape_config, static_config, relabel_config, metric_relabel_configs,
    # kubernetes_sd_config.
    assert set(config) == {"global", "scrape_configs"}
    assert config["global"]["scrape_interval"] == "30s"  # no less than 30 s
    assert config["global"]["external_labels"] == {"cluster": "<token>", "environment": "managed"}
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert names.PROMETHEUS_AGENT not in jobs
    for job in jobs.values():
        assert "tls_config" not in job, job["job_name"]
        assert {sd["role"] for sd in job["kubernetes_sd_configs"]} <= {"node", "pod", "endpoints", "service"}
        if "authorization" in job:  # only Bearer with the service account token file
            assert job["authorization"] == {
                "type": "Bearer",
                "credentials_file": "/var/run/secrets/kubernetes.io/serviceaccount/token",
            }
    # The kubelet and cAdvisor through the API server's node proxy, the only name the collector resolves.
    for job_name, path in (("kubelet", "/metrics"), ("cadvisor", "/metrics/cadvisor")):
        rules = jobs[job_name]["relabel_configs"]
        assert {
            "action": "replace",
            "target_label": "__address__",
            "replacement": "kubernetes.default.svc:443",
        } in rules
        assert {
            "action": "replace",
            "source_labels": ["__meta_kubernetes_node_name"],
            "regex": "(.+)",
            "target_label": "__metrics_path__",
            "replacement": f"/api/v1/nodes/$1/proxy{path}",
        } in rules


def test_scraper_ids_are_outputs(managed):
    outputs = managed.template("Monitoring").to_json()["Outputs"]
    scraper_id = next(iter(managed.template("Monitoring").find_resources("AWS::APS::Scraper")))
    assert outputs["ScraperId"]["Value"] == {"Fn::GetAtt": [scraper_id, "ScraperId"]}
    assert outputs["ScraperArn"]["Value"] == {"Fn::GetAtt": [scraper_id, "Arn"]}
    assert outputs["ScraperRoleArn"]["Value"] == {"Fn::GetAtt": [scraper_id, "RoleArn"]}
    assert all(outputs[key]["Description"] for key in ("ScraperId", "ScraperArn", "ScraperRoleArn"))


def test_kubernetes_access_comes_from_the_access_entry_amp_creates(managed, dev):
    """With the cluster's authentication mode `API`, AMP creates the scraper's access entry itself: the
    stacks add none for it (one of ours would collide with AMP's)."""
    cluster = managed.single_resource("Cluster", "AWS::EKS::Cluster")["Properties"]
    assert cluster["AccessConfig"]["AuthenticationMode"] in ("API", "API_AND_CONFIG_MAP")
    # Endpoint access includes private access (a prerequisite of the scraper).
    assert cluster["ResourcesVpcConfig"]["EndpointPrivateAccess"] is True
    for role in ("Cluster", "Monitoring"):
        assert len(managed.template(role).find_resources("AWS::EKS::AccessEntry")) == len(
            dev.template(role).find_resources("AWS::EKS::AccessEntry")
        )


def test_network_policies_admit_the_scraper_from_the_node_subnets(managed):
    ksm = managed.kubernetes_object("NetworkPolicy", "kube-state-metrics-from-scraper")
    (rule,) = ksm["spec"]["ingress"]
    assert rule["ports"] == [{"port": 8080, "protocol": "TCP"}]
    assert len(rule["from"]) == len(managed.config.availability_zones)
    assert all("ipBlock" in peer for peer in rule["from"])
    webapp = managed.kubernetes_object("NetworkPolicy", "orders-api-metrics-from-monitoring")
    assert all("ipBlock" in peer for peer in webapp["spec"]["ingress"][0]["from"])
    for name in ("prometheus-agent-egress", "prometheus-agent-from-itself", "kube-state-metrics-from-agent"):
        assert not [
            o
            for o in managed.kubernetes_manifests()
            if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == name
        ]


def test_platform_alerts_do_not_page_for_an_absent_agent(managed, dev):
    def alerts(synthesized) -> set[str]:
        found = set()
        for template in synthesized.nested_templates.values():
            for resource in template["Resources"].values():
                if resource["Type"] == "AWS::APS::RuleGroupsNamespace":
                    document = yaml.safe_load(resource["Properties"]["Data"])
                    found |= {r["alert"] for g in document["groups"] for r in g["rules"] if "alert" in r}
        return found

    assert {"PrometheusAgentAbsent", "PrometheusRemoteStorageFailures"} <= alerts(dev)
    assert "ManagedCollectorAbsent" not in alerts(dev)
    managed_alerts = alerts(managed)
    assert "ManagedCollectorAbsent" in managed_alerts
    assert not {a for a in managed_alerts if a.startswith("Prometheus")}


# --- the construct alone ----------------------------------------------------------------------------------
def _bare(subnets: int) -> Template:
    stack = cdk.Stack(cdk.App())
    ManagedCollector(
        stack,
        "Collector",
        cluster_arn=CLUSTER_ARN,
        security_group_id="sg-0123456789abcdef0",
        subnet_ids=[f"subnet-{i:017x}" for i in range(subnets)],
        workspace=aps.CfnWorkspace(stack, "Workspace"),
        configuration_yaml="global:\n  scrape_interval: 30s\nscrape_configs: []\n",
        log_group=logs.LogGroup(stack, "Logs"),
    )
    return Template.from_stack(stack)


def test_construct_encodes_the_configuration_and_names_nothing():
    template = _bare(2)
    blob = Capture()
    template.has_resource_properties(
        "AWS::APS::Scraper",
        {
            "ScrapeConfiguration": {"ConfigurationBlob": blob},
            "Source": {
                "EksConfiguration": {"ClusterArn": CLUSTER_ARN, "SecurityGroupIds": ["sg-0123456789abcdef0"]}
            },
            "Alias": Match.absent(),
        },
    )
    # CloudFormation encodes it at deploy time (the cluster name is a deploy-time value).
    assert blob.as_object() == {"Fn::Base64": "global:\n  scrape_interval: 30s\nscrape_configs: []\n"}


@pytest.mark.parametrize("subnets", [0, 1])
def test_construct_refuses_fewer_than_two_subnets(subnets):
    with pytest.raises(ValueError, match="at least 2 zones"):
        _bare(subnets)


def test_construct_accepts_two_subnets():
    _bare(2).resource_count_is("AWS::APS::Scraper", 1)
