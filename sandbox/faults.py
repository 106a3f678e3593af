"""The fault switches, by name: shared by the sandbox and its command line (kept free of heavy imports,
so `make fault` answers at once)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_LATENCY_MS = 400  # per query message the app sends: requests end above the 300 ms SLO threshold


class FaultError(ValueError):
    """An unknown fault, or one that cannot apply now (e.g. start Postgres while it runs)."""


@dataclass(frozen=True)
class Fault:
    name: str
    help: str


FAULTS = (
    Fault("stop-postgres", "stop the Postgres server (the app answers 503: the availability SLO burns)"),
    Fault("start-postgres", "start Postgres again"),
    Fault("add-latency", f"delay every query message the app sends by MS ms (default {DEFAULT_LATENCY_MS})"),
    Fault("remove-latency", "remove the added latency"),
    Fault("stop-amp", "stop the AMP stand-in (the agent queues and retries; no rules run)"),
    Fault("start-amp", "start the AMP stand-in again (the agent back-fills what it queued)"),
    Fault("restart-agent", "restart the Prometheus agent (its WAL keeps what it had not sent)"),
)
