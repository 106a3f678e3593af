"""The scrape jobs of the Prometheus agent: one row per job in `JOB_TABLE`, the one place that says what a
job scrapes (target selection), what it keeps (series and histogram buckets), its limits, and what its
targets cost when `make cost` cannot measure them. The scrape config (observability/render), the rules,
the dashboards and `make cost` all read it. The job names are what alerts (`up{job=...}`) refer to.

Pure data: no Prometheus YAML here. How a selector becomes relabel rules is observability/render/selectors.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from observability import catalog, names
from observability.model.load import Services
from observability.model.service import Service

APISERVER = "apiserver"
KUBELET = "kubelet"
CADVISOR = "cadvisor"
NODE_EXPORTER = "node-exporter"
KUBE_STATE_METRICS = "kube-state-metrics"
PROMETHEUS_AGENT = "prometheus-agent"
PODS = "pods"
SERVICE_ENDPOINTS = "service-endpoints"
JOBS: tuple[str, ...] = (
    APISERVER,
    KUBELET,
    CADVISOR,
    NODE_EXPORTER,
    KUBE_STATE_METRICS,
    PROMETHEUS_AGENT,
    PODS,
    SERVICE_ENDPOINTS,
)


# The label the platform's own pods are selected by.
APP_LABEL = "app.kubernetes.io/name"


class Role(StrEnum):
    """Kubernetes discovery role: what one discovered target stands for."""

    NODE = "node"
    POD = "pod"
    ENDPOINTSLICE = "endpointslice"


class OptIn(StrEnum):
    """Which object's `prometheus.io/*` annotations opt a workload in."""

    POD = "pod"
    SERVICE = "service"


@dataclass(frozen=True, kw_only=True)
class Targets:
    """How a job finds its targets. A dedicated job names its `app` (pods labelled
    `app.kubernetes.io/name`), its pods' labels (`pod_labels`, a service's selector) or its `service`, and
    the named `port`; a generic job takes whatever opts in."""

    role: Role
    namespace: str | None = None  # None: every namespace
    app: str | None = None
    pod_labels: Mapping[str, str] | None = None
    service: str | None = None
    port: str | None = None  # a container port (role pod) or EndpointSlice port (role endpointslice) name
    path: str | None = None  # None: Prometheus's default, /metrics (opt-in jobs: the annotated path)
    opt_in: OptIn | None = None

    def __post_init__(self) -> None:
        dedicated = self.app is not None or self.service is not None or self.pod_labels is not None
        if self.opt_in is not None and (dedicated or self.port is not None):
            raise ValueError("targets: opt-in jobs take the port from the annotation, not app/service/port")
        if (self.app is not None or self.pod_labels is not None) and (
            self.role is not Role.POD or not (self.namespace and self.port)
        ):
            raise ValueError(
                f"targets: pods of {self.app or self.pod_labels!r} need role pod, a namespace, a port"
            )
        if self.service is not None and (
            self.role is not Role.ENDPOINTSLICE or not (self.namespace and self.port)
        ):
            raise ValueError(
                f"targets: service {self.service!r} needs role endpointslice, a namespace, a port"
            )

    def selected_pod_labels(self) -> Mapping[str, str]:
        """The pod labels a dedicated pod job selects on (empty for other jobs)."""
        if self.app is not None:
            return {APP_LABEL: self.app}
        return dict(self.pod_labels or {})


@dataclass(frozen=True)
class Limits:
    """Per-target scrape limits. Exceeding one fails the whole scrape (`up` == 0 and an error on the
    target): a loud signal instead of a silent cardinality explosion in the bill. `sample_limit` counts
    samples *after* the keep rule, so it is sized to the kept set with room for growth."""

    sample_limit: int
    label_limit: int = 30  # the widest kept series carry ~12 labels (apiserver histogram + target labels)
    label_name_length_limit: int = 128
    label_value_length_limit: int = 512


class Unit(StrEnum):
    """What a count grows with. `make cost` multiplies by its reference cluster's count of each."""

    TARGET = "target"  # each target, whatever the cluster's size
    CLUSTER = "cluster"
    NODE = "node"
    POD = "pod"
    CONTAINER = "container"
    PVC = "pvc"
    APISERVER_ENDPOINT = "apiserver endpoint"  # EKS publishes two in default/kubernetes


@dataclass(frozen=True)
class Estimate:
    """Series per target of a job `make cost` cannot run (synthetic series excluded), as a sum of
    `per unit x units per target`; `kept` with the keep rules, `unfiltered` everything the target exposes
    (typical sizes of these endpoints on small EKS clusters)."""

    kept: Mapping[Unit, float]
    unfiltered: Mapping[Unit, float]


