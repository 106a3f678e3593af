"""The managed collector's configuration (observability/render/managed_config.py): valid Prometheus
configuration to the real promtool, and the same targets as the agent's where it had to change how they
are found (Endpoints discovery instead of EndpointSlices, the kubelet through the API server's node proxy):
both configurations run in real agents (the cluster's release) against the edge-case simulated cluster
(tests/metrics/edge_cases.py), and their own `/api/v1/targets` are compared.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.manifests import Manifests
from harness.stack import PROMTOOL, Prometheus, wait_until
from observability.render import managed_config as mc
from observability.render import scrape_config as sc
from tests.metrics.edge_cases import TERMINATING, cluster_agent, edge_case_cluster
from tests.metrics.relabel import ScrapeTarget

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("metrics")]
AGENT = sc.agent_config(cluster_name="c", environment="dev", region="us-east-1", remote_write_url="https://x")
MANAGED = mc.managed_config(AGENT)
AGENT_JOBS = {j["job_name"]: j for j in AGENT["scrape_configs"]}
MANAGED_JOBS = {j["job_name"]: j for j in MANAGED["scrape_configs"]}


def check_config(
    promtool: Path | str, tmp_path: Path, config: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "scraper.yml"
    path.write_text(sc.render(config))
    return subprocess.run(
        [str(promtool), "check", "config", "--syntax-only", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_as_deployed_passes_prometheus_3s_promtool(tmp_path):
    """With its Kubernetes discovery blocks (role `endpoints` included), as the scraper receives it."""
    if not PROMTOOL.exists():
        pytest.fail(f"{PROMTOOL} not found: run `make go-tools` (builds it from the Go module proxy)")
    result = check_config(PROMTOOL, tmp_path, MANAGED)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = mc.managed_config(AGENT)
    broken["scrape_configs"][0]["kubernetes_sd_configs"][0]["role"] = "endpointslices"  # a typo: refused
    assert check_config(PROMTOOL, tmp_path, broken).returncode != 0


def test_a_sharded_agent_configuration_is_refused():
    sharded = sc.agent_config(
        cluster_name="c",
        environment="dev",
        region="us-east-1",
        remote_write_url="https://x",
        shard=0,
        shards=2,
    )
    with pytest.raises(ValueError, match="sharded"):
        mc.managed_config(sharded)


# --- the same targets ------------------------------------------------------------------------------------
COMPARED = {"apiserver", "service-endpoints", "node-exporter", "kube-state-metrics", "pods"}


def active(agent: Prometheus) -> dict[str, set[ScrapeTarget]]:
    """Per job, what the agent scrapes: URL and labels."""
    result: dict[str, set[ScrapeTarget]] = {}
    for target in agent.targets()["activeTargets"]:
        labels = tuple(sorted(target["labels"].items()))
        result.setdefault(target["scrapePool"], set()).add(ScrapeTarget(target["scrapeUrl"], labels))
    return result


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, manifests: Manifests) -> Iterator[dict[str, Prometheus]]:
    """The agent's and the scraper's configurations, each in a real agent against one edge-case cluster,
    once both have discovered every job's targets and their lists stopped changing."""
    workdir = tmp_path_factory.mktemp("managed-targets")
    with edge_case_cluster(workdir, manifests) as (cluster, receiver, token, _pods):
        # The scraper's configuration has no remote write (the scraper's destination is a resource field).
        scraper = MANAGED | {"remote_write": [{"url": "http://127.0.0.1:9/api/v1/write"}]}
        # The scraper reads the cluster as AMP's access policy lets it (Endpoints too, which the agent's
        # role does not grant): here as the administrator.
        scraper_token = workdir / "scraper-token"
        scraper_token.write_text(cluster.admin_token)
        agents = {
            "agent": cluster_agent(
                workdir, AGENT, name="agent", cluster=cluster, receiver=receiver, token=token
            ),
            "scraper": cluster_agent(
                workdir, scraper, name="scraper", cluster=cluster, receiver=receiver, token=scraper_token
            ),
        }
        try:
            for agent in agents.values():
                agent.start_ready()
            seen: list[list[dict[str, set[ScrapeTarget]]]] = []

            def settled() -> bool:
                now = [active(agent) for agent in agents.values()]
                done = bool(seen) and now == seen[-1] and all(a.keys() >= COMPARED for a in now)
                seen.append(now)
                return done

            assert wait_until(settled, attempts=120, interval=1.0), (
                [sorted(a) for a in seen[-1]] if seen else None
            )
            yield agents
        finally:
            for agent in agents.values():
                agent.stop()


@pytest.mark.parametrize(
    "job", ["apiserver", "service-endpoints", "node-exporter", "kube-state-metrics", "pods"]
)
def test_the_scraper_scrapes_the_agents_targets(both, job):
    """Endpoints discovery (apiserver, service-endpoints) finds what EndpointSlices find: ready and not
    ready endpoints, not the terminating one, which the Endpoints API does not list; the pod jobs are the
    agent's own."""
    agent, scraper = active(both["agent"]), active(both["scraper"])
    assert agent[job], f"the agent found no {job} target: nothing to compare"
    assert scraper[job] == agent[job]
    assert TERMINATING not in {dict(t.labels).get("pod") for t in scraper.get(job, set())}


@pytest.mark.parametrize(("job", "path"), [("kubelet", "/metrics"), ("cadvisor", "/metrics/cadvisor")])
def test_node_jobs_go_through_the_api_servers_node_proxy(both, job, path):
    nodes = ("kwok-node-a", "kwok-node-b", "kwok-node-c")  # the edge-case cluster's
    assert active(both["scraper"])[job] == {
        ScrapeTarget(
            f"https://kubernetes.default.svc:443/api/v1/nodes/{node}/proxy{path}",
            (("instance", node), ("job", job), ("node", node)),
        )
        for node in nodes
    }
