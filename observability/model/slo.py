"""SLOs, read from a service's `slos.yaml` in sloth's format, unchanged: the file spec `prometheus/v1` or
the Kubernetes form `sloth.slok.dev/v1` `PrometheusServiceLevel` (the same tree under `spec:`, camelCase).

What this platform does not take from sloth: SLI and SLO plugins (`sli.plugin`, `plugins`,
`slo_plugins`): the SLI must be a query (`events` or `raw`) whose series the platform can check it keeps.
Labels the platform sets itself (`severity`, `team` and sloth's `sloth_*`) cannot be set by a spec: they
route the alerts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from observability.model import promql
from observability.spec.problems import Collector

FILE_VERSION = "prometheus/v1"
K8S_API_VERSION = "sloth.slok.dev/v1"
K8S_KIND = "PrometheusServiceLevel"
WINDOW = "{{.window}}"
# sloth's own rules (pkg/prometheus/api/v1 validation): names of SLOs and services.
SLO_NAME = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$")
ALERT_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
RESERVED_LABELS = ("severity", "team")
RESERVED_PREFIX = "sloth_"


@dataclass(frozen=True)
class EventsSLI:
    error_query: str  # bad events per second over {{.window}}
    total_query: str  # all events per second over {{.window}}

    def queries(self) -> tuple[str, ...]:
        return (self.error_query, self.total_query)


@dataclass(frozen=True)
class RawSLI:
    error_ratio_query: str  # the bad share over {{.window}}, 0..1

    def queries(self) -> tuple[str, ...]:
        return (self.error_ratio_query,)


@dataclass(frozen=True)
class AlertSpec:
    disable: bool = False
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    annotations: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, kw_only=True)
class SLO:
    service: str
    name: str
    objective: Decimal  # percent, as written (99.9)
    description: str
    labels: Mapping[str, str]  # the service's labels, then the SLO's
    sli: EventsSLI | RawSLI
    alert_name: str
    alert_labels: Mapping[str, str]
    alert_annotations: Mapping[str, str]
    page: AlertSpec
    ticket: AlertSpec
    file: str  # where it was read, for messages: services/x/slos.yaml
    path: str  # and its field there: slos[0]

    @property
    def id(self) -> str:
        """sloth's `sloth_id`: `<service>-<slo>`."""
        return f"{self.service}-{self.name}"

    @property
    def objective_ratio(self) -> float:
        return float(self.objective / 100)

    @property
    def error_budget(self) -> float:
        """1 - objective, without float noise (0.001, not 0.0009999999999999432)."""
        return float(1 - self.objective / 100)


def window_query(query: str, window: str) -> str:
    return query.replace(WINDOW, window)


class _Form:
    """Field names of the file spec or of the Kubernetes form."""

    def __init__(self, kubernetes: bool) -> None:
        self.kubernetes = kubernetes
        self.root = "spec." if kubernetes else ""

    def key(self, snake: str) -> str:
        if not self.kubernetes:
            return snake
        head, *rest = snake.split("_")
        return head + "".join(part.capitalize() for part in rest)


def field_root(document: Any) -> str:
    """Where the file spec's fields sit: under `spec.` in sloth's Kubernetes form (any apiVersion or kind
    marks it), at the top in the file form."""
    return "spec." if isinstance(document, dict) and ("apiVersion" in document or "kind" in document) else ""


