"""`promtool check config --agent` of Prometheus at the cluster's release (`.venv/bin/promtool3`, built
by `make go-tools`) on the rendered configs as the cluster runs them: Kubernetes discovery, relabeling,
keep rules, limits, auth, remote write. `--syntax-only` checks them as rendered (the service-account token
and CA bundle they read are mounted into the pod); the full check, with those files present at the paths
the config names, also checks that every file it reads exists.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.scale import split_per_node
from harness.stack import PROMTOOL, for_local_receiver, without_keep_lists
from observability.render import scrape_config as sc

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("metrics")]


def promtool(path: Path, *, syntax_only: bool = True) -> subprocess.CompletedProcess[str]:
    flags = ["--syntax-only"] if syntax_only else []
    return subprocess.run(
        [str(PROMTOOL), "check", "config", "--agent", *flags, str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def check(
    tmp_path: Path, name: str, config: dict[str, Any], *, syntax_only: bool = True
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / f"{name}.yml"
    path.write_text(sc.render(config))
    return promtool(path, syntax_only=syntax_only)


def make(**overrides: Any) -> dict[str, Any]:
    return sc.agent_config(
        cluster_name="${Token[TOKEN.7]}",
        environment="prod",
        region="us-east-1",
        remote_write_url="https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write",
        **overrides,
    )


def test_promtool3_is_built():
    assert PROMTOOL.is_file(), f"{PROMTOOL} not found: run `make go-tools`"


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
def test_the_cluster_config_passes_promtool(tmp_path, overrides):
    config = make(**overrides)
    assert all("kubernetes_sd_configs" in job for job in config["scrape_configs"])  # discovery as rendered
    result = check(tmp_path, "agent", config)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_the_full_check_passes_with_the_service_account_files_in_place(tmp_path):
    """The files the jobs read (the service account's token and CA bundle) at the config's paths, moved
    under tmp_path: the only change."""
    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    text = sc.render(make()).replace(sc.TOKEN_FILE, str(token)).replace(sc.CA_FILE, str(ca))
    assert str(token) in text
    assert str(ca) in text
    path = tmp_path / "agent.yml"
    path.write_text(text)
    missing = promtool(path, syntax_only=False)
    assert missing.returncode != 0  # the files are read: absent, the check fails
    token.write_text("token\n")
    ca.write_text("")
    result = promtool(path, syntax_only=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_local_test_variants_pass_promtool(tmp_path):
    local = for_local_receiver(make(), "http://127.0.0.1:9/api/v1/write")
    for name, config in (("local", local), ("unfiltered", without_keep_lists(local))):
        result = check(tmp_path, name, config)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_daemonset_mode_sizing_configs_pass_promtool(tmp_path):
    """`make scale --daemonset`'s two agents (harness/scale.py): field selectors of the roles they name."""
    local, central = split_per_node(make(), node="kwok-node-001")
    for name, config in (("node-local", local), ("cluster-wide", central)):
        result = check(tmp_path, name, config)
        assert result.returncode == 0, result.stdout + result.stderr
    # A selector's role must be its discovery's: promtool refuses a pod selector on node discovery.
    wrong = copy.deepcopy(local)
    kubelet = next(j for j in wrong["scrape_configs"] if j["job_name"] == "kubelet")
    kubelet["kubernetes_sd_configs"][0]["selectors"][0]["role"] = "pod"
    result = check(tmp_path, "wrong-role", wrong)
    assert result.returncode != 0, result.stdout + result.stderr


def test_promtool_really_checks_our_file(tmp_path):
    # Negative controls: promtool rejects what the generator must never produce.
    broken = make(scrape_interval_seconds=5)
    broken["global"]["scrape_timeout"] = "6s"  # above the interval
    assert check(tmp_path, "timeout", broken).returncode != 0
    bad_regex = make()
    bad_regex["scrape_configs"][0]["metric_relabel_configs"][0]["regex"] = "(unclosed"
    assert check(tmp_path, "regex", bad_regex).returncode != 0
    unknown = make()
    unknown["scrape_configs"][0]["kubernetes_sd_configs"][0]["no_such_field"] = 10
    assert check(tmp_path, "field", unknown).returncode != 0
    bad_role = make()
    bad_role["scrape_configs"][0]["kubernetes_sd_configs"][0]["role"] = "podz"  # Kubernetes discovery checked
    assert check(tmp_path, "role", bad_role).returncode != 0
