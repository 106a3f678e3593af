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