def parse_slos(document: Any, file: str) -> tuple[str, list[SLO], Collector]:
    """(sloth's `service`, the SLOs, the problems). Every problem of the file is collected."""
    problems = Collector(file)
    if not isinstance(document, dict):
        problems.at("", f"must be a sloth SLO spec (a mapping), got {type(document).__name__}")
        return "", [], problems
    if field_root(document):
        if document.get("apiVersion") != K8S_API_VERSION or document.get("kind") != K8S_KIND:
            problems.at(
                "apiVersion",
                f"must be {K8S_API_VERSION} with kind {K8S_KIND}, or use `version: {FILE_VERSION}` "
                f"(got {document.get('apiVersion')!r}, kind {document.get('kind')!r})",
            )
            return "", [], problems
        form, body = _Form(kubernetes=True), document.get("spec")
        if not isinstance(body, dict):
            problems.at("spec", "is missing")
            return "", [], problems
    else:
        if document.get("version") != FILE_VERSION:
            problems.at("version", f"must be {FILE_VERSION!r} (got {document.get('version')!r})")
            return "", [], problems
        form, body = _Form(kubernetes=False), document
    root = form.root
    service = body.get("service")
    if not isinstance(service, str) or not SLO_NAME.match(service):
        problems.at(f"{root}service", f"must be a name like my-service (got {service!r})")
        service = ""
    service_labels = _labels(body.get("labels"), f"{root}labels", problems)
    for plugins in ("slo_plugins", "plugins"):
        if body.get(form.key(plugins)):
            problems.at(
                f"{root}{form.key(plugins)}", "SLO plugins are not supported here: write the SLI as a query"
            )
    entries = body.get("slos")
    if not isinstance(entries, list) or not entries:
        problems.at(f"{root}slos", "must list at least one SLO")
        return service, [], problems
    slos = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        path = f"{root}slos[{index}]"
        slo = _slo(entry, path, service, service_labels, form, problems, file)
        if slo is None:
            continue
        if slo.name in seen:
            problems.at(f"{path}.name", f"must be unique in the file (got {slo.name!r} twice)")
        seen.add(slo.name)
        slos.append(slo)
    return service, slos, problems


def _slo(
    entry: Any,
    path: str,
    service: str,
    service_labels: Mapping[str, str],
    form: _Form,
    problems: Collector,
    file: str,
) -> SLO | None:
    if not isinstance(entry, dict):
        problems.at(path, f"must be a mapping (got {type(entry).__name__})")
        return None
    before = len(problems.problems)
    name = entry.get("name")
    if not isinstance(name, str) or not SLO_NAME.match(name):
        problems.at(f"{path}.name", f"must match {SLO_NAME.pattern} (got {name!r})")
    objective = _objective(entry.get("objective"), f"{path}.objective", problems)
    description = entry.get("description", "")
    if not isinstance(description, str):
        problems.at(f"{path}.description", f"must be text (got {description!r})")
    if entry.get(form.key("plugins")):
        problems.at(f"{path}.plugins", "SLO plugins are not supported here: write the SLI as a query")
    labels = _labels(entry.get("labels"), f"{path}.labels", problems)
    sli = _sli(entry.get("sli"), f"{path}.sli", form, problems)
    alerting = entry.get("alerting")
    if not isinstance(alerting, dict):
        problems.at(f"{path}.alerting", "is missing (sloth's file spec needs at least alerting.name)")
        alerting = {}
    alert_labels = _labels(alerting.get("labels"), f"{path}.alerting.labels", problems)
    annotations = _strings(alerting.get("annotations"), f"{path}.alerting.annotations", problems)
    page = _alert(alerting.get(form.key("page_alert")), f"{path}.alerting.{form.key('page_alert')}", problems)
    ticket = _alert(
        alerting.get(form.key("ticket_alert")), f"{path}.alerting.{form.key('ticket_alert')}", problems
    )
    alert_name = alerting.get("name", "" if page.disable and ticket.disable else None)
    # As sloth: a name is needed only when some alert is on.
    if not (page.disable and ticket.disable) and (
        not isinstance(alert_name, str) or not ALERT_NAME.match(alert_name)
    ):
        problems.at(
            f"{path}.alerting.name", f"must be an alert name like MyServiceHighErrorRate (got {alert_name!r})"
        )
    if len(problems.problems) > before or sli is None or objective is None:
        return None
    return SLO(
        service=service,
        name=str(name),
        objective=objective,
        description=description,
        labels=MappingProxyType({**service_labels, **labels}),
        sli=sli,
        alert_name=str(alert_name),
        alert_labels=alert_labels,
        alert_annotations=annotations,
        page=page,
        ticket=ticket,
        file=file,
        path=path,
    )


