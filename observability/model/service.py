"""A service, read from `services/<name>/service.yaml`: who owns it, where its pods run, what of its
metrics leaves the cluster, and how many series one of its targets may send.

    version: services/v1
    name: payments             # the folder's name
    team: payments             # a team of services/teams.yaml: its alerts go to that team
    description: Takes card payments.
    workload:
      namespace: payments
      selector: {app.kubernetes.io/name: payments}   # the service's pods, by their labels
    metrics:
      port: http-metrics       # the container port's name
      port_number: 9090        # and its number: NetworkPolicies need it (named ports are unreliable on
                               # the VPC CNI's policy controller: aws/amazon-network-policy-controller-k8s#81)
      path: /metrics
      keep: [http_requests_total, "payments_.*"]     # series names, or anchored regular expressions
      series_budget: 500       # per target, after `keep`: the scrape's sample_limit
    slo_period: 30d            # 7d, 28d or 30d (observability/spec/windows)
    dashboards:                # optional: the SLO panels are always there; RED panels where declared
      red:
        requests: http_requests_total            # a counter of requests (kept)
        errors: 'code=~"5.."'                    # label matchers on it selecting the failed ones
        duration: http_request_duration_seconds  # optional: a histogram family (its _bucket kept)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from observability.model import promql
from observability.model.slo import SLO
from observability.spec.problems import Collector

VERSION = "services/v1"
# The pods job's per-target limit: one target of any service may send at most this many series.
MAX_SERIES_BUDGET = 5_000
# The platform's own scrape jobs: a service's job is named after it, so it cannot take one of these.
RESERVED_NAMES = (
    "apiserver", "kubelet", "cadvisor", "node-exporter", "kube-state-metrics", "prometheus-agent", "pods",
    "service-endpoints",
)  # fmt: skip
SERVICE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")  # a DNS label: it names Kubernetes objects
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
# Kubernetes label keys: an optional DNS-subdomain prefix, then a name of at most 63 characters.
LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$")  # IANA service name, as Kubernetes ports


@dataclass(frozen=True, kw_only=True)
class RedMetrics:
    """What the service's RED panels (rate, errors, duration) read, all selected by its scrape job."""

    requests: str  # a counter of requests
    errors: str  # label matchers on `requests` that select the failed ones: code=~"5.."
    duration: str | None = None  # a histogram family: its `_bucket` series give the latency quantiles


@dataclass(frozen=True, kw_only=True)
class Dashboards:
    """What the service's generated dashboard shows besides its SLOs (those panels are always there)."""

    red: RedMetrics | None = None


@dataclass(frozen=True, kw_only=True)
class Service:
    name: str
    team: str
    description: str
    namespace: str
    selector: Mapping[str, str]  # pod labels
    metrics_port: str
    metrics_port_number: int
    metrics_path: str
    keep: tuple[str, ...]  # series names and anchored regular expressions
    series_budget: int
    slo_period: str
    dashboards: Dashboards = Dashboards()
    slos: tuple[SLO, ...] = ()

    def keeps(self, series: str) -> bool:
        return any(
            entry == series or (not METRIC_NAME.match(entry) and re.fullmatch(entry, series))
            for entry in self.keep
        )

    def overlaps(self, other: Service) -> bool:
        """Could one pod be selected by both? Same namespace, and no label both select on differently."""
        if self.namespace != other.namespace:
            return False
        return all(
            other.selector[key] == value for key, value in self.selector.items() if key in other.selector
        )


def parse_service(document: Any, file: str, periods: tuple[str, ...]) -> tuple[Service | None, Collector]:
    problems = Collector(file)
    if not isinstance(document, dict):
        problems.at("", f"must be a service spec (a mapping), got {type(document).__name__}")
        return None, problems
    if document.get("version") != VERSION:
        problems.at("version", f"must be {VERSION!r} (got {document.get('version')!r})")
        return None, problems
    name = document.get("name")
    if not isinstance(name, str) or not SERVICE_NAME.match(name):
        problems.at("name", f"must be lower-case letters, digits and '-', at most 63 (got {name!r})")
    elif name in RESERVED_NAMES:
        problems.at(
            "name", f"must not be a scrape job of the platform's own, {list(RESERVED_NAMES)} (got {name!r})"
        )
    team = document.get("team")
    if not isinstance(team, str) or not SERVICE_NAME.match(team):
        problems.at("team", f"must name a team of services/teams.yaml (got {team!r})")
    description = document.get("description", "")
    if not isinstance(description, str):
        problems.at("description", f"must be text (got {description!r})")
    workload = _mapping(document.get("workload"), "workload", problems)
    namespace = workload.get("namespace")
    if not isinstance(namespace, str) or not SERVICE_NAME.match(namespace):
        problems.at("workload.namespace", f"must be a Kubernetes namespace name (got {namespace!r})")
    selector = _selector(workload.get("selector"), problems)
    metrics = _mapping(document.get("metrics"), "metrics", problems)
    port = metrics.get("port")
    if not isinstance(port, str) or not PORT_NAME.match(port):
        problems.at(
            "metrics.port", f"must be the name of a container port, at most 15 characters (got {port!r})"
        )
    port_number = metrics.get("port_number")
    if isinstance(port_number, bool) or not isinstance(port_number, int) or not 1 <= port_number <= 65535:
        problems.at(
            "metrics.port_number", f"must be the container port's number, 1..65535 (got {port_number!r})"
        )
    path = metrics.get("path", "/metrics")
    if not isinstance(path, str) or not path.startswith("/"):
        problems.at("metrics.path", f"must be a URL path starting with / (got {path!r})")
    keep = _keep(metrics.get("keep"), problems)
    budget = metrics.get("series_budget")
    if isinstance(budget, bool) or not isinstance(budget, int) or not 0 < budget <= MAX_SERIES_BUDGET:
        problems.at(
            "metrics.series_budget",
            f"must be a whole number of series per target in 1..{MAX_SERIES_BUDGET}, the platform's cap "
            f"(got {budget!r})",
        )
    period = document.get("slo_period", "30d")
    if period not in periods:
        problems.at("slo_period", f"must be one of {list(periods)} (got {period!r})")
    dashboards = _dashboards(document.get("dashboards"), problems)
    if problems.problems:
        return None, problems
    service = Service(
        name=str(name),
        team=str(team),
        description=description,
        namespace=str(namespace),
        selector=selector,
        metrics_port=str(port),
        metrics_port_number=port_number if isinstance(port_number, int) else 0,  # checked above
        metrics_path=path,
        keep=keep,
        series_budget=budget if isinstance(budget, int) else 0,  # checked above
        slo_period=period,
        dashboards=dashboards,
    )
    red = service.dashboards.red
    if red is not None:
        read = {"requests": red.requests}
        if red.duration is not None:
            read["duration"] = f"{red.duration}_bucket"
        for field_name, series in read.items():
            if not service.keeps(series):
                problems.at(
                    f"dashboards.red.{field_name}", f"reads {series}, which metrics.keep does not keep"
                )
    return (None if problems.problems else service), problems


