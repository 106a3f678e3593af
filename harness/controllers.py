"""What kube-controller-manager would do for a workload on the simulated cluster (harness/cluster.py), which
runs none: a Deployment's ReplicaSet, a StatefulSet's claims, the pods owned by them, and once kwok has made
the pods Running, the status each controller writes. kube-state-metrics then reports the workload as it
would in a cluster (owners, replica counts, a Deployment's conditions, claims).

Names and labels follow the controllers: `<deployment>-<pod-template-hash>` ReplicaSets whose pods carry
`pod-template-hash`, `<template>-<pod>` claims, a StatefulSet's revision `<name>-<hash>`.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
from typing import Any

from harness.cluster import ClusterError, SimulatedCluster

Manifest = dict[str, Any]
# The characters Kubernetes generates names from (k8s.io/apimachinery's rand.SafeEncodeString).
ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def template_hash(template: Manifest, *, length: int = 10) -> str:
    """A stable hash of a pod template, in the alphabet of the controllers' pod-template-hash."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:length])


def _owner(obj: Manifest) -> Manifest:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_status(cluster: SimulatedCluster, obj: Manifest, status: Manifest) -> None:
    resource = cluster.resource(obj["apiVersion"], obj["kind"])
    path = resource.path(namespace=obj["metadata"].get("namespace"), name=obj["metadata"]["name"])
    cluster.request(
        "PATCH",
        f"{path}/status",
        body={"status": status},
        headers={"Content-Type": "application/merge-patch+json"},
    )


def run(cluster: SimulatedCluster, workload: Manifest) -> list[Manifest]:
    """Creates what `workload`'s controllers would, waits until kwok runs its pods, writes the statuses;
    returns the Running pods."""
    metadata = workload["metadata"]
    namespace = metadata.get("namespace", "default")
    live = cluster.request(
        "GET",
        cluster.resource(workload["apiVersion"], workload["kind"]).path(
            namespace=namespace, name=metadata["name"]
        ),
    )
    pods = cluster.pods_for(workload)
    revision = template_hash(workload["spec"]["template"])
    owner = live
    if workload["kind"] == "Deployment":
        owner = cluster.create(_replica_set(live, revision=revision, replicas=len(pods)))
        for pod in pods:
            pod["metadata"]["generateName"] = f"{owner['metadata']['name']}-"
            pod["metadata"].setdefault("labels", {})["pod-template-hash"] = revision
    elif workload["kind"] == "StatefulSet":
        for pod in pods:
            pod["metadata"].setdefault("labels", {}).update(
                {
                    "controller-revision-hash": f"{metadata['name']}-{revision}",
                    "statefulset.kubernetes.io/pod-name": pod["metadata"]["name"],
                }
            )
        _create_claims(cluster, live, pods)
    for pod in pods:
        pod["metadata"]["ownerReferences"] = [_owner(owner)]
    created = [cluster.create_pod(pod) for pod in pods]
    running = cluster.wait_running(namespace=namespace, names=[p["metadata"]["name"] for p in created])
    n = len(running)
    generation = live["metadata"]["generation"]
    if workload["kind"] == "Deployment":
        counts = {"replicas": n, "readyReplicas": n, "availableReplicas": n}
        _write_status(cluster, owner, counts | {"fullyLabeledReplicas": n, "observedGeneration": 1})
        now = _now()
        progressed = f'ReplicaSet "{owner["metadata"]["name"]}" has successfully progressed.'
        conditions = [
            ("Available", "MinimumReplicasAvailable", "Deployment has minimum availability."),
            ("Progressing", "NewReplicaSetAvailable", progressed),
        ]
        status = counts | {"updatedReplicas": n, "observedGeneration": generation}
        status["conditions"] = [
            {"type": t, "status": "True", "reason": r, "message": m, "lastUpdateTime": now,
             "lastTransitionTime": now}
            for t, r, m in conditions
        ]  # fmt: skip
        _write_status(cluster, live, status)
    elif workload["kind"] == "StatefulSet":
        counts = {"replicas": n, "readyReplicas": n, "availableReplicas": n}
        rev = f"{metadata['name']}-{revision}"
        _write_status(
            cluster,
            live,
            counts
            | {"currentReplicas": n, "updatedReplicas": n, "currentRevision": rev, "updateRevision": rev}
            | {"observedGeneration": generation, "collisionCount": 0},
        )
    elif workload["kind"] == "DaemonSet":
        _write_status(
            cluster,
            live,
            {"currentNumberScheduled": n, "desiredNumberScheduled": n, "numberAvailable": n, "numberReady": n}
            | {"numberMisscheduled": 0, "updatedNumberScheduled": n, "observedGeneration": generation},
        )
    else:
        raise ClusterError(f"no controller for {workload['kind']}")
    return running


