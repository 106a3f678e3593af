"""Mutation testing (`make mutate`): mutmut over observability/, config/ and the Lambda packages, on a copy
of the repository in a temporary directory, with the fast test tiers only. Prints the kill rate per package.

    scripts/mutate.py [--keep] [--only core|core-<group>|grafana_provisioner|cluster_probe ...]
                      [--max-children 2]

One mutmut run per group of `core` (observability/ and config/: CORE_GROUPS, each group's files on the fast
tests that exercise them) and one per Lambda package, whose modules the tests import by their bare names (the
Lambda's own root): their files move to the copy's root so that mutmut names the mutants after the modules the
tests import. `--mutate`/`--tests` replace the groups by one `core` run of those files on those tests. Nothing
is written into the source tree; the copy is deleted unless --keep is given (then its path is printed; `mutmut
show <name>` there prints a mutant's diff). mutmut mutates code inside functions only: module-level tables
(the platform alerts, the burn-rate windows in YAML) are not mutated; the tests in docs/mutation-testing.md
cover them.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"

# mutmut's exit codes (mutmut/stats.py status_by_exit_code): what each mutant's test run ended with.
KILLED = {1, 3, 36, -24, 24, 152, 255}  # a test failed, pytest broke, or it timed out
SURVIVED = {0}
NO_TESTS = {5, 33}
RECHECKED = "rechecked.json"  # mutant -> killed in a fresh process (recheck)

# The fast tests that exercise each module: no real-process metrics, sandbox or e2e tiers, no synth. Tests
# that run promtool, sloth or amtool are in (seconds). One mutmut run per group below, each mutant on its
# group's tests only, so that every file of observability/ and config/ is covered without running every test
# for every mutant (docs/mutation-testing.md).
SERVICE_TESTS = [
    "tests/services/test_service_files.py",
    "tests/services/test_slo_spec_rules.py",
    "tests/services/test_example_services.py",
    "tests/services/test_orders_api_contract.py",
    "tests/services/test_alert_windows.py",
    "tests/services/test_teams_file.py",
    "tests/services/test_service_spec_rules.py",
]
# The config tests construct configs only (tests/unit's snapshot and synth tests are left out, and so are the
# tests of those files that take a synthesized stage).
CONFIG_TESTS = [
    "tests/unit/test_config.py",
    "tests/unit/test_alerting_config.py",
    "tests/unit/test_grafana_config.py",
    "tests/unit/test_pipeline_config.py",
    "tests/unit/test_images.py::test_a_bad_digest_entry_is_one_clear_config_error",
    "tests/unit/test_images.py::test_every_bad_entry_is_reported",
    "tests/unit/test_images.py::test_every_image_has_a_key_and_a_version_tag",
    "tests/unit/test_images.py::test_image_reference_appends_the_configured_digest",
    "tests/unit/test_images.py::test_shipped_environments_pin_no_digest",
    "tests/unit/test_images.py::test_a_well_formed_digest_passes_and_a_digest_that_is_not_text_is_refused",
    "tests/unit/test_ingress.py::test_bad_allowed_cidrs_are_one_clear_config_error",
    "tests/unit/test_ingress.py::test_listed_cidrs_replace_the_vpc_default",
    "tests/unit/test_ingress.py::test_the_whole_internet_only_when_listed",
    "tests/unit/test_capacity.py::test_deletion_protection_is_off_unless_an_environment_turns_it_on",
    "tests/unit/test_capacity.py::test_secrets_store_version_is_configurable_like_the_other_addons",
    "tests/unit/test_deploy_path.py::test_adopt_context_reaches_the_config_and_rejects_other_values",
    "tests/unit/test_deploy_path.py::test_redeploy_after_destroy_adopts_the_retained_vault",
    "tests/unit/test_compliance.py::test_strict_validation_rejects_an_unknown_field",
    "tests/unit/test_compliance.py::test_prod_and_dev_endpoints_are_private_by_default",
]
# test_bill.py's tests that synthesize nothing (the others take the dev stage's templates: ~8 s each).
PRICE_TESTS = [
    "tests/unit/test_bill.py::test_a_price_without_the_date_it_was_read_is_refused",
    "tests/unit/test_bill.py::test_a_region_without_a_price_file_is_named",
    "tests/services/test_price_file.py",
]
RENDER_TESTS = [
    "tests/metrics/test_scrape_config.py",
    "tests/metrics/test_metrics_catalog.py",
    "tests/metrics/test_opt_in_selection.py",
    "tests/metrics/test_managed_targets.py",
    "tests/rules/test_slo_rules.py",
    "tests/rules/test_keep_list.py",
    "tests/rules/test_replica_label.py",
    "tests/unit/test_rule_limits.py",
    "tests/services/test_example_services.py",  # render(), the one entry point
]
# Group -> (files to mutate (globs), the tests that exercise them). Every Python file under observability/ and
# config/ but config/environments.py (the environments' values) is in exactly one group.
CORE_GROUPS = {
    "config": (["config/[!e]*.py"], CONFIG_TESTS),
    "spec": (["observability/spec/*.py"], ["tests/services/test_spec_read.py", *SERVICE_TESTS, *PRICE_TESTS]),
    "model": (
        [f"observability/model/{m}.py" for m in ("load", "service", "teams", "slo", "windows")],
        SERVICE_TESTS,
    ),
    "promql": (
        ["observability/model/promql.py"],
        [
            "tests/rules/test_keep_list.py",
            "tests/rules/test_replica_label.py",
            "tests/rules/test_managed_collector_alerts.py",
            "tests/services/test_service_files.py",
            "tests/services/test_orders_api_contract.py",
            "tests/services/test_promql_selectors.py",
        ],
    ),
    "prices": (["observability/model/prices.py"], PRICE_TESTS),
    "quotas": (
        ["observability/model/quotas.py"],
        ["tests/services/test_quotas_file.py", "tests/unit/test_rule_limits.py"],
    ),
    "render": (
        [
            "observability/render/[!rs]*.py",
            "observability/render/relabel.py",
            "observability/render/s[!l]*.py",
        ],
        RENDER_TESTS,
    ),
    # The namespaces' packing and AMP's size limits, on the tests that fill them (generated services: seconds
    # a mutant, so a group of its own).
    "rules": (
        ["observability/render/rules.py"],
        ["tests/services/test_rule_namespaces.py", "tests/unit/test_rule_limits.py"],
    ),
    # Every case renders and checks rules with promtool: slow (about a minute for the whole selection).
    "slo_rules": (
        ["observability/render/slo_rules.py"],
        [
            "tests/rules/test_slo_alert_switches.py",
            "tests/rules/test_slo_rules.py",
            "tests/rules/test_rules_conform_to_sloth.py",
        ],
    ),
    "alertmanager": (
        ["observability/alertmanager.py", "observability/amp_lint.py"],
        ["tests/rules/test_alertmanager.py"],
    ),
    "platform_alerts": (
        ["observability/platform_alerts/*.py", "observability/conventions.py"],
        [
            "tests/rules/test_platform_alerts.py",
            "tests/rules/test_managed_collector_alerts.py",
            "tests/rules/test_keep_list.py",
            "tests/rules/test_replica_label.py",
        ],
    ),
    "dashboards": (
        [
            "observability/dashboards/__init__.py",
            "observability/dashboards/common.py",
            "observability/dashboards/service.py",
            "observability/importable_dashboard.py",
        ],
        ["tests/dashboards"],
    ),
    # The six platform dashboards (some 2,600 mutants) on the tests that read them, in this process: with
    # every tests/dashboards file (the exports' subprocess and jq, the service dashboards' promtool cases),
    # mutmut checked about 25 of their mutants a minute.
    "platform_dashboards": (
        [
            f"observability/dashboards/{m}.py"
            for m in ("agent", "cluster", "nodes", "postgres", "webapp", "workloads")
        ],
        [
            "tests/dashboards/test_platform_panels.py",
            "tests/dashboards/test_panel_semantics.py",
            "tests/dashboards/test_dashboards.py",
            "tests/dashboards/test_panel_values.py",
            "tests/dashboards/test_managed_collector_dashboards.py",
        ],
    ),
    "catalog": (
        ["observability/catalog.py", "observability/jobs.py", "observability/names.py"],
        [
            "tests/unit/test_job_table.py",
            "tests/metrics/test_metrics_catalog.py",
            "tests/metrics/test_scrape_config.py",
            "tests/rules/test_keep_list.py",
        ],
    ),
    # The bill's lines and the template counting on hand-written templates (test_bill.py synthesizes the dev
    # stage for each test: one synth per mutant, slow).
    "bill": (
        ["observability/bill.py", "observability/billed_resources.py"],
        ["tests/unit/test_bill_lines.py"],
    ),
    "init": (["observability/__init__.py", "observability/model/__init__.py"], []),
}
# Tests that run the Go tools (sloth, promtool 3): in the run only when `make go-tools` built them.
GO_TOOL_TESTS = {
    "tests/rules/test_platform_alerts.py": "promtool3",
    "tests/rules/test_sloth_conformance.py": "sloth",
    "tests/rules/test_rules_conform_to_sloth.py": "sloth",
}


# Copy a checkout and read its own source text: a mutated copy is not the text they expect.
READS_SOURCE = [
    "tests/unit/test_config.py::test_a_bad_value_prints_only_the_list_of_problems",
    "tests/unit/test_config.py::test_prod_synthesizes_while_dev_is_broken",
]
# Snapshots are not counted as guards: `make snapshot-update` accepts any change, so a mutant only a snapshot
# notices is a survivor (issue #23's measure). The dashboards' is the only snapshot in the mutated groups.
SNAPSHOTS = ["tests/dashboards/test_dashboards.py::test_snapshot"]
DESELECTED = READS_SOURCE + SNAPSHOTS


@dataclass(frozen=True, kw_only=True)
class Run:
    name: str
    sources: list[str]  # where mutmut looks, relative to the copy's root
    tests: list[str]
    only: list[str]  # what it mutates there (globs); empty: everything
    lambda_dir: str | None = None  # a Lambda package moved to the copy's root


# `core-<group>`: one run per group (`--only core` runs them all, `--only core-model` one).
RUNS = [
    *(
        Run(name=f"core-{group}", sources=["observability", "config"], tests=tests, only=files)
        for group, (files, tests) in CORE_GROUPS.items()
        if tests
    ),
    Run(
        name="grafana_provisioner",
        sources=[],
        only=[],
        tests=["tests/lambda"],
        lambda_dir="lambda/grafana_provisioner",
    ),
    Run(
        name="cluster_probe",
        sources=[],
        only=[],
        tests=["tests/cluster_probe"],
        lambda_dir="lambda/cluster_probe",
    ),
]


def copy_repository(*, into: Path, commit: str | None) -> None:
    """The tracked files (with uncommitted edits), or `commit`'s tree, and a link to the venv: the tests find
    their tools there."""
    if commit is not None:
        archive = subprocess.run(["git", "archive", commit], cwd=REPO, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    files = (
        []
        if commit is not None
        else subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split("\0")
    )
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    (into / ".venv").symlink_to(REPO / ".venv")
    # mutmut runs the tests inside mutants/: the tests find the venv's tools relative to themselves.
    (into / "mutants").mkdir()
    (into / "mutants" / ".venv").symlink_to(REPO / ".venv")


def prepare(run: Run, *, root: Path, commit: str | None, mutate: list[str], tests: list[str]) -> list[str]:
    """The copy for one run, its mutmut settings appended to pyproject.toml; returns the sources. `mutate`
    (globs) and `tests`, when given, replace the run's own files to mutate and test selection."""
    copy_repository(into=root, commit=commit)
    sources = list(run.sources)
    if run.lambda_dir is not None:
        for module in sorted((root / run.lambda_dir).glob("*.py")):
            module.rename(root / module.name)
            sources.append(module.name)
    ignored = [t for t, tool in GO_TOOL_TESTS.items() if not (VENV_BIN / tool).exists()]
    for test in ignored:
        print(f"    left out {test}: .venv/bin/{GO_TOOL_TESTS[test]} is missing (make go-tools)")
    top_level = sorted(set(os.listdir(root)) - set(sources) - {".venv", "mutants"})
    settings = {
        "source_paths": sources,
        "also_copy": top_level,
        "pytest_add_cli_args_test_selection": tests or run.tests,
        "only_mutate": mutate or run.only,
        "pytest_add_cli_args": [f"--ignore={t}" for t in ignored] + [f"--deselect={t}" for t in DESELECTED],
        "mutate_only_covered_lines": False,
        "use_git_change_detection": False,
    }
    with (root / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n[tool.mutmut]\n")
        for key, value in settings.items():
            pyproject.write(f"{key} = {json.dumps(value)}\n")
    return sources


def unmapped() -> list[str]:
    """Python files of observability/ and config/ in no group (config/environments.py: on purpose)."""
    files = sorted(
        str(p.relative_to(REPO)) for d in ("observability", "config") for p in (REPO / d).rglob("*.py")
    )
    globs = [g for mutate, _ in CORE_GROUPS.values() for g in mutate]
    return [
        f for f in files if f != "config/environments.py" and not any(fnmatch.fnmatch(f, g) for g in globs)
    ]


def package_of(meta: Path, *, mutants: Path, run: Run) -> str:
    """`observability/render` for mutants/observability/render/slo_rules.py.meta; the Lambda's folder."""
    if run.lambda_dir is not None:
        return run.lambda_dir
    return str(meta.relative_to(mutants).parent)


def recheck(
    *, root: Path, env: dict[str, str], also: list[str], files: list[str], match: list[str], children: int
) -> None:
    """Runs each surviving mutant once more in a fresh pytest process, on the test files mutmut mapped to its
    function plus `also` (or on `files` alone). mutmut forks from a process that has imported the test
    modules, so a function only called while a test module is imported (module-level rule files, dashboards,
    configs) runs unmutated there; a fresh process imports everything under the mutant."""
    mutants = root / "mutants"
    stats = json.loads((mutants / "mutmut-stats.json").read_text())["tests_by_mangled_function_name"]
    done = json.loads((root / RECHECKED).read_text()) if (root / RECHECKED).exists() else {}
    todo = []
    for meta in sorted(mutants.rglob("*.py.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            mapped = {t.split("::")[0] for t in stats.get(name.partition("__mutmut_")[0], [])}
            tests = set(files) if files else mapped | set(also)
            wanted = not match or any(fnmatch.fnmatch(name, pattern) for pattern in match)
            if code in SURVIVED | NO_TESTS and not done.get(name) and tests and wanted:
                todo.append((name, sorted(tests)))
    ignored = [f"--ignore={t}" for t, tool in GO_TOOL_TESTS.items() if not (VENV_BIN / tool).exists()]

    def killed(name: str, tests: list[str]) -> bool:
        command = [str(VENV_BIN / "python"), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *ignored]
        command += [f"--deselect={t}" for t in DESELECTED] + tests
        try:
            result = subprocess.run(
                command, cwd=mutants, env={**env, "MUTANT_UNDER_TEST": name}, capture_output=True, timeout=600
            )
        except subprocess.TimeoutExpired:
            return True
        # A test failed (1), a test module failed to import (2: collection errors), pytest broke (3), or a
        # conftest.py failed to import (4: "ImportError while loading conftest", e.g. tests/rules' through
        # harness.stack when the mutant breaks a module it imports). The arguments are fixed: the clean
        # run, which mutmut makes first, would have failed with them.
        return result.returncode in (1, 2, 3, 4)

    print(f"rechecking {len(todo)} surviving mutants in fresh processes", flush=True)
    with ThreadPoolExecutor(max_workers=children) as pool:
        outcomes = pool.map(lambda item: (item[0], killed(*item)), todo)
        for index, (name, outcome) in enumerate(outcomes, 1):
            done[name] = outcome
            (root / RECHECKED).write_text(json.dumps(done, indent=1))  # kept if the recheck is stopped
            if index % 25 == 0:
                print(f"    {index}/{len(todo)}", flush=True)


def tally(*, root: Path, run: Run) -> tuple[dict[str, Counter[str]], list[str]]:
    by_package: dict[str, Counter[str]] = {}
    survivors = []
    mutants = root / "mutants"
    rechecked = json.loads((root / RECHECKED).read_text()) if (root / RECHECKED).exists() else {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        counts = by_package.setdefault(package_of(meta, mutants=mutants, run=run), Counter())
        for name, code in codes.items():
            status = (
                "killed"
                if code in KILLED
                else "killed"
                if rechecked.get(name)
                else "survived"
                if code in SURVIVED
                else "no tests"
                if code in NO_TESTS
                else "not checked"
                if code is None
                else f"other ({code})"
            )
            counts[status] += 1
            if status not in ("killed", "not checked"):
                survivors.append(f"{status}: {name}")
    return by_package, survivors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = [r.name for r in RUNS]
    parser.add_argument(
        "--only", nargs="*", choices=["core", *names], default=names, help="core: every core-*"
    )
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the copy (mutmut show/results there)")
    parser.add_argument("--commit", help="test this commit's tree (e.g. to measure before a change)")
    parser.add_argument("--survivors", type=Path, help="write the surviving mutants' names to this file")
    parser.add_argument(
        "--recheck",
        type=Path,
        help="a copy kept by --keep: recheck its survivors only (no new mutmut run)",
    )
    parser.add_argument(
        "--update-tests", action="store_true", help="with --recheck: copy today's tests in first"
    )
    parser.add_argument(
        "--no-recheck", action="store_true", help="mutmut's verdicts only (fast, undercounts)"
    )
    parser.add_argument(
        "--mutate", nargs="*", default=[], help="mutate these files (globs) instead of the run's own list"
    )
    parser.add_argument(
        "--tests",
        nargs="*",
        default=[],
        help="run these tests (files, folders) instead of the run's tiers; with --recheck, the selection "
        "the kept copy was made with (--also and --files must lie inside it)",
    )
    parser.add_argument("--match", nargs="*", default=[], help="recheck only mutants matching these globs")
    parser.add_argument("--files", nargs="*", default=[], help="recheck on these test files instead")
    parser.add_argument("--also", nargs="*", default=[], help="test files every recheck runs too (new tests)")
    args = parser.parse_args()
    base = args.recheck or Path(tempfile.mkdtemp(prefix="mutate-"))
    # pytest's own temporary directories go under the copy too, apart from other sessions'.
    env = {
        **os.environ,
        "PYTEST_DEBUG_TEMPROOT": str(base),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    totals: dict[str, Counter[str]] = {}
    survivors: list[str] = []
    failed = False
    for name in unmapped():
        print(f"    not mutated: {name} is in no group of CORE_GROUPS")
    runs = [r for r in RUNS if r.name in args.only or ("core" in args.only and r.name.startswith("core-"))]
    groups = [r for r in runs if r.lambda_dir is None]
    if groups and (args.mutate or args.tests):
        # A focused run: one `core` run of these files (or the groups') on these tests (or the groups').
        focused = Run(
            name="core",
            sources=["observability", "config"],
            tests=args.tests or list(dict.fromkeys(t for r in groups for t in r.tests)),
            only=args.mutate or [g for r in groups for g in r.only],
        )
        runs = [focused, *(r for r in runs if r.lambda_dir is not None)]
    try:
        for run in runs:
            root = base / run.name
            if args.recheck is not None and not root.is_dir():
                continue  # the kept copy has no such run
            if args.recheck is None:
                root.mkdir()
                print(f"mutmut run ({run.name}) in {root}", flush=True)
                prepare(run, root=root, commit=args.commit, mutate=args.mutate, tests=args.tests)
                result = subprocess.run(
                    [str(VENV_BIN / "mutmut"), "run", "--max-children", str(args.max_children)],
                    cwd=root,
                    env=env,
                )
                failed |= result.returncode != 0
            elif args.update_tests:
                for copy in (root / "tests", root / "mutants" / "tests"):
                    shutil.copytree(REPO / "tests", copy, dirs_exist_ok=True)
            # The run's own tiers, or the selection a focused run (--tests) was made with.
            selection = args.tests or run.tests
            also = [t for t in args.also if any(t.startswith(d) for d in selection)]
            if not args.no_recheck:
                files = [t for t in args.files if any(t.startswith(d) for d in selection)]
                recheck(
                    root=root, env=env, also=also, files=files, match=args.match, children=args.max_children
                )
            by_package, run_survivors = tally(root=root, run=run)
            for package, counts in by_package.items():
                totals.setdefault(package, Counter()).update(counts)
            survivors += run_survivors
    finally:
        if args.keep or args.recheck:
            print(f"kept: {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    # The kill rate counts the mutants checked (a run stopped early leaves some unchecked).
    print(f"\n{'package':30} {'checked':>7} {'killed':>6} {'survived':>8} {'no tests':>8} {'kill rate':>9}")
    for package, counts in sorted(totals.items()):
        checked = sum(counts.values()) - counts["not checked"]
        rate = f"{100 * counts['killed'] / checked:.1f} %" if checked else "-"
        killed, survived, untested = counts["killed"], counts["survived"], counts["no tests"]
        print(f"{package:30} {checked:7} {killed:6} {survived:8} {untested:8} {rate:>9}")
    if args.survivors is not None:
        args.survivors.write_text("".join(f"{line}\n" for line in survivors))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
