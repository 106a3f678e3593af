"""The Prometheus agent's configuration, generated from Python data.

One source of truth: the jobs, their target selection and labels are below, the metrics each job keeps
come from `metrics_catalog`, and the names and ports from `k8s.names`. The chart embeds `render(...)` in
its ConfigMap, and the monitoring stack puts its checksum in a pod annotation (a change rolls the agent).

Every target is scraped exactly once:

| job | discovery | targets |
|---|---|---|
| apiserver | endpointslice | `default/kubernetes`, port `https` |
| kubelet, cadvisor | node | each node's kubelet (10250): `/metrics`, `/metrics/cadvisor` |
| node-exporter | pod (node-exporter) | each node-exporter pod, container port `metrics` (no Service) |
| kube-state-metrics | pod (monitoring) | the kube-state-metrics pod, port `http-metrics` (not `telemetry`) |
| pods | pod | pods annotated `prometheus.io/scrape: "true"`, except node-exporter and kube-state-metrics |
| service-endpoints | endpointslice | endpoints of annotated services, except those whose pod opts in itself |

Opt-in annotations (`pods` on the pod, `service-endpoints` on the service): `prometheus.io/scrape:
"true"`, `prometheus.io/port` (required: without it there is no single port to scrape), and optionally
`prometheus.io/path` (default `/metrics`) and `prometheus.io/scheme` (`http` or `https`).

`pods` produces one target per pod: Kubernetes discovery yields a target per declared container port
(and one per container that declares none). The job keeps the target whose port is the annotated one;
targets of containers without ports are all rewritten to `<pod IP>:<annotated port>` with identical
labels, which Prometheus de-duplicates into one target, so a pod that declares no ports is scraped once
too (without a `container` label: no port says which container serves it). Declared ports other than
the annotated one are dropped. Known limit: a pod that declares the annotated port on one container and
also has containers without ports gets one more target (the port-less one); declare ports on every
container that listens, as our charts do.

Services are discovered through their EndpointSlices (`discovery.k8s.io/v1`), not the v1 Endpoints API
(deprecated since Kubernetes 1.33). `service-endpoints` scrapes ready and not-ready endpoints, but not
terminating ones (which EndpointSlices list and Endpoints did not): one target per endpoint address on
the slice port equal to the annotated one.

Target labels say which workload a series is about: `namespace`, `pod`, `container`, `node` (and
`service` for `service-endpoints`), plus `job` and `instance`. Exporters that describe *other* objects
(kubelet, cAdvisor, kube-state-metrics) already label their series with the namespace/pod/container/node
of the object, so those jobs set only `node` (kubelet, cAdvisor) or nothing, and keep the exporter's
labels (`honor_labels`). No `labelmap`: no Kubernetes label or annotation becomes a series label, and every
`__meta_*` label is discarded after relabeling. `cluster` and `environment` are external labels, added
to every series sent.

Compatibility: only fields that both Prometheus 2.42 (the local tests) and 3.x (the cluster) accept; no
3.x-only ones (`fallback_scrape_protocol`, `scrape_protocols` tuning, ...) and nothing newer than 2.41
(`keepequal`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import yaml

from k8s import names
from k8s.monitoring import metrics_catalog
from observability.jobs import (
    APISERVER,
    CADVISOR,
    JOBS,
    KUBE_STATE_METRICS,
    KUBELET,
    NODE_EXPORTER,
    PODS,
    PROMETHEUS_AGENT,
    SERVICE_ENDPOINTS,
)

__all__ = [
    "APISERVER",
    "CADVISOR",
    "JOBS",
    "KUBELET",
    "KUBE_STATE_METRICS",
    "NODE_EXPORTER",
    "PODS",
    "PROMETHEUS_AGENT",
    "SERVICE_ENDPOINTS",
]

# The in-cluster service account the agent runs as (token projected by the kubelet).
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_FILE = f"{SERVICE_ACCOUNT_DIR}/token"
CA_FILE = f"{SERVICE_ACCOUNT_DIR}/ca.crt"

SCRAPE_ANNOTATIONS = (
    names.SCRAPE_ANNOTATION,
    names.SCRAPE_PORT_ANNOTATION,
    names.SCRAPE_PATH_ANNOTATION,
    names.SCRAPE_SCHEME_ANNOTATION,
)

# A scrape slower than this is a problem to see (`up` == 0), not to wait for. Intervals under 11 s get
# a timeout one second below the interval.
MAX_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Limits:
    """Per-target scrape limits. Exceeding one fails the whole scrape (`up` == 0 and an error on the
    target): a loud signal instead of a silent cardinality explosion in the bill. `sample_limit` counts
    samples *after* the keep rule, so it is sized to the kept set with room for growth."""

    sample_limit: int
    label_limit: int = 30  # the widest kept series carry ~12 labels (apiserver histogram + target labels)
    label_name_length_limit: int = 128
    label_value_length_limit: int = 512


LIMITS: Mapping[str, Limits] = MappingProxyType(
    {
        # Two API server endpoints on EKS; the kept latency histogram is verb x resource x scope x 9 series
        # (7 buckets, count, sum): a few thousand per endpoint, growing with the resource types (CRDs).
        APISERVER: Limits(sample_limit=30_000),
        # Volume stats (6 per mounted PVC) and a handful of node gauges and one small histogram.
        KUBELET: Limits(sample_limit=5_000),
        # ~11 kept series per container plus pod-level cgroups; up to ~110 pods on the largest node types.
        # Values are long here: `id` is a cgroup path and `image` a registry path with a digest.
        CADVISOR: Limits(sample_limit=25_000, label_value_length_limit=1024),
        # CPUs x 8 modes dominates (a 96-vCPU node: 768 series), then filesystems and network devices.
        NODE_EXPORTER: Limits(sample_limit=5_000),
        # Grows with the number of objects in the cluster (~10-20 series per pod): room for ~2,000 pods.
        # Values are long here too (image names, owner names).
        KUBE_STATE_METRICS: Limits(sample_limit=50_000, label_value_length_limit=1024),
        # The agent itself: remote-write and scrape health, a few series per job and per queue.
        PROMETHEUS_AGENT: Limits(sample_limit=2_000),
        # Per application pod: the web app's histograms (routes x methods x 12 buckets) or the exporter's
        # per-database series. An app that starts minting labels per user or id fails loudly at 5,000.
        PODS: Limits(sample_limit=5_000),
        SERVICE_ENDPOINTS: Limits(sample_limit=5_000),
    }
)


def _meta(name: str) -> str:
    """A Kubernetes object label or annotation name as Prometheus's discovery sanitizes it."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


