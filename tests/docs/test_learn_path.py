"""The learner's path (docs/learn/) cannot rot: every command block marked for the sandbox
(```` ```{.sh .sandbox #<id>} ````) runs, in page order, in a learner's shell against one real sandbox
started as `make local` starts it (`python -m sandbox`), and its output must show what the page says.

The shell is the learner's: the set-up block (`eval "$(make -s local-env)"`, the venv's kubectl first on
PATH) runs first and the environment it leaves is the one every later block runs in. Blocks run as a
learner pastes them (no `set -e`: `kubectl auth can-i` answers "no" with exit code 1), so each check reads
the output. Each check states the page's claim as literals; none reads the code under test.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
BLOCK = re.compile(
    r"^```\{\.sh \.sandbox #(?P<id>[a-z0-9-]+)\}\n(?P<text>.*?)^```$", re.MULTILINE | re.DOTALL
)
START_TIMEOUT_SECONDS = 600
BLOCK_TIMEOUT_SECONDS = 240
DISCOVERY_TIMEOUT_SECONDS = 180

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("learn-path")]


@dataclass(frozen=True)
class Block:
    page: str
    id: str
    text: str


def learn_pages() -> list[str]:
    """The path's pages in the site's order (mkdocs.yml's `Learn` section)."""
    nav = yaml.safe_load((REPO / "mkdocs.yml").read_text())["nav"]
    (section,) = [entry["Learn"] for entry in nav if isinstance(entry, dict) and "Learn" in entry]
    return [next(iter(item.values())) if isinstance(item, dict) else item for item in section]


def blocks() -> list[Block]:
    found = []
    for page in learn_pages():
        text = (REPO / "docs" / page).read_text()
        found += [Block(page, m["id"], m["text"]) for m in BLOCK.finditer(text)]
    return found


# -- the checks: what each page says its block shows -------------------------------------------------------


def lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip() and not line.startswith("Warning:")]


def rows(output: str) -> list[list[str]]:
    return [line.split() for line in lines(output)]


def check_setup(out: str) -> None:
    assert re.search(r"^Client Version: v1\.35\.\d+$", out, re.MULTILINE), out
    assert re.search(r"^Server Version: v1\.35\.\d+$", out, re.MULTILINE), out


def check_nodes(out: str) -> None:
    nodes = {row[0]: row for row in rows(out)[1:]}
    assert set(nodes) == {"kwok-node-a", "kwok-node-b"}, out
    for row in nodes.values():
        assert row[1] == "Ready"
        assert ipaddress.ip_address(row[5]) in ipaddress.ip_network("127.0.0.0/8")


def check_pods(out: str) -> None:
    pods = {row[0]: row for row in rows(out)[1:]}
    (app,) = [name for name in pods if name.startswith("orders-api-")]
    for name in (app, "postgres-0"):
        assert pods[name][2] == "Running", out
        assert ipaddress.ip_address(pods[name][5]) in ipaddress.ip_network("127.0.0.0/8")
        assert pods[name][6] in {"kwok-node-a", "kwok-node-b"}


def check_pod_cidrs(out: str) -> None:
    table = {row[0]: row for row in rows(out)[1:]}
    assert set(table) == {"kwok-node-a", "kwok-node-b"}, out
    cidrs = [ipaddress.IPv4Network(row[1]) for row in table.values()]
    assert all(c.prefixlen == 24 and c.subnet_of(ipaddress.IPv4Network("127.0.0.0/8")) for c in cidrs)
    assert cidrs[0] != cidrs[1]


def check_service(out: str) -> None:
    (row,) = rows(out)[1:]
    assert row[:2] == ["orders-api", "ClusterIP"], out
    assert ipaddress.ip_address(row[2]) in ipaddress.ip_network("10.100.0.0/16")
    assert row[4] == "80/TCP"
    assert row[-1] == "app.kubernetes.io/name=orders-api"


def check_selected(out: str) -> None:
    (line,) = lines(out)
    assert line.startswith("pod/orders-api-"), out


def check_endpointslices(out: str) -> None:
    (row,) = rows(out)[1:]
    assert row[0].startswith("orders-api-"), out
    assert row[2:4] == ["<unset>", "<unset>"], out  # PORTS, ENDPOINTS: no loopback addresses admitted


def check_apiserver_slice(out: str) -> None:
    (row,) = rows(out)[1:]
    assert (row[0], row[1], row[3]) == ("kubernetes", "IPv4", "192.0.2.1"), out  # TEST-NET-1


def check_readyz(out: str) -> None:
    assert json.loads(out)["status"] == "ready", out


def check_stop_postgres(out: str) -> None:
    assert "Postgres stopped" in out, out
    assert lines(out)[-1] == '{"status":"database_unavailable"} 503', out


def check_start_postgres(out: str) -> None:
    assert "Postgres started" in out, out
    assert '"status":"ready"' in lines(out)[-1], out


def check_db_host(out: str) -> None:
    assert lines(out) == ["postgres.orders.svc.cluster.local"], out


def check_headless(out: str) -> None:
    assert rows(out) == [["NAME", "CLUSTER-IP"], ["postgres", "None"]], out


