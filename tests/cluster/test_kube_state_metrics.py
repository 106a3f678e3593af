"""The real kube-state-metrics at the cluster's release reads the simulated cluster as its own service
account (so its RBAC is enough), reports the objects the stacks applied with the values they were given,
and emits every series the platform's keep-list keeps and its alerts and dashboards read (a renamed or
removed metric fails here, not in production)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client.samples import Sample

from harness.cluster import wait_until
from harness.cluster_series import resource_of
from harness.kube_state_metrics import KubeStateMetrics, release
from k8s.images import KUBE_STATE_METRICS_IMAGE
from observability import jobs
from observability.catalog import SYNTHETIC_SERIES
from observability.model.load import load_default
from observability.model.promql import selectors, series_names
from observability.render.rules import rule_files
from tests.dashboards.queries import panel_queries

KSM_JOB = "kube-state-metrics"


def _matching(samples: list[Sample], name: str, **labels: str) -> list[Sample]:
    return [s for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]


def _settled(ksm: KubeStateMetrics, ready: Callable[[list[Sample]], bool]) -> list[Sample]:
    """The page's series once `ready` holds for them (the informers have caught up with the writes)."""
    samples: list[Sample] = []

    def check() -> bool:
        samples[:] = ksm.samples()
        return ready(samples)

    assert wait_until(check, timeout=60), "kube-state-metrics did not report the expected objects"
    return samples


def test_it_is_the_clusters_release() -> None:
    assert release() == KUBE_STATE_METRICS_IMAGE.rsplit(":", 1)[1] == "v2.19.1"


def test_its_service_accounts_rbac_lets_it_watch_every_resource_it_reports(
    kube_state_metrics: KubeStateMetrics,
) -> None:
    """As its own service account, with only the chart's RBAC: a watch of each kind in its --resources
    succeeded and none failed (its self-metrics count them)."""
    watches = [
        s for s in kube_state_metrics.samples(telemetry=True) if s.name == "kube_state_metrics_watch_total"
    ]
    assert {s.labels["resource"] for s in watches if s.labels["result"] == "success" and s.value >= 1} == {
        "*v1.Pod", "*v1.Node", "*v1.Service", "*v1.Namespace", "*v1.PersistentVolumeClaim",
        "*v1.PersistentVolume", "*v1.ResourceQuota", "*v1.Deployment", "*v1.StatefulSet", "*v1.DaemonSet",
        "*v1.ReplicaSet", "*v1.Job", "*v1.CronJob", "*v2.HorizontalPodAutoscaler", "*v1.PodDisruptionBudget",
        "*v1.StorageClass",
    }  # fmt: skip
    assert [s for s in watches if s.labels["result"] != "success" and s.value > 0] == []


def test_it_reports_the_applied_workloads_with_their_values(kube_state_metrics: KubeStateMetrics) -> None:
    orders = {"namespace": "orders", "deployment": "orders-api"}
    samples = _settled(
        kube_state_metrics,
        lambda s: (
            bool(_matching(s, "kube_deployment_status_replicas_available", **orders))
            and _matching(s, "kube_deployment_status_replicas_available", **orders)[0].value == 1
        ),
    )

    def value(name: str, **labels: str) -> float:
        (sample,) = _matching(samples, name, **labels)
        return sample.value

    # The orders API's Deployment sets no replicas (its autoscaler owns the count): the API default, 1.
    assert value("kube_deployment_spec_replicas", **orders) == 1
    assert value("kube_deployment_status_replicas_available", **orders) == 1
    assert value("kube_deployment_status_condition", **orders, condition="Available", status="true") == 1
    assert value("kube_deployment_status_condition", **orders, condition="Available", status="false") == 0
    assert value("kube_statefulset_replicas", namespace="orders", statefulset="postgres") == 1
    # One node-exporter per simulated node.
    assert (
        value(
            "kube_daemonset_status_desired_number_scheduled",
            namespace="node-exporter",
            daemonset="node-exporter",
        )
        == 2
    )
    assert (
        value(
            "kube_persistentvolumeclaim_status_phase",
            namespace="orders",
            persistentvolumeclaim="data-postgres-0",
            phase="Bound",
        )
        == 1
    )
    # The autoscaler as the chart writes it.
    hpa = {"namespace": "orders", "horizontalpodautoscaler": "orders-api"}
    assert value("kube_horizontalpodautoscaler_spec_max_replicas", **hpa) == 6


