"""Agent / remote-write health: is the pipeline delivering? Targets and scrapes (the synthetic series),
remote-write throughput, failures, lag and shards, scrapes over their limits, series and version."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.models.dashboard import DataSourceRef

from observability.dashboards.common import by, dashboard, graph, listing, model, rate, section, sel, single

UID = "eks-obs-agent"
_JOB = "{{job}}"


def once_per_shard(metric: str) -> str:
    """An agent's own gauge summed over the shards, one replica each: a shard's replicas scrape the same
    targets, and AMP keeps one replica's samples, so summing both replicas would double it. The shard is
    the agent pod's StatefulSet (its name without the ordinal)."""
    shard = f'label_replace({sel(metric)}, "statefulset", "$1", "pod", "(.+)-[0-9]+")'
    return f"sum(max by (cluster, statefulset) ({shard}))"


def build(ds: DataSourceRef) -> dict[str, Any]:
    board = dashboard(uid=UID, title="EKS / Agent and remote write", ds=ds, description=__doc__ or "")
    lag = (
        f"max({sel('prometheus_remote_storage_highest_timestamp_in_seconds')})"
        f" - max({sel('prometheus_remote_storage_queue_highest_sent_timestamp_seconds')})"
    )
    board = section(
        board,
        "Pipeline",
        ds,
        single(
            "Active series",
            "short",
            once_per_shard("prometheus_agent_active_series"),
            description="The series the agents hold, each shard counted once (its replicas hold the same).",
        ),
        single("Remote-write lag", "s", lag),
        single("Last config reload ok", "short", f"min({sel('prometheus_config_last_reload_successful')})"),
        single("Samples pending", "short", f"sum({sel('prometheus_remote_storage_samples_pending')})"),
        graph(
            "Samples sent, failed, retried, dropped (all replicas)",
            "ops",
            (f"sum({rate('prometheus_remote_storage_samples_total')})", "sent"),
            (f"sum({rate('prometheus_remote_storage_samples_failed_total')})", "failed"),
            (f"sum({rate('prometheus_remote_storage_samples_retried_total')})", "retried"),
            (f"sum({rate('prometheus_remote_storage_samples_dropped_total')})", "dropped"),
        ),
        graph("Remote-write lag", "s", (lag, "lag")),
        graph(
            "Shards: current, desired, max",
            "short",
            (f"max({sel('prometheus_remote_storage_shards')})", "current"),
            (f"max({sel('prometheus_remote_storage_shards_desired')})", "desired"),
            (f"max({sel('prometheus_remote_storage_shards_max')})", "max"),
        ),
    )
    board = section(
        board,
        "Scrapes",
        ds,
        graph("Targets up, by job", "short", (by("job", sel("up")), _JOB)),
        graph(
            "Targets discovered, by scrape config",
            "short",
            (by("config", sel("prometheus_sd_discovered_targets")), "{{config}}"),
        ),
        graph(
            "Samples kept per scrape, by job",
            "short",
            (by("job", sel("scrape_samples_post_metric_relabeling")), _JOB),
        ),
        graph(
            "Samples scraped (before the keep rules), by job",
            "short",
            (by("job", sel("scrape_samples_scraped")), _JOB),
        ),
        graph("New series per scrape, by job", "short", (by("job", sel("scrape_series_added")), _JOB)),
        graph("Slowest scrape, by job", "s", (by("job", sel("scrape_duration_seconds"), "max"), _JOB)),
        graph(
            "Scrapes failed by a limit",
            "ops",
            (f"sum({rate('prometheus_target_scrapes_exceeded_sample_limit_total')})", "sample limit"),
            (f"sum({rate('prometheus_target_scrape_pool_exceeded_label_limits_total')})", "label limits"),
        ),
        listing("Agent version", by("version", sel("prometheus_build_info"), "count")),
    )
    return model(board)
