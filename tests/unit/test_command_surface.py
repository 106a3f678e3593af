"""The Makefile as a user meets it: `make help` lists every target, quiet synth says what it wrote and where,
amtool runs without knowing where it is unpacked."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.unit.conftest import REPOSITORY, STACK_ROLES

# .PHONY targets a user does not run by name (none today: every one is a command of the README).
INTERNAL: set[str] = set()


def make(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    # MAKEFLAGS of an enclosing `make test` would leak its variables (and -j) into this make.
    env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def phony_targets() -> list[str]:
    makefile = (REPOSITORY / "Makefile").read_text()
    return [target for line in re.findall(r"^\.PHONY:(.*)$", makefile, re.M) for target in line.split()]


def test_help_lists_every_target_a_user_runs():
    result = make("help")
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^  make (\S+) +\S", result.stdout, re.M)
    assert sorted(listed) == sorted(set(phony_targets()) - INTERNAL)
    assert {"e2e", "synth-pipeline", "snapshot-update", "distclean", "amtool"} <= set(listed)


def _stack_ids(output: str) -> list[str]:
    """The stack ids of the CLI's "Supply a stack id (A, B) to display its template." line."""
    found = re.search(r"Supply a stack id \((.*)\) to display its template\.", output)
    assert found, output
    return found.group(1).split(", ")


def test_quiet_synth_names_the_stacks_and_the_directory(tmp_path: Path):
    outdir = tmp_path / "cdk.out"
    result = make("synth", "ENV=dev", f"OUTDIR={outdir}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"Successfully synthesized to {outdir}\n" in output
    assert _stack_ids(output) == [f"Dev/{role}" for role in STACK_ROLES]


def test_quiet_pipeline_synth_names_the_stacks_and_the_directory(tmp_path: Path):
    outdir = tmp_path / "cdk.out.pipeline"
    result = make("synth-pipeline", f"PIPELINE_OUTDIR={outdir}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"Successfully synthesized to {outdir}\n" in output
    # config/pipeline.example.yaml deploys dev, then prod.
    stages = [f"Toolchain/{stage}/{role}" for stage in ("Dev", "Prod") for role in STACK_ROLES]
    assert _stack_ids(output) == ["Toolchain", *stages]


def test_amtool_runs_from_make_and_from_the_venv():
    result = make("amtool", "ARGS=--version")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^amtool, version \d+\.\d+\.\d+", result.stdout, re.M), result.stdout
    linked = REPOSITORY / ".venv" / "bin" / "amtool"
    assert linked.is_symlink()
    assert linked.resolve() == (REPOSITORY / ".venv/opt/prometheus-alertmanager/usr/bin/amtool").resolve()
