"""All checks of one verification run, in order, each printed as soon as it is known."""

from __future__ import annotations

from collections.abc import Callable

from scripts.verification import amp, delivery, grafana, probe
from scripts.verification.aws import Clients
from scripts.verification.report import Deadline, Result
from scripts.verification.settings import Settings


def print_line(result: Result) -> None:
    print(result.line(), flush=True)


def run_checks(
    settings: Settings,
    clients: Clients,
    deadline: Deadline,
    emit: Callable[[Result], None] = print_line,
    *,
    managed_collector: bool = False,  # monitoring.collector: managed (no agent's own job to find)
) -> list[Result]:
    results: list[Result] = []

    def record(*found: Result) -> None:
        for result in found:
            results.append(result)
            emit(result)

    workspace = settings.prometheus_workspace_id
    record(amp.check_rules(clients.amp, workspace, amp.rule_namespaces(), deadline))
    record(amp.check_alertmanager(clients.amp, workspace, deadline))
    record(*grafana.check_grafana(clients.lambda_, settings.grafana_health_check_arn, deadline))
    query = amp.PrometheusQuery(
        query_url=settings.prometheus_query_url, credentials=clients.credentials, region=clients.region
    )
    record(amp.check_samples(query, amp.expected_jobs(managed_collector=managed_collector), deadline))
    record(*probe.check_web_app(clients.lambda_, settings.probe_function_arn, deadline))
    # Last: the longer since the deploy, the surer the first Watchdog heartbeat had its time.
    topics = delivery.Topics(
        watchdog_arn=settings.watchdog_topic_arn,
        alert_arns=(settings.page_topic_arn, settings.ticket_topic_arn),
    )
    record(*delivery.check_sns(clients.cloudwatch, topics, deadline))
    record(delivery.check_alertmanager_log(clients.logs, settings.prometheus_log_group))
    return results
