"""Which targets each job scrapes, with which labels: the real Prometheus agent at the cluster's release
runs the generated configuration against a simulated cluster holding the charts' pods and edge cases made
from them (edge_cases.py), and its own `/api/v1/targets` is read. The expected URLs and labels follow from
the documented meaning of the jobs and the `prometheus.io/*` annotations, at the addresses the cluster gave
the pods. (test_agent_targets.py checks the `relabel` re-implementation against the same agent; the keep
rules and the re-implementation's semantics are checked here on their own.)"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from harness.cluster import ADVERTISE_ADDRESS, KUBELET_PORT
from harness.manifests import Manifests
from harness.stack import wait_until
from observability import names
from observability.jobs import all_jobs
from observability.model.load import load_default
from observability.render import scrape_config as sc
from tests.metrics.edge_cases import (
    ANNOTATED_SERVICE,
    IPV6,
    IPV6_POD,
    IPV6_PORTS_POD,
    JOBS,
    NODE_C,
    TERMINATING,
    EdgeCases,
    active,
    discovered,
    edge_case_agent,
)
from tests.metrics.relabel import ScrapeTarget, kept_names, relabel
from webapp.orders_api import slo_contract

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("metrics")]

BY_NAME = {row.name: row for row in all_jobs(load_default())}  # the platform's jobs and the services'
META = "__meta_kubernetes_"
Manifest = dict[str, Any]


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory, manifests: Manifests) -> Iterator[EdgeCases]:
    """The edge-case cluster and its agent, once the agent has discovered every pod and its target list
    stopped changing."""
    with edge_case_agent(tmp_path_factory.mktemp("relabel-targets"), manifests) as running:
        pods = {p["metadata"]["name"] for p in running.cluster.list_objects("v1", "Pod")}
        seen: list[Any] = []

        def settled() -> bool:
            now = active(running.agent)  # URLs and labels: health and scrape times keep changing
            found = {
                t.get(f"{META}pod_name") for labels in discovered(running.agent).values() for t in labels
            }
            done = pods <= found and now == (seen[-1] if seen else None)
            seen.append(now)
            return done

        assert wait_until(settled, attempts=120, interval=1), running.agent.log()[-3000:]
        yield running


def scraped(cases: EdgeCases) -> dict[str, list[ScrapeTarget]]:
    return {job: sorted(targets) for job, targets in active(cases.agent).items()}


def of_pod(cases: EdgeCases, pod: str) -> list[tuple[str, ScrapeTarget]]:
    """Every (job, target) scraping the pod named `pod`."""
    return [
        (job, t) for job, targets in scraped(cases).items() for t in targets if t.label_dict.get("pod") == pod
    ]


def discovered_of(cases: EdgeCases, job: str, pod: str) -> list[dict[str, str]]:
    return [t for t in discovered(cases.agent)[job] if t.get(f"{META}pod_name") == pod]


def pod_named(cases: EdgeCases, name: str, namespace: str = names.APP_NAMESPACE) -> Manifest:
    return cases.cluster.request("GET", f"/api/v1/namespaces/{namespace}/pods/{name}")


def ip_of(cases: EdgeCases, name: str) -> str:
    return str(pod_named(cases, name)["status"]["podIP"])


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
def test_our_workloads_each_scraped_exactly_once(cases):
    (web,) = cases.pods[names.WEBAPP]
    (pg,) = cases.pods[names.POSTGRES]
    (ksm,) = cases.pods[names.KUBE_STATE_METRICS]
    (agent,) = cases.pods[names.PROMETHEUS_AGENT]

    def identity(pod: Manifest) -> tuple[str, str, str]:
        return pod["metadata"]["name"], pod["status"]["podIP"], pod["spec"]["nodeName"]

    name, ip, node = identity(web)
    # The orders API by its own job (services/orders-api/service.yaml), nothing else.
    assert of_pod(cases, name) == [
        (
            "orders-api",
            ScrapeTarget(
                f"http://{ip}:8080/metrics",
                tuple(
                    sorted(
                        {
                            "job": "orders-api",
                            "namespace": "orders",
                            "pod": name,
                            "container": "orders-api",
                            "node": node,
                            "instance": f"{ip}:8080",
                        }.items()
                    )
                ),
            ),
        )
    ]
    # The Postgres exporter by annotations (the `pods` job), on its port only.
    name, ip, node = identity(pg)
    port = names.POSTGRES_EXPORTER_PORT
    assert [(job, t.url, t.label_dict) for job, t in of_pod(cases, name)] == [
        (
            "pods",
            f"http://{ip}:{port}{names.POSTGRES_EXPORTER_METRICS_PATH}",
            {
                "job": "pods",
                "namespace": names.APP_NAMESPACE,
                "pod": name,
                "container": "postgres-exporter",
                "node": node,
                "instance": f"{ip}:{port}",
            },
        )
    ]
    # node-exporter on each node's IP (host network), by its own job.
    for pod in cases.pods[names.NODE_EXPORTER]:
        name, ip, node = identity(pod)
        assert [(job, t.url, t.label_dict) for job, t in of_pod(cases, name)] == [
            (
                "node-exporter",
                f"http://{ip}:{names.NODE_EXPORTER_PORT}/metrics",
                {
                    "job": "node-exporter",
                    "namespace": names.NODE_EXPORTER_NAMESPACE,
                    "pod": name,
                    "container": names.NODE_EXPORTER,
                    "node": node,
                    "instance": f"{ip}:{names.NODE_EXPORTER_PORT}",
                },
            )
        ]
    # kube-state-metrics: its object port only, and no target labels that its series' own would clash with.
    ip = ksm["status"]["podIP"]
    ksm_targets = [
        t for t in scraped(cases)["kube-state-metrics"] if t.label_dict["instance"].startswith(f"{ip}:")
    ]
    assert [(t.url, t.label_dict) for t in ksm_targets] == [
        (
            f"http://{ip}:{names.KUBE_STATE_METRICS_PORT}/metrics",
            {"job": "kube-state-metrics", "instance": f"{ip}:{names.KUBE_STATE_METRICS_PORT}"},
        )
    ]
    # The agent, by its own job, on its API port (never through the generic jobs).
    name, ip, node = identity(agent)
    assert [(job, t.url, t.label_dict) for job, t in of_pod(cases, name)] == [
        (
            "prometheus-agent",
            f"http://{ip}:{names.PROMETHEUS_PORT}/metrics",
            {
                "job": "prometheus-agent",
                "namespace": names.MONITORING_NAMESPACE,
                "pod": name,
                "container": names.PROMETHEUS_CONTAINER,
                "node": node,
                "instance": f"{ip}:{names.PROMETHEUS_PORT}",
            },
        )
    ]
    # Nothing of ours scraped twice.
    ours = {p["metadata"]["name"] for each in cases.pods.values() for p in each}
    urls = Counter(
        t.url for _, targets in scraped(cases).items() for t in targets if t.label_dict.get("pod") in ours
    )
    assert max(urls.values()) == 1, urls


def test_control_plane_and_kubelets(cases):
    result = scraped(cases)
    # The address the API server publishes in default/kubernetes, with its secure port.
    address = f"{ADVERTISE_ADDRESS}:{cases.cluster.port}"
    assert [(t.url, t.label_dict) for t in result["apiserver"]] == [
        (
            f"https://{address}/metrics",
            {"job": "apiserver", "namespace": "default", "service": "kubernetes", "instance": address},
        )
    ]
    for job, path in (("kubelet", "/metrics"), ("cadvisor", "/metrics/cadvisor")):
        assert [(t.url, t.label_dict) for t in result[job]] == sorted(
            (
                f"https://{node.ip}:{KUBELET_PORT}{path}",
                {"job": job, "node": node.name, "instance": node.name},
            )
            for node in cases.cluster.nodes
        ), job


def test_the_kube_state_metrics_telemetry_port_is_never_scraped(cases):
    telemetry = f":{names.KUBE_STATE_METRICS_TELEMETRY_PORT}/"
    assert not [t for targets in scraped(cases).values() for t in targets if telemetry in t.url]


def test_an_opted_out_pod_is_not_scraped(cases):
    for pod in ("legacy-app-opted-out", "legacy-app-unannotated"):  # scrape "false", and no annotation
        assert discovered_of(cases, "pods", pod), pod  # found, then dropped
        assert of_pod(cases, pod) == [], pod


def test_dedicated_jobs_pods_are_never_scraped_by_the_generic_jobs(cases):
    # node B's node-exporter and a kube-state-metrics pod annotated for scraping anyway.
    annotated = [p["metadata"]["name"] for p in cases.pods[names.NODE_EXPORTER]] + ["ksm-annotated"]
    generic = scraped(cases)["pods"] + scraped(cases)["service-endpoints"]
    assert not [t for t in generic if t.label_dict.get("pod") in annotated]
    assert len(scraped(cases)["node-exporter"]) == len(cases.cluster.nodes)
    assert len(scraped(cases)["kube-state-metrics"]) == 2  # both pods, on their object port


def test_a_pod_with_several_ports_gets_one_target_on_the_annotated_one(cases):
    (postgres,) = cases.pods[names.POSTGRES]
    name = postgres["metadata"]["name"]
    assert len(discovered_of(cases, "pods", name)) == 2  # discovery: postgres:5432 and postgres-exporter:9187
    ((_, target),) = of_pod(cases, name)
    assert target.url.endswith(f":{names.POSTGRES_EXPORTER_PORT}/metrics")
    assert target.label_dict["container"] == "postgres-exporter"


def test_a_pod_declaring_no_ports_is_scraped_once_on_the_annotated_port(cases):
    ((job, target),) = of_pod(cases, "legacy-app-no-ports")
    assert (job, target.url) == (
        "pods",
        f"http://{ip_of(cases, 'legacy-app-no-ports')}:{slo_contract.APP_PORT}/metrics",
    )
    assert "container" not in target.label_dict  # no declared port says which container serves it
    # Several containers without ports: their targets are identical after relabeling and Prometheus keeps
    # one (its targets API lists only that one).
    ((_, two),) = of_pod(cases, "legacy-app-no-ports-2")
    assert two.url == f"http://{ip_of(cases, 'legacy-app-no-ports-2')}:{slo_contract.APP_PORT}/metrics"
    assert "container" not in two.label_dict


def test_init_containers_without_ports_are_ignored(cases):
    assert len(discovered_of(cases, "pods", "legacy-app-init")) == 2
    assert len(of_pod(cases, "legacy-app-init")) == 1


def test_a_port_annotation_is_required_and_must_be_declared_when_ports_are(cases):
    assert of_pod(cases, "legacy-app-no-port") == []
    assert of_pod(cases, "legacy-app-undeclared") == []


def test_known_limit_port_less_sidecar_next_to_the_declared_port(cases, manifests):
    # Documented in scrape_config: one more target (same address, no container label). Our charts
    # declare ports on every container that listens, so none of our pods has this shape.
    ((_, with_port),) = of_pod(cases, "legacy-app")
    sidecar = of_pod(cases, "legacy-app-sidecar")
    assert len(sidecar) == 2
    assert {t.url for _, t in sidecar} == {
        with_port.url.replace(ip_of(cases, "legacy-app"), ip_of(cases, "legacy-app-sidecar"))
    }
    for workload in manifests.workloads():
        containers = workload["spec"]["template"]["spec"]["containers"]
        assert all(c.get("ports") for c in containers), workload["metadata"]["name"]


def test_finished_pods_are_not_scraped(cases):
    for pod in ("legacy-app-finished", "legacy-app-failed", "orders-api-finished"):  # Succeeded, Failed
        assert of_pod(cases, pod) == [], pod


def test_scheme_and_path_annotations(cases):
    ((_, target),) = of_pod(cases, "legacy-app-https")
    assert target.url == f"https://{ip_of(cases, 'legacy-app-https')}:{slo_contract.APP_PORT}/x/m"
    ((_, target),) = of_pod(cases, "legacy-app")  # neither annotation: http, /metrics
    assert target.url == f"http://{ip_of(cases, 'legacy-app')}:{slo_contract.APP_PORT}/metrics"


def test_ipv6_pods(cases):
    assert ip_of(cases, IPV6_POD) == IPV6
    ((_, target),) = of_pod(cases, IPV6_POD)
    assert target.url == f"http://[{IPV6}]:{slo_contract.APP_PORT}/metrics"
    ((_, target),) = of_pod(cases, IPV6_PORTS_POD)
    assert target.url == f"http://[{ip_of(cases, IPV6_PORTS_POD)}]:{slo_contract.APP_PORT}/metrics"


# --- service-endpoints -------------------------------------------------------------------------------------
def test_an_annotated_service_is_scraped_per_endpoint_on_the_annotated_port(cases):
    # Postgres pods that do not opt in themselves (one not ready), behind their Service annotated for the
    # exporter port.
    port = names.POSTGRES_EXPORTER_PORT
    expected = []
    for pod in ("postgres-svc-0", "postgres-svc-1"):
        ip = ip_of(cases, pod)
        labels = {
            "job": "service-endpoints",
            "namespace": names.APP_NAMESPACE,
            "service": ANNOTATED_SERVICE,
            "pod": pod,
            "container": "postgres-exporter",
            "node": NODE_C.name,
            "instance": f"{ip}:{port}",
        }
        expected.append((f"http://{ip}:{port}/metrics", labels))
        assert [job for job, _ in of_pod(cases, pod)] == ["service-endpoints"]
    assert [(t.url, t.label_dict) for t in scraped(cases)["service-endpoints"]] == sorted(expected)
    # The Service's other port (Postgres itself) is discovered and not scraped.
    ports = {
        t[f"{META}endpointslice_port"] for t in discovered_of(cases, "service-endpoints", "postgres-svc-0")
    }
    assert ports == {str(names.POSTGRES_PORT), str(port)}


def test_terminating_endpoints_are_not_scraped(cases):
    # EndpointSlices list a terminating pod (`terminating: true`, not ready); the Endpoints API did not.
    conditions = {
        (
            t[f"{META}endpointslice_endpoint_conditions_ready"],
            t[f"{META}endpointslice_endpoint_conditions_terminating"],
        )
        for t in discovered_of(cases, "service-endpoints", TERMINATING)
        if f"{META}endpointslice_port" in t
    }
    assert conditions == {("false", "true")}
    assert of_pod(cases, TERMINATING) == []


def test_endpointslice_labels_the_rules_read_are_discovered(cases):
    # A typo in a meta label name would silently select nothing: each one the endpointslice jobs read is
    # one the real discovery sets.
    for name in ("apiserver", "service-endpoints"):
        (config,) = JOBS[name]["kubernetes_sd_configs"]
        assert config["role"] == "endpointslice"
        found = {label for t in discovered(cases.agent)[name] for label in t}
        read = {
            label
            for rule in JOBS[name]["relabel_configs"]
            for label in [*rule.get("source_labels", []), rule.get("target_label", "")]
            # Annotation labels exist only when the object has the (optional) annotation.
            if label.startswith(META) and "_annotation_" not in label
        }
        assert read, name
        assert read <= found, (name, read - found)


def test_a_service_whose_pods_opt_in_is_not_scraped_again(cases):
    # postgres-svc-2 opts in itself, behind the annotated Service: the annotation job alone scrapes it.
    assert [job for job, _ in of_pod(cases, "postgres-svc-2")] == ["pods"]
    assert discovered_of(cases, "service-endpoints", "postgres-svc-2")  # the Service's endpoint, dropped


def test_a_services_pods_are_scraped_by_its_job_only_even_if_annotated(cases):
    """The orders API's pod annotated for the annotation job: only its own job scrapes it."""
    ip = ip_of(cases, "orders-api-annotated")
    assert [(job, t.url) for job, t in of_pod(cases, "orders-api-annotated")] == [
        ("orders-api", f"http://{ip}:8080/metrics")
    ]


def test_a_service_job_needs_every_selector_label_and_its_namespace(cases):
    for pod in ("orders-api-v2", "orders-api-elsewhere"):  # another name label; another namespace
        assert of_pod(cases, pod) == [], pod


# --- keep rules --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("job", [*sc.JOBS, "orders-api"])
def test_keep_rule_keeps_exactly_the_catalog(job):
    noise = ["go_gc_duration_seconds", "process_cpu_seconds_total", "node_scrape_collector_success"]
    candidates = [*BY_NAME[job].series, *noise, *(n + "_extra" for n in BY_NAME[job].series)]
    assert kept_names(JOBS[job], candidates) == set(BY_NAME[job].series)
