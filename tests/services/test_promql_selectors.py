"""Which series a PromQL expression reads (observability.model.promql, on promql-parser): a selector without
an exact metric name is refused naming the whole expression, wherever it sits; `errors` label matchers are one
selector of the requests counter and nothing else. Expected values are literals."""

from __future__ import annotations

import pytest

from observability.model.promql import Selector, is_selector, selectors


def test_a_name_given_as_a_matcher_is_the_selectors_name_not_one_of_its_labels():
    assert selectors('{__name__="http_requests_total", job="orders"}') == [
        Selector("http_requests_total", {"job": "orders"})
    ]


@pytest.mark.parametrize(
    "expr",
    ['{job="orders"}', 'rate({job="orders"}[5m])', 'sum by (code) ({job="orders"})', '-{job="orders"}'],
    ids=["bare", "in a call", "in an aggregation", "in a unary minus"],
)
def test_a_selector_without_a_metric_name_is_refused_naming_the_expression(expr):
    with pytest.raises(ValueError, match="selector without an exact metric name") as error:
        selectors(expr)
    assert str(error.value) == f"selector without an exact metric name in {expr!r}"


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('http_requests_total{code=~"5.."}', True),
        ("http_requests_total", True),
        ('other_total{code=~"5.."}', False),
        ('http_requests_total{__name__=~"http_.*"}', False),
        ('http_requests_total{__name__="http_requests_total"}', False),
        ('http_requests_total{code=~"5.."', False),
        ('rate(http_requests_total{code=~"5.."}[5m])', False),
    ],
    ids=[
        "matchers",
        "bare name",
        "another series",
        "a second name",
        "the name twice",
        "unparsable",
        "a call",
    ],
)
def test_is_selector_is_one_selector_of_that_series_only(expr, expected):
    assert is_selector(expr, "http_requests_total") is expected
