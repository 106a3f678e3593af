"""The sandbox's faults on its simulated cluster (issue #19), as a user learning Kubernetes would apply them
with kubectl: `delete-pod`, `drain-node` / `uncordon-node`, `scale` of the orders API's Deployment.

The real controllers and scheduler do the rest (a replacement, a rescheduled pod, a PodDisruptionBudget's
refusal); after each fault the processes of the pods that moved follow them (`ClusterStack.follow`, the
kubelet's part: harness/kubelet.py), and the orders API's new addresses go to `moved` (the load follows).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from config.workloads import WorkloadsConfig
from harness.cluster import ApiError, ClusterError
from harness.cluster_stack import ClusterStack, Manifest
from harness.manifests import Manifests
from observability import names
from sandbox.faults import DEFAULT_POD, FaultError

# The orders API's Deployment has no `replicas` (its autoscaler's, which does not run here): one pod.
ORDERS_API_REPLICAS = 1
MAX_ORDERS_API_REPLICAS = WorkloadsConfig().web_max_replicas  # as far as its autoscaler would go


class ClusterFaults:
    """`active`: the sandbox's active faults (name -> (what, since)), which these add to and clear."""

    def __init__(
        self,
        stack: ClusterStack,
        manifests: Manifests,
        *,
        active: dict[str, tuple[str, float]],
        moved: Callable[[list[str]], None],
    ) -> None:
        self.stack, self.manifests, self.active, self._moved = stack, manifests, active, moved
        # Workloads a fault left not rolled out (pods Pending): followed again on uncordon-node.
        self._not_back: set[str] = set()

    def handlers(self, params: Mapping[str, Any]) -> dict[str, Callable[[], str]]:
        """Fault name -> what applies it (with `params`)."""
        return {
            "delete-pod": lambda: self._delete_pod(str(params.get("pod", DEFAULT_POD))),
            "drain-node": lambda: self._drain_node(self._node(params)),
            "uncordon-node": lambda: self._uncordon_node(self._node(params)),
            "scale": lambda: self._scale(params.get("replicas")),
        }

    def _delete_pod(self, pod: str) -> str:
        """`pod` names a workload (its first pod is deleted) or one of the workloads' pods."""
        workload = pod if pod in self.stack.pods else self._owners().get(pod)
        if workload is None:
            raise FaultError(f"no workload or pod {pod!r}; workloads: {', '.join(sorted(self.stack.pods))}")
        if workload == names.POSTGRES:
            # Its replacement would get a new IP, where nothing moves the server and its data.
            raise FaultError("the sandbox does not move Postgres: stop it with FAULT=stop-postgres instead")
        candidates = [p for p in self.stack.pods[workload] if pod in (workload, p["metadata"]["name"])]
        if not candidates:
            raise FaultError(f"{workload} has no Running pod")
        victim = candidates[0]
        metadata = victim["metadata"]
        self.stack.cluster.delete_pod(namespace=metadata["namespace"], name=metadata["name"])
        deleted = f"deleted pod {metadata['namespace']}/{metadata['name']} ({_where(victim)})"
        return "\n".join([deleted, self._follow(workload)])

    def _owners(self) -> dict[str, str]:
        """Pod name -> its workload's name, for the workloads' pods as last followed."""
        return {p["metadata"]["name"]: name for name, pods in self.stack.pods.items() for p in pods}

    @staticmethod
    def _node(params: Mapping[str, Any]) -> str:
        node = params.get("node")
        if not node:
            raise FaultError("which node? NODE=<node> (make fault FAULT=status lists them)")
        return str(node)

    def _drain_node(self, node: str) -> str:
        self._known_node(node)
        workloads = self._owners()
        drained = self.stack.cluster.drain_node(node)
        self.active[f"cordon {node}"] = (f"{node} cordoned", time.time())
        lines = [f"{node} cordoned; evicted: {', '.join(drained.evicted) or 'none'}"]
        lines += [
            f"refused by a PodDisruptionBudget: {pod}: {error.status_code} {error.reason}: {error.message}"
            for pod, error in drained.refused.items()
        ]
        lines += [
            f"not evicted: {pod} has no controller (kubectl drain refuses it without --force)"
            for pod in drained.unmanaged
        ]
        moved = dict.fromkeys(workloads[pod] for pod in drained.evicted if pod in workloads)
        if moved and not self._schedulable_nodes():
            lines.append("every node is cordoned: the evicted pods stay Pending until uncordon-node")
            lines += [self._follow(workload, wait=False) for workload in moved]
            self._not_back.update(moved)
            return "\n".join(lines)
        lines += [self._follow(workload) for workload in moved]
        return "\n".join(lines)

    def _schedulable_nodes(self) -> list[str]:
        return [name for name, node in self.status()["nodes"].items() if node["schedulable"]]

    def _uncordon_node(self, node: str) -> str:
        self._known_node(node)
        self.stack.cluster.cordon(node, unschedulable=False)
        self.active.pop(f"cordon {node}", None)
        done = (
            f"{node} uncordoned: the scheduler places new pods there again (moved pods stay where they are)"
        )
        # What a drain left Pending (no node to go to) is placed now: its processes follow.
        return "\n".join([done, *(self._follow(workload) for workload in sorted(self._not_back))])

    def _known_node(self, node: str) -> None:
        known = [n.name for n in self.stack.cluster.nodes]
        if node not in known:
            raise FaultError(f"no node {node!r}; one of: {', '.join(known)}")

    def _scale(self, replicas: Any) -> str:
        if replicas is None:
            raise FaultError("how many? REPLICAS=<n>")
        count = int(replicas)
        if not 1 <= count <= MAX_ORDERS_API_REPLICAS:
            raise FaultError(f"replicas must be between 1 and {MAX_ORDERS_API_REPLICAS} (got {count})")
        self.stack.cluster.scale(self.manifests.get("Deployment", names.WEBAPP), replicas=count)
        if count == ORDERS_API_REPLICAS:
            self.active.pop("scale", None)
        else:
            self.active["scale"] = (f"orders API at {count} replicas", time.time())
        return f"{names.WEBAPP} scaled to {count}\n{self._follow(names.WEBAPP)}"

    def _follow(self, workload: str, *, wait: bool = True) -> str:
        """Waits for `workload`'s controller to roll it out again (unless not `wait`); its processes follow
        its Running pods (and the load the orders API's, while it has any). Says where its pods are now.
        Not rolled out (pods Pending, or the API server slow to answer): the processes of the pods gone stop
        meanwhile, as a kubelet kills their containers, and uncordon-node follows it again."""
        try:
            synced = self.stack.follow(workload, wait=wait)
        except (ClusterError, httpx.TransportError) as error:
            reason = error.message if isinstance(error, ApiError) else str(error).split(":", 1)[0]
            if not wait:
                return f"{workload}: its pods not listed ({reason})"
            line = self._follow(workload, wait=False)
            self._not_back.add(workload)
            return f"{line}; not rolled out ({reason}): uncordon-node follows it again"
        if wait:
            self._not_back.discard(workload)
        if workload == names.WEBAPP and self.stack.app_urls:
            # With none, the load keeps knocking where the last pod was: a Service without endpoints.
            self._moved(self.stack.app_urls)
        pods = ", ".join(f"{p['metadata']['name']} ({_where(p)})" for p in self.stack.pods[workload])
        pods = pods or "no pod Running"
        line = f"{workload}: {pods}"
        if synced is not None:
            line += f"; processes stopped: {', '.join(synced.stopped) or 'none'}"
            line += f", started: {', '.join(synced.started) or 'none'}"
        return line

    def status(self) -> dict[str, Any]:
        """The nodes (IP, cordoned or not) and every pod (phase, IP, node), as the API server has them."""
        cluster = self.stack.cluster
        nodes = {
            n["metadata"]["name"]: {
                "ip": next(a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP"),
                "schedulable": not n["spec"].get("unschedulable", False),
            }
            for n in cluster.list_objects("v1", "Node")
        }
        pods = {
            f"{p['metadata']['namespace']}/{p['metadata']['name']}": (
                f"{p.get('status', {}).get('phase', '?')} {_where(p)}"
            )
            for p in sorted(cluster.list_objects("v1", "Pod"), key=lambda p: str(p["metadata"]["name"]))
        }
        return {"nodes": nodes, "pods": pods}


def _where(pod: Manifest) -> str:
    status, spec = pod.get("status", {}), pod.get("spec", {})
    return f"{status.get('podIP') or 'no IP'} on {spec.get('nodeName') or 'no node'}"
