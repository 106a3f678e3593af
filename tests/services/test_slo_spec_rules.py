"""Every rule of a service's `slos.yaml` (observability/model/slo.py) on its own: a reject case with the
whole problem line, and a boundary case that is accepted. The rules are sloth's file spec (`prometheus/v1`,
or the Kubernetes form `sloth.slok.dev/v1` PrometheusServiceLevel) less plugins, plus the labels the
platform sets itself. Expected values are written out from those rules."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from observability.model.slo import EventsSLI, RawSLI, parse_slos

FILE = "services/payments/slos.yaml"
ERRORS = 'sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))'
TOTAL = "sum(rate(http_requests_total[{{.window}}]))"


def document() -> dict[str, Any]:
    """A valid file-form spec: one SLO with events, labels, alert labels and annotations."""
    return {
        "version": "prometheus/v1",
        "service": "payments",
        "labels": {"tier": "2"},
        "slos": [
            {
                "name": "availability",
                "objective": 99.5,
                "description": "Requests answered without a 5xx.",
                "labels": {"journey": "checkout"},
                "sli": {"events": {"error_query": ERRORS, "total_query": TOTAL}},
                "alerting": {
                    "name": "PaymentsHighErrorRate",
                    "labels": {"category": "availability"},
                    "annotations": {"summary": "Payments answer 5xx"},
                    "page_alert": {"labels": {"route": "pager"}},
                    "ticket_alert": {"annotations": {"note": "slow burn"}},
                },
            }
        ],
    }


def problems_of(change: Callable[[dict[str, Any]], Any]) -> list[str]:
    spec = document()
    change(spec)
    _, _, problems = parse_slos(spec, FILE)
    return [str(p) for p in problems.problems]


def slo_of(change: Callable[[dict[str, Any]], Any]) -> Any:
    spec = document()
    change(spec)
    service, slos, problems = parse_slos(spec, FILE)
    assert problems.problems == []
    (slo,) = slos
    return service, slo


def first(spec: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = spec["slos"][0]
    return entry


def test_the_valid_spec_reads_every_field() -> None:
    service, slo = slo_of(lambda d: None)

    assert service == "payments"
    assert (slo.id, slo.objective, slo.description) == (
        "payments-availability",
        Decimal("99.5"),
        "Requests answered without a 5xx.",
    )
    assert dict(slo.labels) == {"tier": "2", "journey": "checkout"}  # the service's, then the SLO's
    assert slo.sli == EventsSLI(error_query=ERRORS, total_query=TOTAL)
    assert (slo.alert_name, dict(slo.alert_labels), dict(slo.alert_annotations)) == (
        "PaymentsHighErrorRate",
        {"category": "availability"},
        {"summary": "Payments answer 5xx"},
    )
    assert (slo.page.disable, dict(slo.page.labels), dict(slo.page.annotations)) == (
        False,
        {"route": "pager"},
        {},
    )
    assert (slo.ticket.disable, dict(slo.ticket.labels), dict(slo.ticket.annotations)) == (
        False,
        {},
        {"note": "slow burn"},
    )
    assert (slo.file, slo.path) == (FILE, "slos[0]")
    assert slo.error_budget == 0.005
    assert slo.objective_ratio == 0.995


def test_the_kubernetes_form_uses_camel_case_under_spec() -> None:
    spec = {
        "apiVersion": "sloth.slok.dev/v1",
        "kind": "PrometheusServiceLevel",
        "metadata": {"name": "payments"},
        "spec": {
            "service": "payments",
            "slos": [
                {
                    "name": "availability",
                    "objective": 99.9,
                    "sli": {"raw": {"errorRatioQuery": f"{ERRORS} / {TOTAL}"}},
                    "alerting": {"name": "PaymentsBurn", "pageAlert": {"disable": True}},
                }
            ],
        },
    }

    service, (slo,), problems = parse_slos(spec, FILE)

    assert problems.problems == []
    assert service == "payments"
    assert slo.sli == RawSLI(error_ratio_query=f"{ERRORS} / {TOTAL}")
    assert (slo.page.disable, slo.ticket.disable) == (True, False)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ([1], f"{FILE}: must be a sloth SLO spec (a mapping), got list"),
        (
            {"apiVersion": "sloth.slok.dev/v1", "kind": "ServiceLevel"},
            f"{FILE}: apiVersion: must be sloth.slok.dev/v1 with kind PrometheusServiceLevel, or use "
            "`version: prometheus/v1` (got 'sloth.slok.dev/v1', kind 'ServiceLevel')",
        ),
        (
            {"apiVersion": "sloth.slok.dev/v2", "kind": "PrometheusServiceLevel"},
            f"{FILE}: apiVersion: must be sloth.slok.dev/v1 with kind PrometheusServiceLevel, or use "
            "`version: prometheus/v1` (got 'sloth.slok.dev/v2', kind 'PrometheusServiceLevel')",
        ),
        (
            {"apiVersion": "sloth.slok.dev/v1", "kind": "PrometheusServiceLevel", "spec": []},
            f"{FILE}: spec: is missing",
        ),
        ({"service": "payments"}, f"{FILE}: version: must be 'prometheus/v1' (got None)"),
        # Either key alone marks the Kubernetes form.
        (
            {"kind": "PrometheusServiceLevel", "version": "prometheus/v1"},
            f"{FILE}: apiVersion: must be sloth.slok.dev/v1 with kind PrometheusServiceLevel, or use "
            "`version: prometheus/v1` (got None, kind 'PrometheusServiceLevel')",
        ),
        (
            {"apiVersion": "sloth.slok.dev/v1", "version": "prometheus/v1"},
            f"{FILE}: apiVersion: must be sloth.slok.dev/v1 with kind PrometheusServiceLevel, or use "
            "`version: prometheus/v1` (got 'sloth.slok.dev/v1', kind None)",
        ),
    ],
    ids=[
        "not-a-mapping",
        "wrong-kind",
        "wrong-api-version",
        "no-spec",
        "no-version",
        "kind-only",
        "api-only",
    ],
)
def test_what_the_file_is(spec: Any, expected: str) -> None:
    service, slos, problems = parse_slos(spec, FILE)

    assert (service, slos, [str(p) for p in problems.problems]) == ("", [], [expected])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d.update(service="-payments"),
            f"{FILE}: service: must be a name like my-service (got '-payments')",
        ),
        (lambda d: d.update(service=7), f"{FILE}: service: must be a name like my-service (got 7)"),
        (
            lambda d: d.update(plugins={"overrides": []}),
            f"{FILE}: plugins: SLO plugins are not supported here: write the SLI as a query",
        ),
        (
            lambda d: d.update(slo_plugins={"chain": []}),
            f"{FILE}: slo_plugins: SLO plugins are not supported here: write the SLI as a query",
        ),
        (lambda d: d.update(slos=[]), f"{FILE}: slos: must list at least one SLO"),
        (lambda d: d.update(slos={"a": 1}), f"{FILE}: slos: must list at least one SLO"),
        (lambda d: d["slos"].append("availability"), f"{FILE}: slos[1]: must be a mapping (got str)"),
        (
            lambda d: first(d).update(name="availability-"),
            f"{FILE}: slos[0].name: must match ^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$ (got 'availability-')",
        ),
        (
            lambda d: first(d).update(description=3),
            f"{FILE}: slos[0].description: must be text (got 3)",
        ),
        (
            lambda d: first(d).update(plugins={"chain": [{"id": "x"}]}),
            f"{FILE}: slos[0].plugins: SLO plugins are not supported here: write the SLI as a query",
        ),
        (
            lambda d: first(d).update(objective=100),
            f"{FILE}: slos[0].objective: must be in (0, 100) (got 100)",
        ),
        (lambda d: first(d).update(objective=0), f"{FILE}: slos[0].objective: must be in (0, 100) (got 0)"),
        (
            lambda d: first(d).update(objective=True),
            f"{FILE}: slos[0].objective: must be a percentage in (0, 100) like 99.9 (got True)",
        ),
        (
            lambda d: first(d).update(objective="high"),
            f"{FILE}: slos[0].objective: must be a percentage in (0, 100) like 99.9 (got 'high')",
        ),
        (
            lambda d: first(d).update(objective=[99]),
            f"{FILE}: slos[0].objective: must be a percentage in (0, 100) like 99.9 (got [99])",
        ),
        (
            lambda d: first(d).pop("sli"),
            f"{FILE}: slos[0].sli: is missing: give sli.events (error and total queries) or sli.raw",
        ),
        (
            lambda d: first(d)["sli"].update(raw={"error_ratio_query": f"{ERRORS} / {TOTAL}"}),
            f"{FILE}: slos[0].sli: must have exactly one of events, raw (got ['events', 'raw'])",
        ),
        (
            lambda d: first(d).update(sli={"events": None}),
            f"{FILE}: slos[0].sli: must have exactly one of events, raw (got none)",
        ),
        (
            lambda d: first(d).update(sli={"plugin": {"id": "sloth-common/availability"}}),
            f"{FILE}: slos[0].sli.plugin: SLI plugins are not supported here: use events or raw queries",
        ),
        (
            lambda d: first(d).update(sli={"events": {"error_query": ERRORS}}),
            f"{FILE}: slos[0].sli.events.total_query: must be a PromQL query",
        ),
        (
            lambda d: first(d).update(sli={"events": "a query"}),
            [
                f"{FILE}: slos[0].sli.events.error_query: must be a PromQL query",
                f"{FILE}: slos[0].sli.events.total_query: must be a PromQL query",
            ],
        ),
        (
            lambda d: first(d).update(sli={"raw": {"error_ratio_query": "  "}}),
            f"{FILE}: slos[0].sli.raw.error_ratio_query: must be a PromQL query",
        ),
        (
            lambda d: first(d).pop("alerting"),
            [
                f"{FILE}: slos[0].alerting: is missing (sloth's file spec needs at least alerting.name)",
                f"{FILE}: slos[0].alerting.name: must be an alert name like MyServiceHighErrorRate "
                "(got None)",
            ],
        ),
        (
            lambda d: first(d)["alerting"].pop("name"),
            f"{FILE}: slos[0].alerting.name: must be an alert name like MyServiceHighErrorRate (got None)",
        ),
        (
            lambda d: first(d)["alerting"].update(name="Payments-Errors"),
            f"{FILE}: slos[0].alerting.name: must be an alert name like MyServiceHighErrorRate "
            "(got 'Payments-Errors')",
        ),
        (
            lambda d: first(d)["alerting"].update(page_alert=["x"]),
            f"{FILE}: slos[0].alerting.page_alert: must be a mapping (got list)",
        ),
        (
            lambda d: first(d)["alerting"].update(ticket_alert={"disable": "yes"}),
            f"{FILE}: slos[0].alerting.ticket_alert.disable: must be true or false (got 'yes')",
        ),
        (
            lambda d: first(d)["alerting"].update(annotations=["summary"]),
            f"{FILE}: slos[0].alerting.annotations: must be a mapping of names to text (got list)",
        ),
        (
            lambda d: first(d)["alerting"]["page_alert"].update(labels={"route": 1}),
            f"{FILE}: slos[0].alerting.page_alert.labels.route: must be text; quote it (got 1)",
        ),
        (
            lambda d: first(d)["alerting"]["ticket_alert"].update(annotations={"note": None}),
            f"{FILE}: slos[0].alerting.ticket_alert.annotations.note: must be text; quote it (got None)",
        ),
        (
            lambda d: first(d).update(labels={"2tier": "x"}),
            f"{FILE}: slos[0].labels.2tier: must be a Prometheus label name (got '2tier')",
        ),
        (
            lambda d: first(d).update(labels={"team": "payments"}),
            f"{FILE}: slos[0].labels.team: is set by the platform (it routes alerts by severity and team): "
            "remove it or use another name",
        ),
        (
            lambda d: d.update(labels={"sloth_slo": "x"}),
            f"{FILE}: labels.sloth_slo: is set by the platform (it routes alerts by severity and team): "
            "remove it or use another name",
        ),
        (
            lambda d: first(d)["alerting"].update(labels={"severity": "page"}),
            f"{FILE}: slos[0].alerting.labels.severity: is set by the platform (it routes alerts by "
            "severity and team): remove it or use another name",
        ),
    ],
)
def test_a_rule_broken_alone_is_reported_alone(
    change: Callable[[dict[str, Any]], Any], expected: str | list[str]
) -> None:
    assert problems_of(change) == ([expected] if isinstance(expected, str) else expected)


def test_every_problem_of_a_file_is_reported() -> None:
    """Two SLOs broken in different ways and a third with the first one's name: each problem once, in the
    file's order."""

    def change(d: dict[str, Any]) -> None:
        latency, errors, again = (copy.deepcopy(first(d)) for _ in range(3))
        latency.update(name="latency", objective=101)
        errors.update(
            name="errors", sli={"events": {"error_query": ERRORS, "total_query": "sum(rate(x[5m]))"}}
        )
        d["slos"] += [latency, errors, again]

    assert problems_of(change) == [
        f"{FILE}: slos[1].objective: must be in (0, 100) (got 101)",
        f"{FILE}: slos[2].sli.events.total_query: must use {{{{.window}}}} as its range, so each window gets "
        "its own query",
        f"{FILE}: slos[3].name: must be unique in the file (got 'availability' twice)",
    ]


