"""The metrics pipeline as synthesized: AMP workspace, the agent's identity, and the in-cluster agents."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from aws_cdk.assertions import Annotations, Match

from config.alerting import AlertingConfig
from k8s.monitoring.kube_state_metrics_chart import RESOURCES_BY_GROUP
from k8s.monitoring.prometheus_agent_chart import CONFIG_CHECKSUM_ANNOTATION
from observability import alertmanager, names
from observability.render import scrape_config
from tests.unit.conftest import render_tokens


def test_workspace_keeps_metrics_for_the_configured_days_and_logs(dev):
    workspace = dev.single_resource("Monitoring", "AWS::APS::Workspace")
    properties = workspace["Properties"]
    assert properties["Alias"] == "dev-eks-observability"
    assert properties["WorkspaceConfiguration"] == {
        "RetentionPeriodInDays": dev.config.monitoring.metrics_retention_days
    }
    log_group_id = properties["LoggingConfiguration"]["LogGroupArn"]["Fn::GetAtt"][0]
    log_group = dev.template("Monitoring").to_json()["Resources"][log_group_id]
    assert log_group["Properties"]["RetentionInDays"] == dev.config.log_retention_days
    assert workspace["DeletionPolicy"] == "Retain"
    assert "KmsKeyArn" not in properties


def test_prod_workspace_is_encrypted_with_its_own_key(prod):
    properties = prod.single_resource("Monitoring", "AWS::APS::Workspace")["Properties"]
    key_id = properties["KmsKeyArn"]["Fn::GetAtt"][0]
    key = prod.template("Monitoring").to_json()["Resources"][key_id]
    assert key["Properties"]["EnableKeyRotation"] is True


def test_agent_may_only_remote_write_to_its_workspace(dev):
    template = dev.template("Monitoring")
    association = dev.single_resource("Monitoring", "AWS::EKS::PodIdentityAssociation")["Properties"]
    assert (association["Namespace"], association["ServiceAccount"]) == (
        names.MONITORING_NAMESPACE,
        names.PROMETHEUS_AGENT,
    )
    role_id = association["RoleArn"]["Fn::GetAtt"][0]
    (policy,) = template.find_resources("AWS::IAM::Policy").values()
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    workspace_id = next(iter(template.find_resources("AWS::APS::Workspace")))
    assert statement == {
        "Action": "aps:RemoteWrite",
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [workspace_id, "Arn"]},
    }


def test_agent_runs_in_agent_mode_with_its_wal_on_a_volume(dev):
    stateful_set = dev.kubernetes_object("StatefulSet", names.PROMETHEUS_AGENT)["spec"]
    assert stateful_set["replicas"] == 2  # an HA pair: the default
    (container,) = stateful_set["template"]["spec"]["containers"]
    assert "--agent" in container["args"]
    wal_path = next(a.split("=", 1)[1] for a in container["args"] if a.startswith("--storage.agent.path="))
    assert {"name": "wal", "mountPath": wal_path} in container["volumeMounts"]
    (claim,) = stateful_set["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "wal"
    assert (
        claim["spec"]["resources"]["requests"]["storage"] == f"{dev.config.monitoring.agent_wal_volume_gib}Gi"
    )
    assert container["readinessProbe"]["httpGet"]["path"] == "/-/ready"
    # On SIGTERM it flushes what it scraped; the kubelet must not kill it before that deadline.
    flush = next(a for a in container["args"] if a.startswith("--storage.remote.flush-deadline="))
    assert (
        int(flush.split("=", 1)[1].removesuffix("s"))
        < stateful_set["template"]["spec"]["terminationGracePeriodSeconds"]
    )
    resources = dev.config.monitoring.agent_resources
    assert container["resources"] == {
        "requests": {"cpu": resources.cpu_request, "memory": resources.memory_request},
        "limits": {"memory": resources.memory_limit},
    }
    assert container["image"].startswith("quay.io/prometheus/prometheus:v3.")


def test_the_agents_are_an_ha_pair_in_two_zones_named_by_their_ordinal(dev):
    pod = dev.kubernetes_object("StatefulSet", names.PROMETHEUS_AGENT)["spec"]["template"]
    shard_pods = {
        names.NAME_LABEL: names.PROMETHEUS_AGENT,
        "app.kubernetes.io/instance": names.PROMETHEUS_AGENT,
    }
    assert shard_pods.items() <= pod["metadata"]["labels"].items()
    zone, host = pod["spec"]["topologySpreadConstraints"]
    assert zone == {
        "maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": shard_pods},
    }
    assert (host["topologyKey"], host["whenUnsatisfiable"]) == ("kubernetes.io/hostname", "ScheduleAnyway")
    (container,) = pod["spec"]["containers"]
    # `__replica__` is `${AGENT_REPLICA}` in the config: the pod's ordinal, which Prometheus 3 expands
    # by default (no 2.x feature flag, which 3.x would only warn about).
    assert not [a for a in container["args"] if a.startswith("--enable-feature")]
    assert container["env"] == [
        {
            "name": "AGENT_REPLICA",
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['apps.kubernetes.io/pod-index']"}},
        }
    ]
    assert dev.stage.monitoring.agent_config["global"]["external_labels"]["__replica__"] == "${AGENT_REPLICA}"
    # A drain evicts one agent of the pair at a time.
    budget = dev.kubernetes_object("PodDisruptionBudget", names.PROMETHEUS_AGENT)["spec"]
    assert budget == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": shard_pods},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }


def test_agent_config_map_holds_the_generated_config_and_its_checksum_rolls_the_pod(dev):
    stack = dev.stage.monitoring
    config_map = dev.kubernetes_object("ConfigMap", f"{names.PROMETHEUS_AGENT}-config")
    rendered = scrape_config.render(stack.agent_config)
    # Tokens (cluster name, workspace URL) are resolved by CloudFormation: each may stand for any text.
    pattern = ".*?".join(re.escape(part) for part in re.split(r"\$\{Token\[[^\]]+\]\}", rendered))
    assert re.fullmatch(pattern, config_map["data"]["prometheus.yml"], flags=re.DOTALL)
    annotations = dev.kubernetes_object("StatefulSet", names.PROMETHEUS_AGENT)["spec"]["template"][
        "metadata"
    ]["annotations"]
    assert annotations[CONFIG_CHECKSUM_ANNOTATION] == stack.agent_config_checksum


def test_a_different_config_gives_a_different_checksum(synthesized):
    """dev and auto differ only in their `environment` external label: the pod must roll."""
    checksums = {
        name: synthesized[name].kubernetes_object("StatefulSet", names.PROMETHEUS_AGENT)["spec"]["template"][
            "metadata"
        ]["annotations"][CONFIG_CHECKSUM_ANNOTATION]
        for name in ("dev", "auto")
    }
    assert checksums["dev"] != checksums["auto"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", value) for value in checksums.values())


def test_agent_rbac_is_read_only_discovery_and_metrics(dev):
    rules = dev.kubernetes_object("ClusterRole", names.PROMETHEUS_AGENT)["rules"]
    verbs = {verb for rule in rules for verb in rule["verbs"]}
    assert verbs <= {"get", "list", "watch"}
    resources = {r for rule in rules for r in rule.get("resources", [])}
    assert "secrets" not in resources
    assert "nodes/metrics" in resources
    assert {u for rule in rules for u in rule.get("nonResourceURLs", [])} == {"/metrics", "/metrics/cadvisor"}


def test_node_exporter_runs_on_every_node_with_read_only_host_mounts(dev):
    daemon_set = dev.kubernetes_object("DaemonSet", names.NODE_EXPORTER)["spec"]["template"]
    spec = daemon_set["spec"]
    assert spec["tolerations"] == [{"operator": "Exists"}]
    assert spec["hostNetwork"] is True
    assert spec["hostPID"] is True
    (container,) = spec["containers"]
    assert all(mount["readOnly"] for mount in container["volumeMounts"])
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert any(arg.startswith("--collector.filesystem.mount-points-exclude=") for arg in container["args"])
    # Scraped once, by the dedicated per-pod job: never opted in to the generic pod job.
    assert "annotations" not in daemon_set["metadata"]
    assert container["ports"] == [
        {"name": "metrics", "containerPort": names.NODE_EXPORTER_PORT, "protocol": "TCP"}
    ]


def test_node_exporter_has_a_privileged_namespace_and_monitoring_enforces_restricted(dev):
    """Pod Security is per namespace: only node-exporter's own one admits the host access it needs."""
    labels = dev.kubernetes_object("Namespace", names.NODE_EXPORTER_NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    labels = dev.kubernetes_object("Namespace", names.MONITORING_NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_metrics_pipeline_outranks_workloads_under_pressure(dev):
    """Evicted after application pods (priority 0) and never before the system's own."""
    priority_class = dev.kubernetes_object("PriorityClass", names.MONITORING_PRIORITY_CLASS)
    assert 0 < priority_class["value"] < 2_000_000_000
    assert priority_class["globalDefault"] is False
    for kind, name in (("StatefulSet", names.PROMETHEUS_AGENT), ("Deployment", names.KUBE_STATE_METRICS)):
        spec = dev.kubernetes_object(kind, name)["spec"]["template"]["spec"]
        assert spec["priorityClassName"] == names.MONITORING_PRIORITY_CLASS, name
    node_exporter = dev.kubernetes_object("DaemonSet", names.NODE_EXPORTER)["spec"]["template"]["spec"]
    assert node_exporter["priorityClassName"] == "system-node-critical"  # one per node, never preempted
    # The web app and Postgres keep the default.
    for kind, name in (("Deployment", names.WEBAPP), ("StatefulSet", names.POSTGRES)):
        assert "priorityClassName" not in dev.kubernetes_object(kind, name)["spec"]["template"]["spec"]


def test_kube_state_metrics_reads_only_what_it_reports(dev):
    deployment = dev.kubernetes_object("Deployment", names.KUBE_STATE_METRICS)["spec"]
    assert deployment["replicas"] == 1
    (container,) = deployment["template"]["spec"]["containers"]
    args = dict(a.removeprefix("--").split("=", 1) for a in container["args"])
    assert args["metric-labels-allowlist"].count(names.NAME_LABEL) == 4
    listed = set(args["resources"].split(","))
    rules = dev.kubernetes_object("ClusterRole", names.KUBE_STATE_METRICS)["rules"]
    granted = {r for rule in rules for r in rule["resources"]}
    assert listed == granted == {r for group in RESOURCES_BY_GROUP.values() for r in group}
    assert "secrets" not in granted
    assert {verb for rule in rules for verb in rule["verbs"]} == {"list", "watch"}


@pytest.mark.parametrize("variant", ["dev", "auto"])
def test_monitoring_manifests_wait_for_their_namespace(synthesized, variant):
    resources = synthesized[variant].template("Monitoring").to_json()["Resources"]
    kinds = {
        logical_id: {o["kind"] for o in json.loads(render_tokens(r["Properties"]["Manifest"]))}
        for logical_id, r in resources.items()
        if r["Type"] == "Custom::AWSCDK-EKS-KubernetesResource"
    }
    # The namespaces and the priority class their pods name come first (the policies too: they name
    # the namespace).
    (namespace_id,) = [logical_id for logical_id, k in kinds.items() if k == {"Namespace", "PriorityClass"}]
    assert len(kinds) == 5
    assert {"NetworkPolicy"} in kinds.values()
    for logical_id in set(kinds) - {namespace_id}:
        assert namespace_id in resources[logical_id]["DependsOn"]


def test_workspace_logs_to_a_vended_logs_group_named_after_its_stage_and_stack(dev, prod):
    """The /aws/vendedlogs/ prefix needs a physical name: one per stage and stack, deleted with it."""
    names_by_stage = {}
    for synth, stage in ((dev, "Dev"), (prod, "Prod")):
        properties = synth.single_resource("Monitoring", "AWS::APS::Workspace")["Properties"]
        log_group_id = properties["LoggingConfiguration"]["LogGroupArn"]["Fn::GetAtt"][0]
        log_group = synth.template("Monitoring").to_json()["Resources"][log_group_id]
        name = log_group["Properties"]["LogGroupName"]
        assert re.fullmatch(rf"/aws/vendedlogs/prometheus/{stage}Monitoring-Prometheus-[0-9A-F]{{8}}", name)
        assert log_group["DeletionPolicy"] == "Delete"
        assert synth.templates["Monitoring"]["Outputs"]["PrometheusLogGroupName"]["Value"] == {
            "Ref": log_group_id
        }
        names_by_stage[stage] = name
    assert names_by_stage["Dev"] != names_by_stage["Prod"]


def watchdog_route(definition_text: str) -> dict:
    config = yaml.safe_load(yaml.safe_load(definition_text)["alertmanager_config"])
    (route,) = [r for r in config["route"]["routes"] if r["receiver"] == "watchdog"]
    return dict(route)


def test_dead_mans_switch_waits_twice_the_watchdog_heartbeat(dev):
    """Watchdog repeats every 30m (on a 5m tick, whatever alerting.group_interval says); the alarm fires
    after 60 minutes (3600 s) without a publish and pages the page topic (dev has no chat channel)."""
    workspace = dev.single_resource("Monitoring", "AWS::APS::Workspace")
    route = watchdog_route(render_tokens(workspace["Properties"]["AlertManagerDefinition"]))
    assert (route["repeat_interval"], route["group_interval"], route["group_wait"]) == ("30m", "5m", "0s")
    alarm = dev.single_resource("Monitoring", "AWS::CloudWatch::Alarm")["Properties"]
    assert alarm["Period"] * alarm["EvaluationPeriods"] == 3600
    assert alarm["DatapointsToAlarm"] == alarm["EvaluationPeriods"]
    topics = {
        v["Properties"]["DisplayName"]: k
        for k, v in dev.template("Monitoring").find_resources("AWS::SNS::Topic").items()
    }
    assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topics["Alerts: page"]}]
    assert alarm["Dimensions"] == [
        {"Name": "TopicName", "Value": {"Fn::GetAtt": [topics["Alerts: watchdog heartbeat"], "TopicName"]}}
    ]


def test_watchdog_keeps_its_5m_tick_when_the_config_slows_the_others():
    slow = AlertingConfig(group_interval="1h", repeat_interval="4h")
    topics = alertmanager.Topics(page="p", ticket="t", watchdog="w")
    config = alertmanager.alertmanager_config(alerting=slow, region="eu-west-1", topics=topics)
    assert config["route"]["group_interval"] == "1h"
    (route,) = [r for r in config["route"]["routes"] if r["receiver"] == "watchdog"]
    assert (route["group_interval"], route["repeat_interval"]) == ("5m", "30m")


@pytest.mark.parametrize("variant", ["dev", "prod"])
def test_an_environment_without_page_subscribers_warns_at_synth(synthesized, variant):
    """Neither dev nor prod subscribes anyone to pages today: every synth says so, on the Alerts construct."""
    stage = synthesized[variant].stage
    warnings = Annotations.from_stack(stage.monitoring).find_warning(
        f"/{stage.stage_name}/Monitoring/Alerts", Match.string_like_regexp("Pages reach no one")
    )
    assert len(warnings) == 1
