"""Check the service files alone, fast (`make check-services`): every service, SLO and team file against
every rule, all problems at once, one line each naming the file, the field and the rule; then that every
service's rules fit in AMP's rule groups namespaces (observability/spec/amp-quotas.yaml). Exit 1 on any.

Without arguments it checks two sets: services/ alone (what a deployment gets) and services/ with the
example services of examples/services/ (what the sandbox runs). With folders as arguments, it checks
those folders read together."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from config.alerting import AlertingConfig  # noqa: E402
from observability import spec  # noqa: E402
from observability.model.load import load  # noqa: E402
from observability.render.rules import rule_files  # noqa: E402
from observability.spec.problems import SpecError  # noqa: E402

# What a deployment gets, and what the sandbox runs.
DEFAULT_SETS = ((spec.SERVICES_DIR,), (spec.SERVICES_DIR, spec.EXAMPLE_SERVICES_DIR))


def check(roots: tuple[Path, ...]) -> list[str]:
    """The report of one set of folders read together: lines to print, or raises SpecError."""
    services = load(*roots)
    namespaces = rule_files(services, runbook_base_url=AlertingConfig().runbook_base_url)
    slos = services.slos()
    lines = [
        f"OK: {len(services.services)} service(s), {len(slos)} SLO(s), {len(services.teams)} team(s), "
        f"{len(namespaces)} rule groups namespace(s) in {' + '.join(spec.display(root) for root in roots)}"
    ]
    for service in services.services:
        names = ", ".join(f"{slo.name} {slo.objective}%" for slo in service.slos) or "no SLOs"
        lines.append(f"  {service.name} (team {service.team}, {service.slo_period}): {names}")
    return lines


def main(argv: list[str]) -> int:
    sets = (tuple(Path(arg) for arg in argv),) if argv else DEFAULT_SETS
    report: list[str] = []
    problems: dict[str, None] = {}  # every problem once, in order (a broken services/ breaks both sets)
    for roots in sets:
        try:
            report += check(roots)
        except SpecError as error:
            problems |= dict.fromkeys(str(problem) for problem in error.problems)
    if problems:
        print(f"The service files break {len(problems)} rule(s):", *problems, sep="\n", file=sys.stderr)
        return 1
    print(*report, sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