@pytest.mark.parametrize(
    ("change", "check"),
    [
        # The objective's edges inside (0, 100), as a float, an int and text.
        (lambda d: first(d).update(objective=99.999), lambda s: s.objective == Decimal("99.999")),
        (lambda d: first(d).update(objective=1), lambda s: s.objective == Decimal("1")),
        (lambda d: first(d).update(objective="0.001"), lambda s: s.objective == Decimal("0.001")),
        # Names of two characters; an alert name with an underscore first; label names with one.
        (lambda d: first(d).update(name="a1"), lambda s: s.id == "payments-a1"),
        (lambda d: d.update(service="p.1"), lambda s: s.id == "p.1-availability"),
        (lambda d: first(d)["alerting"].update(name="_Burn"), lambda s: s.alert_name == "_Burn"),
        (lambda d: first(d).update(labels={"_team": "x"}), lambda s: s.labels["_team"] == "x"),
        # A label that only starts like a reserved one is the spec's own.
        (lambda d: first(d).update(labels={"teams": "x"}), lambda s: s.labels["teams"] == "x"),
        (lambda d: first(d).update(labels={"slothful": "x"}), lambda s: s.labels["slothful"] == "x"),
        # Without a description: empty text.
        (lambda d: first(d).pop("description"), lambda s: s.description == ""),
        # Both alerts off: no alert name needed (as sloth).
        (
            lambda d: first(d).update(
                alerting={"page_alert": {"disable": True}, "ticket_alert": {"disable": True}}
            ),
            lambda s: (s.alert_name, s.page.disable, s.ticket.disable) == ("", True, True),
        ),
        # An SLO's label overrides the service's label of the same name.
        (lambda d: first(d).update(labels={"tier": "1"}), lambda s: dict(s.labels) == {"tier": "1"}),
        # A query is kept without its surrounding blanks.
        (
            lambda d: first(d).update(sli={"raw": {"error_ratio_query": f"  {ERRORS} / {TOTAL}\n"}}),
            lambda s: s.sli == RawSLI(error_ratio_query=f"{ERRORS} / {TOTAL}"),
        ),
        # An empty plugins entry is no plugin.
        (lambda d: d.update(plugins={}), lambda s: s.id == "payments-availability"),
    ],
)
def test_the_edge_a_rule_allows_is_accepted(
    change: Callable[[dict[str, Any]], Any], check: Callable[[Any], bool]
) -> None:
    _, slo = slo_of(change)

    assert check(slo)


def test_one_alert_off_still_needs_the_alert_name() -> None:
    def change(d: dict[str, Any]) -> None:
        first(d).update(alerting={"page_alert": {"disable": True}})

    assert problems_of(change) == [
        f"{FILE}: slos[0].alerting.name: must be an alert name like MyServiceHighErrorRate (got None)"
    ]
