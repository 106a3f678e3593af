"""Which metrics leave the cluster: the series names our rules and dashboards use, per exporter.

These lists are the kept series of the scrape jobs' rows in `observability.jobs.JOB_TABLE`: the agent
keeps exactly these names (a `metric_relabel_configs` keep rule per job, built in
observability/render/keep_rules.py) and drops everything else before it reaches the write-ahead log, so Amazon
Managed Prometheus only bills for what something reads. Add a name here when a rule or dashboard starts
using it; one-off additions come from configuration (`monitoring.extra_metrics`).

The lists follow the kubernetes-mixin essentials (node, workload, volume, API server dashboards and
alerts), trimmed to what a small platform needs. Names are *series* names as they appear in the
exposition: a histogram family is kept as its `_bucket`, `_count` and `_sum` series (see `histogram`).
Each list is named `<EXPORTER>_SERIES`; the bare names (`NODE_EXPORTER`, ...) are the job names in
`observability.jobs`.

Synthetic series: for every target the scraper itself records `up`, `scrape_duration_seconds`,
`scrape_samples_scraped`, `scrape_samples_post_metric_relabeling` and `scrape_series_added`. They are
not scraped, so `metric_relabel_configs` never sees them: they always reach the remote store and need
no entry here (they are listed in `SYNTHETIC_SERIES` for cost estimates and tests).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

# The Prometheus data model's metric name syntax (legacy, which both Prometheus 2 and 3 accept).
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")

SYNTHETIC_SERIES = (
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
)


def histogram(family: str) -> tuple[str, ...]:
    """The three series names of a classic histogram family."""
    return tuple(family + suffix for suffix in HISTOGRAM_SUFFIXES)


# --- postgres-exporter (sidecar of the Postgres pod) --------------------------------------------------
# Availability, connections against the limit, size, transaction and lock activity. No replication
# series: the database is a single instance.
POSTGRES_EXPORTER_SERIES = (
    "pg_up",
    "pg_settings_max_connections",
    # Slots only superusers may use: PostgresTooManyConnections compares the application's connections
    # with max_connections minus these (as postgres-mixin does).
    "pg_settings_superuser_reserved_connections",
    "pg_stat_activity_count",  # connections by database and state
    "pg_stat_activity_max_tx_duration",  # the oldest open transaction, by database and state
    "pg_stat_database_numbackends",
    "pg_stat_database_xact_commit",
    "pg_stat_database_xact_rollback",
    "pg_stat_database_deadlocks",
    "pg_stat_database_blks_hit",  # with blks_read: the cache hit ratio
    "pg_stat_database_blks_read",
    "pg_database_size_bytes",
    "pg_locks_count",  # by database and lock mode
)

# --- node-exporter ------------------------------------------------------------------------------------
NODE_EXPORTER_SERIES = (
    # CPU and load
    "node_cpu_seconds_total",
    "node_load1",
    "node_load5",
    "node_load15",
    # memory (MemAvailable is what the mixin's "memory utilisation" uses)
    "node_memory_MemTotal_bytes",
    "node_memory_MemAvailable_bytes",
    "node_memory_MemFree_bytes",
    "node_memory_Buffers_bytes",
    "node_memory_Cached_bytes",
    "node_vmstat_pgmajfault",
    # filesystems: space and inodes (NodeFilesystemSpaceFillingUp, NodeFilesystemAlmostOutOfSpace,
    # NodeFilesystemFilesFillingUp, NodeFilesystemAlmostOutOfFiles)
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "node_filesystem_files",
    "node_filesystem_files_free",
    "node_filesystem_readonly",
    # disks
    "node_disk_io_time_seconds_total",
    "node_disk_io_time_weighted_seconds_total",
    "node_disk_read_bytes_total",
    "node_disk_written_bytes_total",
    # network (the chart already ignores per-pod veth/eni devices)
    "node_network_receive_bytes_total",
    "node_network_transmit_bytes_total",
    "node_network_receive_errs_total",
    "node_network_transmit_errs_total",
    "node_network_receive_drop_total",
    "node_network_transmit_drop_total",
    # limits and clock (NodeHighNumberConntrackEntriesUsed, NodeClockSkewDetected; the descriptors and the
    # sync status for the Nodes dashboard)
    "node_nf_conntrack_entries",
    "node_nf_conntrack_entries_limit",
    "node_filefd_allocated",
    "node_filefd_maximum",
    "node_timex_offset_seconds",
    "node_timex_sync_status",
    "node_uname_info",  # joins instance to nodename in dashboards
)

# --- kube-state-metrics (object state) ---------------------------------------------------------------
KUBE_STATE_METRICS_SERIES = (
    # pods and containers: phase, readiness, restarts, crash loops, requests and limits (KubePodNotReady,
    # KubePodCrashLooping, KubeContainerWaiting)
    "kube_pod_info",
    "kube_pod_owner",
    "kube_pod_status_phase",
    "kube_pod_status_ready",
    "kube_pod_container_status_restarts_total",
    "kube_pod_container_status_waiting_reason",
    "kube_pod_container_resource_requests",
    "kube_pod_container_resource_limits",
    "kube_replicaset_owner",  # pod -> replicaset -> deployment, for per-workload views
    # deployments (KubeDeploymentReplicasMismatch, KubeDeploymentRolloutStuck; generations: dashboards)
    "kube_deployment_spec_replicas",
    "kube_deployment_status_replicas_available",
    "kube_deployment_status_replicas_updated",
    "kube_deployment_status_condition",  # Progressing=False: past its progress deadline
    "kube_deployment_metadata_generation",
    "kube_deployment_status_observed_generation",
    # statefulsets: Postgres, the agent (KubeStatefulSetReplicasMismatch; revisions and generations:
    # dashboards)
    "kube_statefulset_replicas",
    "kube_statefulset_status_replicas_ready",
    "kube_statefulset_status_replicas_updated",
    "kube_statefulset_status_current_revision",
    "kube_statefulset_status_update_revision",
    "kube_statefulset_metadata_generation",
    "kube_statefulset_status_observed_generation",
    # daemonsets: aws-node, kube-proxy, ebs-csi-node, node-exporter, ... (KubeDaemonSetRolloutStuck,
    # KubeDaemonSetNotScheduled, KubeDaemonSetMisScheduled)
    "kube_daemonset_status_current_number_scheduled",
    "kube_daemonset_status_desired_number_scheduled",
    "kube_daemonset_status_number_available",
    "kube_daemonset_status_number_misscheduled",
    "kube_daemonset_status_updated_number_scheduled",
    # autoscaler of the web app (KubeHpaMaxedOut)
    "kube_horizontalpodautoscaler_spec_min_replicas",
    "kube_horizontalpodautoscaler_spec_max_replicas",
    "kube_horizontalpodautoscaler_status_current_replicas",
    "kube_horizontalpodautoscaler_status_desired_replicas",
    # nodes (KubeNodeNotReady, KubeNodePressure, KubeNodeReadinessFlapping; the node list the per-node
    # target alerts KubeletDown, CadvisorDown, NodeExporterDown count against; allocatable pods for
    # KubeletTooManyPods)
    "kube_node_info",
    "kube_node_status_condition",
    "kube_node_status_allocatable",
    "kube_node_status_capacity",
    "kube_node_spec_unschedulable",
    # volumes
    "kube_persistentvolumeclaim_info",
    "kube_persistentvolumeclaim_status_phase",
    "kube_persistentvolumeclaim_resource_requests_storage_bytes",
)

# --- cAdvisor (the kubelet's /metrics/cadvisor): per-container resource usage ------------------------
CADVISOR_SERIES = (
    "container_cpu_usage_seconds_total",
    "container_cpu_cfs_periods_total",  # with throttled_periods: CPUThrottlingHigh
    "container_cpu_cfs_throttled_periods_total",
    "container_memory_working_set_bytes",  # what the OOM killer and the HPA look at
    "container_memory_rss",
    "container_memory_cache",
    "container_oom_events_total",
    "container_network_receive_bytes_total",
    "container_network_transmit_bytes_total",
    "container_network_receive_packets_dropped_total",
    "container_network_transmit_packets_dropped_total",
)

# --- kubelet (/metrics): volume usage, health, pod lifecycle latency ---------------------------------
KUBELET_SERIES = (
    "kubelet_volume_stats_capacity_bytes",  # KubePersistentVolumeFillingUp
    "kubelet_volume_stats_available_bytes",
    "kubelet_volume_stats_used_bytes",
    "kubelet_volume_stats_inodes",  # KubePersistentVolumeInodesFillingUp
    "kubelet_volume_stats_inodes_free",
    "kubelet_volume_stats_inodes_used",
    "kubelet_node_name",
    "kubelet_running_pods",  # KubeletTooManyPods
    "kubelet_running_containers",
    *histogram("kubelet_pleg_relist_duration_seconds"),  # the Nodes dashboard's relist latency
)

# --- API server: request rate, errors (by code) and latency -------------------------------------------
APISERVER_SERIES = (
    "apiserver_request_total",  # rate and errors (code=~"5..")
    # Latency without webhooks and long-running requests: what the mixin's API server SLOs use (the
    # older apiserver_request_duration_seconds has many more series for the same purpose).
    *histogram("apiserver_request_sli_duration_seconds"),
    "apiserver_current_inflight_requests",
)

# --- the Prometheus agent itself: is the pipeline delivering? ----------------------------------------
# What the prometheus-mixin's remote-write alerts read (PrometheusRemoteWriteBehind,
# PrometheusRemoteStorageFailures, PrometheusRemoteWriteDesiredShards), plus what the Agent dashboard shows:
# config reloads, the scrapes our per-job limits fail and the series count AMP bills for.
PROMETHEUS_AGENT_SERIES = (
    "prometheus_build_info",
    "prometheus_config_last_reload_successful",
    "prometheus_remote_storage_highest_timestamp_in_seconds",
    "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
    "prometheus_remote_storage_samples_total",
    "prometheus_remote_storage_samples_failed_total",
    "prometheus_remote_storage_samples_retried_total",
    "prometheus_remote_storage_samples_dropped_total",
    "prometheus_remote_storage_samples_pending",
    "prometheus_remote_storage_shards",
    "prometheus_remote_storage_shards_desired",
    "prometheus_remote_storage_shards_max",
    "prometheus_target_scrapes_exceeded_sample_limit_total",
    "prometheus_target_scrape_pool_exceeded_label_limits_total",
    "prometheus_sd_discovered_targets",
    "prometheus_agent_active_series",
)

# Histogram families whose buckets are trimmed to the boundaries the rules and dashboards read: each
# bucket is one series per label combination, and the API server's latency histogram alone was most of
# the kept series. `le` values as the target writes them (Prometheus 3 may normalise "1" to "1.0"; the
# rule accepts both); +Inf is always kept (it equals _count, and histogram_quantile needs it).
BUCKETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        # kubernetes-mixin's API server latency SLO: 1 s for resource-scoped requests, 5 s namespace-scoped,
        # 30 s cluster-scoped; 0.1, 0.2 and 0.4 s resolve the usual sub-second percentiles. 6 of 21.
        "apiserver_request_sli_duration_seconds": ("0.1", "0.2", "0.4", "1", "5", "30"),
    }
)

# The generic `pods` and `service-endpoints` jobs scrape our workloads that opt in with annotations:
# the web app and the Postgres exporter.
# What the generic opt-in jobs keep: the Postgres exporter's series. Services (the orders API among them)
# have jobs of their own, keeping what their service files declare (observability.jobs.service_job).
WORKLOAD_SERIES = POSTGRES_EXPORTER_SERIES


def validate_names(names: Iterable[str]) -> None:
    """Raise ValueError listing every string that is not a valid metric name."""
    bad = sorted({name for name in names if not METRIC_NAME.match(name)})
    if bad:
        raise ValueError(f"invalid metric names: {', '.join(map(repr, bad))}")


# --- why each kept series that no rule reads is kept ---------------------------------------------------
# Every kept series is read by a recording or alerting rule or a dashboard (observability/dashboards), or
# listed here with the reason it is kept (tests/rules/test_keep_list.py holds both directions, reading the
# rules and the dashboards' queries with a PromQL parser). Today every kept series has a reader.
_KEPT_FOR_DASHBOARDS: Mapping[str, tuple[str, ...]] = {}
# Series name -> why it is kept although no rule or dashboard reads it.
KEPT_WITHOUT_RULE: Mapping[str, str] = MappingProxyType(
    {name: reason for reason, names in _KEPT_FOR_DASHBOARDS.items() for name in names}
)
