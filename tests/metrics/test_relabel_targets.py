"""Which targets each job scrapes, with which labels: the generated relabeling applied (by the
`relabel` re-implementation) to what Kubernetes discovery gives for pods built from the synthesized
charts. test_agent_targets.py runs the same inputs through the real Prometheus."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from harness import manifests as mf
from harness import sd
from harness.manifests import Manifests
from observability import names
from observability.jobs import all_jobs
from observability.model.load import load_default
from observability.render import scrape_config as sc
from tests.metrics.relabel import ScrapeTarget, kept_names, relabel, targets_of
from webapp.orders_api import slo_contract

CONFIG = sc.agent_config(
    cluster_name="c", environment="dev", region="us-east-1", remote_write_url="https://x"
)
JOBS = {j["job_name"]: j for j in CONFIG["scrape_configs"]}
BY_NAME = {row.name: row for row in all_jobs(load_default())}  # the platform's jobs and the services'


def scraped(objects: list[dict[str, Any]]) -> dict[str, list[ScrapeTarget]]:
    """Per job, the de-duplicated targets it scrapes among `objects`."""
    return {name: targets_of(job, sd.discover(job, objects)) for name, job in JOBS.items()}


# An app without a service file: the web app's pod under another name, opted in by its annotations, as
# any team's pod would be. The annotation job (`pods`) scrapes it; the orders API itself has its own job.
LEGACY_APP = "legacy-app"


def legacy(pod: dict[str, Any]) -> dict[str, Any]:
    result = mf.with_annotations(
        pod, names.scrape_annotations(port=slo_contract.APP_PORT, path=slo_contract.METRICS_PATH)
    )
    result["metadata"]["labels"][names.NAME_LABEL] = LEGACY_APP
    return result


def all_targets(result: dict[str, list[ScrapeTarget]]) -> list[tuple[str, ScrapeTarget]]:
    return [(job, t) for job, targets in result.items() for t in targets]


@pytest.fixture(scope="module")
def pods(manifests: Manifests) -> dict[str, dict[str, Any]]:
    return mf.cluster_pods(manifests)


@pytest.fixture(scope="module")
def cluster(manifests: Manifests, pods: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Our pods and services on one node, two nodes, the API server's EndpointSlice."""
    service, endpoint_slice = mf.kubernetes_service(["10.40.0.11", "10.40.0.12"])
    return [
        *pods.values(),
        manifests.get("Service", names.WEBAPP),
        manifests.get("Service", names.POSTGRES),
        mf.node(mf.NODE_A, "10.40.1.10"),
        mf.node(mf.NODE_B, "10.40.2.20"),
        service,
        endpoint_slice,
    ]


# --- the relabel re-implementation itself ------------------------------------------------------------------
def test_relabel_semantics():
    assert relabel({"a": "x"}, [{"action": "keep", "source_labels": ["a"], "regex": "x|y"}]) == {"a": "x"}
    assert (
        relabel({"a": "xx"}, [{"action": "keep", "source_labels": ["a"], "regex": "x"}]) is None
    )  # anchored
    assert relabel({}, [{"action": "drop", "source_labels": ["a"], "regex": ""}]) is None  # missing reads ""
    rule = {"source_labels": ["a", "b"], "regex": "(.*);(.*)", "target_label": "c", "replacement": "$2-$1"}
    assert relabel({"a": "1", "b": "2"}, [rule])["c"] == "2-1"  # type: ignore[index]
    assert relabel({"c": "x"}, [rule | {"replacement": "$1"}]) == {}  # an empty result deletes
    # Go's expansion: `$1x` names group "1x", which does not exist.
    assert relabel({"a": "v"}, [{"source_labels": ["a"], "target_label": "t", "replacement": "$1x"}]) == {
        "a": "v"
    }
    assert relabel(
        {"a": "1", "b": "1"}, [{"action": "keepequal", "source_labels": ["a"], "target_label": "b"}]
    )
    assert relabel({"a": "1"}, [{"action": "keepequal", "source_labels": ["a"], "target_label": "b"}]) is None


