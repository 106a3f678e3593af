"""The agent's configuration made acceptable to AMP's managed collector (`AWS::APS::Scraper`).

The same jobs, keep rules, limits and external labels as `scrape_config.agent_config`, less what the
collector does not accept or what has no meaning without our agents. What it accepts is read in the AMP
user guide, "Using an AWS managed collector" (docs.aws.amazon.com/prometheus/latest/userguide/
AMP-collector-how-to.html), sections "Scraper configuration" and "Scraper limitations":

- Config sections allowed: `global`, `scrape_config`, `static_config`, `relabel_config`,
  `metric_relabel_configs`, `kubernetes_sd_config`. So `remote_write` goes (the scraper's destination
  is the workspace named in the resource) and so does every `tls_config` (not in that list).
- Scrape interval at least 30 s (config/monitoring.py refuses less); `authorization` only as `Bearer`
  with `/var/run/secrets/kubernetes.io/serviceaccount/token`, which is what ours already says.
- The only DNS name it resolves is the API server's, `kubernetes.default.svc`.
- The access policy AMP gives the scraper through its EKS access entry grants `endpoints`, not
  `endpointslices` ("Access entry policy created"), so the two `endpointslice` jobs (`apiserver`,
  `service-endpoints`) discover through `role: endpoints` here (same targets: the Endpoints API lists
  ready and not-ready addresses and no terminating ones, which is what our EndpointSlice rules keep).
- The kubelet and cAdvisor are reached through the API server's node proxy (`nodes/proxy` is in that
  policy), as in the guide's sample configuration, instead of each node's port 10250 with TLS
  verification skipped (a `tls_config`). `instance` becomes the node's name (every target's address
  is the API server's).

Dropped because only the agent gives them meaning: the `prometheus-agent` job (no agent runs), the
`__replica__` external label (no HA pair for AMP to deduplicate) and sharding (`shards` must be 1).
Kept though the guide names no limit on them: `sample_limit`, `label_limit`, `label_*_length_limit`,
`honor_labels`, `keepequal` relabel rules; CreateScraper validates the blob at deploy time, which
offline synth cannot do (docs/collector.md). The stack renders the result with `scrape_config.render`
and base64-encodes it with CloudFormation's `Fn::Base64` (the cluster name is known only at deploy).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from observability import conventions as c
from observability import jobs
from observability.render import relabel
from observability.render.relabel import NODE_NAME, Rule, replace

# The only server name the managed collector resolves (AMP user guide, "Scraper configuration").
API_SERVER_ADDRESS = "kubernetes.default.svc:443"
# Top-level sections the collector accepts (the agent's config also has `remote_write`).
TOP_LEVEL = ("global", "scrape_configs")
DROPPED_JOBS = (jobs.PROMETHEUS_AGENT,)
DROPPED_JOB_FIELDS = ("tls_config",)
# The node proxy path of each node job (the guide's sample uses the cAdvisor one).
NODE_PROXY_PATHS: Mapping[str, str] = {
    jobs.KUBELET: "/api/v1/nodes/$1/proxy/metrics",
    jobs.CADVISOR: "/api/v1/nodes/$1/proxy/metrics/cadvisor",
}
# EndpointSlice discovery labels -> their Endpoints discovery counterparts (Prometheus
# kubernetes_sd_config docs, roles `endpointslice` and `endpoints`).
ENDPOINTS_LABELS: Mapping[str, str] = {
    relabel.ENDPOINTSLICE_PORT_NAME: "__meta_kubernetes_endpoint_port_name",
    relabel.ENDPOINTSLICE_READY: "__meta_kubernetes_endpoint_ready",
}


def managed_config(agent_config: Mapping[str, Any]) -> dict[str, Any]:
    """The scraper's configuration derived from one shard's `agent_config` (shards must be 1)."""
    config = copy.deepcopy(dict(agent_config))
    external_labels = config["global"]["external_labels"]
    external_labels.pop(c.REPLICA_LABEL, None)
    result: dict[str, Any] = {key: config[key] for key in TOP_LEVEL}
    kept = [job for job in config["scrape_configs"] if job["job_name"] not in DROPPED_JOBS]
    result["scrape_configs"] = [_job(job) for job in kept]
    for job in result["scrape_configs"]:
        if any(rule.get("action") == "hashmod" for rule in job.get("relabel_configs", [])):
            raise ValueError(f"{job['job_name']}: a sharded agent configuration cannot become a scraper's")
    return result


def _job(job: dict[str, Any]) -> dict[str, Any]:
    for field in DROPPED_JOB_FIELDS:
        job.pop(field, None)
    if job["job_name"] in NODE_PROXY_PATHS:
        job.pop("metrics_path", None)
        job["relabel_configs"] = [*job.get("relabel_configs", []), *_through_api_server(job["job_name"])]
    for sd in job.get("kubernetes_sd_configs", []):
        if sd.get("role") == "endpointslice":
            sd["role"] = "endpoints"
            job["relabel_configs"] = _as_endpoints(job.get("relabel_configs", []))
    return job


def _through_api_server(job_name: str) -> list[Rule]:
    return [
        replace(NODE_NAME, "instance"),
        {"action": "replace", "target_label": "__address__", "replacement": API_SERVER_ADDRESS},
        replace(NODE_NAME, "__metrics_path__", regex="(.+)", replacement=NODE_PROXY_PATHS[job_name]),
    ]


def _as_endpoints(rules: list[Rule]) -> list[Rule]:
    """EndpointSlice rules rewritten for Endpoints discovery: labels renamed; the terminating filter goes
    (Endpoints never lists terminating addresses); the slice-port comparison compares the address's port."""
    result: list[Rule] = []
    for rule in rules:
        sources = rule.get("source_labels", [])
        if relabel.ENDPOINTSLICE_TERMINATING in sources:
            continue
        if relabel.ENDPOINTSLICE_PORT in sources:
            # `keepequal` on the slice's port number: Endpoints discovery has no port-number label, but
            # the address it builds ends in that port.
            result.append(replace("__address__", relabel.TMP_PORT, regex=r".*:(\d+)"))
            sources = [relabel.TMP_PORT if s == relabel.ENDPOINTSLICE_PORT else s for s in sources]
        rule = {**rule, "source_labels": [ENDPOINTS_LABELS.get(s, s) for s in sources]} if sources else rule
        result.append(rule)
    return result