def test_it_reports_kwoks_pods_running_on_the_simulated_nodes(kube_state_metrics: KubeStateMetrics) -> None:
    samples = _settled(
        kube_state_metrics,
        lambda s: len(_matching(s, "kube_node_info")) == 2 and bool(_matching(s, "kube_pod_info")),
    )
    nodes = {
        s.labels["node"]: (s.labels["internal_ip"], s.labels["pod_cidr"])
        for s in _matching(samples, "kube_node_info")
    }
    assert nodes == {
        "kwok-node-a": ("127.1.0.1", "127.2.1.0/24"),
        "kwok-node-b": ("127.1.0.2", "127.2.2.0/24"),
    }
    ready = {
        s.labels["node"]: s.value
        for s in _matching(samples, "kube_node_status_condition", condition="Ready", status="true")
    }
    assert ready == {"kwok-node-a": 1, "kwok-node-b": 1}
    (orders_pod,) = {
        s.labels["pod"]
        for s in _matching(samples, "kube_pod_info", namespace="orders", created_by_kind="ReplicaSet")
    }
    phases = {
        s.labels["phase"]: s.value
        for s in _matching(samples, "kube_pod_status_phase", namespace="orders", pod=orders_pod)
    }
    assert phases == {"Pending": 0, "Running": 1, "Succeeded": 0, "Failed": 0, "Unknown": 0}
    (owner,) = _matching(samples, "kube_pod_owner", namespace="orders", pod=orders_pod)
    assert owner.labels["owner_kind"] == "ReplicaSet"
    assert owner.labels["owner_name"].startswith("orders-api-")
    # Every pod of the platform runs on a simulated node: 2 node-exporters, the orders API, Postgres, the
    # agent's HA pair and kube-state-metrics.
    running = _matching(samples, "kube_pod_status_phase", phase="Running")
    assert sorted(s.labels["namespace"] for s in running if s.value == 1) == [
        "monitoring",
        "monitoring",
        "monitoring",
        "node-exporter",
        "node-exporter",
        "orders",
        "orders",
    ]


def test_every_series_the_keep_list_keeps_is_one_it_emits(kube_state_metrics: KubeStateMetrics) -> None:
    """The job's keep-list names real kube-state-metrics series: one it renamed or dropped is caught here."""
    emitted = kube_state_metrics.family_names()
    kept = set(jobs.BY_NAME[jobs.KUBE_STATE_METRICS].series)
    assert kept - emitted == set()


def test_every_series_the_alerts_and_dashboards_read_from_it_is_emitted_and_kept(
    kube_state_metrics: KubeStateMetrics,
) -> None:
    files = rule_files(load_default(), runbook_base_url="https://example.invalid/docs/runbooks")
    exprs = [
        rule["expr"] for document in files.values() for group in document["groups"] for rule in group["rules"]
    ]
    # The scraper's own series (`up{job="kube-state-metrics"}`) aside.
    by_alerts = {s.name for expr in exprs for s in selectors(expr) if s.equals.get("job") == KSM_JOB} - set(
        SYNTHETIC_SERIES
    )
    by_dashboards = {
        name for _, _, expr in panel_queries() for name in series_names(expr) if name.startswith("kube_")
    }
    # Among them (KubePodNotReady, KubeDeploymentReplicasMismatch, KubeNodeNotReady, ...):
    assert {
        "kube_pod_status_phase",
        "kube_deployment_spec_replicas",
        "kube_node_status_condition",
    } <= by_alerts
    read = by_alerts | by_dashboards
    assert read - kube_state_metrics.family_names() == set()
    assert read - set(jobs.BY_NAME[jobs.KUBE_STATE_METRICS].series) == set()


def test_make_cost_attributes_each_series_it_emits_to_the_kind_of_object_it_describes(
    kube_state_metrics: KubeStateMetrics,
) -> None:
    """`make cost` scales kube-state-metrics per object: each family it emits is one resource's."""
    resources = {name: resource_of(name) for name in kube_state_metrics.family_names()}
    # It declares a kind's families once an object of it exists: the cluster has no Job, CronJob or quota.
    assert set(resources.values()) == {
        "pods", "nodes", "services", "namespaces", "persistentvolumeclaims", "persistentvolumes",
        "deployments", "statefulsets", "daemonsets", "replicasets", "horizontalpodautoscalers",
        "poddisruptionbudgets", "storageclasses",
    }  # fmt: skip
    assert resources["kube_persistentvolumeclaim_info"] == "persistentvolumeclaims"
    assert resources["kube_persistentvolume_info"] == "persistentvolumes"
    assert resources["kube_poddisruptionbudget_status_current_healthy"] == "poddisruptionbudgets"
    assert resources["kube_storageclass_info"] == "storageclasses"