# --- our workloads ----------------------------------------------------------------------------------------
def test_our_workloads_each_scraped_exactly_once(cluster, pods):
    result = scraped(cluster)
    web, pg, ne = (pods[n]["metadata"]["name"] for n in (names.WEBAPP, names.POSTGRES, names.NODE_EXPORTER))
    ksm = pods[names.KUBE_STATE_METRICS]["metadata"]["name"]
    # The orders API by its own job (services/orders-api/service.yaml), the exporter by annotations.
    assert [(t.url, t.label_dict) for t in result["orders-api"]] == [
        (
            "http://10.40.1.31:8080/metrics",
            {
                "job": "orders-api",
                "namespace": "orders",
                "pod": web,
                "container": "orders-api",
                "node": mf.NODE_A,
                "instance": "10.40.1.31:8080",
            },
        )
    ]
    assert [t.label_dict for t in result["pods"]] == [
        {
            "job": "pods",
            "namespace": names.APP_NAMESPACE,
            "pod": pg,
            "container": "postgres-exporter",
            "node": mf.NODE_A,
            "instance": f"10.40.1.32:{names.POSTGRES_EXPORTER_PORT}",
        },
    ]
    assert [t.url for t in result["pods"]] == [
        f"http://10.40.1.32:{names.POSTGRES_EXPORTER_PORT}{names.POSTGRES_EXPORTER_METRICS_PATH}",
    ]
    assert [t.label_dict for t in result["node-exporter"]] == [
        {
            "job": "node-exporter",
            "namespace": names.NODE_EXPORTER_NAMESPACE,
            "pod": ne,
            "container": names.NODE_EXPORTER,
            "node": mf.NODE_A,
            "instance": f"10.40.1.10:{names.NODE_EXPORTER_PORT}",
        }
    ]
    # kube-state-metrics: its object port only, and no target labels that its series' own would clash with.
    assert [(t.url, t.label_dict) for t in result["kube-state-metrics"]] == [
        (
            f"http://10.40.1.33:{names.KUBE_STATE_METRICS_PORT}/metrics",
            {"job": "kube-state-metrics", "instance": f"10.40.1.33:{names.KUBE_STATE_METRICS_PORT}"},
        )
    ]
    assert ksm  # discovered, scraped once through its own job
    # The agent, by its own job, on its API port (never through the generic jobs).
    agent = pods[names.PROMETHEUS_AGENT]["metadata"]["name"]
    assert [(t.url, t.label_dict) for t in result["prometheus-agent"]] == [
        (
            f"http://10.40.1.36:{names.PROMETHEUS_PORT}/metrics",
            {
                "job": "prometheus-agent",
                "namespace": names.MONITORING_NAMESPACE,
                "pod": agent,
                "container": names.PROMETHEUS_CONTAINER,
                "node": mf.NODE_A,
                "instance": f"10.40.1.36:{names.PROMETHEUS_PORT}",
            },
        )
    ]
    # Nothing of ours through service-endpoints (no service opts in), nothing scraped twice anywhere.
    assert result["service-endpoints"] == []
    urls = Counter(t.url for _, t in all_targets(result))
    assert max(urls.values()) == 1, urls


def test_control_plane_and_kubelets(cluster):
    result = scraped(cluster)
    assert [(t.url, t.label_dict) for t in result["apiserver"]] == [
        (
            f"https://{ip}:443/metrics",
            {"job": "apiserver", "namespace": "default", "service": "kubernetes", "instance": f"{ip}:443"},
        )
        for ip in ("10.40.0.11", "10.40.0.12")
    ]
    for job, path in (("kubelet", "/metrics"), ("cadvisor", "/metrics/cadvisor")):
        assert [(t.url, t.label_dict) for t in result[job]] == [
            (f"https://{ip}:10250{path}", {"job": job, "node": node, "instance": node})
            for node, ip in ((mf.NODE_A, "10.40.1.10"), (mf.NODE_B, "10.40.2.20"))
        ]


def test_the_kube_state_metrics_telemetry_port_is_never_scraped(cluster):
    telemetry = f":{names.KUBE_STATE_METRICS_TELEMETRY_PORT}/"
    assert not [t for _, t in all_targets(scraped(cluster)) if telemetry in t.url]


