"""The kubelet's part on the simulated cluster: kwok makes a pod Running and gives it an IP, but runs nothing
in it; `Kubelet` runs the pod's real process (its container) listening on that IP, and stops it once the pod
is gone, as a kubelet starts and kills a pod's containers. When a workload's controller replaces, adds or
removes pods (a pod deleted, a node drained, a Deployment scaled), `sync` makes the processes follow: the
agent's discovery then finds the new pods' processes where their pods say they are.

Only the workloads given a `Container` are run here; every process is started here and stopped here, by PID.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

from harness.lifecycle import stop_all
from harness.stack import Process, http_ok

Manifest = dict[str, Any]
# A Running pod -> its process (not started) and the URL that answers 200 once the process is ready.
Container = Callable[[Manifest], tuple[Process, str]]


@dataclasses.dataclass(frozen=True)
class Synced:
    """What one `sync` did: the pods whose processes it started and stopped (names)."""

    started: tuple[str, ...]
    stopped: tuple[str, ...]


class Kubelet:
    def __init__(self) -> None:
        self._containers: dict[str, Container] = {}
        # Workload name -> pod uid -> (the pod, its process): a StatefulSet's replacement keeps its
        # predecessor's name, not its uid.
        self._running: dict[str, dict[str, tuple[Manifest, Process]]] = {}

    def run(self, workload: str, container: Container, pods: Sequence[Manifest]) -> None:
        """Runs `workload`'s pods with `container` from now on, starting with `pods` (Running)."""
        self._containers[workload] = container
        self._running[workload] = {}
        self.sync(workload, pods)

    def runs(self, workload: str) -> bool:
        return workload in self._containers

    def sync(self, workload: str, pods: Sequence[Manifest]) -> Synced:
        """`pods` are the workload's Running pods now: the process of each pod no longer among them is
        stopped first (a deleted pod's containers are killed before its replacement's start, which may
        get the same IP and port), then each new pod's is started and waited for."""
        running = self._running[workload]
        live = {p["metadata"]["uid"]: p for p in pods}
        gone = [uid for uid in running if uid not in live]
        stop_all(running[uid][1].stop for uid in gone)
        stopped = tuple(running.pop(uid)[0]["metadata"]["name"] for uid in gone)
        started = []
        for uid, pod in live.items():
            if uid in running:
                continue
            process, ready_url = self._containers[workload](pod)
            running[uid] = (pod, process)
            process.start()
            process.wait_ready(functools.partial(http_ok, ready_url))
            started.append(pod["metadata"]["name"])
        return Synced(started=tuple(started), stopped=stopped)

    def processes(self, workload: str) -> list[tuple[Manifest, Process]]:
        """The workload's pods and their processes, by pod name."""
        return sorted(
            self._running.get(workload, {}).values(), key=lambda run: str(run[0]["metadata"]["name"])
        )

    def stop(self) -> None:
        stop_all(process.stop for running in self._running.values() for _, process in running.values())