def _objective(value: Any, path: str, problems: Collector) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        problems.at(path, f"must be a percentage in (0, 100) like 99.9 (got {value!r})")
        return None
    try:
        objective = Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation:
        problems.at(path, f"must be a percentage in (0, 100) like 99.9 (got {value!r})")
        return None
    # 100 would leave no error budget: every burn-rate threshold would be 0.
    if not 0 < objective < 100:
        problems.at(path, f"must be in (0, 100) (got {value})")
        return None
    return objective


def _sli(value: Any, path: str, form: _Form, problems: Collector) -> EventsSLI | RawSLI | None:
    if not isinstance(value, dict):
        problems.at(path, "is missing: give sli.events (error and total queries) or sli.raw")
        return None
    kinds = [kind for kind in ("events", "raw", "plugin") if value.get(kind) is not None]
    if len(kinds) != 1:
        problems.at(path, f"must have exactly one of events, raw (got {kinds or 'none'})")
        return None
    kind = kinds[0]
    body = value[kind]
    if kind == "plugin":
        problems.at(f"{path}.plugin", "SLI plugins are not supported here: use events or raw queries")
        return None
    fields = ("error_query", "total_query") if kind == "events" else ("error_ratio_query",)
    queries = []
    for name in fields:
        key = form.key(name)
        query = body.get(key) if isinstance(body, dict) else None
        queries.append(_query(query, f"{path}.{kind}.{key}", problems))
    if any(query is None for query in queries):
        return None
    return EventsSLI(*queries) if kind == "events" else RawSLI(*queries)  # type: ignore[arg-type]


def _query(query: Any, path: str, problems: Collector) -> str | None:
    if not isinstance(query, str) or not query.strip():
        problems.at(path, "must be a PromQL query")
        return None
    if WINDOW not in query:
        problems.at(path, f"must use {WINDOW} as its range, so each window gets its own query")
        return None
    try:
        promql.selectors(window_query(query, "5m"))
    except ValueError as error:
        problems.at(path, f"must be valid PromQL ({error})")
        return None
    return query.strip()


def _alert(value: Any, path: str, problems: Collector) -> AlertSpec:
    if value is None:
        return AlertSpec()
    if not isinstance(value, dict):
        problems.at(path, f"must be a mapping (got {type(value).__name__})")
        return AlertSpec()
    disable = value.get("disable", False)
    if not isinstance(disable, bool):
        problems.at(f"{path}.disable", f"must be true or false (got {disable!r})")
    return AlertSpec(
        disable=disable is True,
        labels=_labels(value.get("labels"), f"{path}.labels", problems),
        annotations=_strings(value.get("annotations"), f"{path}.annotations", problems),
    )


def _strings(value: Any, path: str, problems: Collector) -> Mapping[str, str]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, dict):
        problems.at(path, f"must be a mapping of names to text (got {type(value).__name__})")
        return MappingProxyType({})
    for key, text in value.items():
        if not isinstance(text, str):
            problems.at(f"{path}.{key}", f"must be text; quote it (got {text!r})")
    return MappingProxyType({str(k): v for k, v in value.items() if isinstance(v, str)})


def _labels(value: Any, path: str, problems: Collector) -> Mapping[str, str]:
    labels = _strings(value, path, problems)
    for name in labels:
        if not LABEL_NAME.match(name):
            problems.at(f"{path}.{name}", f"must be a Prometheus label name (got {name!r})")
        elif name in RESERVED_LABELS or name.startswith(RESERVED_PREFIX):
            problems.at(
                f"{path}.{name}",
                "is set by the platform (it routes alerts by severity and team): "
                "remove it or use another name",
            )
    return labels