def test_an_opted_out_pod_is_not_scraped(pods):
    for value in ("false", None):
        pod = mf.with_annotations(
            mf.renamed(legacy(pods[names.WEBAPP]), "legacy-app-out"), {mf.SCRAPE: value}
        )
        assert all_targets(scraped([pod])) == [], value


def test_dedicated_jobs_pods_are_never_scraped_by_the_generic_jobs(manifests, pods):
    annotations = {mf.SCRAPE: "true", "prometheus.io/port": str(names.NODE_EXPORTER_PORT)}
    node_exporter = mf.with_annotations(pods[names.NODE_EXPORTER], annotations)
    agent = mf.with_annotations(
        pods[names.PROMETHEUS_AGENT], {mf.SCRAPE: "true", "prometheus.io/port": str(names.PROMETHEUS_PORT)}
    )
    ksm = mf.with_annotations(
        pods[names.KUBE_STATE_METRICS],
        {mf.SCRAPE: "true", "prometheus.io/port": str(names.KUBE_STATE_METRICS_TELEMETRY_PORT)},
    )
    # Even through an annotated service in front of them.
    service = mf.annotated_service(
        {
            "kind": "Service",
            "metadata": {"name": "node-exporter", "namespace": names.NODE_EXPORTER_NAMESPACE},
            "spec": {
                "selector": names.selector(names.NODE_EXPORTER),
                "ports": [{"name": "metrics", "port": names.NODE_EXPORTER_PORT, "targetPort": "metrics"}],
            },
        },
        names.NODE_EXPORTER_PORT,
    )
    result = scraped([node_exporter, ksm, agent, service])
    assert result["pods"] == result["service-endpoints"] == []
    assert (
        len(result["node-exporter"])
        == len(result["kube-state-metrics"])
        == len(result["prometheus-agent"])
        == 1
    )


def test_a_pod_with_several_ports_gets_one_target_on_the_annotated_one(pods):
    postgres = pods[names.POSTGRES]
    assert len(sd.pod_targets(postgres)) == 2  # discovery: postgres:5432 and postgres-exporter:9187
    (target,) = scraped([postgres])["pods"]
    assert target.url.endswith(f":{names.POSTGRES_EXPORTER_PORT}/metrics")
    assert target.label_dict["container"] == "postgres-exporter"


def test_a_pod_declaring_no_ports_is_scraped_once_on_the_annotated_port(pods):
    bare = mf.without_ports(legacy(pods[names.WEBAPP]))
    (target,) = scraped([bare])["pods"]
    assert target.url == f"http://10.40.1.31:{slo_contract.APP_PORT}/metrics"
    assert "container" not in target.label_dict  # no declared port says which container serves it
    # Several containers without ports: their targets are identical and Prometheus keeps one.
    two = mf.with_sidecar(bare)
    assert len(sd.pod_targets(two)) == 2
    assert scraped([two])["pods"] == [target]


def test_init_containers_without_ports_are_ignored(pods):
    pod = mf.with_init_container(legacy(pods[names.WEBAPP]))
    assert len(sd.pod_targets(pod)) == 2
    assert len(scraped([pod])["pods"]) == 1


def test_a_port_annotation_is_required_and_must_be_declared_when_ports_are(pods):
    no_port = mf.with_annotations(legacy(pods[names.WEBAPP]), {"prometheus.io/port": None})
    assert scraped([no_port])["pods"] == []
    undeclared = mf.with_annotations(legacy(pods[names.WEBAPP]), {"prometheus.io/port": "9999"})
    assert scraped([undeclared])["pods"] == []


def test_known_limit_port_less_sidecar_next_to_the_declared_port(pods):
    # Documented in scrape_config: one more target (same address, no container label). Our charts
    # declare ports on every container that listens, so none of our pods has this shape.
    (with_port,) = scraped([legacy(pods[names.WEBAPP])])["pods"]
    result = scraped([mf.with_sidecar(legacy(pods[names.WEBAPP]))])["pods"]
    assert len(result) == 2
    assert {t.url for t in result} == {with_port.url}
    for pod in pods.values():
        containers = pod["spec"]["containers"]
        assert all(c.get("ports") for c in containers), pod["metadata"]["name"]


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_finished_pods_are_not_scraped(pods, phase):
    assert scraped([mf.with_phase(legacy(pods[names.WEBAPP]), phase)])["pods"] == []