def targets(out: str) -> dict[str, list[tuple[str, str]]]:
    by_job: dict[str, list[tuple[str, str]]] = {}
    for line in lines(out):
        job, url, health = line.split("\t")
        by_job.setdefault(job, []).append((url, health))
    return by_job


# The jobs the agent's targets page lists in the sandbox (learn/discovery.md).
SANDBOX_JOBS = {
    "apiserver",
    "kubelet",
    "cadvisor",
    "node-exporter",
    "kube-state-metrics",
    "prometheus-agent",
    "pods",
    "orders-api",
    "inventory-api",
}


def check_targets(out: str) -> None:
    by_job = targets(out)
    assert set(by_job) == SANDBOX_JOBS, out
    assert len(by_job["node-exporter"]) == 2  # one per node
    ((url, _),) = by_job["orders-api"]  # the one pod's IP, its port 8080
    assert re.fullmatch(r"http://127\.\d+\.\d+\.\d+:8080/metrics", url), out
    assert [url.endswith(":9187/metrics") for url, _ in by_job["pods"]] == [True]  # Postgres's exporter
    for job in ("kubelet", "cadvisor", "apiserver"):  # nothing listens there
        assert all(health != "up" for _, health in by_job[job]), out


def check_relabel(out: str) -> None:
    target = json.loads(out)
    discovered = target["discovered"]
    assert discovered["__meta_kubernetes_namespace"] == "orders"
    assert discovered["__meta_kubernetes_pod_container_port_name"] == "http"
    assert discovered["__meta_kubernetes_pod_label_app_kubernetes_io_name"] == "orders-api"
    assert discovered["__address__"].endswith(":8080")
    labels = target["labels"]
    assert set(labels) == {"job", "instance", "namespace", "pod", "node", "container"}, labels
    assert (labels["job"], labels["namespace"], labels["container"]) == ("orders-api", "orders", "orders-api")
    assert labels["pod"] == discovered["__meta_kubernetes_pod_name"]
    assert labels["instance"] == discovered["__address__"]


def check_dropped(out: str) -> None:
    dropped = [tuple(line.split("\t")) for line in lines(out)]
    ports = {address.rsplit(":", 1)[1] for pool, address in dropped if pool == "orders-api"}
    assert {"5432", "9187"} <= ports, out
    assert any(pool == "pods" for pool, _ in dropped), out


def check_scale_up(out: str) -> None:
    assert lines(out)[-1] == "orders-api targets: 2", out


def check_scale_down(out: str) -> None:
    assert lines(out)[-1] == "orders-api targets: 1", out


def check_namespace_labels(out: str) -> None:
    table = {row[0]: row[-1].split(",") for row in rows(out)[1:]}
    assert set(table) == {"orders", "monitoring"}, out
    for name, labels in table.items():
        assert f"kubernetes.io/metadata.name={name}" in labels
        assert "pod-security.kubernetes.io/enforce=restricted" in labels


def check_no_policies(out: str) -> None:
    assert lines(out) == ["No resources found"], out


def check_agent_role(out: str) -> None:
    rules = lines(out)
    assert any('["nodes","services","pods"]' in r and '["get","list","watch"]' in r for r in rules), out
    assert any('["endpointslices"]' in r and '["get","list","watch"]' in r for r in rules), out
    assert any('["nodes/metrics"]' in r and '["get"]' in r for r in rules), out
    assert any('["/metrics","/metrics/cadvisor"]' in r and '["get"]' in r for r in rules), out
    assert len(rules) == 4, out


def check_agent_can_i(out: str) -> None:
    assert lines(out) == ["yes", "yes", "no", "no"], out


def check_statefulsets(out: str) -> None:
    table = {(row[0], row[1]): row[2] for row in rows(out)[1:]}
    assert table == {("monitoring", "prometheus-agent"): "1/1", ("orders", "postgres"): "1/1"}, out


def check_claims(out: str) -> None:
    table = {row[1]: (row[2], row[4], row[6]) for row in rows(out)[1:]}
    assert table == {
        "data-postgres-0": ("Bound", "20Gi", "gp3-encrypted-backup"),
        "wal-prometheus-agent-0": ("Bound", "10Gi", "gp3-encrypted-disposable"),
    }, out


def check_volumes(out: str) -> None:
    table = {row[1]: (row[2], row[3]) for row in rows(out)[1:]}
    assert table == {
        "data-postgres-0": ("gp3-encrypted-backup", "ebs.csi.aws.com"),
        "wal-prometheus-agent-0": ("gp3-encrypted-disposable", "ebs.csi.aws.com"),
    }, out


def check_config_size(out: str) -> None:
    size, jobs = (int(line) for line in lines(out))
    assert jobs == 10, out  # the platform's 8, one per service of the two
    assert 15_000 < size < 25_000, out  # "about 20,000 bytes", far below the 1 MiB of a ConfigMap


def check_no_secrets(out: str) -> None:
    assert lines(out) == ["No resources found"], out


