"""The spec layer: the data files everything observable comes from, and how to read them.

- `services/<name>/service.yaml` (who owns it, where it runs, what is scraped and kept) and
  `services/<name>/slos.yaml` (its SLOs, in sloth's `prometheus/v1` format, unchanged);
  `services/teams.yaml` (the teams alerts are routed to). Folders starting with `_` are templates.
  `examples/services/` has the same layout: services the sandbox runs, never deployed.
- `observability/spec/windows/<period>.yaml`: the burn-rate alert windows of each SLO period, in sloth's
  `AlertWindows` format.
- `observability/spec/amp-quotas.yaml`: the AMP, Kubernetes and CloudFormation limits the rendered
  artifacts must fit in, each with its source.
- `observability/spec/prices/<region>.yaml`: the unit prices of the monthly bill (`make bill`), each with
  the page it was read from and when; null where no page stated it.

Reading only: a file that is missing or not YAML becomes a `Problem`; what the fields mean is the model's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from observability.spec.problems import Problem

REPOSITORY = Path(__file__).resolve().parents[2]
SERVICES_DIR = REPOSITORY / "services"
# Example services, laid out like services/ (their own teams.yaml): the sandbox (`make local`, `make e2e`)
# runs them beside services/, and `make check-services` checks them; nothing deploys them, so no
# deployment gets a scrape job, rules, topics or a dashboard for a service its cluster does not run.
EXAMPLE_SERVICES_DIR = REPOSITORY / "examples" / "services"
WINDOWS_DIR = Path(__file__).resolve().parent / "windows"
QUOTAS_FILE = Path(__file__).resolve().parent / "amp-quotas.yaml"
# One unit-price file per region (`<region>.yaml`): what the monthly bill multiplies.
PRICES_DIR = Path(__file__).resolve().parent / "prices"
SERVICE_FILE = "service.yaml"
SLO_FILE = "slos.yaml"
TEAMS_FILE = "teams.yaml"
TEMPLATE_PREFIX = "_"


def display(path: Path) -> str:
    """The path as error messages show it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(REPOSITORY))
    except ValueError:
        return str(path)


def read(path: Path) -> Any | Problem:
    """The YAML document in `path`, or the problem that kept it from being read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Problem(display(path), "", "file is missing")
    except OSError as error:
        return Problem(display(path), "", f"cannot be read ({error.strerror})")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = getattr(error, "problem", None) or str(error)
        return Problem(display(path), "", f"is not valid YAML{where}: {reason}")


def service_dirs(root: Path = SERVICES_DIR) -> list[Path]:
    """Every service folder under `root`, by name (templates excluded)."""
    return sorted(
        path for path in root.iterdir() if path.is_dir() and not path.name.startswith((TEMPLATE_PREFIX, "."))
    )


def window_files() -> dict[str, Path]:
    """SLO period (e.g. `30d`) -> its windows file."""
    return {path.stem: path for path in sorted(WINDOWS_DIR.glob("*.yaml"))}
