"""The health check the verifier invokes: read-only, as a VIEWER account of its own that is gone afterwards,
answering statuses and never a token, whatever it is sent."""

from __future__ import annotations

import json
import logging
from typing import Any

import health
import pytest
from provisioner_fakes import (
    BUCKET,
    FOLDERS,
    KEY,
    VIEWER_TOKEN,
    WORKSPACE_ID,
    Aws,
    FakeClock,
    FakeContext,
    FakeGrafana,
    event,
)

UIDS = ("amp", "amp-alertmanager", "cloudwatch")


def provisioned(fake: FakeGrafana) -> None:
    """The state a successful provisioner run leaves (data sources, folder, dashboards in it)."""
    for uid in UIDS:
        fake.datasources[uid] = {"uid": uid, "id": 1, "version": 1}
    for folder in FOLDERS:
        fake.folders[folder["uid"]] = {"uid": folder["uid"], "title": folder["title"]}
        for dashboard in folder["dashboards"]:
            fake.dashboards[dashboard["uid"]] = {"dashboard": dashboard, "meta": {"folderUid": folder["uid"]}}


def env(fake: FakeGrafana) -> dict[str, str]:
    return {
        "GRAFANA_WORKSPACE_ID": WORKSPACE_ID,
        "GRAFANA_ENDPOINT": fake.endpoint,
        "DASHBOARDS_BUCKET": BUCKET,
        "DASHBOARDS_KEY": KEY,
        "AWS_REGION": "eu-west-1",
    }


def viewer_session(aws: Aws) -> None:
    aws.dashboards()
    aws.workspace("ACTIVE")
    aws.session(role="VIEWER", key=VIEWER_TOKEN, seconds=120)


def check(fake: FakeGrafana, clock: FakeClock, payload: Any = None) -> dict[str, Any]:
    return health.check(payload or {}, FakeContext(clock, timeout_seconds=60), env=env(fake))


def test_healthy(
    fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    provisioned(fake_grafana)
    viewer_session(aws)

    answer = check(fake_grafana, clock)

    assert answer == {
        "workspace": "ACTIVE",
        "datasources": {"amp": "OK", "amp-alertmanager": "OK", "cloudwatch": "OK"},
        "dashboards": {"eks-cluster": "present", "eks-nodes": "present", "svc-orders-api": "present"},
    }
    aws.assert_done()  # a VIEWER account and a 120 s token, both deleted
    assert fake_grafana.mutations() == []  # it only reads
    assert VIEWER_TOKEN not in json.dumps(answer) + caplog.text


def test_problems_are_reported_not_raised(fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock) -> None:
    provisioned(fake_grafana)
    fake_grafana.health["cloudwatch"] = (
        400,
        {"status": "ERROR", "message": "AccessDenied: logs:DescribeLogGroups"},
    )
    del fake_grafana.dashboards["eks-nodes"]
    fake_grafana.dashboards["eks-cluster"]["meta"]["folderUid"] = "general"
    viewer_session(aws)

    answer = check(fake_grafana, clock)

    assert answer["datasources"]["amp"] == "OK"
    assert answer["datasources"]["cloudwatch"].startswith(
        "ERROR (Grafana GET /api/datasources/uid/cloudwatch"
    )
    assert answer["dashboards"] == {
        "eks-cluster": "in folder 'general', not 'eks-observability'",
        "eks-nodes": "missing",
        "svc-orders-api": "present",
    }
    aws.assert_done()


@pytest.mark.parametrize(
    ("answer", "reported"),
    [
        (
            {"status": "UNKNOWN", "message": "plugin health check not implemented"},
            "UNKNOWN (plugin health check not implemented)",
        ),
        ({"status": "ERROR"}, "ERROR ()"),  # a status without a message
        ({"message": "no status at all"}, "? (no status at all)"),  # an answer without a status
    ],
    ids=["not-ok", "no-message", "no-status"],
)
def test_a_status_other_than_ok_is_reported_with_grafanas_message(
    fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock, answer: dict[str, str], reported: str
) -> None:
    """Grafana answers 200 for a health check it could run: only `OK` is healthy; anything else is reported
    with its message."""
    provisioned(fake_grafana)
    fake_grafana.health["cloudwatch"] = (200, answer)
    viewer_session(aws)

    assert check(fake_grafana, clock)["datasources"] == {
        "amp": "OK",
        "amp-alertmanager": "OK",
        "cloudwatch": reported,
    }
    aws.assert_done()


def test_workspace_not_active_creates_no_account(
    fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock
) -> None:
    aws.dashboards()
    aws.workspace("UPDATING")

    assert check(fake_grafana, clock) == {"workspace": "UPDATING"}
    aws.assert_done()
    assert fake_grafana.requests == []


def test_grafana_failing_still_deletes_account_and_token(
    fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock
) -> None:
    provisioned(fake_grafana)
    fake_grafana.fail("GET", "/api/dashboards/uid/eks-cluster", [500] * 20)
    viewer_session(aws)

    answer = check(fake_grafana, clock)

    failed = "Grafana GET /api/dashboards/uid/eks-cluster returned 500: scripted failure"
    assert answer == {"error": f"Grafana HTTP API: {failed}"}
    aws.assert_done()


def test_control_plane_error_is_an_answer(fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock) -> None:
    aws.dashboards()
    aws.grafana_stub.add_client_error(
        "describe_workspace", service_error_code="AccessDeniedException", http_status_code=403
    )

    answer = check(fake_grafana, clock)

    assert answer["error"].startswith("Grafana control plane: An error occurred (AccessDeniedException)")
    aws.assert_done()


def test_a_forged_custom_resource_event_changes_nothing(
    fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock
) -> None:
    """The verifier may invoke this function with any payload: a CloudFormation Delete with another endpoint
    is read as nothing at all, and the VIEWER token could not write anyway."""
    provisioned(fake_grafana)
    before = fake_grafana.state()
    viewer_session(aws)

    answer = check(fake_grafana, clock, event(fake_grafana, "Delete", GrafanaEndpoint="attacker.invalid"))

    assert answer["workspace"] == "ACTIVE"
    assert fake_grafana.mutations() == []
    assert fake_grafana.state() == before
    aws.assert_done()


def test_a_viewer_token_cannot_write(fake_grafana: FakeGrafana) -> None:
    """The fake enforces what Grafana does for the VIEWER role: writes are refused (403)."""
    status, _ = fake_grafana.handle(
        "DELETE", "/api/folders/eks-observability", None, f"Bearer {VIEWER_TOKEN}"
    )
    assert status == 403


def test_a_service_dashboard_in_the_wrong_folder_is_reported(
    fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock
) -> None:
    """Every folder's dashboards are checked against their own folder, the services' too."""
    provisioned(fake_grafana)
    fake_grafana.dashboards["svc-orders-api"]["meta"]["folderUid"] = "eks-observability"
    viewer_session(aws)

    answer = check(fake_grafana, clock)

    assert answer["dashboards"] == {
        "eks-cluster": "present",
        "eks-nodes": "present",
        "svc-orders-api": "in folder 'eks-observability', not 'svc-orders-api-folder'",
    }
    aws.assert_done()


def test_an_unreadable_asset_is_an_answer_and_creates_no_account(
    fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock
) -> None:
    aws.s3_stub.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)

    answer = check(fake_grafana, clock)

    assert answer["error"].startswith("dashboards asset: An error occurred (AccessDenied)")
    aws.assert_done()  # no Grafana call at all
    assert fake_grafana.requests == []
