"""The whole pipeline with real processes on the simulated cluster (harness/cluster_stack.py): the
generated config in the agent at the cluster's Prometheus release, discovering the charts' pods and nodes
through the API server, scraping the real node-exporters, a real postgres-exporter on a real Postgres and
the real orders API, each on its pod's IP and port, and remote-writing to a second Prometheus that stands
in for AMP.

One stack per module (10 s scrape interval, see INTERVAL); the tests run in file
order and the outage tests put the stack back as they found it.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from harness.cluster import ADVERTISE_ADDRESS
from harness.cluster_stack import ClusterStack
from harness.manifests import SCRAPE, Manifests
from harness.stack import Prometheus, generated_config, wait_until
from observability import catalog, names
from observability.jobs import all_jobs
from observability.model.load import load_default
from webapp.orders_api import slo_contract

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("metrics")]

# The scrape interval here (the cluster's is 30 s): short enough to keep the outage scenarios short, and
# about as long as the agent's restart takes to scrape again (about 5 s to over 13 s here), so the restart
# test sees a missed scrape and the ones after it.
INTERVAL = 10
CLUSTER, ENVIRONMENT = "orders-local", "test"
# The largest spacing of consecutive samples that still means "no scrape missing": scrapes run on a
# fixed ticker, so consecutive samples are one interval apart; the margin absorbs scheduling jitter.
MAX_STEP = 1.5 * INTERVAL
CONFIG = generated_config(cluster_name=CLUSTER, environment=ENVIRONMENT, scrape_interval_seconds=INTERVAL)
BY_NAME = {row.name: row for row in all_jobs(load_default())}  # the platform's jobs and the services'
# A copy of the Postgres pod that opts out of the annotation job.
OPTED_OUT_POD = "postgres-opted-out"
# Discovered, scraped and down: nothing listens on the kubelet's port (kwok has no kubelet), no
# kube-state-metrics runs on its pod, and the API server publishes a TEST-NET address (EndpointSlices
# refuse loopback ones: harness.cluster.ADVERTISE_ADDRESS).
DOWN_JOBS = ("apiserver", "cadvisor", "kube-state-metrics", "kubelet")
NODE_A = "kwok-node-a"
DROPPED = "prometheus_remote_storage_samples_dropped_total"  # harness.cluster_stack.loopback_nodes


class Pipeline:
    def __init__(self, stack: ClusterStack, agent: Prometheus) -> None:
        self.stack, self.agent = stack, agent
        self.receiver = stack.receiver

    def expected_up(self) -> list[dict[str, str]]:
        """The `up` series the receiver must hold: per job, the targets its table row selects among the
        cluster's pods and nodes (services/*.yaml and the scrape config's table), with the external labels."""
        stack = self.stack

        def pod_target(job: str, workload: str, container: str, port: int) -> list[dict[str, str]]:
            return [
                {
                    "job": job,
                    "namespace": pod["metadata"]["namespace"],
                    "pod": pod["metadata"]["name"],
                    "container": container,
                    "node": pod["spec"]["nodeName"],
                    "instance": f"{pod['status']['podIP']}:{port}",
                }
                for pod in stack.pods[workload]
            ]

        targets = [
            *pod_target("node-exporter", names.NODE_EXPORTER, names.NODE_EXPORTER, names.NODE_EXPORTER_PORT),
            *pod_target("orders-api", names.WEBAPP, names.WEBAPP, slo_contract.APP_PORT),
            *pod_target("pods", names.POSTGRES, "postgres-exporter", names.POSTGRES_EXPORTER_PORT),
            *pod_target(
                "prometheus-agent", names.PROMETHEUS_AGENT, names.PROMETHEUS_CONTAINER, names.PROMETHEUS_PORT
            ),
            # Its series carry their own namespace and pod labels: the target adds none.
            {
                "job": "kube-state-metrics",
                "instance": f"{stack.pod_ip(names.KUBE_STATE_METRICS)}:{names.KUBE_STATE_METRICS_PORT}",
            },
            # The node role's `instance` is the node's name (Prometheus's documentation of the role).
            *(
                {"job": job, "node": node.name, "instance": node.name}
                for job in ("kubelet", "cadvisor")
                for node in stack.cluster.nodes
            ),
            {
                "job": "apiserver",
                "namespace": "default",
                "service": "kubernetes",
                "instance": f"{ADVERTISE_ADDRESS}:{stack.cluster.port}",
            },
        ]
        # The harness's agent is replica 0 of its shard (AMP strips `__replica__` when it deduplicates).
        external = {"cluster": CLUSTER, "environment": ENVIRONMENT, "__replica__": "0"}
        result = [t | {"__name__": "up"} | external for t in targets]
        return sorted(result, key=lambda m: sorted(m.items()))

    def up_series(self) -> list[dict[str, str]]:
        return sorted((r["metric"] for r in self.receiver.query("up")), key=lambda m: sorted(m.items()))

    def health(self) -> dict[str, set[str]]:
        """The latest `up` values, per job."""
        result: dict[str, set[str]] = {}
        for r in self.receiver.query("up"):
            result.setdefault(r["metric"]["job"], set()).add(r["value"][1])
        return result


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, manifests: Manifests) -> Iterator[Pipeline]:
    with ClusterStack(tmp_path_factory.mktemp("pipeline"), charts=manifests) as stack:
        stack.add_pod(names.POSTGRES, name=OPTED_OUT_POD, annotations={SCRAPE: "false"})
        agent = stack.start_agent("agent", CONFIG)
        pipeline = Pipeline(stack, agent)
        expected = pipeline.expected_up()
        if not wait_until(lambda: pipeline.up_series() == expected, attempts=120, interval=0.5):
            raise RuntimeError(
                f"targets never all reached the receiver: {pipeline.up_series()}\n{agent.log()[-3000:]}"
            )
        yield pipeline


def sample_times(receiver: Prometheus, selector: str, start: float, end: float) -> dict[str, list[float]]:
    """Raw sample timestamps per series of `selector` in (start, end] (a range selector, so the query
    engine's 5-minute lookback cannot paper over gaps)."""
    window = int(end - start) + 1
    result = receiver.query(f"{selector}[{window}s]", at=end)
    return {str(sorted(r["metric"].items())): [float(t) for t, _ in r["values"]] for r in result}


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


# --- targets and labels -----------------------------------------------------------------------------------
def test_exactly_the_expected_targets_are_up(pipeline):
    expected = pipeline.expected_up()
    assert pipeline.up_series() == expected
    # Which targets that is, spelled out: our scrape targets, and what has no process here.
    assert sorted((m["job"], m.get("container"), m.get("namespace")) for m in expected) == [
        ("apiserver", None, "default"),
        ("cadvisor", None, None),
        ("cadvisor", None, None),
        ("kube-state-metrics", None, None),
        ("kubelet", None, None),
        ("kubelet", None, None),
        ("node-exporter", names.NODE_EXPORTER, names.NODE_EXPORTER_NAMESPACE),  # one per node
        ("node-exporter", names.NODE_EXPORTER, names.NODE_EXPORTER_NAMESPACE),
        ("orders-api", names.WEBAPP, names.APP_NAMESPACE),  # its own job (services/orders-api)
        ("pods", "postgres-exporter", names.APP_NAMESPACE),
        ("prometheus-agent", names.PROMETHEUS_CONTAINER, names.MONITORING_NAMESPACE),
    ]
    for series in expected:
        if series["job"] in DOWN_JOBS:
            continue
        assert set(series) == {
            "__name__",
            "job",
            "namespace",
            "pod",
            "container",
            "node",
            "instance",
            "cluster",
            "environment",
            "__replica__",
        }
        assert series["node"] in {NODE_A, "kwok-node-b"}
    # Each real process is up, what has none is down (the first scrape of a target may still be in flight).
    want = {job: {"0"} for job in DOWN_JOBS} | {
        job: {"1"} for job in ("node-exporter", "orders-api", "pods", "prometheus-agent")
    }
    assert wait_until(lambda: pipeline.health() == want, attempts=60, interval=0.5), pipeline.health()
    # The agent reports the same targets.
    active = pipeline.agent.targets()["activeTargets"]
    assert sorted(t["labels"]["instance"] for t in active) == sorted(m["instance"] for m in expected)
    assert {t["health"] for t in active if t["labels"]["job"] not in DOWN_JOBS} == {"up"}


def test_the_opted_out_pod_is_not_scraped(pipeline):
    assert pipeline.receiver.series(f'{{pod="{OPTED_OUT_POD}"}}') == []
    dropped = [t["discoveredLabels"] for t in pipeline.agent.targets()["droppedTargets"]]
    assert OPTED_OUT_POD in {t.get("__meta_kubernetes_pod_name") for t in dropped}
    # Nor through a Service: none is annotated (and the slices hold no endpoints: loopback pod IPs).
    assert pipeline.receiver.series('{job="service-endpoints"}') == []


def test_every_selecting_service_has_its_one_slice_without_endpoints(pipeline):
    """In every run, as the learner's page shows: the EndpointSlice controller has made one slice per
    Service with a selector, and it lists no endpoint (the API server refuses loopback pod IPs)."""
    slices = pipeline.stack.cluster.list_objects("discovery.k8s.io/v1", "EndpointSlice")
    by_service: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for item in slices:
        service = item["metadata"]["labels"]["kubernetes.io/service-name"]
        by_service.setdefault((item["metadata"]["namespace"], service), []).append(item)
    assert set(by_service) == {
        ("default", "kubernetes"),
        ("orders", "orders-api"),
        ("orders", "postgres"),
        ("monitoring", "prometheus-agent"),
    }
    for (namespace, service), found in by_service.items():
        (one,) = found
        assert one["metadata"]["name"].startswith(service), one["metadata"]
        if service != "kubernetes":
            assert one.get("endpoints") in (None, []), (namespace, service, one)


def test_kept_metrics_arrive_with_the_workload_labels(pipeline):
    with httpx.Client(base_url=pipeline.stack.app_url, timeout=10) as client:
        created = client.post("/orders", json={"item": "metrics", "quantity": 2})
        assert created.status_code == 201, created.text
        assert client.get(f"/orders/{created.json()['id']}").status_code == 200
        assert client.get("/orders/999999999").status_code == 404

    def arrived(query: str) -> list[dict[str, Any]]:
        return pipeline.receiver.query(query)

    app = f'job="{names.WEBAPP}",namespace="{names.APP_NAMESPACE}",container="{names.WEBAPP}"'
    requests = f"sum by (route, method, status) (http_requests_total{{{app}}})"
    assert wait_until(lambda: len(arrived(requests)) >= 3, attempts=120, interval=0.5), arrived(requests)
    statuses = {(r["metric"]["method"], r["metric"]["status"]) for r in arrived(requests)}
    assert {("POST", "201"), ("GET", "200"), ("GET", "404")} <= statuses
    slo_bucket = f'http_request_duration_seconds_bucket{{{app},le="{slo_contract.LATENCY_SLO_THRESHOLD_LE}"}}'
    assert arrived(slo_bucket)
    (cpu,) = arrived('count(node_cpu_seconds_total{job="node-exporter",container="node-exporter"})')
    assert int(cpu["value"][1]) > 0
    (pg_up,) = arrived('pg_up{job="pods",container="postgres-exporter"}')
    assert pg_up["value"][1] == "1"
    assert pg_up["metric"]["pod"] == "postgres-0"
    assert pg_up["metric"]["cluster"] == CLUSTER


def test_only_catalog_metrics_reach_the_receiver(pipeline):
    received = set(pipeline.receiver.metric_names())
    jobs = ("orders-api", "pods", "node-exporter", "prometheus-agent", *DOWN_JOBS)
    allowed = {name for job in jobs for name in BY_NAME[job].series}
    allowed |= set(catalog.SYNTHETIC_SERIES)
    assert received <= allowed, received - allowed
    # Series the exporters really expose right now, and that do not arrive.
    exposed = {}
    stack = pipeline.stack
    for name, address in (
        (
            "node-exporter",
            f"{stack.pods[names.NODE_EXPORTER][0]['status']['podIP']}:{names.NODE_EXPORTER_PORT}",
        ),
        ("postgres-exporter", f"{stack.pod_ip(names.POSTGRES)}:{names.POSTGRES_EXPORTER_PORT}"),
    ):
        text = httpx.get(f"http://{address}/metrics", timeout=10).text
        exposed[name] = {
            line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and line[0] != "#"
        }
    dropped = {"go_gc_duration_seconds", "process_cpu_seconds_total", "node_scrape_collector_success"}
    assert dropped <= exposed["node-exporter"]
    assert "go_goroutines" in exposed["postgres-exporter"]
    assert not (dropped | {"go_goroutines"}) & received
    for job in ("node-exporter", "pods", "orders-api"):
        assert pipeline.receiver.series(f'{{__name__=~"go_.*|process_.*",job="{job}"}}') == []

    # The agent's own accounting agrees: it scraped more than it kept.
    def per_target(name: str, container: str) -> dict[str, int]:
        rows = pipeline.receiver.query(f'{name}{{container="{container}"}}')
        return {r["metric"]["instance"]: int(r["value"][1]) for r in rows}

    for container in ("node-exporter", "postgres-exporter"):  # per target (a node-exporter per node)
        scraped = per_target("scrape_samples_scraped", container)
        kept = per_target("scrape_samples_post_metric_relabeling", container)
        assert scraped, container
        assert set(kept) == set(scraped), container
        assert all(kept[instance] < scraped[instance] for instance in scraped), (container, kept, scraped)


def test_the_agent_reports_its_own_health(pipeline):
    """Every name the catalog keeps for the agent is one a real Prometheus agent exposes, and arrives
    with the agent's pod labels: remote-write lag and failures are visible in AMP itself."""
    own = (
        f'job="prometheus-agent",namespace="{names.MONITORING_NAMESPACE}",'
        f'container="{names.PROMETHEUS_CONTAINER}"'
    )

    def arrived() -> set[str]:
        return {s["__name__"] for s in pipeline.receiver.series(f"{{{own}}}")}

    # Except a counter the agent creates at its first event: 3.5's samples_dropped_total has a `reason`
    # label and no series until a sample is dropped (storage/remote/queue_manager.go at v0.305.0).
    expected = set(BY_NAME["prometheus-agent"].series) - {DROPPED}
    assert wait_until(lambda: expected <= arrived(), attempts=60, interval=0.5), expected - arrived()
    assert arrived() <= expected | set(catalog.SYNTHETIC_SERIES)
    (failed,) = pipeline.receiver.query(f"prometheus_remote_storage_samples_failed_total{{{own}}}")
    assert failed["value"][1] == "0"
    assert failed["metric"]["pod"] == f"{names.PROMETHEUS_AGENT}-0"


# --- outages ----------------------------------------------------------------------------------------------
def test_receiver_outage_of_a_minute_leaves_no_gap(pipeline):
    receiver, agent = pipeline.receiver, pipeline.agent
    series_before = pipeline.up_series()
    # History to compare against: a few scrapes of every target before the outage. The window is six
    # intervals for four samples: remote write delivers a sample up to its batch deadline (5 s) after the
    # scrape, so a window of four intervals held four delivered samples of every target at once only when
    # the targets' scrape phases and that delay happened to line up.
    assert wait_until(
        lambda: all(
            len(t) >= 4
            for t in sample_times(receiver, "up", time.time() - 6 * INTERVAL, time.time()).values()
        ),
        attempts=120,
        interval=0.5,
    ), sample_times(receiver, "up", time.time() - 6 * INTERVAL, time.time())
    retried_before = agent.own_metric("prometheus_remote_storage_samples_retried_total")
    down_at = time.time()
    receiver.stop()
    # The agent notices: it retries sends (connection refused) and keeps the samples in its WAL.
    assert wait_until(
        lambda: agent.own_metric("prometheus_remote_storage_samples_retried_total") > retried_before,
        attempts=120,
        interval=0.5,
    )
    time.sleep(max(0.0, 60 - (time.time() - down_at)))  # the outage: at least a minute
    up_at = time.time()
    receiver.start_ready()  # same port, same storage

    window_start, window_end = down_at - 3 * INTERVAL, up_at + 2 * INTERVAL

    def backfilled() -> bool:
        now = time.time()
        if now < window_end:
            return False
        times = sample_times(receiver, "up", window_start, now)
        return len(times) == len(series_before) and all(
            t[0] <= window_start + MAX_STEP and t[-1] >= window_end and max(gaps(t)) <= MAX_STEP
            for t in times.values()
        )

    wait_until(backfilled, attempts=240, interval=0.5)
    for selector in (
        "up",
        "node_load1",
        'pg_up{container="postgres-exporter"}',
        "orders_api_db_pool_max_size",
    ):
        times = sample_times(receiver, selector, window_start, time.time())
        assert times, selector
        for series, t in times.items():
            assert t[0] <= window_start + MAX_STEP, (selector, series, "starts late")
            assert t[-1] >= window_end, (selector, series, "ends early")
            assert max(gaps(t)) <= MAX_STEP, (selector, series, [g for g in gaps(t) if g > MAX_STEP])
    # Every sample was delivered: none given up on, none dropped; the same series as before.
    assert agent.own_metric("prometheus_remote_storage_samples_failed_total") == 0
    # No sample line of the dropped counter, or only zeros (3.5 creates it at the first drop; 3.13's help
    # text of another counter names it, so the page's text is no test).
    try:
        dropped = agent.own_metric(DROPPED)
    except KeyError:
        dropped = 0.0
    assert dropped == 0
    assert pipeline.up_series() == series_before


def test_agent_restart_misses_only_the_scrapes_due_while_it_is_down(pipeline):
    """A restart loses only the scrapes due while the agent is down, and it comes back on the same scrape
    grid (each target's phase is a hash of its labels): everything scraped before the SIGTERM arrives, and
    every scrape due once the restarted agent has its targets again is there.

    How long the restart takes (the SIGTERM's flush to the receiver, WAL replay, discovery's first update)
    varies: from about 5 s to over 13 s in runs here. So the test reads when the agent is scraping again
    instead of assuming a bound, and asserts no count of missed scrapes."""
    receiver, agent = pipeline.receiver, pipeline.agent
    series_before = pipeline.up_series()
    (node_target,) = [
        t
        for t in agent.targets()["activeTargets"]
        if t["labels"]["job"] == "node-exporter" and t["labels"]["node"] == NODE_A
    ]
    last_scrape = datetime.fromisoformat(node_target["lastScrape"]).timestamp()
    next_scrape = last_scrape + INTERVAL * math.ceil((time.time() + 2 - last_scrape) / INTERVAL)
    # Three seconds before the node-exporter's next scrape, so that a scrape is due while the agent is down
    # (the restart took 5 s or more in every run here): the checks below then judge a hole, not only a
    # restart that happened to fall between scrapes.
    time.sleep(max(0.0, next_scrape - 3 - time.time()))

    stop_at = time.time()
    agent.stop()  # SIGTERM: it flushes what it has scraped to the (healthy) receiver, then exits
    assert agent.proc is not None
    assert agent.proc.returncode == 0, agent.log()[-2000:]
    agent.start_ready()  # same config, same WAL directory, same port
    # Scraping again: discovery has handed every target to its scrape loop (a loop's first scrape is the
    # next point of its grid). Polled, so `scraping_at` is at or after the moment it happened.
    assert wait_until(
        lambda: len(agent.targets()["activeTargets"]) == len(series_before), attempts=600, interval=0.2
    ), agent.log()[-2000:]
    scraping_at = time.time()

    def resumed() -> bool:
        times = sample_times(receiver, "up", stop_at - 3 * INTERVAL, time.time())
        return len(times) == len(series_before) and all(
            len([x for x in t if x > scraping_at]) >= 3 for t in times.values()
        )

    assert wait_until(resumed, attempts=240, interval=0.5), sample_times(
        receiver, "up", stop_at - 30, time.time()
    )
    times = sample_times(receiver, "up", stop_at - 3 * INTERVAL, time.time())
    restart = f"stopped at {stop_at:.1f}, scraping again at {scraping_at:.1f}"
    for series, t in times.items():
        assert t[0] <= stop_at - INTERVAL, (series, t)  # the samples cover the stop
        # The same grid across the restart: every spacing is a whole number of intervals.
        for gap in gaps(t):
            assert round(gap / INTERVAL) >= 1, (series, gap, t)
            assert abs(gap - INTERVAL * round(gap / INTERVAL)) <= 1, (series, gap, t)
        # Every scrape missed was due while the agent was down: none before the SIGTERM (what it had scraped
        # arrived), none once it was scraping again (1 s for a scrape's start within its tick).
        missed = [
            a + k * INTERVAL for a, b in itertools.pairwise(t) for k in range(1, round((b - a) / INTERVAL))
        ]
        assert all(stop_at - 1 < due < scraping_at + 1 for due in missed), (series, missed, restart)
    assert pipeline.up_series() == series_before  # the same series, no new ones from the restart
