"""service.yaml's own rules (observability.model.service.parse_service, the format in its docstring): each
broken field is one problem naming the field and the rule; the optional fields have their documented
defaults. One valid document, one change per case; the expected lines are literals."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from observability.model.service import parse_service

FILE = "services/payments/service.yaml"
PERIODS = ("7d", "28d", "30d")
VALID: dict[str, Any] = {
    "version": "services/v1",
    "name": "payments",
    "team": "payments",
    "description": "Takes card payments.",
    "workload": {"namespace": "payments", "selector": {"app.kubernetes.io/name": "payments"}},
    "metrics": {
        "port": "http-metrics",
        "port_number": 9090,
        "path": "/metrics",
        "keep": ["http_requests_total", "payments_.*", "http_request_duration_seconds_bucket"],
        "series_budget": 500,
    },
    "slo_period": "30d",
    "dashboards": {
        "red": {
            "requests": "http_requests_total",
            "errors": 'code=~"5.."',
            "duration": "http_request_duration_seconds",
        }
    },
}


BUDGET = "metrics.series_budget: must be a whole number of series per target in 1..5000, the platform's cap"
PORT = "metrics.port: must be the name of a container port, at most 15 characters"


def document(**changes: Any) -> dict[str, Any]:
    """VALID with top-level or `workload.x`/`metrics.x` fields replaced (None: removed)."""
    result = copy.deepcopy(VALID)
    for key, value in changes.items():
        parent, _, field = key.rpartition("__")
        target = result[parent] if parent else result
        if value is None:
            target.pop(field, None)
        else:
            target[field] = value
    return result


def lines(value: Any) -> list[str]:
    service, collected = parse_service(value, FILE, PERIODS)
    assert (service is None) == bool(collected.problems)
    return [str(problem) for problem in collected.problems]


def test_the_valid_document_reads_as_written():
    service, collected = parse_service(VALID, FILE, PERIODS)
    assert collected.problems == []
    assert service is not None
    assert (service.name, service.team, service.description, service.namespace) == (
        "payments",
        "payments",
        "Takes card payments.",
        "payments",
    )
    assert dict(service.selector) == {"app.kubernetes.io/name": "payments"}
    assert (service.metrics_port, service.metrics_port_number, service.metrics_path) == (
        "http-metrics",
        9090,
        "/metrics",
    )
    assert (service.series_budget, service.slo_period) == (500, "30d")
    assert service.dashboards.red is not None
    assert service.dashboards.red.errors == 'code=~"5.."'


def test_the_optional_fields_default_as_documented():
    service, _ = parse_service(
        document(description=None, slo_period=None, dashboards=None, metrics__path=None), FILE, PERIODS
    )
    assert service is not None
    assert (service.description, service.slo_period, service.metrics_path) == ("", "30d", "/metrics")
    assert service.dashboards.red is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"name": "Payments"},
            ["name: must be lower-case letters, digits and '-', at most 63 (got 'Payments')"],
        ),
        (
            {"name": "p" * 64},
            [f"name: must be lower-case letters, digits and '-', at most 63 (got '{'p' * 64}')"],
        ),
        (
            {"name": "pods"},
            [
                "name: must not be a scrape job of the platform's own, ['apiserver', 'kubelet', 'cadvisor', "
                "'node-exporter', 'kube-state-metrics', 'prometheus-agent', 'pods', 'service-endpoints'] "
                "(got 'pods')"
            ],
        ),
        ({"team": "Payments"}, ["team: must name a team of services/teams.yaml (got 'Payments')"]),
        ({"team": None}, ["team: must name a team of services/teams.yaml (got None)"]),
        ({"description": 3}, ["description: must be text (got 3)"]),
        (
            {"workload": None},
            [
                "workload: must be a mapping (got None)",
                "workload.namespace: must be a Kubernetes namespace name (got None)",
                "workload.selector: must map at least one pod label to its value (got None)",
            ],
        ),
        (
            {"workload__namespace": "Pay"},
            ["workload.namespace: must be a Kubernetes namespace name (got 'Pay')"],
        ),
        (
            {"workload__selector": {"app": "a b", "-bad": "x"}},
            [
                "workload.selector.app: must be a Kubernetes label value; quote it (got 'a b')",
                "workload.selector.-bad: must be a Kubernetes label key",
            ],
        ),
        (
            {"workload__selector": {}},
            ["workload.selector: must map at least one pod label to its value (got {})"],
        ),
        (
            {"metrics__port": "http-metrics-web"},
            [f"{PORT} (got 'http-metrics-web')"],
        ),
        (
            {"metrics__port_number": 0},
            ["metrics.port_number: must be the container port's number, 1..65535 (got 0)"],
        ),
        (
            {"metrics__port_number": 65536},
            ["metrics.port_number: must be the container port's number, 1..65535 (got 65536)"],
        ),
        (
            {"metrics__port_number": True},
            ["metrics.port_number: must be the container port's number, 1..65535 (got True)"],
        ),
        ({"metrics__path": "metrics"}, ["metrics.path: must be a URL path starting with / (got 'metrics')"]),
        (
            {"metrics__series_budget": 5001},
            [f"{BUDGET} (got 5001)"],
        ),
        (
            {"metrics__series_budget": 0},
            [f"{BUDGET} (got 0)"],
        ),
        ({"slo_period": "14d"}, ["slo_period: must be one of ['7d', '28d', '30d'] (got '14d')"]),
        (
            {"metrics": None},
            [
                "metrics: must be a mapping (got None)",
                f"{PORT} (got None)",
                "metrics.port_number: must be the container port's number, 1..65535 (got None)",
                "metrics.keep: must list the series names (or patterns) to keep",
                f"{BUDGET} (got None)",
            ],
        ),
    ],
    ids=lambda value: "" if isinstance(value, list) else "-".join(value),
)
def test_a_broken_field_is_one_problem_naming_it(changes, expected):
    assert lines(document(**changes)) == [f"{FILE}: {line}" for line in expected]


def test_the_edges_of_each_range_are_accepted():
    assert lines(document(name="p" * 63, metrics__port_number=65535, metrics__series_budget=5000)) == []
    assert lines(document(metrics__port_number=1, metrics__series_budget=1, metrics__port="h" * 15)) == []


def test_a_document_that_is_not_a_mapping_is_one_problem_of_the_whole_file():
    assert lines(["payments"]) == [f"{FILE}: must be a service spec (a mapping), got list"]


def test_keep_entries_are_names_or_valid_patterns_without_repeats():
    keep = ["http_requests_total", "", "payments_(", "http_requests_total"]
    assert lines(document(metrics__keep=keep, dashboards=None)) == [
        f"{FILE}: metrics.keep[1]: must be a series name or a regular expression (got '')",
        f"{FILE}: metrics.keep[2]: is neither a series name nor a valid regular expression (missing ), "
        "unterminated subpattern at position 9)",
        f"{FILE}: metrics.keep: must not repeat an entry",
    ]


def test_a_name_keeps_only_itself_and_a_pattern_keeps_what_it_matches_whole():
    service, _ = parse_service(VALID, FILE, PERIODS)
    assert service is not None
    assert service.keeps("http_requests_total")
    assert service.keeps("payments_refunds_total")
    assert not service.keeps("http_requests_total_created")
    assert not service.keeps("old_payments_total")
    assert not service.keeps("other_total")


def test_the_red_panels_read_only_kept_series():
    keep = ["payments_.*"]
    assert lines(document(metrics__keep=keep)) == [
        f"{FILE}: dashboards.red.requests: reads http_requests_total, which metrics.keep does not keep",
        f"{FILE}: dashboards.red.duration: reads http_request_duration_seconds_bucket, which metrics.keep "
        "does not keep",
    ]


def test_two_services_overlap_only_in_one_namespace_with_no_label_selected_differently():
    def service(namespace: str, selector: dict[str, str]):
        parsed, _ = parse_service(
            document(workload={"namespace": namespace, "selector": selector}), FILE, PERIODS
        )
        assert parsed is not None
        return parsed

    a = service("shop", {"app": "a"})
    assert a.overlaps(service("shop", {"app": "a", "tier": "web"}))
    assert a.overlaps(service("shop", {"tier": "web"}))
    assert not a.overlaps(service("shop", {"app": "b"}))
    assert not a.overlaps(service("other", {"app": "a"}))


def red(**fields: Any) -> dict[str, Any]:
    """VALID's RED panels with fields replaced (None: removed)."""
    merged = {**VALID["dashboards"]["red"], **fields}
    return {"red": {key: value for key, value in merged.items() if value is not None}}


