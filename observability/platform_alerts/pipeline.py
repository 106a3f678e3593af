"""The metrics pipeline itself: the agent's remote write to Amazon Managed Prometheus, and the Watchdog.

Two alerts watch the watchers: `PrometheusAgentAbsent` (platform_alerts.targets) catches a pipeline that
delivers nothing at all (the agent's own remote-write alerts travel through the same pipeline and go quiet
with it), and `Watchdog` always fires, so a dead man's switch downstream notices when alert delivery
itself stops. Shapes from prometheus-mixin.
"""

from __future__ import annotations

from observability import conventions as c
from observability.platform_alerts.alert import AGENT, Alert

WATCHDOG = Alert(
    name="Watchdog",
    severity=c.NONE,
    expr="vector(1)",
    for_="",
    summary="Always firing: proves that rules are evaluated and alerts delivered.",
    description="Watchdog fires all the time. If its notifications stop, alerting itself is broken.",
)

PIPELINE = (
    Alert(
        name="PrometheusRemoteStorageFailures",
        severity=c.PAGE,
        expr=f"""(
  rate(prometheus_remote_storage_samples_failed_total{{{AGENT}}}[5m])
/
  (
    rate(prometheus_remote_storage_samples_failed_total{{{AGENT}}}[5m])
  +
    rate(prometheus_remote_storage_samples_total{{{AGENT}}}[5m])
  )
) * 100 > 1""",
        for_="15m",
        summary="The agent fails to send samples to Amazon Managed Prometheus.",
        description=(
            'Agent {{ $labels.pod }} failed to send {{ printf "%.1f" $value }}% of its samples to '
            "{{ $labels.remote_name }} for 15 minutes: those samples are lost."
        ),
    ),
    Alert(
        name="PrometheusRemoteWriteBehind",
        severity=c.TICKET,
        # max_over_time: a missed scrape of the agent must not reset the alert (prometheus-mixin).
        expr=f"""(
  max_over_time(prometheus_remote_storage_highest_timestamp_in_seconds{{{AGENT}}}[5m])
- ignoring (remote_name, url) group_right
  max_over_time(prometheus_remote_storage_queue_highest_sent_timestamp_seconds{{{AGENT}}}[5m])
) > 120""",
        for_="15m",
        summary="The agent's remote write is falling behind.",
        description=(
            "Agent {{ $labels.pod }} is {{ $value | humanizeDuration }} behind in sending to "
            "{{ $labels.remote_name }}: alerts evaluated in Amazon Managed Prometheus see old data."
        ),
    ),
    # The agent computes the shards it needs to keep up; capped at max_shards it falls behind instead.
    Alert(
        name="PrometheusRemoteWriteDesiredShards",
        severity=c.TICKET,
        expr=f"""(
  max_over_time(prometheus_remote_storage_shards_desired{{{AGENT}}}[5m])
>
  max_over_time(prometheus_remote_storage_shards_max{{{AGENT}}}[5m])
)""",
        for_="15m",
        summary="The agent's remote write needs more shards than it may run.",
        description=(
            'Agent {{ $labels.pod }} has wanted {{ printf "%.0f" $value }} shards for '
            "{{ $labels.remote_name }} for 15 minutes, more than its max_shards: it sends slower than it "
            "scrapes and falls behind."
        ),
    ),
)