NAMESPACE = "__meta_kubernetes_namespace"
POD_NAME = "__meta_kubernetes_pod_name"
POD_NODE = "__meta_kubernetes_pod_node_name"
POD_IP = "__meta_kubernetes_pod_ip"
POD_PHASE = "__meta_kubernetes_pod_phase"
POD_NAME_LABEL = f"__meta_kubernetes_pod_label_{_meta(names.NAME_LABEL)}"
CONTAINER_NAME = "__meta_kubernetes_pod_container_name"
CONTAINER_INIT = "__meta_kubernetes_pod_container_init"
PORT_NAME = "__meta_kubernetes_pod_container_port_name"
PORT_NUMBER = "__meta_kubernetes_pod_container_port_number"
SERVICE_NAME = "__meta_kubernetes_service_name"
ENDPOINTSLICE_PORT_NAME = "__meta_kubernetes_endpointslice_port_name"
ENDPOINTSLICE_PORT = "__meta_kubernetes_endpointslice_port"
ENDPOINTSLICE_READY = "__meta_kubernetes_endpointslice_endpoint_conditions_ready"
ENDPOINTSLICE_TERMINATING = "__meta_kubernetes_endpointslice_endpoint_conditions_terminating"
NODE_NAME = "__meta_kubernetes_node_name"
TMP_PORT = "__tmp_port"


def _annotation(kind: str, annotation: str) -> str:
    return f"__meta_kubernetes_{kind}_annotation_{_meta(annotation)}"


# The agents of this platform have their own jobs: (namespace, app) of each. node-exporter runs in a
# namespace of its own (Pod Security `privileged`), the others in the monitoring namespace.
_DEDICATED_APPS = (
    (names.NODE_EXPORTER_NAMESPACE, names.NODE_EXPORTER),
    (names.MONITORING_NAMESPACE, names.KUBE_STATE_METRICS),
    (names.MONITORING_NAMESPACE, names.PROMETHEUS_AGENT),
)
_DEDICATED = "|".join(f"{namespace};{app}" for namespace, app in _DEDICATED_APPS)


def _set(
    source: str | Sequence[str], target: str, regex: str = "(.*)", replacement: str = "$1"
) -> dict[str, Any]:
    sources = [source] if isinstance(source, str) else list(source)
    rule: dict[str, Any] = {"action": "replace", "source_labels": sources, "target_label": target}
    if regex != "(.*)":
        rule["regex"] = regex
    if replacement != "$1":
        rule["replacement"] = replacement
    return rule


