"""The keep rules of every job, run by the real Prometheus agent.

Each job scrapes one local endpoint that serves every name the catalog keeps for that job (histogram
buckets at every boundary the real exporter writes) plus series the catalog does not list; the receiver
must get exactly the catalog's series, and of a trimmed histogram exactly the listed buckets and +Inf.
Jobs the local pipeline cannot run (API server, kubelet, cAdvisor, kube-state-metrics) are covered here
too. Only how targets are found differs from the generated config (one static HTTP target per job, no
target relabeling or credentials); target selection and labels are tested in test_agent_targets.py and
test_pipeline.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.stack import CannedExporter, Prometheus, for_local_receiver, generated_config, wait_until
from observability import catalog
from observability.jobs import all_jobs
from observability.model.load import load_default
from observability.render import scrape_config as sc
from tests.metrics.test_metrics_catalog import APISERVER_SLI_BOUNDARIES

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("metrics")]

INTERVAL = 5
# What real endpoints also serve and no job keeps: runtime series, a near miss of a kept name, the API
# server's older latency histogram.
NOISE = ["go_goroutines", "process_cpu_seconds_total", "promhttp_metric_handler_requests_total"]
# The platform's jobs and one per service (the orders API).
BY_NAME = {row.name: row for row in all_jobs(load_default())}
NOT_KEPT_BY_APISERVER = ["apiserver_request_duration_seconds_bucket", "apiserver_request_total_extra"]
# A kept series the API server serves with a `cluster` label of its own (AMP's HA page: Kubernetes 1.28/1.29
# may emit one); it must arrive with the agent's `cluster`, its own value moved to `exported_cluster`.
OWN_CLUSTER_SERIES = next(name for name in BY_NAME["apiserver"].series if not name.endswith("_bucket"))
OWN_CLUSTER = "emitted-by-the-target"


def boundaries(bucket_name: str) -> list[str]:
    family = bucket_name.removesuffix("_bucket")
    if family == "apiserver_request_sli_duration_seconds":
        return [*APISERVER_SLI_BOUNDARIES, "+Inf"]
    return ["0.005", "0.1", "1", "10", "+Inf"]


def exposition(job: str) -> str:
    """The text an endpoint of `job` serves: its kept names and the noise, one series per bucket."""
    lines = []
    for name in [*BY_NAME[job].series, *NOISE, *(NOT_KEPT_BY_APISERVER if job == "apiserver" else [])]:
        if name == OWN_CLUSTER_SERIES and job == "apiserver":
            lines.append(f'{name}{{cluster="{OWN_CLUSTER}"}} 1')
        elif name.endswith("_bucket"):
            lines += [f'{name}{{le="{le}"}} 1' for le in boundaries(name)]
        else:
            lines.append(f"{name} 1")
    return "\n".join(lines) + "\n"


def static_variant(config: dict[str, Any], address: str, receiver_url: str) -> dict[str, Any]:
    """Each job scrapes `http://<address>/<job>`; its keep rules and limits stay as generated."""
    local = for_local_receiver(config, receiver_url)
    for job in local["scrape_configs"]:
        for key in ("kubernetes_sd_configs", "relabel_configs", "authorization", "tls_config"):
            job.pop(key, None)
        job |= {
            "static_configs": [{"targets": [address]}],
            "scheme": "http",
            "metrics_path": f"/{job['job_name']}",
        }
    return local


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    workdir: Path = tmp_path_factory.mktemp("keep-rules")
    config = generated_config(cluster_name="keep-rules", scrape_interval_seconds=INTERVAL)
    receiver = Prometheus.receiver(workdir / "receiver")
    pages = {f"/{job}": exposition(job).encode() for job in BY_NAME}
    with CannedExporter(pages) as endpoints:
        local = static_variant(config, endpoints.address, receiver.remote_write_url)
        agent = Prometheus.agent(workdir / "agent", sc.render(local))
        try:
            receiver.start_ready()
            agent.start_ready()

            # Three scrapes of every job arrived, all healthy: everything the first one kept has been
            # sent too (a partial batch waits at most batch_send_deadline, 5 s, i.e. one interval).
            def three_scrapes_arrived() -> bool:
                counts = receiver.query("count_over_time(up[5m])")
                healthy = {r["value"][1] for r in receiver.query("up")} == {"1"}
                return healthy and {r["metric"]["job"] for r in counts if int(r["value"][1]) >= 3} == set(
                    BY_NAME
                )

            if not wait_until(three_scrapes_arrived, attempts=120, interval=0.5):
                raise RuntimeError(f"not every job reached the receiver three times\n{agent.log()[-3000:]}")
            yield receiver
        finally:
            agent.stop()
            receiver.stop()


def received(receiver: Prometheus, job: str) -> list[dict[str, str]]:
    return [s for s in receiver.series(f'{{job="{job}"}}') if s["__name__"] not in catalog.SYNTHETIC_SERIES]


@pytest.mark.parametrize("job", [*sc.JOBS, "orders-api"])
def test_the_receiver_gets_exactly_the_catalog_names(receiver, job):
    names = {series["__name__"] for series in received(receiver, job)}
    assert names == set(BY_NAME[job].series)
    # The agent scraped more than it kept: the noise was there, and dropped.
    (scraped,) = receiver.query(f'scrape_samples_scraped{{job="{job}"}}')
    (kept,) = receiver.query(f'scrape_samples_post_metric_relabeling{{job="{job}"}}')
    assert int(kept["value"][1]) < int(scraped["value"][1])


def test_the_api_server_latency_histogram_keeps_only_the_listed_buckets(receiver):
    bucket = "apiserver_request_sli_duration_seconds_bucket"
    kept = {series["le"] for series in received(receiver, "apiserver") if series["__name__"] == bucket}
    assert kept == {*catalog.BUCKETS["apiserver_request_sli_duration_seconds"], "+Inf"}
    assert len(kept) < len(APISERVER_SLI_BOUNDARIES) / 2
    # Histograms that are not trimmed keep every bucket.
    pleg = {
        series["le"]
        for series in received(receiver, "kubelet")
        if series["__name__"] == "kubelet_pleg_relist_duration_seconds_bucket"
    }
    assert pleg == set(boundaries("kubelet_pleg_relist_duration_seconds_bucket"))


def test_a_scraped_cluster_label_gives_way_to_the_agents(receiver):
    (series,) = [s for s in received(receiver, "apiserver") if s["__name__"] == OWN_CLUSTER_SERIES]
    assert series["cluster"] == "keep-rules"  # the external label: AMP's deduplication group
    assert series["exported_cluster"] == OWN_CLUSTER