@dataclass(frozen=True, kw_only=True)
class ScrapeJob:
    """One row of the job table: everything the platform knows about one scrape job."""

    name: str
    targets: Targets
    one_target_per: Unit  # how the number of targets grows
    series: tuple[str, ...]  # the series names the keep rule lets through
    # Anchored regular expressions the keep rule also lets through (a service's `metrics.keep` patterns).
    patterns: tuple[str, ...] = ()
    limits: Limits
    # Families whose `_bucket` series are kept only at these `le` boundaries (and +Inf).
    buckets: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    # The exporter labels its series with the objects it describes (namespace, pod, container, node):
    # those labels win, and the job adds no workload labels of its own that would clash with them.
    honor_labels: bool = False
    estimate: Estimate | None = None

    def __post_init__(self) -> None:
        catalog.validate_names(self.series)
        for family in self.buckets:
            if not set(catalog.histogram(family)) <= set(self.series):
                raise ValueError(f"{self.name}: trimmed histogram {family} is not kept whole")


def _trimmed(series: tuple[str, ...]) -> Mapping[str, tuple[str, ...]]:
    """The catalog's trimmed families among `series`, with their kept boundaries."""
    return MappingProxyType({f: b for f, b in catalog.BUCKETS.items() if f"{f}_bucket" in series})


def _histogram_series(boundaries: int) -> int:
    return boundaries + 3  # a bucket per boundary, +Inf, _count, _sum


# Estimates: the kept counts follow from the keep-lists where they can; the rest are documented guesses.
_VOLUME_STATS = sum(name.startswith("kubelet_volume_stats_") for name in catalog.KUBELET_SERIES)
_CONTAINER_NETWORK = sum(name.startswith("container_network_") for name in catalog.CADVISOR_SERIES)
_KUBELET_PLEG_BOUNDARIES = 11  # the kubelet's PLEG relist histogram uses the client's default buckets
_CGROUP_KEPT = 6  # CPU, CFS periods/throttled where a limit is set, memory x3, OOM events