def test_scheme_and_path_annotations(pods):
    pod = mf.with_annotations(
        legacy(pods[names.WEBAPP]), {"prometheus.io/scheme": "https", "prometheus.io/path": "/x/m"}
    )
    (target,) = scraped([pod])["pods"]
    assert target.url == f"https://10.40.1.31:{slo_contract.APP_PORT}/x/m"
    defaults = mf.with_annotations(
        legacy(pods[names.WEBAPP]), {"prometheus.io/scheme": None, "prometheus.io/path": None}
    )
    (target,) = scraped([defaults])["pods"]
    assert target.url == f"http://10.40.1.31:{slo_contract.APP_PORT}/metrics"


def test_ipv6_pods(pods):
    pod = mf.without_ports(legacy(pods[names.WEBAPP]))
    pod["status"]["podIP"] = "fd00:ec2::31"
    (target,) = scraped([pod])["pods"]
    assert target.url == f"http://[fd00:ec2::31]:{slo_contract.APP_PORT}/metrics"
    pod = legacy(pods[names.WEBAPP]) | {
        "status": legacy(pods[names.WEBAPP])["status"] | {"podIP": "fd00:ec2::31"}
    }
    (target,) = scraped([pod])["pods"]
    assert target.url == f"http://[fd00:ec2::31]:{slo_contract.APP_PORT}/metrics"


# --- service-endpoints -------------------------------------------------------------------------------------
def test_an_annotated_service_is_scraped_per_endpoint_on_the_annotated_port(manifests, pods):
    # Postgres pods that do not opt in themselves, behind their Service annotated for the exporter port.
    opted_out = mf.opted_out(pods[names.POSTGRES], "postgres-0")
    not_ready = mf.opted_out(pods[names.POSTGRES], "postgres-1")
    not_ready["status"] |= {"podIP": "10.40.1.34", "conditions": [{"type": "Ready", "status": "False"}]}
    service = mf.annotated_service(manifests.get("Service", names.POSTGRES), names.POSTGRES_EXPORTER_PORT)
    result = scraped([opted_out, not_ready, service])
    assert result["pods"] == []
    assert [(t.url, t.label_dict) for t in result["service-endpoints"]] == [
        (
            f"http://{ip}:{names.POSTGRES_EXPORTER_PORT}/metrics",
            {
                "job": "service-endpoints",
                "namespace": names.APP_NAMESPACE,
                "service": names.POSTGRES,
                "pod": pod,
                "container": "postgres-exporter",
                "node": mf.NODE_A,
                "instance": f"{ip}:{names.POSTGRES_EXPORTER_PORT}",
            },
        )
        for ip, pod in (("10.40.1.32", "postgres-0"), ("10.40.1.34", "postgres-1"))
    ]


def test_terminating_endpoints_are_not_scraped(manifests, pods):
    # EndpointSlices list a terminating pod (`terminating: true`, not ready); the Endpoints API did not.
    leaving = mf.terminating(mf.opted_out(pods[names.POSTGRES], "postgres-0"))
    service = mf.annotated_service(manifests.get("Service", names.POSTGRES), names.POSTGRES_EXPORTER_PORT)
    discovered = sd.discover(JOBS["service-endpoints"], [leaving, service])
    conditions = {
        (
            t[f"{sd.META}endpointslice_endpoint_conditions_ready"],
            t[f"{sd.META}endpointslice_endpoint_conditions_terminating"],
        )
        for t in discovered
        if f"{sd.META}endpointslice_port" in t
    }
    assert conditions == {("false", "true")}
    assert scraped([leaving, service])["service-endpoints"] == []


