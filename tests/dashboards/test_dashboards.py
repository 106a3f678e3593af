"""The generated dashboards, the platform's and one per service: queries parse and read only what the agent
keeps or the rules record, the JSON decodes back into the SDK's model, uids are stable, every panel reads
the `amp` data source."""

from __future__ import annotations

import json
from typing import Any

import pytest
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import prometheus
from grafana_foundation_sdk.models.dashboard import Dashboard, Panel, RowPanel

from observability import catalog
from observability.dashboards import datasource_type, folders
from observability.jobs import all_jobs
from observability.model.load import load_default
from observability.model.promql import selectors
from observability.render.rules import rule_files
from tests.dashboards.queries import all_models, panel_queries, service_models

SERVICES = load_default()
JOBS = all_jobs(load_default())  # the platform's, then one per service
KEPT = {series for row in JOBS for series in row.series}
RECORDED = {
    rule["record"]
    for document in rule_files(load_default(), runbook_base_url="https://example.invalid").values()
    for group in document["groups"]
    for rule in group["rules"]
    if "record" in rule
}
READABLE = KEPT | RECORDED | set(catalog.SYNTHETIC_SERIES) | {"ALERTS"}
EXPECTED_UIDS = [
    "eks-obs-cluster",
    "eks-obs-nodes",
    "eks-obs-workloads",
    "eks-obs-webapp",
    "eks-obs-postgres",
    "eks-obs-agent",
    "svc-orders-api",
]


def _model(uid: str) -> dict[str, Any]:
    (model,) = [model for model in all_models() if model["uid"] == uid]
    return model


def _panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in model["panels"] if panel["type"] != "row"]


def test_uids_are_stable_unique_and_short():
    assert [model["uid"] for model in all_models()] == EXPECTED_UIDS
    assert all(len(uid) <= 40 for uid in EXPECTED_UIDS)  # Grafana's limit


def _kept_by_job(job: str, series: str) -> bool:
    """What the scrape job `job` keeps: a platform job's row, or a service's own job (named after it)."""
    rows = {row.name: row for row in JOBS}
    if job in rows:
        return series in rows[job].series or series in catalog.SYNTHETIC_SERIES
    service = next((s for s in SERVICES.services if s.name == job), None)
    return service is not None and (service.keeps(series) or series in catalog.SYNTHETIC_SERIES)


def test_every_panel_query_reads_only_kept_or_recorded_series():
    unknown = {
        (uid, title, selector.name)
        for uid, title, expr in panel_queries(all_models())
        for selector in selectors(expr)
        if selector.name not in READABLE and not _kept_by_job(selector.equals.get("job", ""), selector.name)
    }
    assert unknown == set()


def test_a_selector_naming_a_job_reads_what_that_job_keeps():
    wrong = [
        (uid, title, selector.name)
        for uid, title, expr in panel_queries(all_models())
        for selector in selectors(expr)
        if "job" in selector.equals and not _kept_by_job(selector.equals["job"], selector.name)
    ]
    assert wrong == []


def test_a_service_dashboard_reads_only_its_own_slos_and_job():
    """Every selector of the orders API's dashboard names its `sloth_id`s, or its job: nothing else's."""
    ids = {"orders-api-availability", "orders-api-latency"}
    for uid, title, expr in panel_queries(service_models()):
        assert uid == "svc-orders-api"
        for selector in selectors(expr):
            if selector.name in RECORDED or selector.name == "ALERTS":
                assert selector.equals.get("sloth_id") in ids, (title, expr)
            else:
                assert selector.equals.get("job") == "orders-api", (title, expr)


@pytest.mark.parametrize("version", ["10.4", "13.0"])
def test_every_panel_has_a_title_and_reads_amp(version):
    for model in [m for folder in folders(SERVICES, version) for m in folder.dashboards]:
        for panel in _panels(model):
            assert panel["title"].strip()
            assert panel["datasource"] == {"type": datasource_type(version), "uid": "amp"}
            assert panel["targets"], panel["title"]
            assert len({target["refId"] for target in panel["targets"]}) == len(panel["targets"])
        assert model["templating"]["list"][0]["datasource"]["uid"] == "amp"


def test_queries_use_the_rate_interval_and_the_cluster_and_environment_variables():
    exprs = [target["expr"] for m in all_models() for p in _panels(m) for target in p["targets"]]
    assert all("[$__rate_interval]" in expr for expr in exprs if "rate(" in expr)
    assert all('cluster=~"$cluster", environment=~"$environment"' in expr for expr in exprs)


def test_datasource_type_follows_the_grafana_version():
    assert datasource_type("10.4") == "prometheus"
    assert datasource_type("12.4") == "prometheus"
    assert datasource_type("13.0") == "grafana-amazonprometheus-datasource"
    assert datasource_type("13") == "grafana-amazonprometheus-datasource"


@pytest.mark.parametrize("uid", EXPECTED_UIDS)
def test_the_json_decodes_into_the_sdk_dashboard_model(uid):
    model = _model(uid)
    register_default_plugins()
    decoded = Dashboard.from_json(json.loads(json.dumps(model)))
    assert decoded.uid == model["uid"]
    panels = [panel for panel in decoded.panels or [] if not isinstance(panel, RowPanel)]
    assert len(panels) == len(_panels(model))
    for panel in panels:
        assert isinstance(panel, Panel)
        assert all(isinstance(target, prometheus.Dataquery) for target in panel.targets or [])
    # And back: nothing the SDK does not model is in the JSON (decoding adds only an empty `custom` to a
    # time series' field defaults).
    again = json.loads(JSONEncoder(sort_keys=True).encode(decoded))
    for panel in again["panels"]:
        if panel.get("fieldConfig", {}).get("defaults", {}).get("custom") == {}:
            del panel["fieldConfig"]["defaults"]["custom"]
    assert again == model


@pytest.mark.parametrize("uid", EXPECTED_UIDS)
def test_snapshot(uid, snapshot):
    assert _model(uid) == snapshot
