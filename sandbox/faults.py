"""The fault switches, by name: shared by the sandbox and its command line (kept free of heavy imports,
so `make fault` answers at once)."""

from __future__ import annotations

from dataclasses import dataclass

from observability import names

# Per query message the app sends (four per request): requests take about 0.65 s, above the 300 ms SLO
# threshold, while its pool of 10 connections still serves 10 requests/s. From about 300 ms the pool runs
# short and requests also fail (503 after the 2 s pool timeout).
DEFAULT_LATENCY_MS = 150
DEFAULT_POD = names.WEBAPP  # delete-pod's POD: the orders API's (first) pod


class FaultError(ValueError):
    """An unknown fault, or one that cannot apply now (e.g. start Postgres while it runs)."""


@dataclass(frozen=True)
class Fault:
    name: str
    help: str


FAULTS = (
    Fault(
        "stop-postgres",
        "stop the Postgres server: each request waits 2 s for a connection, then 503 (the availability"
        " SLO pages the orders team; the latency SLO burns too, since every 503 takes 2 s, and its alerts"
        " follow)",
    ),
    Fault("start-postgres", "start Postgres again"),
    Fault(
        "add-latency",
        f"delay every query message the app sends by MS ms (default {DEFAULT_LATENCY_MS}; from about 300"
        " the connection pool runs short and requests fail too)",
    ),
    Fault("remove-latency", "remove the added latency"),
    Fault("stop-amp", "stop the AMP stand-in (the agent queues and retries; no rules run)"),
    Fault("start-amp", "start the AMP stand-in again (the agent back-fills what it queued)"),
    Fault("restart-agent", "restart the Prometheus agent (its WAL keeps what it had not sent)"),
    Fault(
        "break-inventory",
        "take the example inventory API's stock file away: it answers 503 (its availability SLO pages the"
        " warehouse team, not the orders team)",
    ),
    Fault("fix-inventory", "put the inventory API's stock file back"),
    Fault(
        "delete-pod",
        f"delete the pod of workload POD (default {DEFAULT_POD}; or prometheus-agent, kube-state-metrics,"
        " node-exporter) or the pod named POD: its controller replaces it (a new name, but a StatefulSet's;"
        " the IP kwok gives it, maybe the freed one), the sandbox stops the old pod's process and starts the"
        " new one's there, the agent's discovery follows",
    ),
    Fault(
        "drain-node",
        "cordon node NODE and evict its pods through the Eviction API, DaemonSets' aside: a"
        " PodDisruptionBudget refuses what would break it (Postgres's), the others are replaced on the"
        " other node and their processes move with them",
    ),
    Fault(
        "uncordon-node", "let the scheduler place pods on node NODE again (moved pods stay where they are)"
    ),
    Fault(
        "scale",
        "scale the orders API's Deployment to REPLICAS pods (1-6): each runs its own orders API on its pod's"
        " IP, the load takes turns over them (as its Service would), the agent's discovery follows",
    ),
)
# Not a fault: what `make fault FAULT=status` prints.
STATUS = Fault(
    "status",
    "print the running sandbox's URLs, active faults, nodes and pods (where each runs), notifications and"
    " load counts",
)
