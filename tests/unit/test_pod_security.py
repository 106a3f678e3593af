"""Pod Security: `monitoring` enforces `restricted`, and every pod it runs meets it; node-exporter, which
needs the host, lives alone in a `privileged` namespace.

kubernetes-validate checks schemas, not Pod Security, so the `restricted` rules the API server would
enforce at admission are checked here on the synthesized pod templates."""

from __future__ import annotations

import pytest

from observability import names

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
# `restricted` admits only these volume types.
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                      "projected", "secret"}  # fmt: skip


def _pod_templates(synth, namespace: str) -> dict[str, dict]:
    templates = {}
    for obj in synth.kubernetes_manifests():
        if obj["metadata"].get("namespace") != namespace:
            continue
        if obj["kind"] in WORKLOAD_KINDS:
            templates[f"{obj['kind']}/{obj['metadata']['name']}"] = obj["spec"]["template"]["spec"]
        elif obj["kind"] == "CronJob":
            templates[f"CronJob/{obj['metadata']['name']}"] = obj["spec"]["jobTemplate"]["spec"]["template"][
                "spec"
            ]
        elif obj["kind"] == "Pod":
            templates[f"Pod/{obj['metadata']['name']}"] = obj["spec"]
    return templates


def _restricted_violations(pod: dict) -> list[str]:
    """The Pod Security Standard `restricted` (Kubernetes docs, "Pod Security Standards"), as far as a
    template can break it."""
    problems = []
    pod_context = pod.get("securityContext", {})
    problems += [f"{key} set" for key in ("hostNetwork", "hostPID", "hostIPC") if pod.get(key)]
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            problems.append(f"volume {volume['name']} is {sorted(kinds)}")
    for container in pod.get("initContainers", []) + pod["containers"]:
        name, context = container["name"], container.get("securityContext", {})
        if context.get("privileged"):
            problems.append(f"{name}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        capabilities = context.get("capabilities", {})
        if "ALL" not in capabilities.get("drop", []):
            problems.append(f"{name}: does not drop ALL capabilities")
        if set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: adds capabilities {capabilities['add']}")
        if not context.get("runAsNonRoot", pod_context.get("runAsNonRoot")):
            problems.append(f"{name}: runAsNonRoot is not true")
        if context.get("runAsUser", pod_context.get("runAsUser")) == 0:
            problems.append(f"{name}: runs as uid 0")
        seccomp = context.get("seccompProfile", pod_context.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{name}: seccomp profile {seccomp!r}")
        if any(p.get("hostPort") for p in container.get("ports", [])):
            problems.append(f"{name}: hostPort")
    return problems


def _labels(synth, namespace: str) -> dict[str, str]:
    return synth.kubernetes_object("Namespace", namespace)["metadata"]["labels"]


@pytest.mark.parametrize("variant", ["dev", "prod", "auto"])
def test_monitoring_enforces_restricted_and_its_pods_meet_it(synthesized, variant):
    synth = synthesized[variant]
    labels = _labels(synth, names.MONITORING_NAMESPACE)
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    templates = _pod_templates(synth, names.MONITORING_NAMESPACE)
    assert set(templates) == {
        f"StatefulSet/{names.PROMETHEUS_AGENT}",
        f"Deployment/{names.KUBE_STATE_METRICS}",
    }
    assert {name: _restricted_violations(pod) for name, pod in templates.items()} == {
        name: [] for name in templates
    }


def test_node_exporter_lives_alone_in_a_privileged_namespace(dev):
    labels = _labels(dev, names.NODE_EXPORTER_NAMESPACE)
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert dev.kubernetes_object("DaemonSet", names.NODE_EXPORTER)["metadata"]["namespace"] == (
        names.NODE_EXPORTER_NAMESPACE
    )
    assert set(_pod_templates(dev, names.NODE_EXPORTER_NAMESPACE)) == {f"DaemonSet/{names.NODE_EXPORTER}"}


def test_the_check_notices_what_node_exporter_needs(dev):
    """Guards the test above: node-exporter's pod (host network, PID and paths) fails `restricted`."""
    (pod,) = _pod_templates(dev, names.NODE_EXPORTER_NAMESPACE).values()
    problems = _restricted_violations(pod)
    assert {"hostNetwork set", "hostPID set"} <= set(problems)
    assert any(p.startswith("volume ") and "hostPath" in p for p in problems)
