"""Check services/ alone, fast (`make check-services`): every service, SLO and team file against every
rule, all problems at once, one line each naming the file, the field and the rule; then that every
service's rules fit in AMP's rule groups namespaces (observability/spec/amp-quotas.yaml). Exit 1 on any."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from config.alerting import AlertingConfig  # noqa: E402
from observability.model.load import load  # noqa: E402
from observability.render.rules import rule_files  # noqa: E402
from observability.spec.problems import SpecError  # noqa: E402


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else None
    try:
        services = load(root) if root else load()
        namespaces = rule_files(services, runbook_base_url=AlertingConfig().runbook_base_url)
    except SpecError as error:
        print(f"The service files break {len(error.problems)} rule(s):\n{error}", file=sys.stderr)
        return 1
    slos = services.slos()
    print(
        f"OK: {len(services.services)} service(s), {len(slos)} SLO(s), {len(services.teams)} team(s), "
        f"{len(namespaces)} rule groups namespace(s)"
    )
    for service in services.services:
        names = ", ".join(f"{slo.name} {slo.objective}%" for slo in service.slos) or "no SLOs"
        print(f"  {service.name} (team {service.team}, {service.slo_period}): {names}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
