"""The Prometheus agent's configuration, generated from Python data.

One source of truth: every job is a row of `observability.jobs.JOB_TABLE` (target selection, kept
series and buckets, limits); `scrape_jobs` turns the rows into `scrape_configs` (with `selectors`,
`keep_rules` and `relabel`), and this module adds the global settings and remote write. Names and ports
come from `observability.names`. The agent chart embeds `render(...)` in its ConfigMap, and the monitoring
stack puts its checksum in a pod annotation (a change rolls the agent).

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
to every series sent; a scraped series' own `cluster` or `environment` is moved to `exported_<label>` (an
external label does not replace a label a series already has, and AMP groups replicas by `cluster`).

High availability and sharding: each shard runs two (`monitoring.agent_replicas`) identical agents whose
only difference is the `__replica__` external label, their replica index expanded from the environment
(`${AGENT_REPLICA}`: expanded by default in Prometheus 3).
AMP keeps `cluster`, elects one replica per `cluster` value, drops the others' samples and strips
`__replica__` (Send-high-availability-data.html). With `shards` > 1 every job keeps only the targets whose
`__address__` hashes (hashmod) to its shard. There is no `shard` label: AMP's election is per `cluster`
value, so every shard's replica 0 shares one replica name and they are accepted together (pod names,
unique per shard, would make AMP elect one shard and drop the others, grafana/mimir#5217); a `shard`
label would also give a target new series whenever the shard count changes.

Compatibility: the cluster's Prometheus release, which the local tests run too (`make go-tools`); only the
fields tests/metrics/test_scrape_config.py lists, each reviewed (none newer than 2.41's `keepequal`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from observability import catalog, names
from observability import conventions as c
from observability.jobs import JOBS, ScrapeJob, all_jobs
from observability.model.load import load_default
from observability.render import relabel
from observability.render.scrape_jobs import CA_FILE, TOKEN_FILE, scrape_jobs

__all__ = ["CA_FILE", "JOBS", "TOKEN_FILE", "agent_config", "render"]

# A scrape slower than this is a problem to see (`up` == 0), not to wait for. Intervals under 11 s get
# a timeout one second below the interval.
MAX_TIMEOUT_SECONDS = 10


def agent_config(
    *,
    cluster_name: str,
    environment: str,
    region: str,
    remote_write_url: str,
    scrape_interval_seconds: int = 30,
    extra_metrics: Sequence[str] = (),
    jobs: Sequence[ScrapeJob] | None = None,
    shard: int = 0,
    shards: int = 1,
) -> dict[str, Any]:
    """The configuration of the agents of shard `shard` of `shards` as plain data (see `render`).
    `cluster_name` and `remote_write_url` may be CDK token strings: they are embedded as they are."""
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
    catalog.validate_names(extra_metrics)
    timeout = min(MAX_TIMEOUT_SECONDS, scrape_interval_seconds - 1)
    scrape_configs = scrape_jobs(tuple(extra_metrics), jobs or all_jobs(load_default()))
    for job in scrape_configs:
        job["metric_relabel_configs"] = [
            *job.get("metric_relabel_configs", []),
            *(rule for label in c.EXTERNAL_LABELS for rule in relabel.moved_aside(label)),
        ]
    if not 0 <= shard < shards:
        raise ValueError(f"shard must be one of 0-{shards - 1} (got {shard})")
    if shards > 1:  # one shard keeps every target: no rules
        for job in scrape_configs:
            job["relabel_configs"] = [*job.get("relabel_configs", []), *relabel.shard(shard, shards)]

    return {
        "global": {
            "scrape_interval": f"{scrape_interval_seconds}s",
            "scrape_timeout": f"{timeout}s",
            "external_labels": {
                c.CLUSTER_LABEL: cluster_name,
                c.ENVIRONMENT_LABEL: environment,
                c.REPLICA_LABEL: f"${{{names.AGENT_REPLICA_ENV}}}",
            },
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
