"""`promtool check config --agent --syntax-only` on the rendered configs.

Debian's Prometheus 2.42 is built without Kubernetes discovery, so its promtool rejects the
`kubernetes_sd_configs` field itself. The file_sd variant (`with_file_sd`) differs from the cluster's
config only in those blocks (test_scrape_config checks that, and checks the blocks against the
documented schema), so promtool validates everything else here: relabeling, keep rules, limits, auth,
remote write. `PROMTOOL_BIN` may point at a promtool built with Kubernetes discovery (e.g. 3.x), which
then validates the cluster's config as it is.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.stack import PROMTOOL, for_local_receiver, without_keep_lists
from observability.render import scrape_config as sc

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("metrics")]
NO_KUBERNETES_SD = "field kubernetes_sd_configs not found"


def promtool(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMTOOL, "check", "config", "--agent", "--syntax-only", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def check(tmp_path: Path, name: str, config: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    path = tmp_path / f"{name}.yml"
    path.write_text(sc.render(config))
    return promtool(path)


def make(**overrides: Any) -> dict[str, Any]:
    return sc.agent_config(
        cluster_name="${Token[TOKEN.7]}",
        environment="prod",
        region="us-east-1",
        remote_write_url="https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write",
        **overrides,
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"scrape_interval_seconds": 5},
        {"scrape_interval_seconds": 600, "extra_metrics": ["custom_total"]},
        {"shard": 15, "shards": 16},
    ],
    ids=["default", "5s", "600s-extras", "shard-15-of-16"],
)
def test_file_sd_variant_passes_promtool(tmp_path, overrides):
    result = check(tmp_path, "agent", sc.with_file_sd(make(**overrides), str(tmp_path / "sd")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_local_test_variants_pass_promtool(tmp_path):
    local = for_local_receiver(
        sc.with_file_sd(make(), str(tmp_path / "sd")), "http://127.0.0.1:9/api/v1/write"
    )
    for name, config in (("local", local), ("unfiltered", without_keep_lists(local))):
        result = check(tmp_path, name, config)
        assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_variant_fails_only_for_lack_of_kubernetes_discovery(tmp_path):
    config = make()
    result = check(tmp_path, "cluster", config)
    output = result.stdout + result.stderr
    # A promtool with Kubernetes discovery accepts it; Debian's reports each such field, and nothing else.
    errors = re.findall(r"line \d+: (.*)", output)
    assert result.returncode == 0 or (errors and all(NO_KUBERNETES_SD in e for e in errors)), output
    if result.returncode != 0:
        # One per job: the platform's and one per service (the orders API).
        assert len(errors) == len(config["scrape_configs"]) == len(sc.JOBS) + 1


def test_promtool_really_checks_our_file(tmp_path):
    # Negative controls: promtool rejects what the generator must never produce.
    broken = sc.with_file_sd(make(scrape_interval_seconds=5), str(tmp_path / "sd"))
    broken["global"]["scrape_timeout"] = "6s"  # above the interval
    assert check(tmp_path, "timeout", broken).returncode != 0
    bad_regex = sc.with_file_sd(make(), str(tmp_path / "sd"))
    bad_regex["scrape_configs"][0]["metric_relabel_configs"][0]["regex"] = "(unclosed"
    assert check(tmp_path, "regex", bad_regex).returncode != 0
    unknown = sc.with_file_sd(make(), str(tmp_path / "sd"))
    unknown["scrape_configs"][0]["keep_dropped_targets"] = 10  # 2.43+: too new for the tests' 2.42
    assert check(tmp_path, "field", unknown).returncode != 0
