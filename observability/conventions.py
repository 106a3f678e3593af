"""Names every rule, alert, runbook and dashboard relies on: change one here and all follow.

Like sloth's conventions: SLO recording rules are `slo:<what>:<unit>` with the window as a suffix, and
carry the labels `slo` (the SLO's name) and `service`; alerts carry `severity` (`page` | `ticket`) and the
annotations `summary`, `description` and `runbook_url`.
"""

from __future__ import annotations

# Labels on every SLO series and SLO alert.
SLO_LABEL = "slo"
SERVICE_LABEL = "service"
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


# SLO recording rules (sloth's names). Each series carries `slo` and `service` (and the target's
# `cluster`/`environment` where the SLI has them); the window is part of the name, never a label.
def sli_error_ratio(window: str) -> str:
    """The share of bad events over `window` (5m ... 3d, and the SLO's period, e.g. 30d)."""
    return f"slo:sli_error:ratio_rate{window}"


OBJECTIVE_RATIO = "slo:objective:ratio"  # e.g. 0.999
ERROR_BUDGET_RATIO = "slo:error_budget:ratio"  # 1 - objective
TIME_PERIOD_DAYS = "slo:time_period:days"  # the SLO's period
CURRENT_BURN_RATE = "slo:current_burn_rate:ratio"  # 5m error ratio / error budget
PERIOD_BURN_RATE = "slo:period_burn_rate:ratio"  # period error ratio / error budget
PERIOD_ERROR_BUDGET_REMAINING = "slo:period_error_budget_remaining:ratio"  # 1 - period burn rate
SLO_ALERT_SUFFIX = "BudgetBurn"
# On SLO alerts: the burn-rate window pair that fired (each pair is its own alert instance, so a fast burn
# resolves on its 5m window even while the slower pair still holds on its 30m one).
LONG_WINDOW_LABEL = "long_window"
SHORT_WINDOW_LABEL = "short_window"


def slo_alert_name(slo: str) -> str:
    """One alert per SLO, paging and ticketing by `severity` (like sloth): orders-api-latency ->
    OrdersApiLatencyBudgetBurn."""
    return "".join(word.capitalize() for word in slo.split("-")) + SLO_ALERT_SUFFIX
