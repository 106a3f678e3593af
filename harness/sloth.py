"""sloth (github.com/slok/sloth), the SLO rule generator the platform's SLO rules are checked against.

`make go-tools` (scripts/go-tools.sh, which holds the pinned version) builds it from the Go module proxy into
the venv; its example specs and their golden outputs are read from the same module in the venv's Go module
cache, so nothing of sloth's is committed here.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
SLOTH = Path(os.environ.get("SLOTH_BIN", str(REPO / ".venv" / "bin" / "sloth")))
MODULE = "github.com/slok/sloth"
# scripts/go-tools.sh: GOMODCACHE.
GO_MODULE_CACHE = REPO / ".venv" / "go" / "mod"


class SlothError(RuntimeError):
    """sloth is missing or rejected a spec: the message says which and why."""


def _run(binary: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    if not binary.is_file():
        raise SlothError(f"{binary} not found: run `make go-tools` (builds sloth from the Go module proxy)")
    return subprocess.run(
        [str(binary), *map(str, args)], capture_output=True, text=True, check=False, timeout=120
    )


def version(*, binary: Path = SLOTH) -> str:
    """The release the binary was built from (`v0.16.0`), as stamped by scripts/go-tools.sh."""
    result = _run(binary, "version")
    if result.returncode != 0:
        raise SlothError(f"`{binary} version` failed: {result.stderr.strip()}")
    return result.stdout.strip()


def module_dir(*, binary: Path = SLOTH) -> Path:
    """The sloth module's source, at the binary's version, in the venv's Go module cache."""
    release = version(binary=binary)
    directory = GO_MODULE_CACHE / f"{MODULE}@{release}"
    if not directory.is_dir():
        raise SlothError(f"{directory} not found: run `make go-tools` (it downloads the module {MODULE})")
    return directory


def examples_dir(*, binary: Path = SLOTH) -> Path:
    """sloth's example specs (`*.yml`), with its own generated rules in `_gen/` and windows in `windows/`."""
    return module_dir(binary=binary) / "examples"


def generate(
    spec: Path,
    *,
    default_slo_period: str = "30d",
    windows_dir: Path | None = None,
    extra_labels: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    binary: Path = SLOTH,
) -> list[dict[str, Any]]:
    """`sloth generate -i spec`: the generated documents, one per document of the spec (a Prometheus rules
    file `{groups: [...]}` for `prometheus/v1` specs, a PrometheusRule for `PrometheusServiceLevel` ones).

    `windows_dir` replaces sloth's window catalogue (google-30d and google-28d) with the `AlertWindows` files
    in it (`--slo-period-windows-path`), e.g. for a 7d period.
    """
    args: list[str | Path] = ["--no-log", "generate", "-i", spec, "--default-slo-period", default_slo_period]
    if windows_dir is not None:
        args += ["--slo-period-windows-path", windows_dir]
    for key, value in (extra_labels or {}).items():
        args += ["--extra-labels", f"{key}={value}"]
    args += list(extra_args)
    with tempfile.TemporaryDirectory(prefix="sloth-") as scratch:
        out = Path(scratch) / "rules.yml"
        result = _run(binary, *args, "-o", out)
        if result.returncode != 0:
            message = (result.stderr or result.stdout).strip()
            raise SlothError(f"sloth generate -i {spec} failed: {message}")
        return [document for document in yaml.safe_load_all(out.read_text()) if document]


def rule_groups(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rule groups of a generated document: a rules file's `groups`, a PrometheusRule's `spec.groups`."""
    kubernetes = document.get("kind") == "PrometheusRule"
    return list(document["spec"]["groups"] if kubernetes else document["groups"])


def rules_file(documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """All the documents' groups as one Prometheus rules file."""
    return {"groups": [group for document in documents for group in rule_groups(document)]}