@pytest.mark.parametrize(
    ("dashboards", "expected"),
    [
        ("red", ["dashboards: must be a mapping like {red: {...}} (got 'red')"]),
        ({**red(), "colour": 1}, ["dashboards.colour: is not a dashboards field (known: red)"]),
        (
            {"red": "http_requests_total"},
            ["dashboards.red: must map requests, errors and duration (got 'http_requests_total')"],
        ),
        (
            {"red": {**red()["red"], "latency": "x"}},
            ["dashboards.red.latency: is not a RED field (known: requests, errors, duration)"],
        ),
        (
            red(requests="http-requests"),
            ["dashboards.red.requests: must be the name of a request counter (got 'http-requests')"],
        ),
        (red(errors=" "), ["dashboards.red.errors: must be label matchers like code=~\"5..\" (got ' ')"]),
        (
            red(errors='code=~"5.."}[5m]'),
            [
                'dashboards.red.errors: must be label matchers on http_requests_total, like code=~"5.." '
                "(got 'code=~\"5..\"}[5m]')"
            ],
        ),
        (
            red(duration="http_request_duration_seconds_bucket"),
            [
                "dashboards.red.duration: must be a histogram's family name, without _bucket "
                "(got 'http_request_duration_seconds_bucket')"
            ],
        ),
    ],
    ids=[
        "not a mapping",
        "unknown field",
        "red not a mapping",
        "unknown RED field",
        "requests",
        "errors empty",
        "errors not matchers",
        "duration a bucket",
    ],
)
def test_a_broken_dashboards_field_is_one_problem_naming_it(dashboards, expected):
    assert lines(document(dashboards=dashboards)) == [f"{FILE}: {line}" for line in expected]