def check_password_path(out: str) -> None:
    assert lines(out) == ["/mnt/secrets/db-password", "secrets-store.csi.k8s.io"], out


def check_kept_samples(out: str) -> None:
    (line,) = lines(out)
    match = re.fullmatch(r"node-exporter: ([0-9.]+) of the scraped samples kept", line)
    assert match, out
    assert 0.05 < float(match[1]) < 0.3, out  # "about a seventh"


def check_agent_resources(out: str) -> None:
    assert json.loads(out) == {"limits": {"memory": "576Mi"}, "requests": {"cpu": "100m", "memory": "160Mi"}}


CHECKS: dict[str, Callable[[str], None]] = {
    "setup": check_setup,
    "nodes": check_nodes,
    "pods": check_pods,
    "pod-cidrs": check_pod_cidrs,
    "service": check_service,
    "selected": check_selected,
    "endpointslices": check_endpointslices,
    "apiserver-slice": check_apiserver_slice,
    "readyz": check_readyz,
    "stop-postgres": check_stop_postgres,
    "start-postgres": check_start_postgres,
    "db-host": check_db_host,
    "headless": check_headless,
    "targets": check_targets,
    "relabel": check_relabel,
    "dropped": check_dropped,
    "scale-up": check_scale_up,
    "scale-down": check_scale_down,
    "namespace-labels": check_namespace_labels,
    "no-policies": check_no_policies,
    "statefulsets": check_statefulsets,
    "claims": check_claims,
    "volumes": check_volumes,
    "config-size": check_config_size,
    "no-secrets": check_no_secrets,
    "password-path": check_password_path,
    "agent-role": check_agent_role,
    "agent-can-i": check_agent_can_i,
    "kept-samples": check_kept_samples,
    "agent-resources": check_agent_resources,
}


def test_every_block_has_its_check_and_every_check_its_block():
    found = [block.id for block in blocks()]
    assert len(found) == len(set(found)), "two blocks share an id"
    assert found == list(CHECKS), "the checks follow the pages' order"
    assert found[0] == "setup"
    assert {block.page for block in blocks()} == set(learn_pages())  # every page has its commands
    for page in learn_pages():
        assert (REPO / "docs" / page).is_file(), page


# -- the sandbox and the learner's shell ------------------------------------------------------------------


@pytest.fixture(scope="module")
def learner_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`python -m sandbox --no-view` (what `make local` runs) with a state directory of its own, then the
    environment the set-up block leaves in the learner's shell. SIGINT (Ctrl-C) stops it at the end."""
    workdir = tmp_path_factory.mktemp("learn-path")
    state_dir = workdir / "state"
    base = os.environ | {
        "SANDBOX_STATE_DIR": str(state_dir),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    base.pop("MAKEFLAGS", None)  # the learner's own `make`, not a sub-make of `make test`
    log = (workdir / "sandbox.log").open("w")
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--no-view"], cwd=REPO, env=base, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while "env" not in _state(state_dir):
            assert sandbox.poll() is None, Path(log.name).read_text()
            assert time.monotonic() < deadline, f"no sandbox in {START_TIMEOUT_SECONDS} s"
            time.sleep(2)
        (setup,) = [block for block in blocks() if block.id == "setup"]
        env_file = workdir / "learner.env"
        result = run(setup.text + f'\nenv -0 > "{env_file}"\n', base)
        check_setup(result)
        learner = dict(item.split("=", 1) for item in env_file.read_text().split("\0") if "=" in item)
        # A learner reads on once `make local` shows the sandbox running: on a busy machine the agent's
        # first discovery can take a while after it is ready, so wait (generously) until its targets page,
        # read by the page's own block, lists every job.
        (listing,) = [block for block in blocks() if block.id == "targets"]
        deadline = time.monotonic() + DISCOVERY_TIMEOUT_SECONDS
        while set(targets(run(listing.text, learner))) != SANDBOX_JOBS:
            assert time.monotonic() < deadline, run(listing.text, learner)
            time.sleep(2)
        yield learner
    finally:
        if sandbox.poll() is None:
            sandbox.send_signal(signal.SIGINT)  # Ctrl-C: it stops everything it started
            try:
                sandbox.wait(timeout=180)
            except subprocess.TimeoutExpired:
                sandbox.kill()
                sandbox.wait(timeout=30)
        log.close()


def _state(state_dir: Path) -> dict[str, object]:
    try:
        state: dict[str, object] = json.loads((state_dir / "state.json").read_text())
    except (OSError, ValueError):
        return {}
    return state


def run(text: str, env: dict[str, str]) -> str:
    """`text` in bash as a learner's shell runs it (no `set -e`); stdout and stderr together, as a terminal
    shows them."""
    result = subprocess.run(
        ["bash", "-c", text],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=BLOCK_TIMEOUT_SECONDS,
        check=False,
    )
    return result.stdout


@pytest.mark.parametrize("block", [b for b in blocks() if b.id != "setup"], ids=lambda b: b.id)
def test_the_block_shows_what_its_page_says(block: Block, learner_env: dict[str, str]):
    CHECKS[block.id](run(block.text, learner_env))
