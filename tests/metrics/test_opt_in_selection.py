"""The opt-in jobs' target selection on hand-written discovered targets, without processes: what the
`prometheus.io/scrape`, `/port`, `/path` and `/scheme` annotations mean (names.py), which pods and
endpoints are left out, and the labels a target gets. The labels each target starts with are Prometheus's
documented `kubernetes_sd_config` meta labels (role pod: one target per container port, a container
without ports as a target on the pod IP alone; role endpointslice: one per endpoint and slice port).
Evaluated by tests/metrics/relabel.py, the relabel re-implementation test_agent_targets.py checks against
the real agent; the real agent on a simulated cluster is test_relabel_targets.py (slow)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from observability.jobs import BY_NAME, JOB_TABLE, Role, Targets
from observability.render.selectors import relabel_configs
from tests.metrics.relabel import targets_of

POD = {
    "__address__": "10.0.0.5:8080",
    "__meta_kubernetes_namespace": "shop",
    "__meta_kubernetes_pod_name": "web-1",
    "__meta_kubernetes_pod_node_name": "node-a",
    "__meta_kubernetes_pod_ip": "10.0.0.5",
    "__meta_kubernetes_pod_phase": "Running",
    "__meta_kubernetes_pod_container_name": "web",
    "__meta_kubernetes_pod_container_init": "false",
    "__meta_kubernetes_pod_container_port_number": "8080",
    "__meta_kubernetes_pod_container_port_name": "http",
    "__meta_kubernetes_pod_label_app_kubernetes_io_name": "web",
    "__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true",
    "__meta_kubernetes_pod_annotation_prometheus_io_port": "8080",
}
NO_PORTS = {  # a container that declares no port: the pod IP alone
    **POD,
    "__address__": "10.0.0.5",
    "__meta_kubernetes_pod_container_port_number": "",
    "__meta_kubernetes_pod_container_port_name": "",
}
POD_LABELS = {"job": "pods", "namespace": "shop", "pod": "web-1", "node": "node-a"}


def pods(*discovered: dict[str, str], jobs: Any = JOB_TABLE) -> list[tuple[str, dict[str, str]]]:
    job = {"job_name": "pods", "relabel_configs": relabel_configs(BY_NAME["pods"], jobs)}
    return [(t.url, t.label_dict) for t in targets_of(job, discovered)]


def test_an_annotated_pod_is_scraped_on_its_annotated_port() -> None:
    assert pods(POD) == [
        ("http://10.0.0.5:8080/metrics", POD_LABELS | {"instance": "10.0.0.5:8080", "container": "web"})
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"__meta_kubernetes_pod_annotation_prometheus_io_scrape": "false"},
        {"__meta_kubernetes_pod_annotation_prometheus_io_scrape": ""},  # not annotated
        {"__meta_kubernetes_pod_annotation_prometheus_io_port": ""},  # no port: nothing to scrape
        {"__meta_kubernetes_pod_annotation_prometheus_io_port": "http"},  # a port name is not a number
        {"__meta_kubernetes_pod_container_port_number": "9090"},  # another port of the pod
        {"__meta_kubernetes_pod_phase": "Succeeded"},  # finished pods serve nothing
        {"__meta_kubernetes_pod_phase": "Failed"},
    ],
    ids=["scrape-false", "not-annotated", "no-port", "port-name", "other-port", "succeeded", "failed"],
)
def test_what_is_not_scraped(change: dict[str, str]) -> None:
    assert pods(POD | change) == []


@pytest.mark.parametrize(
    ("change", "url"),
    [
        ({"__meta_kubernetes_pod_phase": "Pending"}, "http://10.0.0.5:8080/metrics"),  # starting: kept
        (
            {"__meta_kubernetes_pod_annotation_prometheus_io_path": "/app/metrics"},
            "http://10.0.0.5:8080/app/metrics",
        ),
        (
            {"__meta_kubernetes_pod_annotation_prometheus_io_path": "app/metrics"},
            "http://10.0.0.5:8080/metrics",
        ),
        ({"__meta_kubernetes_pod_annotation_prometheus_io_scheme": "https"}, "https://10.0.0.5:8080/metrics"),
        ({"__meta_kubernetes_pod_annotation_prometheus_io_scheme": "ftp"}, "http://10.0.0.5:8080/metrics"),
    ],
    ids=["pending", "path", "relative-path-ignored", "https", "other-scheme-ignored"],
)
def test_the_annotations_set_the_url(change: dict[str, str], url: str) -> None:
    ((scraped, _),) = pods(POD | change)
    assert scraped == url


def test_a_container_without_ports_is_scraped_on_the_annotated_port_without_a_container_label() -> None:
    assert pods(NO_PORTS) == [("http://10.0.0.5:8080/metrics", POD_LABELS | {"instance": "10.0.0.5:8080"})]


def test_an_ipv6_pod_without_ports_gets_brackets() -> None:
    ((url, labels),) = pods(NO_PORTS | {"__address__": "fd00::5", "__meta_kubernetes_pod_ip": "fd00::5"})
    assert (url, labels["instance"]) == ("http://[fd00::5]:8080/metrics", "[fd00::5]:8080")


def test_one_target_per_pod_whatever_its_containers_ports() -> None:
    """The app's container (8080, annotated), a sidecar's port (9090), a portless sidecar and an init
    container without ports: only the annotated port is scraped."""
    sidecar = POD | {
        "__address__": "10.0.0.5:9090",
        "__meta_kubernetes_pod_container_name": "proxy",
        "__meta_kubernetes_pod_container_port_number": "9090",
    }
    portless = NO_PORTS | {"__meta_kubernetes_pod_container_name": "logger"}
    init = NO_PORTS | {
        "__meta_kubernetes_pod_container_name": "migrate",
        "__meta_kubernetes_pod_container_init": "true",
    }
    assert pods(POD, sidecar, init) == pods(POD)
    # The portless sidecar's target is the same address: de-duplicated but for its (absent) container label.
    assert [url for url, _ in pods(POD, sidecar, portless, init)] == ["http://10.0.0.5:8080/metrics"] * 2
    assert pods(init) == []  # an init container without ports runs before the app: never the target


def test_an_init_container_with_a_port_is_scraped() -> None:
    init = POD | {
        "__meta_kubernetes_pod_container_name": "warmup",
        "__meta_kubernetes_pod_container_init": "true",
    }
    ((_, labels),) = pods(init)
    assert labels["container"] == "warmup"


@pytest.mark.parametrize(
    ("namespace", "app", "scraped"),
    [
        ("monitoring", "kube-state-metrics", False),  # its dedicated job scrapes it
        ("node-exporter", "node-exporter", False),
        ("monitoring", "prometheus-agent", False),
        ("shop", "kube-state-metrics", True),  # the same name elsewhere is someone else's
        ("monitoring", "kube-state-metrics-x", True),
    ],
)
def test_pods_of_dedicated_jobs_are_left_to_them(namespace: str, app: str, scraped: bool) -> None:
    pod = POD | {
        "__meta_kubernetes_namespace": namespace,
        "__meta_kubernetes_pod_label_app_kubernetes_io_name": app,
    }
    assert len(pods(pod)) == (1 if scraped else 0)


def test_pods_a_service_selects_by_other_labels_are_left_to_its_job() -> None:
    """A dedicated job selecting `Tier: api, version: v1.2` in namespace payments: its pods are left out,
    the label values matched literally (the `.` is no wildcard), the names as discovery writes them
    (case kept)."""
    dedicated = dataclasses.replace(
        BY_NAME["kube-state-metrics"],
        name="payments",
        targets=Targets(
            role=Role.POD, namespace="payments", pod_labels={"version": "v1.2", "Tier": "api"}, port="http"
        ),
    )
    jobs = [*JOB_TABLE, dedicated]

    def payments(**labels: str) -> dict[str, str]:
        pod_labels = {f"__meta_kubernetes_pod_label_{key}": value for key, value in labels.items()}
        return POD | {"__meta_kubernetes_namespace": "payments"} | pod_labels

    assert pods(payments(Tier="api", version="v1.2"), jobs=jobs) == []
    # Its own job keeps them: both labels, on its port.
    own = {"job_name": "payments", "relabel_configs": relabel_configs(dedicated, jobs)}
    assert len(targets_of(own, [payments(Tier="api", version="v1.2")])) == 1
    assert targets_of(own, [payments(Tier="api", version="v1x2")]) == []
    assert len(pods(payments(Tier="api", version="v1x2"), jobs=jobs)) == 1
    assert len(pods(payments(Tier="web", version="v1.2"), jobs=jobs)) == 1
    assert (
        len(pods(payments(Tier="api", version="v1.2") | {"__meta_kubernetes_namespace": "shop"}, jobs=jobs))
        == 1
    )


# --- service-endpoints: services annotated prometheus.io/scrape, per endpoint ---

ENDPOINT = {
    "__address__": "10.0.0.7:8080",
    "__meta_kubernetes_namespace": "shop",
    "__meta_kubernetes_service_name": "cart",
    "__meta_kubernetes_endpointslice_port": "8080",
    "__meta_kubernetes_endpointslice_port_name": "http",
    "__meta_kubernetes_endpointslice_endpoint_conditions_ready": "true",
    "__meta_kubernetes_endpointslice_endpoint_conditions_terminating": "false",
    "__meta_kubernetes_pod_name": "cart-1",
    "__meta_kubernetes_pod_node_name": "node-b",
    "__meta_kubernetes_pod_container_name": "cart",
    "__meta_kubernetes_pod_label_app_kubernetes_io_name": "cart",
    "__meta_kubernetes_service_annotation_prometheus_io_scrape": "true",
    "__meta_kubernetes_service_annotation_prometheus_io_port": "8080",
}


DEDICATED = {  # kube-state-metrics' pod: its own job scrapes it
    "__meta_kubernetes_namespace": "monitoring",
    "__meta_kubernetes_pod_label_app_kubernetes_io_name": "kube-state-metrics",
}


def endpoints(*discovered: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    job = {"job_name": "service-endpoints", "relabel_configs": relabel_configs(BY_NAME["service-endpoints"])}
    return [(t.url, t.label_dict) for t in targets_of(job, discovered)]


def test_an_annotated_services_endpoint_is_scraped_with_its_service_pod_and_node() -> None:
    assert endpoints(ENDPOINT) == [
        (
            "http://10.0.0.7:8080/metrics",
            {
                "job": "service-endpoints",
                "instance": "10.0.0.7:8080",
                "namespace": "shop",
                "service": "cart",
                "pod": "cart-1",
                "container": "cart",
                "node": "node-b",
            },
        )
    ]


@pytest.mark.parametrize(
    ("change", "scraped"),
    [
        ({"__meta_kubernetes_endpointslice_endpoint_conditions_ready": "false"}, True),  # ready or not
        ({"__meta_kubernetes_endpointslice_endpoint_conditions_ready": ""}, False),  # not an endpoint
        ({"__meta_kubernetes_endpointslice_endpoint_conditions_terminating": "true"}, False),
        ({"__meta_kubernetes_endpointslice_port": "9090"}, False),  # another port of the service
        ({"__meta_kubernetes_service_annotation_prometheus_io_scrape": "false"}, False),
        ({"__meta_kubernetes_service_annotation_prometheus_io_port": "http"}, False),
        ({"__meta_kubernetes_pod_annotation_prometheus_io_scrape": "true"}, False),  # the pods job has it
        ({"__meta_kubernetes_pod_annotation_prometheus_io_scrape": "false"}, True),
        (DEDICATED, False),
    ],
    ids=[
        *("not-ready", "not-an-endpoint", "terminating", "other-port", "scrape-false", "port-name"),
        *("pod-opts-in", "pod-opts-out", "dedicated"),
    ],
)
def test_which_endpoints_are_scraped(change: dict[str, str], scraped: bool) -> None:
    assert len(endpoints(ENDPOINT | change)) == (1 if scraped else 0)


def test_the_service_annotations_set_the_path_and_scheme() -> None:
    annotated = ENDPOINT | {
        "__meta_kubernetes_service_annotation_prometheus_io_path": "/stats",
        "__meta_kubernetes_service_annotation_prometheus_io_scheme": "https",
    }
    ((url, _),) = endpoints(annotated)
    assert url == "https://10.0.0.7:8080/stats"


# --- dedicated jobs: their own pods or Service, on the named port ---


def dedicated(name: str, *discovered: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    job = {"job_name": name, "relabel_configs": relabel_configs(BY_NAME[name])}
    return [(t.url, t.label_dict) for t in targets_of(job, discovered)]


KSM = {
    "__address__": "10.0.0.9:8080",
    "__meta_kubernetes_namespace": "monitoring",
    "__meta_kubernetes_pod_name": "kube-state-metrics-0",
    "__meta_kubernetes_pod_phase": "Running",
    "__meta_kubernetes_pod_label_app_kubernetes_io_name": "kube-state-metrics",
    "__meta_kubernetes_pod_container_port_name": "http-metrics",
}


@pytest.mark.parametrize(
    ("change", "scraped"),
    [
        ({}, True),
        ({"__meta_kubernetes_pod_container_port_name": "telemetry"}, False),  # its other port
        ({"__meta_kubernetes_namespace": "shop"}, False),  # a namesake elsewhere
        ({"__meta_kubernetes_pod_label_app_kubernetes_io_name": "kube-state-metrics-x"}, False),
        ({"__meta_kubernetes_pod_phase": "Failed"}, False),
    ],
    ids=["its-port", "other-port", "other-namespace", "other-app", "failed"],
)
def test_a_dedicated_job_keeps_its_pods_on_its_named_port(change: dict[str, str], scraped: bool) -> None:
    assert len(dedicated("kube-state-metrics", KSM | change)) == (1 if scraped else 0)


@pytest.mark.parametrize(
    ("change", "scraped"),
    [
        ({}, True),
        ({"__meta_kubernetes_endpointslice_port_name": "metrics"}, False),
        ({"__meta_kubernetes_service_name": "kube-dns"}, False),
        ({"__meta_kubernetes_namespace": "shop"}, False),
    ],
    ids=["https", "other-port", "other-service", "other-namespace"],
)
def test_the_api_server_is_the_default_kubernetes_services_https_port(
    change: dict[str, str], scraped: bool
) -> None:
    endpoint = {
        "__address__": "172.20.0.10:443",
        "__meta_kubernetes_namespace": "default",
        "__meta_kubernetes_service_name": "kubernetes",
        "__meta_kubernetes_endpointslice_port_name": "https",
    }
    found = dedicated("apiserver", endpoint | change)
    assert [labels for _, labels in found] == (
        [{"job": "apiserver", "instance": "172.20.0.10:443", "namespace": "default", "service": "kubernetes"}]
        if scraped
        else []
    )