def test_red_metrics_without_a_duration_and_with_spaced_matchers():
    service, _ = parse_service(document(dashboards=red(errors=' code=~"5.." ', duration=None)), FILE, PERIODS)
    assert service is not None
    assert service.dashboards.red is not None
    assert (
        service.dashboards.red.requests,
        service.dashboards.red.errors,
        service.dashboards.red.duration,
    ) == (
        "http_requests_total",
        'code=~"5.."',
        None,
    )


def test_keep_must_be_a_list_not_one_name():
    assert lines(document(metrics__keep="http_requests_total", dashboards=None)) == [
        f"{FILE}: metrics.keep: must list the series names (or patterns) to keep"
    ]


def test_unknown_fields_of_any_key_type_are_each_named_in_order():
    assert lines(document(dashboards={**red(), "colour": 1, 2: "x"})) == [
        f"{FILE}: dashboards.2: is not a dashboards field (known: red)",
        f"{FILE}: dashboards.colour: is not a dashboards field (known: red)",
    ]
    assert lines(document(dashboards={"red": {**red()["red"], "latency": 1, 3: "x"}})) == [
        f"{FILE}: dashboards.red.3: is not a RED field (known: requests, errors, duration)",
        f"{FILE}: dashboards.red.latency: is not a RED field (known: requests, errors, duration)",
    ]


@pytest.mark.parametrize("duration", ["http-duration", 5])
def test_a_duration_that_is_no_metric_name_is_refused(duration):
    assert lines(document(dashboards=red(duration=duration))) == [
        f"{FILE}: dashboards.red.duration: must be a histogram's family name, without _bucket "
        f"(got {duration!r})"
    ]
