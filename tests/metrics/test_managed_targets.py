"""The managed collector's configuration (AMP user guide, "Using an AWS managed collector": scraper
configuration and limitations) on hand-written discovered targets, without processes: the node jobs
through the API server's node proxy, the EndpointSlice jobs as `role: endpoints`, and what the collector
does not accept left out. Evaluated by tests/metrics/relabel.py; the real agent and scraper side by side
are test_managed_config.py (slow)."""

from __future__ import annotations

from typing import Any

import pytest

from observability.render import managed_config as mc
from observability.render import scrape_config as sc
from tests.metrics.relabel import targets_of

AGENT = sc.agent_config(
    cluster_name="orders-dev", environment="dev", region="us-east-1", remote_write_url="https://aps/rw"
)


def managed() -> dict[str, Any]:
    return mc.managed_config(AGENT)


def job(name: str) -> dict[str, Any]:
    (found,) = [j for j in managed()["scrape_configs"] if j["job_name"] == name]
    return found


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("kubelet", "/api/v1/nodes/ip-10-0-1-5/proxy/metrics"),
        ("cadvisor", "/api/v1/nodes/ip-10-0-1-5/proxy/metrics/cadvisor"),
    ],
)
def test_node_jobs_go_through_the_api_servers_node_proxy(name: str, path: str) -> None:
    node = {"__address__": "10.0.1.5:10250", "__meta_kubernetes_node_name": "ip-10-0-1-5"}
    ((target,),) = [targets_of(job(name), [node])]
    assert target.url == f"https://kubernetes.default.svc:443{path}"
    assert target.label_dict["instance"] == "ip-10-0-1-5"  # every address is the API server's
    assert target.label_dict["node"] == "ip-10-0-1-5"
    assert "tls_config" not in job(name)  # not a section the collector accepts


def test_what_the_collector_does_not_accept_or_need_is_left_out() -> None:
    config = managed()
    assert sorted(config) == ["global", "scrape_configs"]  # no remote_write: the scraper's own destination
    assert "__replica__" not in config["global"]["external_labels"]  # no HA pair to deduplicate
    assert config["global"]["external_labels"]["cluster"] == "orders-dev"
    names = [j["job_name"] for j in config["scrape_configs"]]
    assert "prometheus-agent" not in names  # no agent runs
    assert {"apiserver", "kubelet", "cadvisor", "pods", "service-endpoints"} <= set(names)
    assert all("tls_config" not in j for j in config["scrape_configs"])
    # The agent's own config is not changed by deriving the scraper's from it.
    assert "__replica__" in AGENT["global"]["external_labels"]
    assert any(j["job_name"] == "prometheus-agent" for j in AGENT["scrape_configs"])


ENDPOINT = {  # role endpoints: the Endpoints API's labels, ready and not-ready addresses
    "__address__": "10.0.0.7:8080",
    "__meta_kubernetes_namespace": "shop",
    "__meta_kubernetes_service_name": "cart",
    "__meta_kubernetes_endpoint_port_name": "http",
    "__meta_kubernetes_endpoint_ready": "true",
    "__meta_kubernetes_pod_name": "cart-1",
    "__meta_kubernetes_pod_node_name": "node-b",
    "__meta_kubernetes_pod_container_name": "cart",
    "__meta_kubernetes_service_annotation_prometheus_io_scrape": "true",
    "__meta_kubernetes_service_annotation_prometheus_io_port": "8080",
}


@pytest.mark.parametrize(
    ("change", "scraped"),
    [
        ({}, True),
        ({"__meta_kubernetes_endpoint_ready": "false"}, True),  # ready or not, as the agent's job
        ({"__meta_kubernetes_endpoint_ready": ""}, False),  # a pod's other port: not an endpoint
        ({"__address__": "10.0.0.7:9090"}, False),  # another port than the annotated one
    ],
    ids=["ready", "not-ready", "not-an-endpoint", "other-port"],
)
def test_service_endpoints_through_the_endpoints_role(change: dict[str, str], scraped: bool) -> None:
    service_endpoints = job("service-endpoints")
    assert [sd["role"] for sd in service_endpoints["kubernetes_sd_configs"]] == ["endpoints"]
    found = targets_of(service_endpoints, [ENDPOINT | change])
    assert [(t.url, t.label_dict["service"], t.label_dict["pod"]) for t in found] == (
        [("http://10.0.0.7:8080/metrics", "cart", "cart-1")] if scraped else []
    )


def test_the_api_server_through_the_endpoints_role() -> None:
    apiserver = job("apiserver")
    assert [sd["role"] for sd in apiserver["kubernetes_sd_configs"]] == ["endpoints"]
    endpoint = {
        "__address__": "172.20.0.10:443",
        "__meta_kubernetes_namespace": "default",
        "__meta_kubernetes_service_name": "kubernetes",
        "__meta_kubernetes_endpoint_port_name": "https",
    }
    assert [t.url for t in targets_of(apiserver, [endpoint])] == ["https://172.20.0.10:443/metrics"]
    other = endpoint | {"__meta_kubernetes_endpoint_port_name": "metrics"}
    assert targets_of(apiserver, [other]) == []
