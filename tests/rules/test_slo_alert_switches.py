"""Each SLO's page and ticket alerts switch off on their own (sloth's `page_alert.disable`,
`ticket_alert.disable`): the rendered group keeps the other severity's burn-rate alerts, one per window pair
(30 days: two page pairs, 1h/5m and 6h/30m, and two ticket pairs, 1d/2h and 3d/6h). No processes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import yaml

from observability.model.load import load
from observability.render.slo_rules import groups

REPOSITORY = Path(__file__).resolve().parents[2]


def rendered_groups(tmp_path: Path, change: Callable[[dict], object]) -> list[dict]:
    """orders-api's SLO rule groups, after `change` edits a copy of its slos.yaml."""
    root = tmp_path / "services"
    shutil.copytree(REPOSITORY / "services", root)
    path = root / "orders-api/slos.yaml"
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    services = load(root)
    service = services.service("orders-api")
    return groups(service, services.windows_of(service), runbook_base_url="https://runbooks.example.com")


def severities(tmp_path: Path, alerting: dict) -> dict[str, list[str]]:
    """Group name -> the severities of its alerts, after orders-api's availability SLO gets `alerting`."""
    rendered = rendered_groups(tmp_path, lambda document: document["slos"][0]["alerting"].update(alerting))
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


def rendered_alerts(tmp_path: Path, change: Callable[[dict], object]) -> list[dict]:
    """orders-api's availability SLO's alerts, after `change` edits its slos.yaml."""
    (group,) = [g for g in rendered_groups(tmp_path, change) if g["name"] == "slo-orders-api-availability"]
    return [rule for rule in group["rules"] if "alert" in rule]


def unchanged(document: dict) -> None:
    pass


def test_page_and_ticket_labels_and_annotations_go_to_their_own_alerts(tmp_path: Path):
    """sloth's `page_alert.labels/annotations` reach the page alerts only, `ticket_alert`'s the tickets."""
    alerting = {
        "page_alert": {"labels": {"route": "pager"}, "annotations": {"note": "wake someone"}},
        "ticket_alert": {"labels": {"route": "queue"}, "annotations": {"note": "next business day"}},
    }
    alerts = rendered_alerts(tmp_path, lambda document: document["slos"][0]["alerting"].update(alerting))
    assert [(a["labels"]["severity"], a["labels"]["route"], a["annotations"]["note"]) for a in alerts] == [
        ("page", "pager", "wake someone"),
        ("page", "pager", "wake someone"),
        ("ticket", "queue", "next business day"),
        ("ticket", "queue", "next business day"),
    ]


def test_the_description_states_the_budget_and_how_soon_it_is_gone(tmp_path: Path):
    """99.9 % over 30 days allows 0.1 % bad; at 14.4x (1h/5m) the budget lasts 30 / 14.4 = 2.08 days, at 1x
    (3d/6h) 30 days (the SRE Workbook's multiwindow, multi-burn-rate table)."""
    first, *_, last = rendered_alerts(tmp_path, unchanged)
    description = first["annotations"]["description"]
    assert "SLO availability allows 0.1% bad over 30d (objective: 99.9%" in description
    assert "budget is gone in 2.08 days." in description
    assert "budget is gone in 30 days." in last["annotations"]["description"]


def test_the_description_quotes_the_slos_own_description_when_it_has_one(tmp_path: Path):
    """slos.yaml's description ("Requests answered without a 5xx status.") is quoted without its full stop;
    an SLO without one says nothing more."""
    (alert, *_) = rendered_alerts(tmp_path, unchanged)
    quoted = "(objective: 99.9%, good: Requests answered without a 5xx status). Fires"
    assert quoted in alert["annotations"]["description"]
    (bare, *_) = rendered_alerts(tmp_path / "bare", lambda document: document["slos"][0].pop("description"))
    assert "(objective: 99.9%). Fires" in bare["annotations"]["description"]
