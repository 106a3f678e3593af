"""Names every rule, alert, runbook and dashboard relies on: change one here and all follow.

sloth's conventions (so a dashboard written for sloth works here): SLO recording rules are
`slo:<what>:<unit>` with the window as a suffix, and carry the labels `sloth_id` (`<service>-<slo>`),
`sloth_service`, `sloth_slo` and, on SLI ratios, `sloth_window`. Alerts carry `severity` (`page` |
`ticket`), the owning `team`, and the annotations `summary`, `description` and `runbook_url`.
"""

from __future__ import annotations

# Labels on every SLO series and SLO alert (sloth's).
SLO_ID_LABEL = "sloth_id"
SLO_LABEL = "sloth_slo"
SERVICE_LABEL = "sloth_service"
WINDOW_LABEL = "sloth_window"  # on SLI ratios: the window the ratio is over
SLOTH_SEVERITY_LABEL = "sloth_severity"  # on SLO alerts, as sloth sets it: page | ticket
# On every alert of a service: the team its notifications go to (services/teams.yaml).
TEAM_LABEL = "team"
# Labels on every alert.
SEVERITY_LABEL = "severity"
PAGE = "page"  # wake someone up
TICKET = "ticket"  # look at it during working hours
# Watchdog's own severity: it always fires, and is routed apart from the others.
NONE = "none"
SEVERITIES = (PAGE, TICKET)

# Annotations on every alert.
SUMMARY = "summary"
DESCRIPTION = "description"
RUNBOOK_URL = "runbook_url"
ANNOTATIONS = (SUMMARY, DESCRIPTION, RUNBOOK_URL)

# Where a runbook lives in this repository: docs/runbooks/<AlertName>.md.
RUNBOOK_DIR = "docs/runbooks"


def runbook_path(alert: str) -> str:
    return f"{RUNBOOK_DIR}/{alert}.md"


def runbook_url(base_url: str, alert: str) -> str:
    """`base_url` points at the repository's docs/runbooks folder as served (e.g. a git host's blob URL)."""
    return f"{base_url.rstrip('/')}/{alert}.md"


# External labels the agent adds to every series it sends (its `external_labels`): aggregations in rules
# keep them, so an alert still says which cluster and environment it is about.
CLUSTER_LABEL = "cluster"
ENVIRONMENT_LABEL = "environment"
EXTERNAL_LABELS = (CLUSTER_LABEL, ENVIRONMENT_LABEL)
# Which agent of an HA group sent a sample (also external). AMP keeps one replica's samples per `cluster`
# and strips this label (docs.aws.amazon.com/prometheus/latest/userguide/Send-high-availability-data.html):
# no rule or dashboard may read or group by it.
REPLICA_LABEL = "__replica__"


# SLO recording rules (sloth's names). Each series carries the SLO's labels above (and the target's
# `cluster`/`environment` where the SLI keeps them).
def sli_error_ratio(window: str) -> str:
    """The share of bad events over `window` (5m ... 3d, and the SLO's period, e.g. 30d)."""
    return f"slo:sli_error:ratio_rate{window}"


# This platform's own (not sloth's): bad and all events per second over 5m, of events SLIs. The period's
# error ratio divides their sums, so it counts events, not time.
SLI_ERROR_EVENTS = "slo:sli_error_events:rate5m"
SLI_TOTAL_EVENTS = "slo:sli_total_events:rate5m"
SLO_INFO = "sloth_slo_info"
SLO_START = "slo:history_start:timestamp"  # when the SLO's rules first ran (Unix seconds)


OBJECTIVE_RATIO = "slo:objective:ratio"  # e.g. 0.999
ERROR_BUDGET_RATIO = "slo:error_budget:ratio"  # 1 - objective
TIME_PERIOD_DAYS = "slo:time_period:days"  # the SLO's period
CURRENT_BURN_RATE = "slo:current_burn_rate:ratio"  # 5m error ratio / error budget
PERIOD_BURN_RATE = "slo:period_burn_rate:ratio"  # period error ratio / error budget
PERIOD_ERROR_BUDGET_REMAINING = "slo:period_error_budget_remaining:ratio"  # 1 - period burn rate
# On SLO alerts: the burn-rate window pair that fired (each pair is its own alert instance, so a fast burn
# resolves on its 5m window even while the slower pair still holds on its 30m one).
LONG_WINDOW_LABEL = "long_window"
SHORT_WINDOW_LABEL = "short_window"
