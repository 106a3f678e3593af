"""Our SLO rules against sloth's, with sloth itself as the oracle (harness/conformance.py): on the same
synthetic series, every series sloth records is recorded by ours with the same labels and values, and our
alerts fire when sloth's fire (within one evaluation), for sloth's own example specs and for every
service's SLO file (services/ and the sandbox's examples/services/).

Where we differ on purpose (declared as `departures`, and tested for what they do in test_slo_rules.py):
- events SLIs: `slo:sli_error:ratio_rate<period>` counts events (the period sums of bad and all events per
  second) where sloth averages the 5m ratio over time, so `slo:period_burn_rate:ratio` follows it; the
  scenario's traffic is uneven, so they differ (sloth #241);
- `slo:period_error_budget_remaining:ratio` is scaled by the share of the period the SLO has seen;
- alerts: one instance per window pair (sloth ORs the pairs of a severity), compared per alert name,
  `sloth_severity` and `sloth_id`; our alerts also carry `severity` and `team`, so the examples' own
  `severity` labels (which the platform sets) are removed from both sides' spec.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import sloth
from harness.conformance import check
from observability.model.load import load_default, load_with_examples
from observability.model.service import Service
from observability.model.slo import EventsSLI, parse_slos
from observability.model.windows import load_windows
from observability.render.slo_rules import groups
from observability.spec import EXAMPLE_SERVICES_DIR, service_dirs

REPOSITORY = Path(__file__).resolve().parents[2]
ALERT_LABELS = ("alertname", "sloth_severity", "sloth_id")
EVENTS_DEPARTURES = {
    "slo:sli_error:ratio_rate30d": "counted in events, not the time average of the 5m ratio",
    # 28 and 7 days, as Prometheus prints them (sloth's names).
    "slo:sli_error:ratio_rate4w": "counted in events, not the time average of the 5m ratio",
    "slo:sli_error:ratio_rate1w": "counted in events, not the time average of the 5m ratio",
    "slo:period_burn_rate:ratio": "follows the period ratio, counted in events",
}
REMAINING_DEPARTURE = {
    "slo:period_error_budget_remaining:ratio": "scaled by the share of the period the SLO has seen",
}
# (example, SLO period): our windows for 7d are sloth's examples/windows/7d.yaml.
EXAMPLES = [
    ("getting-started.yml", "30d"),
    ("getting-started.yml", "28d"),
    ("getting-started.yml", "7d"),
    ("raw-home-wifi.yml", "30d"),
    ("no-alerts.yml", "30d"),
    ("kubernetes-apiserver.yml", "30d"),
    ("multifile.yml", "30d"),
    ("k8s-getting-started.yml", "30d"),
]


def without_severity(document: Any) -> Any:
    """The spec without the `severity` alert labels the platform sets itself."""
    body = document.get("spec", document)
    for slo in body.get("slos", []):
        alerting = slo.get("alerting", {})
        for alert in (
            alerting,
            *(alerting.get(k) or {} for k in ("page_alert", "ticket_alert", "pageAlert", "ticketAlert")),
        ):
            (alert.get("labels") or {}).pop("severity", None)
    return document


def ours(spec_path: Path, period: str) -> tuple[dict[str, Any], bool]:
    """Our rules for every SLO of the file, and whether any SLI counts events."""
    windows = load_windows()[period]
    rendered: list[dict[str, Any]] = []
    events = False
    for document in (d for d in yaml.safe_load_all(spec_path.read_text()) if d):
        name, slos, problems = parse_slos(document, spec_path.name)
        assert not problems.problems, problems.problems
        events |= any(isinstance(slo.sli, EventsSLI) for slo in slos)
        service = Service(
            name=name, team="example", description="", namespace="example", selector={"app": name},
            metrics_port="http", metrics_port_number=8080, metrics_path="/metrics", keep=(".*",),
            series_budget=1000, slo_period=period, slos=tuple(slos),
        )  # fmt: skip
        rendered += groups(service, windows, runbook_base_url="https://example.invalid/runbooks")
    return {"groups": rendered}, events


def departures(events: bool) -> dict[str, str]:
    return {**(EVENTS_DEPARTURES if events else {}), **REMAINING_DEPARTURE}


@pytest.mark.parametrize(("name", "period"), EXAMPLES, ids=[f"{n}-{p}" for n, p in EXAMPLES])
def test_our_rules_conform_to_sloths_on_its_examples(name, period, tmp_path):
    source = sloth.examples_dir() / name
    spec = tmp_path / name
    documents = [without_severity(d) for d in yaml.safe_load_all(source.read_text()) if d]
    spec.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    rules, events = ours(spec, period)
    windows_dir = sloth.examples_dir() / "windows" if period == "7d" else None
    differences = check(
        rules,
        spec,
        default_slo_period=period,
        windows_dir=windows_dir,
        departures=departures(events),
        alert_labels=ALERT_LABELS,
    )
    assert differences == []


# Every service: services/ and the example services the sandbox runs (examples/services/).
SERVICES = load_with_examples()
SLO_FILES = {
    folder.name: folder / "slos.yaml" for folder in (*service_dirs(), *service_dirs(EXAMPLE_SERVICES_DIR))
}


@pytest.mark.parametrize("service", [service.name for service in SERVICES.services])
def test_every_services_slo_file_conforms(service):
    spec = SLO_FILES[service]
    loaded = SERVICES.service(service)
    rules = {
        "groups": groups(loaded, SERVICES.windows_of(loaded), runbook_base_url="https://example.invalid")
    }
    events = any(isinstance(slo.sli, EventsSLI) for slo in loaded.slos)
    differences = check(
        rules,
        spec,
        default_slo_period=loaded.slo_period,
        departures=departures(events),
        alert_labels=ALERT_LABELS,
    )
    assert differences == []


def test_a_departure_left_undeclared_is_reported():
    """The departures are real: without declaring them, the comparison finds the event-weighted period."""
    spec = REPOSITORY / "services/orders-api/slos.yaml"
    loaded = load_default().service("orders-api")
    rules = {
        "groups": groups(loaded, load_default().windows_of(loaded), runbook_base_url="https://x.invalid")
    }
    differences = check(rules, spec, departures=REMAINING_DEPARTURE, alert_labels=ALERT_LABELS)
    assert any(
        line.startswith("record slo:sli_error:ratio_rate30d: values differ") for line in differences
    ), differences
