"""`Sandbox`: every piece of the path, started together on 127.0.0.1 and broken on purpose.

    load ─▶ orders API ─▶ DelayProxy ─▶ Postgres ◀── postgres-exporter
                 │                                       │      node-exporter (one per node)
    load ─▶ inventory API (example, stock file)          │
                 │                                       │
                 └──── agent (generated scrape config, Kubernetes discovery) ◀┘ ──▶ simulated cluster
                                   │ remote write                                   (their pods)
                                   ▼
                 receiver: AMP stand-in (generated rules, 60 s) ─▶ Alertmanager (generated routing)
                                                                       │ webhooks (SNS swapped)
                                                                       ▼
                                                  NotificationSink (one path per team's receiver)

Two services of two teams: the orders API (services/, team orders) and the example inventory API
(examples/services/, team warehouse). Every artifact comes from both folders through the one entry
point, `observability.render.render`: the rules, the scrape jobs, the teams the Alertmanager routes to.

Built from harness/: `ClusterStack` (the simulated cluster with the charts applied and their pods Running;
Postgres, app and exporters listening on their pods' IPs, the receiver, the agent with its real Kubernetes
discovery), `inventory` (the example service, on a pod of its team's Deployment), `alerting`
(Alertmanager and sink), `load`. The intervals are the cluster's: scrapes every 30 s, rules every 60 s,
Alertmanager's generated timers, so the times measured here are the real ones.

The faults on the processes are here; those on the cluster (a pod deleted, a node drained, the orders API
scaled) are sandbox/cluster_faults.py's.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from config.alerting import AlertingConfig
from config.monitoring import MonitoringConfig
from harness import alerting, inventory
from harness.cluster_stack import ClusterStack
from harness.lifecycle import StartStop, stop_all
from harness.load import Load
from harness.manifests import Manifests
from harness.postgres import LocalPostgres
from harness.stack import Prometheus, generated_config, wait_until
from k8s.monitoring.prometheus_agent_chart import CONFIG_FILE
from observability import names
from observability.model.load import load_with_examples
from observability.render import render, scrape_config
from sandbox.cluster_faults import ClusterFaults
from sandbox.faults import DEFAULT_LATENCY_MS, FAULTS, FaultError

RUNBOOK_BASE_URL = AlertingConfig().runbook_base_url
SCRAPE_INTERVAL = MonitoringConfig().scrape_interval_seconds
EVALUATION_INTERVAL = 60  # AMP's default rule group interval
INVENTORY_LOAD_PER_SECOND = 5  # the example service's traffic: a smaller service than the orders API
# The agent's service-account token expires after an hour: renewed well before, as the kubelet would.
TOKEN_RENEWAL_SECONDS = 20 * 60


class Sandbox(StartStop):
    """`manifests`: the charts with one agent replica (the receiver has no stand-in for AMP's
    deduplication of a pair)."""

    def __init__(
        self,
        workdir: Path,
        manifests: Manifests,
        *,
        scrape_interval_seconds: int = SCRAPE_INTERVAL,
        evaluation_interval_seconds: int = EVALUATION_INTERVAL,
        load_per_second: float = 10,
    ) -> None:
        self.workdir = workdir
        self.manifests = manifests
        self.scrape_interval_seconds = scrape_interval_seconds
        # Both services folders, rendered once: rules, scrape jobs and the teams routed to.
        self.services = load_with_examples()
        self.artifacts = render(services=self.services, runbook_base_url=RUNBOOK_BASE_URL)
        self.rule_files = self.artifacts.rule_files
        self.stack = ClusterStack(workdir, charts=manifests, db_proxy=True)
        self.inventory: inventory.InventoryApi | None = None  # on its pod's IP: known once the pod runs
        self.sink = alerting.NotificationSink(workdir / "notifications.jsonl")
        self.alertmanager = alerting.Alertmanager(
            workdir / "alertmanager",
            alerting.with_webhook_receivers(
                alerting.generated_config(teams=self.artifacts.teams), self.sink.url
            ),
        )
        self.stack.receiver = Prometheus.receiver(
            workdir / "receiver",
            rule_files=self.rule_files,
            evaluation_interval_seconds=evaluation_interval_seconds,
            alertmanager=self.alertmanager.address,
        )
        self.load_per_second = load_per_second
        self.load: Load | None = None
        self.inventory_load: Load | None = None
        # Fault name -> (what, since when): what the live view shows as active.
        self.active: dict[str, tuple[str, float]] = {}
        self.events: list[tuple[float, str]] = []  # every fault applied, in order
        self.cluster_faults = ClusterFaults(
            self.stack, manifests, active=self.active, moved=self._orders_api_moved
        )
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._renewal = threading.Thread(target=self._renew_tokens, name="token-renewal", daemon=True)
        self.started_at = 0.0

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sink.start()
        self.alertmanager.start_ready()
        self.stack.start()  # the cluster and its pods; Postgres, proxy, app, exporters, receiver
        self.inventory = inventory.InventoryApi.on_pod(
            self.workdir / "inventory-api", inventory.run_pod(self.stack.cluster)
        )
        self.inventory.start()
        config = generated_config(
            cluster_name="sandbox",
            scrape_interval_seconds=self.scrape_interval_seconds,
            jobs=self.artifacts.scrape_jobs,
        )
        self._publish_agent_config(config)
        self.stack.start_agent("agent", config)
        self.load = Load(self.stack.app_url, per_second=self.load_per_second, write_every=10)
        self.load.start()
        self.inventory_load = Load(
            self.inventory_api.url, per_second=INVENTORY_LOAD_PER_SECOND, read_path=inventory.READ_PATH
        )
        self.inventory_load.start()
        self._renewal.start()
        self.started_at = time.time()

    def _orders_api_moved(self, urls: list[str]) -> None:
        """The load follows the orders API's pods (as its Service would)."""
        if self.load is not None:
            self.load.retarget(urls)

    def _publish_agent_config(self, config: Mapping[str, Any]) -> None:
        """The agent's ConfigMap as a cluster holds it: the generated file (placeholder workspace URL, this
        cluster's name), in place of the placeholder the charts were applied with; what a learner reads
        with kubectl (docs/learn/). The agent process runs it with the sandbox's substitutions."""
        config_map = copy.deepcopy(
            self.manifests.get("ConfigMap", f"{names.PROMETHEUS_AGENT}-config", names.MONITORING_NAMESPACE)
        )
        config_map["data"] = {CONFIG_FILE: scrape_config.render(config)}
        self.stack.cluster.apply(config_map)

    def _renew_tokens(self) -> None:
        while not self._stopping.wait(TOKEN_RENEWAL_SECONDS):
            self.stack.renew_tokens()

    def stop(self) -> None:
        """Stops everything it started, by PID: the loads, the inventory API, then the agent, receiver,
        app, exporters, proxy, Postgres and the cluster (the ClusterStack's order), then Alertmanager and
        the sink."""
        self._stopping.set()
        if self._renewal.is_alive():
            self._renewal.join(timeout=60)
        steps: list[Callable[[], None]] = [load.stop for load in (self.load, self.inventory_load) if load]
        if self.inventory is not None:
            steps.append(self.inventory.stop)
        steps += [self.stack.stop, self.alertmanager.stop, self.sink.stop]
        stop_all(steps)

    # -- where things are ----------------------------------------------------------------------------
    @property
    def agent(self) -> Prometheus:
        """The agent's process: a new one when its pod moved (its WAL kept)."""
        return self.stack.agents["agent"]

    @property
    def receiver(self) -> Prometheus:
        return self.stack.receiver

    @property
    def pg(self) -> LocalPostgres:
        assert self.stack.pg is not None, "the sandbox is not started"
        return self.stack.pg

    @property
    def inventory_api(self) -> inventory.InventoryApi:
        assert self.inventory is not None, "the sandbox is not started"
        return self.inventory

    def urls(self) -> dict[str, str]:
        apps = self.stack.app_urls
        return {
            "web app": f"{apps[0]}/orders" if apps else "none: no orders API pod is Running",
            "inventory API (example service)": f"{self.inventory_api.url}{inventory.READ_PATH}",
            # The cluster's release, built from the Go module proxy: without the web UI's assets.
            "agent (targets API; no web UI)": f"{self.agent.url}/api/v1/targets",
            "AMP stand-in (alerts API; no web UI)": f"{self.receiver.url}/api/v1/alerts",
            "Alertmanager (API; Debian ships no UI)": f"{self.alertmanager.url}/api/v2/alerts",
            "notification sink": self.sink.url,
        }

    def environment(self) -> dict[str, str]:
        """What a learner's shell needs (docs/learn/, `make local-env`): the simulated cluster's admin
        kubeconfig for kubectl, and each component's base URL, by variable name."""
        assert "agent" in self.stack.agents, "the sandbox is not started"
        return {
            "KUBECONFIG": str(self.stack.cluster.base_dir / "kubeconfig"),
            "WEB_APP": self.stack.app_url,
            "INVENTORY_API": self.inventory_api.url,
            "AGENT": self.agent.url,
            "AMP": self.receiver.url,
            "ALERTMANAGER": self.alertmanager.url,
        }

    # -- faults ----------------------------------------------------------------------------------------
    def apply(self, name: str, params: Mapping[str, Any] | None = None) -> str:
        """Applies one fault of `FAULTS`; returns what it did. Raises FaultError."""
        handlers = self.handlers(dict(params or {}))
        if name not in handlers:
            raise FaultError(f"unknown fault {name!r}; one of: {', '.join(f.name for f in FAULTS)}")
        with self._lock:
            message = handlers[name]()
            self.events.append((time.time(), name))
            return message

    def handlers(self, params: Mapping[str, Any]) -> dict[str, Callable[[], str]]:
        """Fault name -> what applies it (with `params`)."""
        return {
            "stop-postgres": self._stop_postgres,
            "start-postgres": self._start_postgres,
            "add-latency": lambda: self._add_latency(int(params.get("ms", DEFAULT_LATENCY_MS))),
            "remove-latency": self._remove_latency,
            "stop-amp": self._stop_amp,
            "start-amp": self._start_amp,
            "restart-agent": self._restart_agent,
            "break-inventory": self._break_inventory,
            "fix-inventory": self._fix_inventory,
            **self.cluster_faults.handlers(params),
        }

    def _stop_postgres(self) -> str:
        if not self.pg.running:
            raise FaultError("Postgres is already stopped")
        self.pg.stop()
        self.active["postgres"] = ("Postgres stopped", time.time())
        return "Postgres stopped: the app answers 503, the availability SLO burns"

    def _start_postgres(self) -> str:
        if self.pg.running:
            raise FaultError("Postgres is already running")
        self.pg.start()
        self.active.pop("postgres", None)
        return "Postgres started"

    def _add_latency(self, ms: int) -> str:
        if not 0 < ms <= 10_000:
            raise FaultError(f"ms must be between 1 and 10000 (got {ms})")
        assert self.stack.db_proxy is not None
        self.stack.db_proxy.delay_seconds = ms / 1000
        self.active["latency"] = (f"+{ms} ms per query", time.time())
        return f"every query the app sends now waits {ms} ms"

    def _remove_latency(self) -> str:
        assert self.stack.db_proxy is not None
        self.stack.db_proxy.delay_seconds = 0
        self.active.pop("latency", None)
        return "latency removed"

    def _stop_amp(self) -> str:
        if not self.receiver.running:
            raise FaultError("the AMP stand-in is already stopped")
        self.receiver.stop()
        self.active["amp"] = ("AMP stand-in stopped", time.time())
        return "AMP stand-in stopped: the agent queues its samples and retries"

    def _start_amp(self) -> str:
        if self.receiver.running:
            raise FaultError("the AMP stand-in is already running")
        self.receiver.start_ready()
        self.active.pop("amp", None)
        return "AMP stand-in started: the agent back-fills what it queued"

    def _restart_agent(self) -> str:
        self.agent.stop()
        self.agent.start_ready()
        self.active["agent"] = ("agent restarted", time.time())
        return "agent restarted"

    def _break_inventory(self) -> str:
        if self.inventory_api.broken:
            raise FaultError("the inventory API is already broken")
        self.inventory_api.take_stock_file_away()
        self.active["inventory"] = ("inventory API stock file gone", time.time())
        return "the inventory API's stock file is gone: it answers 503, its availability SLO pages warehouse"

    def _fix_inventory(self) -> str:
        if not self.inventory_api.broken:
            raise FaultError("the inventory API is not broken")
        self.inventory_api.put_stock_file_back()
        self.active.pop("inventory", None)
        return "the inventory API's stock file is back"

    def status(self) -> dict[str, Any]:
        """What the control endpoint reports: the URLs, active faults, the cluster's nodes and pods and
        the counts so far."""
        with self._lock:
            active = {key: {"what": what, "since": since} for key, (what, since) in self.active.items()}
        return {
            "urls": self.urls(),
            "faults": active,
            **self.cluster_faults.status(),
            "notifications": len(self.sink.notifications()),
            "load": dict(self.load.statuses) if self.load else {},
            "inventory load": dict(self.inventory_load.statuses) if self.inventory_load else {},
        }

    def wait_for_traffic(self, attempts: int = 60) -> bool:
        """True once the receiver holds a request rate of every service's job (two scrapes after start)."""
        jobs = {service.name for service in self.services.services}  # a service's job is named after it

        def seen() -> bool:
            try:
                rates = self.receiver.query("sum by (job) (rate(http_requests_total[5m])) > 0")
            except Exception:
                return False
            return jobs <= {rate["metric"].get("job") for rate in rates}

        return wait_until(seen, attempts=attempts, interval=5)