def _filter(action: str, sources: Sequence[str], regex: str) -> dict[str, Any]:
    return {"action": action, "source_labels": list(sources), "regex": regex}


def _workload_labels(*, container: bool = True) -> list[dict[str, Any]]:
    rules = [_set(NAMESPACE, "namespace"), _set(POD_NAME, "pod"), _set(POD_NODE, "node")]
    if container:
        rules.append(_set(CONTAINER_NAME, "container"))
    return rules


_NOT_RUNNING = _filter("drop", [POD_PHASE], "Succeeded|Failed")  # finished pods serve nothing


def _dedicated_pod_job(namespace: str, app: str, port_name: str, *, own_labels: bool) -> list[dict[str, Any]]:
    """One target per pod of `app` in `namespace`, on its container port `port_name`."""
    rules = [
        _filter("keep", [NAMESPACE, POD_NAME_LABEL, PORT_NAME], f"{namespace};{app};{port_name}"),
        _NOT_RUNNING,
    ]
    return rules + (_workload_labels() if own_labels else [])


def _annotated(kind: str) -> list[dict[str, Any]]:
    """Opt-in and target URL from the `prometheus.io/*` annotations of a pod or service."""
    scrape, port, path, scheme = (_annotation(kind, a) for a in SCRAPE_ANNOTATIONS)
    return [
        _filter("keep", [scrape], "true"),
        _filter("keep", [port], r"\d+"),  # no (or no numeric) port annotation: nothing to scrape
        _set(scheme, "__scheme__", regex="(https?)"),
        _set(path, "__metrics_path__", regex="(/.*)"),
    ]


def _pods_relabel() -> list[dict[str, Any]]:
    port_annotation = _annotation("pod", names.SCRAPE_PORT_ANNOTATION)
    return [
        *_annotated("pod"),
        _filter("drop", [NAMESPACE, POD_NAME_LABEL], _DEDICATED),
        _NOT_RUNNING,
        # An init container without ports (runs before the app) is never the target.
        _filter("drop", [CONTAINER_INIT, PORT_NUMBER], "true;"),
        # The target's port: its declared one, or the annotated one for a container that declares none.
        _set([PORT_NUMBER, port_annotation], TMP_PORT, regex=r"(\d+);.*|;(\d+)", replacement="$1$2"),
        # Only the annotated port: one target per pod even when its containers declare several ports.
        {"action": "keepequal", "source_labels": [TMP_PORT], "target_label": port_annotation},
        # A container without ports: scrape <pod IP>:<annotated port> (IPv4, then IPv6 in brackets).
        _set(
            [PORT_NUMBER, POD_IP, port_annotation],
            "__address__",
            regex=r";([^:]+);(\d+)",
            replacement="$1:$2",
        ),
        _set(
            [PORT_NUMBER, POD_IP, port_annotation],
            "__address__",
            regex=r";(.+:.+);(\d+)",
            replacement="[$1]:$2",
        ),
        *_workload_labels(container=False),
        # `container` only where the declared port says which container serves the metrics.
        _set([PORT_NUMBER, CONTAINER_NAME], "container", regex=r"\d+;(.+)"),
    ]


def _service_endpoints_relabel() -> list[dict[str, Any]]:
    port_annotation = _annotation("service", names.SCRAPE_PORT_ANNOTATION)
    return [
        *_annotated("service"),
        # The pod opts in itself: the `pods` job scrapes it, so not again through its service.
        _filter("drop", [_annotation("pod", names.SCRAPE_ANNOTATION)], "true"),
        _filter("drop", [NAMESPACE, POD_NAME_LABEL], _DEDICATED),
        # Endpoint addresses only, ready or not: discovery also lists the pods' other container ports,
        # which carry no endpoint labels.
        _filter("keep", [ENDPOINTSLICE_READY], "true|false"),
        # A terminating pod is on its way out (the Endpoints API did not list it either).
        _filter("drop", [ENDPOINTSLICE_TERMINATING], "true"),
        # Only the slice port the annotation names (a service may expose several).
        {"action": "keepequal", "source_labels": [ENDPOINTSLICE_PORT], "target_label": port_annotation},
        _set(NAMESPACE, "namespace"),
        _set(SERVICE_NAME, "service"),
        _set(POD_NAME, "pod"),
        _set(CONTAINER_NAME, "container"),
        _set(POD_NODE, "node"),
    ]