def test_the_pods_other_container_ports_are_not_service_endpoints(manifests, pods):
    # Discovery adds the pod's container ports no slice port covers, without endpoint labels: an
    # annotation naming such a port selects nothing (the service does not expose it).
    opted_out = mf.opted_out(pods[names.POSTGRES], "postgres-0")
    service = mf.annotated_service(manifests.get("Service", names.POSTGRES), names.POSTGRES_EXPORTER_PORT)
    service["spec"]["ports"] = [p for p in service["spec"]["ports"] if p["port"] == names.POSTGRES_PORT]
    discovered = sd.discover(JOBS["service-endpoints"], [opted_out, service])
    assert {t[sd.ADDRESS] for t in discovered} == {
        f"10.40.1.32:{names.POSTGRES_PORT}",
        f"10.40.1.32:{names.POSTGRES_EXPORTER_PORT}",  # the exporter's container port, no slice port
    }
    assert scraped([opted_out, service])["service-endpoints"] == []


def test_endpointslice_labels_the_rules_read_are_discovered(cluster, manifests, pods):
    # A typo in a meta label name would silently select nothing: each one the endpointslice jobs read is
    # one discovery sets (sd.py follows Prometheus 2.42's endpointslice.go).
    service = mf.annotated_service(manifests.get("Service", names.POSTGRES), names.POSTGRES_EXPORTER_PORT)
    objects = [*cluster, mf.opted_out(pods[names.POSTGRES], "postgres-1"), service]
    for name in ("apiserver", "service-endpoints"):
        (config,) = JOBS[name]["kubernetes_sd_configs"]
        assert config["role"] == "endpointslice"
        discovered = {label for t in sd.discover(JOBS[name], objects) for label in t}
        read = {
            label
            for rule in JOBS[name]["relabel_configs"]
            for label in [*rule.get("source_labels", []), rule.get("target_label", "")]
            # Annotation labels exist only when the object has the (optional) annotation.
            if label.startswith(sd.META) and "_annotation_" not in label
        }
        assert read, name
        assert read <= discovered, (name, read - discovered)


def test_a_service_whose_pods_opt_in_is_not_scraped_again(manifests, pods):
    service = mf.annotated_service(manifests.get("Service", names.WEBAPP), slo_contract.APP_PORT)
    service["spec"]["selector"] = {names.NAME_LABEL: LEGACY_APP}
    result = scraped([legacy(pods[names.WEBAPP]), service])
    assert len(result["pods"]) == 1
    assert result["service-endpoints"] == []


def test_a_services_pods_are_scraped_by_its_job_only_even_if_annotated(manifests, pods):
    """The orders API's pods, annotated and behind an annotated Service: only its own job scrapes them."""
    annotated = mf.with_annotations(
        pods[names.WEBAPP],
        names.scrape_annotations(port=slo_contract.APP_PORT, path=slo_contract.METRICS_PATH),
    )
    service = mf.annotated_service(manifests.get("Service", names.WEBAPP), slo_contract.APP_PORT)
    result = scraped([annotated, service])
    assert [t.url for t in result["orders-api"]] == ["http://10.40.1.31:8080/metrics"]
    assert result["pods"] == result["service-endpoints"] == []


def test_a_service_job_needs_every_selector_label_and_its_port_name(pods):
    other_app = mf.renamed(pods[names.WEBAPP], "other")
    other_app["metadata"]["labels"][names.NAME_LABEL] = "orders-api-v2"
    other_namespace = mf.renamed(pods[names.WEBAPP], "elsewhere")
    other_namespace["metadata"]["namespace"] = "payments"
    assert scraped([other_app, other_namespace])["orders-api"] == []


def test_services_without_annotations_are_not_scraped(manifests, pods):
    opted_out = mf.opted_out(pods[names.POSTGRES], "postgres-0")
    assert scraped([opted_out, manifests.get("Service", names.POSTGRES)])["service-endpoints"] == []


# --- keep rules --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("job", [*sc.JOBS, "orders-api"])
def test_keep_rule_keeps_exactly_the_catalog(job):
    noise = ["go_gc_duration_seconds", "process_cpu_seconds_total", "node_scrape_collector_success"]
    candidates = [*BY_NAME[job].series, *noise, *(n + "_extra" for n in BY_NAME[job].series)]
    assert kept_names(JOBS[job], candidates) == set(BY_NAME[job].series)
