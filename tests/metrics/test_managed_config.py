"""The managed collector's configuration (observability/render/managed_config.py): valid Prometheus
configuration to the real promtool, and the same targets as the agent's where it had to change how they
are found (Endpoints discovery instead of EndpointSlices, the kubelet through the API server's node proxy).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness import manifests as mf
from harness import sd
from harness.manifests import Manifests
from harness.stack import PROMTOOL
from observability import names
from observability.render import managed_config as mc
from observability.render import scrape_config as sc
from tests.metrics.relabel import ScrapeTarget, targets_of

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("metrics")]
# Prometheus 3's promtool, built with Kubernetes discovery by `make go-tools` (Debian's has none).
PROMTOOL3 = Path(
    os.environ.get("PROMTOOL3_BIN", str(Path(__file__).resolve().parents[2] / ".venv/bin/promtool3"))
)
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


def test_file_sd_variant_passes_promtool(tmp_path):
    result = check_config(PROMTOOL, tmp_path, sc.with_file_sd(MANAGED, str(tmp_path / "sd")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_as_deployed_passes_prometheus_3s_promtool(tmp_path):
    """With its Kubernetes discovery blocks (role `endpoints` included), as the scraper receives it."""
    if not PROMTOOL3.exists():
        pytest.fail(f"{PROMTOOL3} not found: run `make go-tools` (builds it from the Go module proxy)")
    result = check_config(PROMTOOL3, tmp_path, MANAGED)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = mc.managed_config(AGENT)
    broken["scrape_configs"][0]["kubernetes_sd_configs"][0]["role"] = "endpointslices"  # a typo: refused
    assert check_config(PROMTOOL3, tmp_path, broken).returncode != 0


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
@pytest.fixture(scope="module")
def cluster(manifests: Manifests) -> list[dict[str, Any]]:
    """Our pods and services on two nodes, and the API server's Service and EndpointSlice."""
    service, endpoint_slice = mf.kubernetes_service(["10.40.0.11", "10.40.0.12"])
    return [
        *mf.cluster_pods(manifests).values(),
        manifests.get("Service", names.WEBAPP),
        manifests.get("Service", names.POSTGRES),
        mf.node(mf.NODE_A, "10.40.1.10"),
        mf.node(mf.NODE_B, "10.40.2.20"),
        service,
        endpoint_slice,
    ]


def as_endpoints(target: dict[str, str]) -> dict[str, str] | None:
    """What Prometheus's `endpoints` role gives for the address an `endpointslice` target describes
    (discovery/kubernetes/endpoints.go): `__meta_kubernetes_endpoint_port_name` and `..._ready` for the
    slice's port name and ready condition, no slice-only labels; a terminating address is not listed."""
    if target.get("__meta_kubernetes_endpointslice_endpoint_conditions_terminating") == "true":
        return None
    renamed = {
        "__meta_kubernetes_endpointslice_port_name": "__meta_kubernetes_endpoint_port_name",
        "__meta_kubernetes_endpointslice_endpoint_conditions_ready": "__meta_kubernetes_endpoint_ready",
    }
    return {
        renamed.get(k, k): v
        for k, v in target.items()
        if k in renamed or not k.startswith("__meta_kubernetes_endpointslice")
    }


@pytest.mark.parametrize("job", ["apiserver", "service-endpoints"])
def test_endpoints_discovery_finds_the_agents_targets(cluster, job):
    discovered = sd.discover(AGENT_JOBS[job], cluster)
    agent = targets_of(AGENT_JOBS[job], discovered)
    endpoints = [e for e in map(as_endpoints, discovered) if e is not None]
    assert targets_of(MANAGED_JOBS[job], endpoints) == agent
    if job == "apiserver":
        assert len(agent) == 2  # both control-plane addresses


@pytest.mark.parametrize(("job", "path"), [("kubelet", "/metrics"), ("cadvisor", "/metrics/cadvisor")])
def test_node_jobs_go_through_the_api_servers_node_proxy(cluster, job, path):
    discovered = sd.discover(AGENT_JOBS[job], cluster)
    assert targets_of(MANAGED_JOBS[job], discovered) == sorted(
        ScrapeTarget(
            f"https://kubernetes.default.svc:443/api/v1/nodes/{node}/proxy{path}",
            (("instance", node), ("job", job), ("node", node)),
        )
        for node in (mf.NODE_A, mf.NODE_B)
    )


def test_pod_jobs_are_the_agents(cluster):
    for job in ("node-exporter", "kube-state-metrics", "pods"):
        discovered = sd.discover(AGENT_JOBS[job], cluster)
        assert targets_of(MANAGED_JOBS[job], discovered) == targets_of(AGENT_JOBS[job], discovered)


def test_the_comparison_has_targets_to_compare(cluster):
    """Guards the tests above against comparing two empty lists."""
    for job in ("node-exporter", "kube-state-metrics", "pods"):
        assert targets_of(AGENT_JOBS[job], sd.discover(AGENT_JOBS[job], cluster)), job


def test_an_annotated_services_endpoints_are_the_agents(manifests):
    """Ready and not-ready endpoints are scraped, a terminating one is not, through either discovery."""
    pods = mf.cluster_pods(manifests)
    ready = mf.opted_out(pods[names.POSTGRES], "postgres-0")
    not_ready = mf.opted_out(pods[names.POSTGRES], "postgres-1")
    not_ready["status"] |= {"podIP": "10.40.1.34", "conditions": [{"type": "Ready", "status": "False"}]}
    leaving = mf.terminating(mf.opted_out(pods[names.POSTGRES], "postgres-2"))
    leaving["status"] |= {"podIP": "10.40.1.36"}
    service = mf.annotated_service(manifests.get("Service", names.POSTGRES), names.POSTGRES_EXPORTER_PORT)
    job = "service-endpoints"
    discovered = sd.discover(AGENT_JOBS[job], [ready, not_ready, leaving, service])
    agent = targets_of(AGENT_JOBS[job], discovered)
    assert [t.label_dict["pod"] for t in agent] == ["postgres-0", "postgres-1"]
    endpoints = [e for e in map(as_endpoints, discovered) if e is not None]
    assert targets_of(MANAGED_JOBS[job], endpoints) == agent
