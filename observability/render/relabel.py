"""Prometheus relabeling primitives: the `__meta_kubernetes_*` labels discovery gives a target, and small
builders for `replace`, `keep`/`drop` and `keepequal` rules (`keepequal` is Prometheus 2.41+; the cluster and
the tests run 3.13)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from observability import names

Rule = dict[str, Any]


def meta(name: str) -> str:
    """A Kubernetes object label or annotation name as Prometheus's discovery sanitizes it."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


NAMESPACE = "__meta_kubernetes_namespace"
POD_NAME = "__meta_kubernetes_pod_name"
POD_NODE = "__meta_kubernetes_pod_node_name"
POD_IP = "__meta_kubernetes_pod_ip"
POD_PHASE = "__meta_kubernetes_pod_phase"
POD_NAME_LABEL = f"__meta_kubernetes_pod_label_{meta(names.NAME_LABEL)}"
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
TMP_SHARD = "__tmp_shard"


def annotation(kind: str, name: str) -> str:
    """The discovery label of annotation `name` on a `kind` ("pod", "service") object."""
    return f"__meta_kubernetes_{kind}_annotation_{meta(name)}"


def replace(source: str | Sequence[str], target: str, regex: str = "(.*)", replacement: str = "$1") -> Rule:
    """Set `target` from the `;`-joined sources (defaults omitted, as Prometheus fills them in)."""
    sources = [source] if isinstance(source, str) else list(source)
    rule: Rule = {"action": "replace", "source_labels": sources, "target_label": target}
    if regex != "(.*)":
        rule["regex"] = regex
    if replacement != "$1":
        rule["replacement"] = replacement
    return rule


def select(action: str, sources: Sequence[str], regex: str) -> Rule:
    """A `keep` or `drop` rule on the `;`-joined sources (regexes are anchored by Prometheus)."""
    return {"action": action, "source_labels": list(sources), "regex": regex}


def keep_equal(source: str, target: str) -> Rule:
    """Keep only targets whose `source` equals `target`."""
    return {"action": "keepequal", "source_labels": [source], "target_label": target}


def shard(index: int, shards: int) -> list[Rule]:
    """Keep the targets of shard `index` of `shards`: hashmod over the final `__address__` (after every
    rewrite), as prometheus-operator shards. Each address falls in exactly one shard."""
    if not 0 <= index < shards:
        raise ValueError(f"shard {index} is not one of 0-{shards - 1}")
    return [
        {"source_labels": ["__address__"], "action": "hashmod", "modulus": shards, "target_label": TMP_SHARD},
        select("keep", [TMP_SHARD], str(index)),
    ]


def moved_aside(label: str) -> list[Rule]:
    """A scraped series' own `label` goes to `exported_<label>` (what Prometheus does with a scraped label
    that collides with a target label). For external labels: a series that has one keeps its own value,
    so e.g. a `cluster` label of the API server's (AMP warns that Kubernetes 1.28/1.29 emit one) would
    hide the agent's cluster and put the series in another deduplication group."""
    return [
        replace(label, f"exported_{label}", regex="(.+)"),
        {"action": "labeldrop", "regex": label},
    ]
