"""Readiness belongs to a pod's main container: a sidecar that hangs must not take its pod out of
Service endpoints and DNS (for Postgres: the API would lose its database because its exporter hung)."""

from __future__ import annotations

import pytest

from observability import names

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def _pod_templates(synth) -> dict[str, dict]:
    templates = {}
    for obj in synth.kubernetes_manifests():
        key = f"{obj['metadata'].get('namespace')}/{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] in WORKLOAD_KINDS:
            templates[key] = obj["spec"]["template"]["spec"]
        elif obj["kind"] == "CronJob":
            templates[key] = obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif obj["kind"] == "Pod":
            templates[key] = obj["spec"]
    return templates


def _main_container(name: str, pod: dict) -> str:
    """The container named after its workload (`app.kubernetes.io/name`), else the first one."""
    workload = name.rsplit("/", 1)[-1]
    container_names = [c["name"] for c in pod["containers"]]
    return workload if workload in container_names else container_names[0]


@pytest.mark.parametrize("variant", ["dev", "prod", "auto"])
def test_only_the_main_container_gates_readiness(synthesized, variant):
    templates = _pod_templates(synthesized[variant])
    assert templates, "no pod templates found"
    gating = {
        name: sorted(
            c["name"]
            for c in pod["containers"] + pod.get("initContainers", [])
            if "readinessProbe" in c and c["name"] != _main_container(name, pod)
        )
        for name, pod in templates.items()
    }
    assert gating == {name: [] for name in templates}


def test_postgres_readiness_is_the_database_alone_and_its_exporter_heals_itself(dev):
    pod = dev.kubernetes_object("StatefulSet", names.POSTGRES)["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}
    assert {name for name, c in containers.items() if "readinessProbe" in c} == {names.POSTGRES}
    exporter = containers[names.POSTGRES_EXPORTER]
    # A hung exporter is restarted (that container only), within its own memory limit.
    assert exporter["livenessProbe"]["httpGet"]["port"] == "metrics"
    assert "startupProbe" not in exporter
    assert exporter["resources"]["limits"]["memory"]
