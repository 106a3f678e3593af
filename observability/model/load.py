"""All services, teams and SLO periods, read and checked together: `load()` returns the model or raises
`SpecError` listing every problem of every file (nothing is half-read).

Across files it checks what no single file can: a service's folder and `name` agree; its team exists;
its SLO file's `service` is the service; every series an SLO query reads is one the service keeps; alert
names are unique across services; no two services select the same pods; service and team names are
unique across the services folders read together (the sandbox reads services/ and examples/services/).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from observability import spec
from observability.model import promql
from observability.model.service import Service, parse_service
from observability.model.slo import SLO, field_root, parse_slos, window_query
from observability.model.teams import Team, parse_teams
from observability.model.windows import AlertWindows, load_windows
from observability.spec.problems import Problem, SpecError


@dataclass(frozen=True)
class Services:
    teams: tuple[Team, ...]
    services: tuple[Service, ...]
    windows: dict[str, AlertWindows]  # period -> its alert windows

    def slos(self) -> tuple[SLO, ...]:
        return tuple(slo for service in self.services for slo in service.slos)

    def service(self, name: str) -> Service:
        return next(service for service in self.services if service.name == name)

    def windows_of(self, service: Service) -> AlertWindows:
        return self.windows[service.slo_period]


@functools.cache
def load_default() -> Services:
    """The repository's services (services/), read once per process: what a deployment gets."""
    return load()


@functools.cache
def load_with_examples() -> Services:
    """services/ and the example services (examples/services/) together, read once per process: what the
    sandbox runs (`make local`, `make e2e`); never deployed."""
    return load(spec.SERVICES_DIR, spec.EXAMPLE_SERVICES_DIR)


def load(*roots: Path) -> Services:
    """Every service under `roots` (services folders, each with its own teams.yaml; default services/),
    checked as one set: a service's team may be any root's, and names are unique across the roots."""
    roots = roots or (spec.SERVICES_DIR,)
    windows = load_windows()
    problems: list[Problem] = []
    teams: list[Team] = []
    team_files: dict[str, str] = {}  # team -> the teams file that lists it
    for root in roots:
        listed, collected = _teams(root, team_files)
        teams += listed
        problems += collected
    services: list[Service] = []
    folders: dict[str, Path] = {}  # service -> its folder
    for root in roots:
        for folder in spec.service_dirs(root):
            service, found = _service(folder, tuple(windows), team_files)
            problems += found
            if service is None:
                continue
            if service.name in folders:
                problems.append(
                    Problem(
                        spec.display(folder / spec.SERVICE_FILE),
                        "name",
                        f"must be unique across the services folders ({service.name!r} is also "
                        f"{spec.display(folders[service.name])})",
                    )
                )
                continue
            folders[service.name] = folder
            services.append(service)
    problems += _across(services, folders)
    if problems:
        raise SpecError(sorted(problems))
    return Services(teams=tuple(teams), services=tuple(services), windows=windows)


def _teams(root: Path, team_files: dict[str, str]) -> tuple[list[Team], list[Problem]]:
    """The teams of `root`'s teams file that no earlier root listed; records each in `team_files`."""
    path = root / spec.TEAMS_FILE
    file = spec.display(path)
    document = spec.read(path)
    if isinstance(document, Problem):
        return [], [document]
    parsed, collected = parse_teams(document, file)
    problems = list(collected.problems)
    teams: list[Team] = []
    for team in parsed:
        if team.name in team_files:
            named = [entry.get("name") if isinstance(entry, dict) else None for entry in document["teams"]]
            index = named.index(team.name)
            problems.append(
                Problem(
                    file,
                    f"teams[{index}].name",
                    f"must be unique across the services folders ({team.name!r} is also in "
                    f"{team_files[team.name]})",
                )
            )
            continue
        team_files[team.name] = file
        teams.append(team)
    return teams, problems


def _service(
    folder: Path, periods: tuple[str, ...], team_files: Mapping[str, str]
) -> tuple[Service | None, list[Problem]]:
    path = folder / spec.SERVICE_FILE
    file = spec.display(path)
    document = spec.read(path)
    if isinstance(document, Problem):
        return None, [document]
    service, problems = parse_service(document, file, periods)
    if service is not None and service.name != folder.name:
        problems.at("name", f"must be the folder's name, {folder.name!r} (got {service.name!r})")
    if service is not None and team_files and service.team not in team_files:
        listed = " or ".join(sorted(set(team_files.values())))
        problems.at("team", f"must be a team of {listed}: {sorted(team_files)} (got {service.team!r})")
    slo_path = folder / spec.SLO_FILE
    slos: list[SLO] = []
    if slo_path.exists():
        slo_file = spec.display(slo_path)
        slo_document = spec.read(slo_path)
        if isinstance(slo_document, Problem):
            return None, [*problems.problems, slo_document]
        sloth_service, slos, slo_problems = parse_slos(slo_document, slo_file)
        if sloth_service and sloth_service != folder.name:
            message = f"must be {folder.name!r}, the service's name (got {sloth_service!r})"
            slo_problems.at(f"{field_root(slo_document)}service", message)
        if service is not None:
            for slo in slos:
                for query in slo.sli.queries():
                    read = promql.series_names(window_query(query, "5m"))
                    for name in sorted(name for name in read if not service.keeps(name)):
                        slo_problems.at(
                            f"{slo.path}.sli",
                            f"reads {name}, which {spec.SERVICE_FILE} metrics.keep does not keep",
                        )
        problems.problems += slo_problems.problems
    if problems.problems or service is None:
        return None, problems.problems
    return dataclasses.replace(service, slos=tuple(slos)), []


def _across(services: list[Service], folders: Mapping[str, Path]) -> list[Problem]:
    problems: list[Problem] = []
    alerts: dict[str, str] = {}
    for service in services:
        for slo in service.slos:
            if not slo.alert_name:  # alerts off
                continue
            owner = alerts.setdefault(slo.alert_name, service.name)
            if owner != service.name:
                problems.append(
                    Problem(
                        slo.file,
                        f"{slo.path}.alerting.name",
                        f"must be unique across services ({slo.alert_name!r} is also {owner}'s)",
                    )
                )
    for index, service in enumerate(services):
        for other in services[index + 1 :]:
            if service.overlaps(other):
                problems.append(
                    Problem(
                        spec.display(folders[other.name] / spec.SERVICE_FILE),
                        "workload.selector",
                        f"must not select {service.name}'s pods too (same namespace {other.namespace!r}, "
                        f"selectors {dict(other.selector)} and {dict(service.selector)} can match one pod)",
                    )
                )
    return problems
