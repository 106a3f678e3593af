"""What every dashboard shares: the AMP data source reference, the template variables, selectors and panel
helpers over grafana-foundation-sdk's builders (pinned to the Grafana 10.4 types, see requirements.txt).

Every query filters on the agent's external labels (`cluster`, `environment`) through the variables, and
rates use `$__rate_interval` (at least four scrape intervals, whatever the zoom).
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.builders.dashboard import Dashboard, QueryVariable, Row
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from observability.conventions import CLUSTER_LABEL, ENVIRONMENT_LABEL

AMP_UID = "amp"
CORE_PROMETHEUS = "prometheus"
AMAZON_PROMETHEUS_PLUGIN = "grafana-amazonprometheus-datasource"
# grafana/grafana#123089 removed SigV4 from core Prometheus; Grafana 13 migrates such data sources to the
# plugin (assumed the first release without core SigV4: the exact release is unverified).
SIGV4_REMOVED_IN = (13, 0)
TAGS = ["eks-observability", "generated"]
# Matchers on the agent's external labels, bound to the dashboard variables ("All" matches any value).
SCOPE = f'{CLUSTER_LABEL}=~"${CLUSTER_LABEL}", {ENVIRONMENT_LABEL}=~"${ENVIRONMENT_LABEL}"'
Panel = stat.Panel | table.Panel | timeseries.Panel


def datasource_type(grafana_version: str) -> str:
    """The AMP data source's plugin type for a Grafana version ("10.4", "13.0", ...)."""
    major, minor = (int(part) for part in [*grafana_version.split("."), "0"][:2])
    return AMAZON_PROMETHEUS_PLUGIN if (major, minor) >= SIGV4_REMOVED_IN else CORE_PROMETHEUS


def sel(name: str, **matchers: str) -> str:
    """`name{cluster=~"$cluster", environment=~"$environment", ...}`; a value starting with `~`, `!~` or
    `!` matches as a regex, a negated regex or not equal (`code="~5.."` -> `code=~"5.."`)."""
    parts = [SCOPE]
    for label, value in matchers.items():
        op = next(op for op in ("!~", "~", "!", "") if value.startswith(op))
        parts.append(f'{label}{ {"!~": "!~", "~": "=~", "!": "!=", "": "="}[op] }"{value[len(op) :]}"')
    return f"{name}{{{', '.join(parts)}}}"


def rate(name: str, **matchers: str) -> str:
    """Per-second rate over `$__rate_interval`."""
    return f"rate({sel(name, **matchers)}[$__rate_interval])"


def by(labels: str, expr: str, aggregation: str = "sum") -> str:
    return f"{aggregation} by ({labels}) ({expr})"


def query(expr: str, legend: str = "", ref: str = "A") -> Dataquery:
    return Dataquery().expr(expr).legend_format(legend or "__auto").ref_id(ref)


def _targets(panel: Any, queries: tuple[tuple[str, str], ...]) -> Any:
    for index, (expr, legend) in enumerate(queries):
        panel = panel.with_target(query(expr, legend, chr(ord("A") + index)))
    return panel


def graph(title: str, unit: str, *queries: tuple[str, str], description: str = "") -> timeseries.Panel:
    """A time series panel; each query is `(expr, legend)`."""
    panel = timeseries.Panel().title(title).unit(unit).description(description)
    return _targets(panel, queries)  # type: ignore[no-any-return]


def single(title: str, unit: str, expr: str, *, description: str = "") -> stat.Panel:
    """A stat panel showing the last value of one query."""
    panel = stat.Panel().title(title).unit(unit).description(description).span(6).height(5)
    return panel.with_target(query(expr, "", "A"))


def listing(title: str, expr: str, *, description: str = "") -> table.Panel:
    """A table of one instant query's series (their labels and value)."""
    panel = table.Panel().title(title).description(description).span(24)
    return panel.with_target(query(expr, "", "A").instant().format(PromQueryFormat.TABLE))


def dashboard(*, uid: str, title: str, description: str, ds: DataSourceRef) -> Dashboard:
    """A dashboard with the shared tags, time range and the environment and cluster variables."""
    environment = (
        QueryVariable(ENVIRONMENT_LABEL)
        .label("Environment")
        .datasource(ds)
        .query(f"label_values(up, {ENVIRONMENT_LABEL})")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .include_all(True)
        .all_value(".*")
    )
    cluster = (
        QueryVariable(CLUSTER_LABEL)
        .label("Cluster")
        .datasource(ds)
        .query(f'label_values(up{{{ENVIRONMENT_LABEL}=~"${ENVIRONMENT_LABEL}"}}, {CLUSTER_LABEL})')
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .include_all(True)
        .all_value(".*")
    )
    return (
        Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(TAGS)
        .time("now-6h", "now")
        .refresh("1m")
        .with_variable(environment)
        .with_variable(cluster)
    )


def section(board: Dashboard, title: str, ds: DataSourceRef, *panels: Panel) -> Dashboard:
    """A row followed by its panels, each reading the AMP data source."""
    board = board.with_row(Row(title))
    for panel in panels:
        board = board.with_panel(panel.datasource(ds))
    return board


def model(board: Dashboard) -> dict[str, Any]:
    """The dashboard's JSON model as plain dicts, panels numbered in order (stable panel links)."""
    built = board.build()
    for number, panel in enumerate(built.panels or [], start=1):
        panel.id_val = number
    return json.loads(JSONEncoder(sort_keys=True).encode(built))  # type: ignore[no-any-return]