def _mapping(value: Any, path: str, problems: Collector) -> dict[str, Any]:
    if not isinstance(value, dict):
        problems.at(path, f"must be a mapping (got {value!r})")
        return {}
    return value


def _selector(value: Any, problems: Collector) -> Mapping[str, str]:
    if not isinstance(value, dict) or not value:
        problems.at("workload.selector", f"must map at least one pod label to its value (got {value!r})")
        return MappingProxyType({})
    for key, label in value.items():
        if not isinstance(key, str) or not LABEL_KEY.match(key):
            problems.at(f"workload.selector.{key}", "must be a Kubernetes label key")
        elif not isinstance(label, str) or not LABEL_VALUE.match(label):
            problems.at(
                f"workload.selector.{key}", f"must be a Kubernetes label value; quote it (got {label!r})"
            )
    return MappingProxyType(dict(value))


def _keep(value: Any, problems: Collector) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        problems.at("metrics.keep", "must list the series names (or patterns) to keep")
        return ()
    for index, entry in enumerate(value):
        if not isinstance(entry, str) or not entry:
            problems.at(
                f"metrics.keep[{index}]", f"must be a series name or a regular expression (got {entry!r})"
            )
        elif not METRIC_NAME.match(entry):
            try:
                re.compile(entry)
            except re.error as error:
                problems.at(
                    f"metrics.keep[{index}]",
                    f"is neither a series name nor a valid regular expression ({error})",
                )
    if len(set(value)) != len(value):
        problems.at("metrics.keep", "must not repeat an entry")
    return tuple(entry for entry in value if isinstance(entry, str))


def _dashboards(value: Any, problems: Collector) -> Dashboards:
    if value is None:
        return Dashboards()
    if not isinstance(value, dict):
        problems.at("dashboards", f"must be a mapping like {{red: {{...}}}} (got {value!r})")
        return Dashboards()
    for key in sorted(set(value) - {"red"}, key=str):
        problems.at(f"dashboards.{key}", "is not a dashboards field (known: red)")
    red = value.get("red")
    if red is None:
        return Dashboards()
    if not isinstance(red, dict):
        problems.at("dashboards.red", f"must map requests, errors and duration (got {red!r})")
        return Dashboards()
    for key in sorted(set(red) - {"requests", "errors", "duration"}, key=str):
        problems.at(f"dashboards.red.{key}", "is not a RED field (known: requests, errors, duration)")
    requests = red.get("requests")
    if not isinstance(requests, str) or not METRIC_NAME.match(requests):
        problems.at("dashboards.red.requests", f"must be the name of a request counter (got {requests!r})")
        requests = None
    errors = red.get("errors")
    if not isinstance(errors, str) or not errors.strip():
        problems.at("dashboards.red.errors", f'must be label matchers like code=~"5.." (got {errors!r})')
        errors = None
    elif requests is not None and not promql.is_selector(f"{requests}{{{errors}}}", requests):
        problems.at(
            "dashboards.red.errors",
            f'must be label matchers on {requests}, like code=~"5.." (got {errors!r})',
        )
        errors = None
    duration = red.get("duration")
    if duration is not None and (
        not isinstance(duration, str) or not METRIC_NAME.match(duration) or duration.endswith("_bucket")
    ):
        problems.at(
            "dashboards.red.duration",
            f"must be a histogram's family name, without _bucket (got {duration!r})",
        )
        duration = None
    if requests is None or errors is None:
        return Dashboards()
    return Dashboards(red=RedMetrics(requests=requests, errors=errors.strip(), duration=duration))
