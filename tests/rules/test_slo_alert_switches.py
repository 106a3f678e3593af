"""Each SLO's page and ticket alerts switch off on their own (sloth's `page_alert.disable`,
`ticket_alert.disable`): the rendered group keeps the other severity's burn-rate alerts, one per window pair
(30 days: two page pairs, 1h/5m and 6h/30m, and two ticket pairs, 1d/2h and 3d/6h). No processes."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from observability.model.load import load
from observability.render.slo_rules import groups

REPOSITORY = Path(__file__).resolve().parents[2]


def severities(tmp_path: Path, alerting: dict) -> dict[str, list[str]]:
    """Group name -> the severities of its alerts, after orders-api's availability SLO gets `alerting`."""
    root = tmp_path / "services"
    shutil.copytree(REPOSITORY / "services", root)
    path = root / "orders-api/slos.yaml"
    document = yaml.safe_load(path.read_text())
    document["slos"][0]["alerting"].update(alerting)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    services = load(root)
    service = services.service("orders-api")
    rendered = groups(service, services.windows_of(service), runbook_base_url="https://runbooks.example.com")
    return {
        group["name"]: [rule["labels"]["severity"] for rule in group["rules"] if "alert" in rule]
        for group in rendered
    }


def test_a_page_alert_switched_off_leaves_the_tickets(tmp_path: Path):
    assert severities(tmp_path, {"page_alert": {"disable": True}}) == {
        "slo-orders-api-availability": ["ticket", "ticket"],
        "slo-orders-api-latency": ["page", "page", "ticket", "ticket"],
    }


def test_a_ticket_alert_switched_off_leaves_the_pages(tmp_path: Path):
    assert severities(tmp_path, {"ticket_alert": {"disable": True}}) == {
        "slo-orders-api-availability": ["page", "page"],
        "slo-orders-api-latency": ["page", "page", "ticket", "ticket"],
    }
