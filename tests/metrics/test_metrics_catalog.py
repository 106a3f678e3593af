"""The keep-lists: valid names, complete histogram families, the SLO series, extras."""

from __future__ import annotations

import re

import pytest

from observability import catalog, jobs
from observability.jobs import BY_NAME, JOB_TABLE
from observability.model.load import load_default
from observability.render import keep_rules
from webapp.orders_api import slo_contract

ORDERS_API = jobs.service_job(load_default().service("orders-api"))


def test_every_job_has_a_keep_list_and_no_other_key_exists():
    assert set(BY_NAME) == set(jobs.JOBS)
    for job, kept in ((j.name, j.series) for j in JOB_TABLE):
        assert kept, f"{job} keeps nothing"


@pytest.mark.parametrize("job", jobs.JOBS)
def test_names_are_valid_unique_metric_names(job):
    kept = BY_NAME[job].series
    catalog.validate_names(kept)
    assert all(re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", name) for name in kept)
    assert len(set(kept)) == len(kept), f"duplicates in {job}"


@pytest.mark.parametrize("job", jobs.JOBS)
def test_histogram_families_are_kept_whole(job):
    kept = set(BY_NAME[job].series)
    families = {name.removesuffix("_bucket") for name in kept if name.endswith("_bucket")}
    for family in families:
        assert set(catalog.histogram(family)) <= kept, (
            f"{job}: {family} kept without all of _bucket/_count/_sum"
        )


def test_the_slo_series_of_the_web_app_are_kept_by_its_own_job_only():
    slo_series = {
        slo_contract.HTTP_REQUESTS_TOTAL,
        *catalog.histogram(slo_contract.HTTP_REQUEST_DURATION_SECONDS),
    }
    orders_api = ORDERS_API.series
    assert slo_series <= set(orders_api)
    # Every series the app exposes, straight from its contract (one source of truth).
    assert set(slo_contract.EXPOSED_SERIES_NAMES) <= set(orders_api)
    # The annotation jobs no longer carry the app's series: they scrape the Postgres exporter.
    for job in (jobs.PODS, jobs.SERVICE_ENDPOINTS):
        assert not slo_series & set(BY_NAME[job].series)


def test_every_histogram_the_app_exposes_is_kept_whole():
    histograms = [name for name, kind in slo_contract.EXPOSED_METRICS if kind == "histogram"]
    assert histograms
    for family in histograms:
        assert set(catalog.histogram(family)) <= set(ORDERS_API.series)


def test_the_lists_stay_deliberate():
    # Roughly the kubernetes-mixin essentials, not everything the exporters expose.
    sizes = {job: len(kept) for job, kept in ((j.name, j.series) for j in JOB_TABLE)}
    assert all(len(kept) <= 50 for kept in (j.series for j in JOB_TABLE)), sizes
    assert sum(len(set(v)) for v in (j.series for j in JOB_TABLE)) <= 200, sizes


def test_synthetic_series_are_not_listed_because_relabeling_never_sees_them():
    for job, kept in ((j.name, j.series) for j in JOB_TABLE):
        assert not set(kept) & set(catalog.SYNTHETIC_SERIES), job


def test_kept_names_by_kind():
    assert "node_cpu_seconds_total" in BY_NAME["node-exporter"].series
    assert "pg_up" in BY_NAME["pods"].series
    assert "kube_pod_status_phase" in BY_NAME["kube-state-metrics"].series
    assert "container_cpu_cfs_throttled_periods_total" in BY_NAME["cadvisor"].series
    assert "kubelet_volume_stats_available_bytes" in BY_NAME["kubelet"].series
    assert "apiserver_request_total" in BY_NAME["apiserver"].series
    # Exporters' own process and Go runtime series are not.
    for kept in (j.series for j in JOB_TABLE):
        assert not [n for n in kept if n.startswith(("go_", "process_", "promhttp_"))]


def test_extras_are_added_validated_sorted_and_deduplicated():
    names = keep_rules.keep_names("pods", ["zz_custom_total", "pg_up", "zz_custom_total"])
    assert names == tuple(sorted(set(BY_NAME["pods"].series) | {"zz_custom_total"}))
    with pytest.raises(ValueError, match="not-a-metric"):
        keep_rules.keep_names("pods", ["not-a-metric"])
    with pytest.raises(ValueError, match="invalid metric names"):
        keep_rules.keep_names("pods", ["a|b"])  # would widen the regex
    with pytest.raises(KeyError, match="no-such-job"):
        keep_rules.keep_names("no-such-job")


def test_keep_regex_matches_exactly_the_names_when_anchored_as_prometheus_does():
    regex = re.compile(f"^(?:{keep_rules.keep_regex('node-exporter')})$")
    for name in BY_NAME["node-exporter"].series:
        assert regex.match(name)
    for name in ("node_load", "node_load150", "xnode_load1", "go_gc_duration_seconds", "up"):
        assert not regex.match(name), name


# Every boundary of the API server's SLI latency histogram (kubernetes staging/src/k8s.io/apiserver/pkg/
# endpoints/metrics/metrics.go, requestSliLatencies), as the API server writes them.
APISERVER_SLI_BOUNDARIES = ["0.05", "0.1", "0.2", "0.4", "0.6", "0.8", "1", "1.25", "1.5", "2", "3", "4", "5"]
APISERVER_SLI_BOUNDARIES += ["6", "8", "10", "15", "20", "30", "45", "60"]


def test_trimmed_histograms_are_kept_families_with_real_boundaries():
    kept = {name for names in (j.series for j in JOB_TABLE) for name in names}
    for family, boundaries in catalog.BUCKETS.items():
        assert set(catalog.histogram(family)) <= kept, family
        assert boundaries
        assert "+Inf" not in boundaries
    assert set(catalog.BUCKETS["apiserver_request_sli_duration_seconds"]) < set(APISERVER_SLI_BOUNDARIES)


def test_bucket_regex_keeps_listed_boundaries_and_inf_and_every_other_kept_series():
    regex = re.compile(f"^(?:{keep_rules.bucket_regex('apiserver')})$")
    bucket = "apiserver_request_sli_duration_seconds_bucket"
    listed = set(catalog.BUCKETS["apiserver_request_sli_duration_seconds"])
    for le in APISERVER_SLI_BOUNDARIES:
        assert bool(regex.match(f"{bucket};{le}")) is (le in listed), le
        # Prometheus 3 normalises boundaries to float form: "1" becomes "1.0", "0.1" stays.
        assert bool(regex.match(f"{bucket};{float(le)}")) is (le in listed), le
    assert regex.match(f"{bucket};+Inf")
    assert not regex.match(f"{bucket};")  # a bucket without a boundary is not a bucket
    assert not regex.match(f"{bucket};10")  # "1" must not match as a prefix
    for name in BY_NAME["apiserver"].series:
        if name != bucket:
            assert regex.match(f"{name};"), name
            assert regex.match(f"{name};0.05"), name
    # Jobs without a trimmed family get no second rule.
    assert keep_rules.bucket_regex("node-exporter") is None


def test_invalid_names_are_all_listed_once():
    with pytest.raises(ValueError, match=r"^invalid metric names: '1st_series', 'bad-name'$"):
        catalog.validate_names(["up", "bad-name", "1st_series", "bad-name", "ok:recorded"])