def _kubernetes_sd(role: str, namespace: str | None = None) -> list[dict[str, Any]]:
    sd: dict[str, Any] = {"role": role}
    if namespace:
        sd["namespaces"] = {"names": [namespace]}
    return [sd]


def _in_cluster_auth() -> dict[str, Any]:
    return {"authorization": {"type": "Bearer", "credentials_file": TOKEN_FILE}}


def _keep_rules(job: str, extra_metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Keep the catalog's names; then, where the job keeps a trimmed histogram, only its listed buckets."""
    rules = [_filter("keep", ["__name__"], metrics_catalog.keep_regex(job, extra_metrics))]
    buckets = metrics_catalog.bucket_regex(job, extra_metrics)
    if buckets is not None:
        rules.append(_filter("keep", ["__name__", "le"], buckets))
    return rules


def _job(
    name: str,
    sd: list[dict[str, Any]],
    relabel: list[dict[str, Any]],
    extra_metrics: Sequence[str],
    **fields: Any,
) -> dict[str, Any]:
    limits = LIMITS[name]
    return {
        "job_name": name,
        "kubernetes_sd_configs": sd,
        "relabel_configs": relabel,
        "metric_relabel_configs": _keep_rules(name, extra_metrics),
        "sample_limit": limits.sample_limit,
        "label_limit": limits.label_limit,
        "label_name_length_limit": limits.label_name_length_limit,
        "label_value_length_limit": limits.label_value_length_limit,
        **fields,
    }


def _kubelet_job(name: str, path: str, extra_metrics: Sequence[str]) -> dict[str, Any]:
    return _job(
        name,
        _kubernetes_sd("node"),  # __address__ is the node's InternalIP and kubelet port (10250)
        [_set(NODE_NAME, "node")],
        extra_metrics,
        scheme="https",
        metrics_path=path,
        honor_labels=True,  # cAdvisor's namespace/pod/container and kubelet_node_name's node label win
        **_in_cluster_auth(),
        # EKS kubelets serve a certificate the service-account CA bundle does not verify (it is not
        # issued by the cluster CA for the address we dial), so verification is skipped. The connection
        # is still TLS and the kubelet still authenticates and authorizes the agent's token
        # (nodes/metrics). The alternative, proxying through the API server, verifies TLS but puts every
        # node's scrape load on the control plane.
        tls_config={"insecure_skip_verify": True},
    )


def agent_config(
    *,
    cluster_name: str,
    environment: str,
    region: str,
    remote_write_url: str,
    scrape_interval_seconds: int = 30,
    extra_metrics: Sequence[str] = (),
) -> dict[str, Any]:
    """The agent's whole configuration as plain data (see `render`). `cluster_name` and
    `remote_write_url` may be CDK token strings: they are embedded as they are."""
    for field, value in {
        "cluster_name": cluster_name,
        "environment": environment,
        "region": region,
        "remote_write_url": remote_write_url,
    }.items():
        if not value.strip():
            raise ValueError(f"{field} must not be empty")
    if not 2 <= scrape_interval_seconds <= 600:
        raise ValueError(f"scrape_interval_seconds must be between 2 and 600 (got {scrape_interval_seconds})")
    metrics_catalog.validate_names(extra_metrics)
    timeout = min(MAX_TIMEOUT_SECONDS, scrape_interval_seconds - 1)
    extra = tuple(extra_metrics)

    scrape_configs = [
        _job(
            APISERVER,
            _kubernetes_sd("endpointslice", "default"),
            [
                _filter(
                    "keep", [NAMESPACE, SERVICE_NAME, ENDPOINTSLICE_PORT_NAME], "default;kubernetes;https"
                ),
                _set(NAMESPACE, "namespace"),
                _set(SERVICE_NAME, "service"),
            ],
            extra,
            scheme="https",
            **_in_cluster_auth(),
            # The API server's certificate is issued by the cluster CA for the name `kubernetes`, not for
            # the endpoint IPs we dial.
            tls_config={"ca_file": CA_FILE, "server_name": "kubernetes"},
        ),
        _kubelet_job(KUBELET, "/metrics", extra),
        _kubelet_job(CADVISOR, "/metrics/cadvisor", extra),
        _job(
            NODE_EXPORTER,
            _kubernetes_sd("pod", names.NODE_EXPORTER_NAMESPACE),
            _dedicated_pod_job(
                names.NODE_EXPORTER_NAMESPACE,
                names.NODE_EXPORTER,
                names.NODE_EXPORTER_PORT_NAME,
                own_labels=True,
            ),
            extra,
        ),
        _job(
            KUBE_STATE_METRICS,
            _kubernetes_sd("pod", names.MONITORING_NAMESPACE),
            # Its series describe other objects (their namespace, pod, container, node): no target
            # labels of its own that would clash with or be mistaken for those.
            _dedicated_pod_job(
                names.MONITORING_NAMESPACE,
                names.KUBE_STATE_METRICS,
                names.KUBE_STATE_METRICS_PORT_NAME,
                own_labels=False,
            ),
            extra,
            honor_labels=True,
        ),
        # The agent watches itself: remote-write lag and failures, scrapes over their limits, its series
        # count. Without this, a broken pipeline shows in AMP only as missing data.
        _job(
            PROMETHEUS_AGENT,
            _kubernetes_sd("pod", names.MONITORING_NAMESPACE),
            _dedicated_pod_job(
                names.MONITORING_NAMESPACE,
                names.PROMETHEUS_AGENT,
                names.PROMETHEUS_PORT_NAME,
                own_labels=True,
            ),
            extra,
        ),
        # Workloads: their own series, so their labels never override ours (honor_labels false): a pod
        # cannot pose as another namespace or job.
        _job(PODS, _kubernetes_sd("pod"), _pods_relabel(), extra),
        _job(SERVICE_ENDPOINTS, _kubernetes_sd("endpointslice"), _service_endpoints_relabel(), extra),
    ]
    return {
        "global": {
            "scrape_interval": f"{scrape_interval_seconds}s",
            "scrape_timeout": f"{timeout}s",
            "external_labels": {"cluster": cluster_name, "environment": environment},
        },
        "scrape_configs": scrape_configs,
        "remote_write": [
            {
                "name": "amp",
                "url": remote_write_url,
                "sigv4": {"region": region},  # credentials from the pod's AWS identity (Pod Identity or IRSA)
                "queue_config": {
                    # Samples buffered per shard: 10x a batch, so a shard keeps sending full batches
                    # while it catches up after an outage (the WAL holds the rest).
                    "capacity": 10_000,
                    # Our ~20k series at 30 s are ~700 samples/s: one shard carries that. 20 shards catch
                    # up a backlog ~20x faster than it accrues without hammering AMP's per-workspace
                    # ingestion quota (samples/s), and bound memory to 20 x capacity samples.
                    "min_shards": 1,
                    "max_shards": 20,
                    # AWS's recommendation for AMP: fewer, larger SigV4-signed requests than the
                    # default 500, well under AMP's request size limit.
                    "max_samples_per_send": 1_000,
                    # A partial batch waits at most this long: bounds how stale AMP's data can be.
                    "batch_send_deadline": "5s",
                    # Back off from throttling (429) or an AMP outage quickly but not aggressively, and
                    # retry at least every 5 s, so recovery is noticed within seconds.
                    "min_backoff": "200ms",
                    "max_backoff": "5s",
                },
                # Metric metadata (HELP/TYPE) is a separate periodic request; nothing we run reads it.
                "metadata_config": {"send": False},
            }
        ],
    }


def with_file_sd(config: Mapping[str, Any], directory: str) -> dict[str, Any]:
    """A copy of `config` whose Kubernetes discovery is replaced by file discovery: each job reads its
    target groups from `<directory>/<job>.json`. Everything else (relabeling, keep rules, limits) is
    unchanged: this is how the tests run the generated config without a cluster."""
    if not directory:
        raise ValueError("directory must not be empty")
    result = copy.deepcopy(dict(config))
    for job in result["scrape_configs"]:
        if "kubernetes_sd_configs" in job:
            del job["kubernetes_sd_configs"]
            job["file_sd_configs"] = [{"files": [f"{directory.rstrip('/')}/{job['job_name']}.json"]}]
    return result


# --- rendering -------------------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    """Double-quotes strings holding CDK tokens: CloudFormation substitutes the cluster name and the
    workspace URL into the quotes at deploy time, where they cannot change the YAML's structure."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # shared relabel rules are written out in full, not as `&id001` anchors


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if "${Token[" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def render(config: Mapping[str, Any]) -> str:
    """Deterministic YAML: keys sorted at every level, lists in order."""
    return str(
        yaml.dump(dict(config), Dumper=_Dumper, sort_keys=True, default_flow_style=False, width=1_000_000)
    )
