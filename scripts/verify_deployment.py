"""Post-deploy verification of one environment: does the deployed platform actually work?

    python scripts/verify_deployment.py [--env dev] [--outputs-file cdk.out/outputs-dev.json] [--timeout 600]

Reads the stage's stack outputs from the VERIFY_* environment variables (the pipeline's Verify step) or,
when none is set, from the file `make deploy` writes. Assumes the stage's verifier role, then checks:
rule groups namespaces and the Alertmanager definition ACTIVE; Grafana's data sources healthy and its
dashboards provisioned (the stage's read-only health check function: the verifier holds no Grafana token);
samples of every expected scrape job in AMP; the web app's rollout and readiness (cluster probe in the VPC);
alert delivery (the Watchdog heartbeat reached its SNS topic, no failed SNS delivery, no error in AMP's
Alertmanager log).

The verifier role trusts the stage's CDK deploy role and the environment's `verifier_principal_arns`: when
your own credentials may not assume it, the role is assumed through the CDK deploy role.

One PASS/FAIL line per check; exit status 1 when any check fails, 2 when the outputs are missing or the
role cannot be assumed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from config import ConfigError, environment_config  # noqa: E402
from config.monitoring import Collector  # noqa: E402
from scripts.verification.aws import AssumeRoleError, bootstrap_qualifier, connect  # noqa: E402
from scripts.verification.report import Deadline, SystemClock  # noqa: E402
from scripts.verification.run import run_checks  # noqa: E402
from scripts.verification.settings import Settings, SettingsError, from_environment, from_outputs_file  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--env", default=os.environ.get("ENV", "dev"), help="environment name (default: $ENV or dev)"
    )
    parser.add_argument("--outputs-file", type=Path, help="default: cdk.out/outputs-<env>.json")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds all waits may take together")
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between polls")
    return parser.parse_args(argv)


def load_settings(args: argparse.Namespace) -> Settings:
    settings = from_environment(os.environ)
    if settings is not None:
        return settings
    path = args.outputs_file or REPO / "cdk.out" / f"outputs-{args.env}.json"
    return from_outputs_file(path, args.env, os.environ)


def managed_collector(env: str) -> bool:
    """Whether the environment's metrics come from AMP's managed collector (config: monitoring.collector)."""
    try:
        return environment_config(env).monitoring.collector == Collector.MANAGED
    except ConfigError:
        return False  # an environment this checkout does not define (outputs given by file or VERIFY_*)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = load_settings(args)
    except SettingsError as error:
        print(f"ERROR  {error}", file=sys.stderr)
        return 2
    print(f"Verifying {args.env} in {settings.region} (waits up to {args.timeout:.0f} s in all)", flush=True)
    try:
        clients = connect(
            region=settings.region,
            role_arn=settings.role_arn,
            qualifier=bootstrap_qualifier(REPO / "cdk.json"),
            notify=lambda line: print(line, flush=True),
        )
    except AssumeRoleError as error:
        print(f"ERROR  {error}", file=sys.stderr)
        return 2
    clock = SystemClock()
    deadline = Deadline(clock=clock, at=clock.monotonic() + args.timeout, interval=args.interval)
    results = run_checks(settings, clients, deadline, managed_collector=managed_collector(args.env))
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)}/{len(results)} checks passed" + (": FAILED" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
