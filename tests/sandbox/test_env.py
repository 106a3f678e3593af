"""`make local-env`: the running sandbox's variables as exports a shell evaluates back to the same values,
and a plain error (exit 1) when no sandbox has recorded them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from sandbox import env

RECORDED = {
    "KUBECONFIG": "/tmp/sim-cluster-x/kubeconfig",
    "WEB_APP": "http://127.20.1.1:8080",
    "ODD": "it's a $value with spaces; and `ticks`",
}


def test_the_exports_evaluate_to_the_recorded_values(tmp_path: Path, monkeypatch, capsys):
    (tmp_path / "state.json").write_text(json.dumps({"pid": 1, "env": RECORDED}))
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path))
    assert env.main() == 0
    script = capsys.readouterr().out + "".join(f'printf "%s\\0" "${name}"\n' for name in RECORDED)
    shown = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    assert shown.split("\0")[:-1] == list(RECORDED.values())


@pytest.mark.parametrize("state", [None, {"pid": 1}])  # none at all; a sandbox still starting
def test_without_a_started_sandbox_it_says_so(tmp_path: Path, monkeypatch, capsys, state):
    if state is not None:
        (tmp_path / "state.json").write_text(json.dumps(state))
    monkeypatch.setenv("SANDBOX_STATE_DIR", str(tmp_path))
    assert env.main() == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no sandbox is running" in captured.err
