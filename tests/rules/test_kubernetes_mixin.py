"""kubernetes-mixin, the peer these platform alerts are compared with: every alert it defines (the names in
tests/rules/kubernetes_mixin/mixin.yaml, read at one commit) is either a platform alert or listed, with its
reason, in docs/platform-alerts.md.

The mixin's own promtool cases (its tests/*.yaml) were run against these rules while they were written, on
Prometheus 3.13.2's promtool as in the mixin's CI: docs/platform-alerts.md gives the outcome and every
difference on purpose. They are not part of `make test`: the mixin is published on no registry this
project's CI reaches (not on the Go module proxy, npm or PyPI), and its files are not copied into this
repository. The platform's own cases (test_platform_alerts.py, cases_*.py) test every alert, shared or not,
on either side of its threshold and of its `for:`.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from observability import platform_alerts as pa

REPOSITORY = Path(__file__).resolve().parents[2]
MIXIN = yaml.safe_load((Path(__file__).with_name("kubernetes_mixin") / "mixin.yaml").read_text())
LEFT_OUT_DOC = REPOSITORY / "docs" / "platform-alerts.md"
LEFT_OUT_HEADING = "## kubernetes-mixin alerts left out, and why"


def test_every_mixin_alert_we_leave_out_says_why():
    """docs/platform-alerts.md has a row `| <alert> | <reason> |` for each mixin alert we do not define."""
    section = LEFT_OUT_DOC.read_text().split(LEFT_OUT_HEADING, 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| ([A-Za-z]+) \| (.+) \|$", section, re.MULTILINE))
    left_out = set(MIXIN["alerts"]) - set(pa.ALERT_NAMES)
    assert left_out - set(rows) == set(), "left out without a reason"
    assert all(len(rows[name]) > 20 for name in left_out)
    assert set(rows) & set(MIXIN["alerts"]) & set(pa.ALERT_NAMES) == set(), "listed as left out, but defined"


def test_the_shared_alerts_are_the_ones_the_docs_compare():
    """The alerts both define: each has its own cases here, and the docs' comparison names only those."""
    shared = set(MIXIN["alerts"]) & set(pa.ALERT_NAMES)
    assert len(shared) == 18
    compared = LEFT_OUT_DOC.read_text().split("## Checked with kubernetes-mixin", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"\b(Kube[A-Z][A-Za-z]+|CPUThrottlingHigh)\b", compared))
    assert named <= shared, named - shared