JOB_TABLE: tuple[ScrapeJob, ...] = (
    ScrapeJob(
        name=APISERVER,
        targets=Targets(role=Role.ENDPOINTSLICE, namespace="default", service="kubernetes", port="https"),
        one_target_per=Unit.APISERVER_ENDPOINT,
        series=catalog.APISERVER_SERIES,
        buckets=_trimmed(catalog.APISERVER_SERIES),
        # The kept latency histogram is verb x resource x scope x 9 series (7 buckets, count, sum): a
        # few thousand per endpoint, growing with the resource types (CRDs).
        limits=Limits(sample_limit=30_000),
        # No estimate: `make cost` measures the real kube-apiserver (harness/cluster_series.py).
    ),
    ScrapeJob(
        name=KUBELET,
        # The node's InternalIP and kubelet port (10250).
        targets=Targets(role=Role.NODE, path="/metrics"),
        one_target_per=Unit.NODE,
        series=catalog.KUBELET_SERIES,
        # Volume stats (6 per mounted PVC) and a handful of node gauges and one small histogram.
        limits=Limits(sample_limit=5_000),
        honor_labels=True,  # kubelet_node_name's node label
        # Volume stats per PVC, a few gauges, the PLEG histogram.
        estimate=Estimate(
            kept={Unit.PVC: _VOLUME_STATS, Unit.TARGET: 5 + _histogram_series(_KUBELET_PLEG_BOUNDARIES)},
            unfiltered={Unit.TARGET: 2_000},
        ),
    ),
    ScrapeJob(
        name=CADVISOR,
        targets=Targets(role=Role.NODE, path="/metrics/cadvisor"),
        one_target_per=Unit.NODE,
        series=catalog.CADVISOR_SERIES,
        # ~11 kept series per container plus pod-level cgroups; up to ~110 pods on the largest node
        # types. Values are long here: `id` is a cgroup path and `image` a registry path with a digest.
        limits=Limits(sample_limit=25_000, label_value_length_limit=1024),
        honor_labels=True,  # cAdvisor's namespace/pod/container
        # Per cgroup (each container, each pod, ~10 QoS and system slices per node) and per network
        # interface (each pod's eth0, ~12 of the node's own devices and veths).
        estimate=Estimate(
            kept={
                Unit.CONTAINER: _CGROUP_KEPT,
                Unit.POD: _CGROUP_KEPT + _CONTAINER_NETWORK,
                Unit.NODE: 10 * _CGROUP_KEPT + 12 * _CONTAINER_NETWORK,
            },
            unfiltered={Unit.CONTAINER: 45, Unit.POD: 45 + 16, Unit.NODE: 10 * 45 + 12 * 16},
        ),
    ),
    ScrapeJob(
        name=NODE_EXPORTER,
        targets=Targets(
            role=Role.POD,
            namespace=names.NODE_EXPORTER_NAMESPACE,
            app=names.NODE_EXPORTER,
            port=names.NODE_EXPORTER_PORT_NAME,
        ),
        one_target_per=Unit.NODE,
        series=catalog.NODE_EXPORTER_SERIES,
        # CPUs x 8 modes dominates (a 96-vCPU node: 768 series), then filesystems and network devices.
        limits=Limits(sample_limit=5_000),
    ),
    ScrapeJob(
        name=KUBE_STATE_METRICS,
        targets=Targets(
            role=Role.POD,
            namespace=names.MONITORING_NAMESPACE,
            app=names.KUBE_STATE_METRICS,
            port=names.KUBE_STATE_METRICS_PORT_NAME,  # not `telemetry`, its own process metrics
        ),
        one_target_per=Unit.CLUSTER,
        series=catalog.KUBE_STATE_METRICS_SERIES,
        # Grows with the number of objects in the cluster (~15 series kept per pod, `make cost`): room for
        # ~20,000 pods, 500 nodes at 30 pods and a margin (50,000 failed `make scale` at 5,000 pods,
        # docs/sizing.md). Its series are bounded by the objects, not by a label gone wild. Values are long
        # here too (image names, owner names).
        limits=Limits(sample_limit=300_000, label_value_length_limit=1024),
        honor_labels=True,
        # No estimate: `make cost` measures the real kube-state-metrics per object on a simulated cluster.
    ),
    # The agent watches itself: remote-write lag and failures, scrapes over their limits, its series
    # count. Without this, a broken pipeline shows in AMP only as missing data.
    ScrapeJob(
        name=PROMETHEUS_AGENT,
        targets=Targets(
            role=Role.POD,
            namespace=names.MONITORING_NAMESPACE,
            app=names.PROMETHEUS_AGENT,
            port=names.PROMETHEUS_PORT_NAME,
        ),
        one_target_per=Unit.CLUSTER,
        series=catalog.PROMETHEUS_AGENT_SERIES,
        # Remote-write and scrape health, a few series per job and per queue.
        limits=Limits(sample_limit=2_000),
    ),
    # Workloads that opt in (the web app, the Postgres exporter). Per pod: the web app's histograms
    # (routes x methods x 12 buckets) or the exporter's per-database series. An app that starts minting
    # labels per user or id fails loudly at 5,000.
    ScrapeJob(
        name=PODS,
        targets=Targets(role=Role.POD, opt_in=OptIn.POD),
        one_target_per=Unit.POD,
        series=catalog.WORKLOAD_SERIES,
        limits=Limits(sample_limit=5_000),
    ),
    ScrapeJob(
        name=SERVICE_ENDPOINTS,
        targets=Targets(role=Role.ENDPOINTSLICE, opt_in=OptIn.SERVICE),
        one_target_per=Unit.POD,
        series=catalog.WORKLOAD_SERIES,
        limits=Limits(sample_limit=5_000),
    ),
)

BY_NAME: Mapping[str, ScrapeJob] = MappingProxyType({job.name: job for job in JOB_TABLE})
if tuple(BY_NAME) != JOBS:
    raise AssertionError(f"JOB_TABLE must have one row per job, in JOBS order (got {tuple(BY_NAME)})")


def service_job(service: Service) -> ScrapeJob:
    """A service's own job, from its service file: its pods (namespace, selector) on its metrics port and
    path, keeping what it declares, at most its series budget per pod. Named after the service."""
    names_ = tuple(entry for entry in service.keep if catalog.METRIC_NAME.match(entry))
    return ScrapeJob(
        name=service.name,
        targets=Targets(
            role=Role.POD,
            namespace=service.namespace,
            pod_labels=dict(service.selector),
            port=service.metrics_port,
            path=service.metrics_path,
        ),
        one_target_per=Unit.POD,
        series=names_,
        patterns=tuple(entry for entry in service.keep if entry not in names_),
        limits=Limits(sample_limit=service.series_budget),
    )


def all_jobs(services: Services) -> tuple[ScrapeJob, ...]:
    """The platform's jobs, then one per service."""
    return JOB_TABLE + tuple(service_job(service) for service in services.services)
