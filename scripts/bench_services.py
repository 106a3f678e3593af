"""How the platform scales with the number of services (`make bench`): for 1, 10 and 100 generated
services (harness/services.py), the wall time of a whole `cdk synth` of the dev app, the rendered sizes
against the limits of observability/spec/amp-quotas.yaml (rules bytes and rules per AMP rule groups
namespace, rules per workspace, the Alertmanager definition, the agent's configuration against the 1 MiB
ConfigMap limit, the largest CloudFormation template), and a cProfile of the synth at the largest count:
where the Python side's time goes. Numbers are printed, not asserted; docs/architecture/scale.md quotes them.

Everything is written to a temporary folder (the services, cdk.out, the profile), nothing to the tree.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from harness.services import generate  # noqa: E402
from observability.model.load import load  # noqa: E402
from observability.model.quotas import Quotas, load_quotas  # noqa: E402
from observability.render.rules import rule_count  # noqa: E402
from scripts.render import documents  # noqa: E402

COUNTS = (1, 10, 100)


def synth(services: Path, out: Path, *, profile: Path | None = None) -> tuple[float, float]:
    """Seconds of wall time and of CPU time (user + system, every process it ran) for `cdk synth` of the dev
    app over `services` (the Makefile's CLI flags). CPU time says what the synth costs when the machine is
    shared; wall time, what a user waits on an idle one."""
    app = f"{sys.executable} " + (f"-m cProfile -o {profile} " if profile else "") + "app.py"
    command = [
        "npx", "--no-install", "cdk", "synth", "--no-notices", "--quiet",
        "-c", "env=dev", "-c", f"services={services}", "--output", str(out), "--app", app,
    ]  # fmt: skip
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "1",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=environment, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def largest_template(out: Path) -> tuple[str, int]:
    templates = [(path.name, path.stat().st_size) for path in out.rglob("*.template.json")]
    return max(templates, key=lambda item: item[1])


def sizes(services_root: Path, quotas: Quotas) -> list[str]:
    texts = documents(load(services_root))
    rules = {path: text for path, text in texts.items() if path.startswith("rules/")}
    counts = {path: rule_count(yaml.safe_load(text)) for path, text in rules.items()}
    slo_files = [path for path in rules if "/slos-" in path]
    biggest = max(rules, key=lambda path: len(rules[path].encode()))

    def share(got: float, quota: float) -> str:
        return f"{got:,.0f} / {quota:,.0f} ({100 * got / quota:.1f} %)"

    alertmanager = share(len(texts["alertmanager.yaml"].encode()), quotas.alertmanager_definition_bytes.value)
    agent = share(len(texts["agent/prometheus.yaml"].encode()), quotas.configmap_bytes.value)

    return [
        f"  rule groups namespaces: {len(rules)} ({len(slo_files)} SLO + platform-alerts)",
        f"  largest rules file ({biggest}): "
        f"{share(len(rules[biggest].encode()), quotas.rule_namespace_bytes.value)} bytes",
        f"  most rules in one namespace: {max(counts.values())}",
        f"  rules in the workspace: {share(sum(counts.values()), quotas.rules_per_workspace.value)}",
        f"  Alertmanager definition: {alertmanager} bytes",
        f"  agent configuration: {agent} bytes",
    ]


def hot_spots(profile: Path, limit: int) -> list[str]:
    stats = pstats.Stats(str(profile))
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (file, line, function), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{Path(file).name}:{line}({function})" if line else function
        rows.append((cumulative, own, calls, where))
    lines = [f"  app.py under cProfile: {total:.1f} s; by cumulative time (own time in brackets):"]
    for cumulative, own, calls, where in sorted(rows, reverse=True)[:limit]:
        lines.append(f"    {cumulative:7.2f} s ({own:6.2f} s) {calls:>8} calls  {where}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--counts", type=int, nargs="+", default=list(COUNTS))
    parser.add_argument("--no-synth", action="store_true", help="sizes only (seconds, not minutes)")
    parser.add_argument("--top", type=int, default=25, help="profile rows to print")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args()
    quotas = load_quotas()
    print(
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"limits: observability/spec/amp-quotas.yaml"
    )
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="bench-services-") as temporary:
        work = Path(temporary)
        for count in args.counts:
            root = generate(work / f"services-{count}", count)
            print(f"{count} service(s), {2 * count} SLOs:")
            lines = sizes(root, quotas)
            if not args.no_synth:
                profile = work / f"synth-{count}.prof" if count == max(args.counts) else None
                out = work / f"cdk.out-{count}"
                wall, cpu = synth(root, out)
                lines.insert(0, f"  cdk synth (dev): {wall:.1f} s wall, {cpu:.1f} s CPU")
                name, size = largest_template(out)
                lines.append(
                    f"  largest template ({name}): {size:,} / {quotas.template_bytes.value:,.0f} bytes "
                    f"({100 * size / quotas.template_bytes.value:.1f} %)"
                )
                if profile:
                    profiled, _ = synth(root, work / f"cdk.out-{count}-profiled", profile=profile)
                    lines += [f"  profiled synth: {profiled:.1f} s wall", *hot_spots(profile, args.top)]
            print("\n".join(lines), flush=True)
            results[str(count)] = lines
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
