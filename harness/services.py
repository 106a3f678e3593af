"""Synthetic services for benchmarks and tests: `generate(root, n)` writes `n` service folders shaped like
services/orders-api (its service file and its two SLOs, each service with its own name, team, Kubernetes
namespace, pod selector and alert names) and a teams.yaml listing their teams, so `load(root)` reads them
like any team's files.

    svc-000/service.yaml   team team-000, namespace ns-000, pods app.kubernetes.io/name=svc-000
    svc-000/slos.yaml      availability + latency, alerts Svc000AvailabilityBudgetBurn, ...
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from observability import spec

TEMPLATE = spec.SERVICES_DIR / "orders-api"
TEMPLATE_NAME = "orders-api"
TEMPLATE_NAMESPACE = "orders"


def name(index: int) -> str:
    return f"svc-{index:03d}"


def team(index: int) -> str:
    return f"team-{index:03d}"


def generate(root: Path, count: int, *, slos_per_service: int | None = None, shared_team: str = "") -> Path:
    """Write `count` services under `root` (created) and return it. `slos_per_service` repeats the
    template's SLOs (renamed) to make a service bigger; `shared_team` puts every service in one team."""
    service_template = spec.read(TEMPLATE / spec.SERVICE_FILE)
    slo_template = spec.read(TEMPLATE / spec.SLO_FILE)
    root.mkdir(parents=True, exist_ok=True)
    teams = sorted({shared_team} if shared_team else {team(i) for i in range(count)})
    _write(
        root / spec.TEAMS_FILE,
        {
            "version": "teams/v1",
            "teams": [{"name": t, "description": f"Synthetic team {t}."} for t in teams],
        },
    )
    for index in range(count):
        folder = root / name(index)
        folder.mkdir(exist_ok=True)
        _write(folder / spec.SERVICE_FILE, _service(service_template, index, shared_team or team(index)))
        _write(folder / spec.SLO_FILE, _slos(slo_template, index, slos_per_service))
    return root


def _service(template: Any, index: int, owner: str) -> dict[str, Any]:
    document = copy.deepcopy(template)
    document.update(name=name(index), team=owner, description=f"Synthetic service {index}.")
    document["workload"] = {
        "namespace": f"ns-{index:03d}",
        "selector": {"app.kubernetes.io/name": name(index)},
    }
    return dict(document)


def _slos(template: Any, index: int, slos_per_service: int | None) -> dict[str, Any]:
    text = yaml.safe_dump(template, sort_keys=False, width=1_000_000)
    # The queries select the service's own pods: its namespace and container.
    text = text.replace(f'namespace="{TEMPLATE_NAMESPACE}"', f'namespace="ns-{index:03d}"')
    text = text.replace(f'container="{TEMPLATE_NAME}"', f'container="{name(index)}"')
    document: dict[str, Any] = yaml.safe_load(text)
    document["service"] = name(index)
    prefix = f"Svc{index:03d}"
    originals = document["slos"]
    wanted = slos_per_service or len(originals)
    slos = []
    for number in range(wanted):
        slo = copy.deepcopy(originals[number % len(originals)])
        suffix = "" if number < len(originals) else f"-{number}"
        slo["name"] = f"{slo['name']}{suffix}"
        kind = slo["alerting"]["name"].removeprefix("OrdersApi")
        slo["alerting"]["name"] = f"{prefix}{kind}" if not suffix else f"{prefix}{kind}{number}"
        slos.append(slo)
    document["slos"] = slos
    return document


def _write(path: Path, document: Any) -> None:
    path.write_text(yaml.safe_dump(document, sort_keys=False, width=1_000_000), encoding="utf-8")
