"""One `scrape_configs` entry per row of the job table: discovery and target relabeling from its
selector, keep rules from its kept series and buckets, its limits, and how the agent connects and
authenticates to its targets (the only per-job facts that are Prometheus settings, not data)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from observability.jobs import APISERVER, CADVISOR, JOB_TABLE, KUBELET, ScrapeJob
from observability.render.keep_rules import keep_rules
from observability.render.selectors import kubernetes_sd, relabel_configs

# The in-cluster service account the agent runs as (token projected by the kubelet).
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_FILE = f"{SERVICE_ACCOUNT_DIR}/token"
CA_FILE = f"{SERVICE_ACCOUNT_DIR}/ca.crt"

_IN_CLUSTER_AUTH = {"authorization": {"type": "Bearer", "credentials_file": TOKEN_FILE}}
# EKS kubelets serve a certificate the service-account CA bundle does not verify (it is not issued by
# the cluster CA for the address we dial), so verification is skipped. The connection is still TLS and
# the kubelet still authenticates and authorizes the agent's token (nodes/metrics). The alternative,
# proxying through the API server, verifies TLS but puts every node's scrape load on the control plane.
_KUBELET = {"scheme": "https", **_IN_CLUSTER_AUTH, "tls_config": {"insecure_skip_verify": True}}

# Workloads (`pods`, `service-endpoints`) get none of this, and their labels never override ours
# (honor_labels false): a pod cannot pose as another namespace or job.
CONNECTION: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        APISERVER: {
            "scheme": "https",
            **_IN_CLUSTER_AUTH,
            # The API server's certificate is issued by the cluster CA for the name `kubernetes`, not
            # for the endpoint IPs we dial.
            "tls_config": {"ca_file": CA_FILE, "server_name": "kubernetes"},
        },
        KUBELET: _KUBELET,
        CADVISOR: _KUBELET,
    }
)


def scrape_job(
    job: ScrapeJob, extra_metrics: Sequence[str] = (), jobs: Sequence[ScrapeJob] = JOB_TABLE
) -> dict[str, Any]:
    limits = job.limits
    fields: dict[str, Any] = {
        "job_name": job.name,
        "kubernetes_sd_configs": kubernetes_sd(job.targets),
        "relabel_configs": relabel_configs(job, jobs),
        "metric_relabel_configs": keep_rules(job, extra_metrics),
        "sample_limit": limits.sample_limit,
        "label_limit": limits.label_limit,
        "label_name_length_limit": limits.label_name_length_limit,
        "label_value_length_limit": limits.label_value_length_limit,
    }
    if job.targets.path is not None:
        fields["metrics_path"] = job.targets.path
    if job.honor_labels:
        fields["honor_labels"] = True
    return fields | copy.deepcopy(dict(CONNECTION.get(job.name, {})))  # callers may edit their copy


def scrape_jobs(
    extra_metrics: Sequence[str] = (), jobs: Sequence[ScrapeJob] = JOB_TABLE
) -> list[dict[str, Any]]:
    """Every job of `jobs` (the platform's, then one per service), in order; `extra_metrics` are kept by
    every job."""
    return [scrape_job(job, extra_metrics, jobs) for job in jobs]
