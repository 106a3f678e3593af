"""The example inventory API as the sandbox runs it: a real process answering stock look-ups, 503 while its
stock file is gone (the `break-inventory` fault), counting them on /metrics; and, on its pod of the team's
Deployment in a simulated cluster, a real Prometheus agent (the cluster's release) on the sandbox's
generated config finding it by Kubernetes discovery and scraping it on its own job, keeping only what its
service file keeps."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness import inventory
from harness.cluster import SimulatedCluster, against
from harness.cluster_stack import loopback_nodes
from harness.stack import Prometheus, for_local_receiver, generated_config, wait_until
from observability.model.load import load_with_examples
from observability.render import render, scrape_config

ROUTE = "/stock/{sku}"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[inventory.InventoryApi]:
    api = inventory.InventoryApi(tmp_path / "inventory-api")
    api.start()
    try:
        yield api
    finally:
        api.stop()


def requests_by_code(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    (family,) = [f for f in text_string_to_metric_families(text) if f.name == "http_requests"]
    counts = {}
    for sample in family.samples:
        if sample.name == "http_requests_total":
            assert (sample.labels["method"], sample.labels["route"]) == ("GET", ROUTE)
            counts[sample.labels["code"]] = sample.value
    return counts


def test_stock_look_ups_answer_and_are_counted_by_status(service):
    assert httpx.get(f"{service.url}/stock/widget", timeout=5).json() == {"sku": "widget", "quantity": 40}
    assert httpx.get(f"{service.url}/stock/unknown", timeout=5).status_code == 404
    service.take_stock_file_away()
    gone = httpx.get(f"{service.url}/stock/widget", timeout=5)
    assert gone.status_code == 503
    assert gone.json() == {"error": "stock data unavailable (FileNotFoundError)"}
    assert httpx.get(f"{service.url}/healthz", timeout=5).status_code == 200  # alive, only its data is gone
    service.put_stock_file_back()
    assert httpx.get(f"{service.url}/stock/gadget", timeout=5).json() == {"sku": "gadget", "quantity": 7}
    # The stock route only: /healthz and /metrics are not requests of the SLO.
    assert requests_by_code(service.url) == {"200": 2.0, "404": 1.0, "503": 1.0}


def test_sigterm_stops_it_cleanly(service):
    service.stop()
    assert service.process.proc is not None
    assert service.process.proc.returncode == 0


def test_the_agent_discovers_it_and_scrapes_it_on_its_own_job_keeping_what_its_service_file_keeps(
    tmp_path,
):
    """The sandbox's generated job for the service on a real agent, every 2 s, into a real receiver; the
    service listens on its pod's IP and port, the pod made from the team's Deployment."""
    artifacts = render(services=load_with_examples(), runbook_base_url="https://runbooks.example.com")
    config = generated_config(cluster_name="sandbox", scrape_interval_seconds=2, jobs=artifacts.scrape_jobs)
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "inventory-api"]
    config["scrape_configs"] = [job]  # this service's job alone: the other jobs' targets do not run here
    with contextlib.ExitStack() as stack:
        cluster = stack.enter_context(SimulatedCluster(nodes=loopback_nodes()))
        pod = inventory.run_pod(cluster)
        service = inventory.InventoryApi.on_pod(tmp_path / "inventory-api", pod)
        service.start()
        stack.callback(service.stop)
        assert service.url == f"http://{pod['status']['podIP']}:8000"  # the Deployment's `http` port
        httpx.get(f"{service.url}/stock/widget", timeout=5)
        exposed = httpx.get(f"{service.url}/metrics", timeout=5).text
        for dropped in ("process_cpu_seconds_total", "python_info", "http_requests_created"):
            assert dropped in exposed  # exposed, and not kept (below)
        receiver = Prometheus.receiver(tmp_path / "receiver")
        receiver.start_ready()
        stack.callback(receiver.stop)
        token = tmp_path / "token"
        # The cluster's admin: the agent's account and its RBAC come with the charts, not applied here
        # (tests/cluster checks what that account may list).
        token.write_text(cluster.admin_token)
        local = for_local_receiver(
            against(config, cluster=cluster, token_file=token), receiver.remote_write_url
        )
        agent = Prometheus.agent(tmp_path / "agent", scrape_config.render(local))
        agent.start_ready()
        stack.callback(agent.stop)  # before the receiver: an agent whose receiver is gone keeps flushing
        assert wait_until(
            lambda: bool(receiver.query('http_requests_total{job="inventory-api"}')), attempts=300
        ), agent.log()[-3000:]
        (series,) = receiver.query('http_requests_total{job="inventory-api"}')
        kept = {name for name in receiver.metric_names() if receiver.series(f'{name}{{job="inventory-api"}}')}
    labels = series["metric"]
    assert (labels["namespace"], labels["container"], labels["pod"]) == (
        "warehouse",
        "inventory-api",
        inventory.POD_NAME,
    )
    assert (labels["cluster"], labels["code"]) == ("sandbox", "200")
    # The keep-list's series and the agent's own per-target ones (`up`, `scrape_*`); nothing else.
    assert {name for name in kept if not name.startswith("scrape_")} == {
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "http_request_duration_seconds_count",
        "http_request_duration_seconds_sum",
        "up",
    }
