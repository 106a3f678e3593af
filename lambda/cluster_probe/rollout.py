"""Pure checks on Kubernetes objects: is a Deployment's rollout complete, which pods to ask for readiness.

Rollout complete is what `kubectl rollout status` waits for: the controller has seen the latest spec
(observedGeneration >= generation), every replica is updated, no old replica is left, every updated
replica is available, and the Progressing condition has not given up (ProgressDeadlineExceeded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"


@dataclass(frozen=True)
class Rollout:
    complete: bool
    stuck: bool  # the Deployment gave up: waiting longer will not help
    detail: str


def rollout(deployment: dict[str, Any]) -> Rollout:
    generation = int(deployment.get("metadata", {}).get("generation", 0))
    spec_replicas = int(deployment.get("spec", {}).get("replicas", 1))
    status = deployment.get("status", {})
    observed = int(status.get("observedGeneration", 0))
    replicas = int(status.get("replicas", 0))
    updated = int(status.get("updatedReplicas", 0))
    available = int(status.get("availableReplicas", 0))
    progressing: dict[str, Any] = next(
        (c for c in status.get("conditions", []) if c.get("type") == "Progressing"), {}
    )
    counts = f"desired {spec_replicas}, updated {updated}, total {replicas}, available {available}"
    if progressing.get("reason") == DEADLINE_EXCEEDED:
        return Rollout(False, True, f"{DEADLINE_EXCEEDED}: {progressing.get('message', '')} ({counts})")
    if observed < generation:
        return Rollout(False, False, f"generation {generation} not observed yet (observed {observed})")
    complete = updated == spec_replicas == replicas == available
    return Rollout(complete, False, counts)


def probe_targets(pod_list: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, IP) of the running pods that are not terminating."""
    targets = []
    for pod in pod_list.get("items", []):
        metadata, status = pod.get("metadata", {}), pod.get("status", {})
        if metadata.get("deletionTimestamp") or status.get("phase") != "Running" or not status.get("podIP"):
            continue
        targets.append((str(metadata.get("name", "")), str(status["podIP"])))
    return sorted(targets)