def _replica_set(deployment: Manifest, *, revision: str, replicas: int) -> Manifest:
    """The Deployment controller's ReplicaSet for the current template."""
    spec = deployment["spec"]
    template = copy.deepcopy(spec["template"])
    template["metadata"].setdefault("labels", {})["pod-template-hash"] = revision
    selector = copy.deepcopy(spec["selector"])
    selector.setdefault("matchLabels", {})["pod-template-hash"] = revision
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{deployment['metadata']['name']}-{revision}",
            "namespace": deployment["metadata"]["namespace"],
            "labels": template["metadata"]["labels"],
            "annotations": {"deployment.kubernetes.io/revision": "1"},
            "ownerReferences": [_owner(deployment)],
        },
        "spec": {"replicas": replicas, "selector": selector, "template": template},
    }


def _create_claims(cluster: SimulatedCluster, statefulset: Manifest, pods: list[Manifest]) -> None:
    """The StatefulSet controller's claims, `<template>-<pod>`, each Bound to a volume as the EBS CSI
    provisioner and the volume controller leave them (`pvc-<claim uid>`)."""
    namespace = statefulset["metadata"]["namespace"]
    for template in statefulset["spec"].get("volumeClaimTemplates", []):
        for pod in pods:
            claim = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {
                    "name": f"{template['metadata']['name']}-{pod['metadata']['name']}",
                    "namespace": namespace,
                    "labels": dict(statefulset["spec"]["selector"].get("matchLabels", {})),
                },
                "spec": copy.deepcopy(template["spec"]),
            }
            created = cluster.create(claim)
            volume = cluster.create(_volume_for(created))
            _write_status(cluster, volume, {"phase": "Bound"})
            claim_status = {"phase": "Bound", "accessModes": claim["spec"].get("accessModes", [])}
            _write_status(
                cluster, created, claim_status | {"capacity": claim["spec"]["resources"]["requests"]}
            )
            cluster.request(
                "PATCH",
                f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{created['metadata']['name']}",
                body={"spec": {"volumeName": volume["metadata"]["name"]}},
                headers={"Content-Type": "application/merge-patch+json"},
            )


def _volume_for(claim: Manifest) -> Manifest:
    """The volume the EBS CSI driver provisions for `claim` (the volume id is made up)."""
    spec = claim["spec"]
    volume_spec = {
        "capacity": {"storage": spec["resources"]["requests"]["storage"]},
        "accessModes": spec.get("accessModes", ["ReadWriteOnce"]),
        "persistentVolumeReclaimPolicy": "Delete",
        "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": f"vol-{claim['metadata']['uid'][:17]}"},
        "claimRef": {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "namespace": claim["metadata"]["namespace"],
            "name": claim["metadata"]["name"],
            "uid": claim["metadata"]["uid"],
        },
    }
    if spec.get("storageClassName"):
        volume_spec["storageClassName"] = spec["storageClassName"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": f"pvc-{claim['metadata']['uid']}"},
        "spec": volume_spec,
    }
