"""The job table (observability.jobs) is the one source of the agent's scrape jobs: the synthesized
agent config has exactly one job per row, with the row's selection, kept series, buckets and limits."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from observability import jobs
from observability.jobs import BY_NAME, JOB_TABLE, JOBS, Role, Targets, Unit, all_jobs
from observability.model.load import load, load_default

REPO = Path(__file__).resolve().parents[2]

# The platform's jobs, then one per service (services/: the orders API).
ALL = all_jobs(load_default())
ALL_BY_NAME = {row.name: row for row in ALL}


def scrape_jobs(synthesized: Any) -> dict[str, dict[str, Any]]:
    configs = synthesized.stage.monitoring.agent_config["scrape_configs"]
    names = [job["job_name"] for job in configs]
    assert len(names) == len(set(names)), names
    return {job["job_name"]: job for job in configs}


def anchored(regex: str) -> re.Pattern[str]:
    return re.compile(f"^(?:{regex})$")  # as Prometheus anchors relabel regexes


def test_every_job_has_exactly_one_row_in_order():
    assert tuple(row.name for row in JOB_TABLE) == JOBS
    assert set(BY_NAME) == set(JOBS)
    for row in JOB_TABLE:
        assert row.series, row.name
        assert len(set(row.series)) == len(row.series), f"duplicate series in {row.name}"


def test_the_agent_config_has_one_job_per_row_with_its_limits(dev, prod):
    for synthesized in (dev, prod):
        configs = scrape_jobs(synthesized)
        assert list(configs) == [*JOBS, "orders-api"]
        for row in ALL:
            job = configs[row.name]
            assert {field: job[field] for field in dataclasses.asdict(row.limits)} == dataclasses.asdict(
                row.limits
            )


def test_each_keep_rule_keeps_exactly_the_rows_series(dev):
    extra = set(dev.config.monitoring.extra_metrics)
    for name, job in scrape_jobs(dev).items():
        row = ALL_BY_NAME[name]
        # The keep rules (after them, scraped external labels are moved aside: test_scrape_config.py).
        keep, *bucket_rules = [rule for rule in job["metric_relabel_configs"] if rule["action"] == "keep"]
        assert keep["action"] == "keep"
        assert keep["source_labels"] == ["__name__"]
        assert set(keep["regex"].split("|")) == set(row.series) | extra, name
        assert len(bucket_rules) == (1 if row.buckets else 0), name


def test_trimmed_histograms_keep_exactly_the_rows_buckets(dev):
    trimmed = [row for row in JOB_TABLE if row.buckets]
    assert [row.name for row in trimmed] == [jobs.APISERVER]
    for row in trimmed:
        (_, bucket_rule) = [
            rule for rule in scrape_jobs(dev)[row.name]["metric_relabel_configs"] if rule["action"] == "keep"
        ]
        assert bucket_rule["source_labels"] == ["__name__", "le"]
        regex = anchored(bucket_rule["regex"])
        for family, boundaries in row.buckets.items():
            for le in (*boundaries, "+Inf"):
                assert regex.match(f"{family}_bucket;{le}"), (family, le)
            assert not regex.match(f"{family}_bucket;0.05"), family  # a boundary the row leaves out
            for series in (f"{family}_count", f"{family}_sum"):
                assert regex.match(f"{series};"), series


def test_discovery_follows_the_rows_target_selection(dev):
    for name, job in scrape_jobs(dev).items():
        targets = ALL_BY_NAME[name].targets
        (sd,) = job["kubernetes_sd_configs"]
        assert sd["role"] == targets.role
        assert sd.get("namespaces") == ({"names": [targets.namespace]} if targets.namespace else None), name
        assert job.get("metrics_path") == targets.path, name
        assert job.get("honor_labels", False) is ALL_BY_NAME[name].honor_labels, name


def test_dedicated_apps_are_selected_by_their_row_and_skipped_by_the_generic_jobs(dev):
    configs = scrape_jobs(dev)
    dedicated = [row for row in JOB_TABLE if row.targets.app is not None]
    assert {row.name for row in dedicated} == {
        jobs.NODE_EXPORTER,
        jobs.KUBE_STATE_METRICS,
        jobs.PROMETHEUS_AGENT,
    }
    for row in dedicated:
        t = row.targets
        keep = configs[row.name]["relabel_configs"][0]
        assert keep["action"] == "keep"
        assert keep["regex"] == f"{t.namespace};{t.app};{t.port}"
        for generic in (jobs.PODS, jobs.SERVICE_ENDPOINTS):
            drops = [
                anchored(rule["regex"])
                for rule in configs[generic]["relabel_configs"]
                if rule["action"] == "drop" and len(rule["source_labels"]) == 2
            ]
            assert any(d.match(f"{t.namespace};{t.app}") for d in drops), (generic, row.name)


def test_jobs_make_cost_cannot_run_carry_a_cost_estimate():
    # make cost measures node-exporter, the workloads and the agent locally, kube-state-metrics and the API
    # server on the simulated cluster; the kubelet and cAdvisor need an estimate.
    estimated = {row.name for row in JOB_TABLE if row.estimate is not None}
    assert estimated == {jobs.KUBELET, jobs.CADVISOR}
    for name in estimated:
        estimate = BY_NAME[name].estimate
        assert estimate is not None
        for series in (estimate.kept, estimate.unfiltered):
            assert series
            assert all(isinstance(unit, Unit) and count > 0 for unit, count in series.items())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"role": Role.POD, "app": "x", "port": "metrics"},  # no namespace
        {"role": Role.NODE, "namespace": "n", "app": "x", "port": "metrics"},  # app needs role pod
        {"role": Role.ENDPOINTSLICE, "namespace": "n", "service": "s"},  # no port
        {"role": Role.POD, "opt_in": jobs.OptIn.POD, "port": "metrics"},  # the annotation names the port
    ],
)
def test_a_contradictory_selection_is_refused(kwargs):
    with pytest.raises(ValueError, match="targets:"):
        Targets(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"role": Role.POD, "namespace": "n", "opt_in": jobs.OptIn.POD, "app": "x"},
        {"role": Role.POD, "namespace": "n", "opt_in": jobs.OptIn.POD, "pod_labels": {"tier": "web"}},
        {"role": Role.ENDPOINTSLICE, "namespace": "n", "opt_in": jobs.OptIn.SERVICE, "service": "s"},
    ],
    ids=["app", "pod labels", "service"],
)
def test_an_opt_in_job_names_no_workload(kwargs):
    """Opting in by annotation and naming the workload are two selections: the first refusal says so."""
    with pytest.raises(ValueError, match=r"^targets: opt-in jobs take the port from the annotation"):
        Targets(**kwargs)


def test_a_trimmed_histogram_must_be_kept_whole():
    row = BY_NAME[jobs.APISERVER]
    family = next(iter(row.buckets))
    with pytest.raises(ValueError, match="not kept whole"):
        dataclasses.replace(row, series=tuple(s for s in row.series if s != f"{family}_count"))


def test_a_service_gets_its_own_job_from_its_file_and_the_generic_jobs_skip_its_pods(dev):
    """services/orders-api/service.yaml: namespace orders, pods labelled app.kubernetes.io/name=orders-api,
    container port `http`, path /metrics, 14 kept series, 2,000 series per pod."""
    job = scrape_jobs(dev)["orders-api"]
    assert job["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["orders"]}}]
    assert job["relabel_configs"][0] == {
        "action": "keep",
        "source_labels": [
            "__meta_kubernetes_namespace",
            "__meta_kubernetes_pod_label_app_kubernetes_io_name",
            "__meta_kubernetes_pod_container_port_name",
        ],
        "regex": "orders;orders-api;http",
    }
    assert job["metrics_path"] == "/metrics"
    assert job["sample_limit"] == 2000
    keep = anchored(job["metric_relabel_configs"][0]["regex"])
    assert keep.match("http_requests_total")
    assert keep.match("orders_api_build_info")
    assert not keep.match("python_gc_objects_collected_total")  # exposed by client libraries, not kept
    for generic in (jobs.PODS, jobs.SERVICE_ENDPOINTS):
        drops = [
            (rule["source_labels"], anchored(rule["regex"]))
            for rule in scrape_jobs(dev)[generic]["relabel_configs"]
            if rule["action"] == "drop"
        ]
        assert any(
            labels == ["__meta_kubernetes_namespace", "__meta_kubernetes_pod_label_app_kubernetes_io_name"]
            and regex.match("orders;orders-api")
            for labels, regex in drops
        ), generic


def test_a_histogram_with_n_boundaries_is_n_plus_3_series():
    """n buckets, the +Inf bucket, `_count` and `_sum`: the kubelet's PLEG relist histogram (11 boundaries,
    the client's defaults) is 14 series in the kubelet job's estimate."""
    assert jobs._histogram_series(11) == 14
    assert jobs._histogram_series(0) == 3


def test_a_services_job_grows_per_pod_and_splits_its_keep_list(tmp_path):
    """A service's job has a target per pod (the sizing multiplies its budget by the pods); the metric names
    of its keep list are kept by name, the other entries as whole-name patterns (services/_template)."""
    services = tmp_path / "services"
    shutil.copytree(REPO / "services", services)
    path = services / "orders-api" / "service.yaml"
    document = yaml.safe_load(path.read_text())
    names = document["metrics"]["keep"]
    assert len(names) == 14
    assert all(re.fullmatch(r"[a-z_]+", name) for name in names)
    document["metrics"]["keep"] = [*names[:1], "orders_api_cache_.*", *names[1:]]
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    (job,) = [job for job in all_jobs(load(services)) if job.name == "orders-api"]
    assert job.one_target_per == Unit.POD
    assert job.series == tuple(names)
    assert job.patterns == ("orders_api_cache_.*",)


def test_a_job_keeping_only_a_trimmed_histogram_keeps_it_whole():
    """The three series of a trimmed histogram are enough (the boundary of the rule); two of them are not."""
    family = "apiserver_request_sli_duration_seconds"
    whole = (f"{family}_bucket", f"{family}_count", f"{family}_sum")
    row = BY_NAME["apiserver"]
    kept = dataclasses.replace(row, series=whole, buckets={family: ("1",)})
    assert kept.series == whole
    with pytest.raises(ValueError, match=f"apiserver: trimmed histogram {family} is not kept whole"):
        dataclasses.replace(row, series=whole[:2], buckets={family: ("1",)})
