"""The Grafana provisioner against a fake Grafana (HTTP on 127.0.0.1) and a stubbed AMG control plane."""

from __future__ import annotations

import logging
import time

import datasources
import grafana_api
import handler
import pytest
import service_account
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from provisioner_fakes import (
    AMP_ENDPOINT,
    DASHBOARDS,
    FOLDER_UID,
    REGION,
    TOKEN,
    WORKSPACE_ID,
    Aws,
    FakeGrafana,
    event,
)

from observability.dashboards.common import datasource_type as dashboards_type

SIGV4 = {"sigV4Auth": True, "sigV4AuthType": "ec2_iam_role", "sigV4Region": REGION}


def test_create_upserts_datasources_folder_and_dashboards(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.run(exists=False)

    result = handler.on_event(event(fake_grafana), None)

    aws.assert_done()  # includes DeleteWorkspaceServiceAccountToken
    assert result == {
        "PhysicalResourceId": f"grafana-provisioning-{WORKSPACE_ID}",
        "Data": {"ServiceAccountId": "42", "AmpDataSourceType": "prometheus", "DashboardCount": "2"},
    }
    created = {body["uid"]: body for body in fake_grafana.bodies("POST", "/api/datasources")}
    assert created["amp"] == {
        "uid": "amp",
        "name": "Amazon Managed Prometheus",
        "type": "prometheus",
        "access": "proxy",
        "url": AMP_ENDPOINT,
        "isDefault": True,
        "jsonData": {"httpMethod": "POST", **SIGV4},
    }
    assert created["amp-alertmanager"]["type"] == "alertmanager"
    assert created["amp-alertmanager"]["url"] == AMP_ENDPOINT + "alertmanager"
    assert created["amp-alertmanager"]["jsonData"] == {
        "implementation": "prometheus",
        "handleGrafanaManagedAlerts": False,
        **SIGV4,
    }
    assert created["cloudwatch"]["type"] == "cloudwatch"
    assert created["cloudwatch"]["jsonData"] == {"authType": "ec2_iam_role", "defaultRegion": REGION}
    assert fake_grafana.bodies("POST", "/api/folders") == [{"uid": FOLDER_UID, "title": "EKS observability"}]
    uploads = fake_grafana.bodies("POST", "/api/dashboards/db")
    assert [u["dashboard"]["uid"] for u in uploads] == ["eks-cluster", "eks-nodes"]
    for upload, source in zip(uploads, DASHBOARDS, strict=True):
        assert upload["folderUid"] == FOLDER_UID
        assert upload["overwrite"] is True
        assert upload["dashboard"] == {**source, "id": None}
    assert set(fake_grafana.dashboards) == {"eks-cluster", "eks-nodes"}


@pytest.mark.parametrize(
    ("version", "expected"),
    [("10.4", "prometheus"), ("12.4", "prometheus"), ("13.0", "grafana-amazonprometheus-datasource")],
)
def test_amp_datasource_type_follows_the_grafana_version(version: str, expected: str) -> None:
    assert datasources.datasource_type(version) == expected


def test_plugin_datasource_signs_for_the_aps_service(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.run(exists=True)

    handler.on_event(event(fake_grafana, GrafanaVersion="13.0"), None)

    amp = fake_grafana.datasources["amp"]
    assert amp["type"] == "grafana-amazonprometheus-datasource"
    assert amp["jsonData"] == {"httpMethod": "POST", **SIGV4, "sigv4Service": "aps"}
    aws.assert_done()


def test_second_run_changes_nothing(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.run(exists=False)
    handler.on_event(event(fake_grafana), None)
    before = fake_grafana.state()
    fake_grafana.requests.clear()
    aws.run(exists=True)  # found this time: no second service account

    handler.on_event(event(fake_grafana, "Update"), None)

    assert fake_grafana.mutations() == []
    assert fake_grafana.state() == before
    aws.assert_done()


def test_update_rewrites_only_what_changed(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.run(exists=False)
    handler.on_event(event(fake_grafana), None)
    fake_grafana.requests.clear()
    changed = [DASHBOARDS[0], {**DASHBOARDS[1], "title": "EKS / Nodes (USE)"}]
    aws.run(exists=True, dashboards=changed)

    handler.on_event(event(fake_grafana, "Update", FolderTitle="EKS"), None)

    assert [(m, p) for m, p, _ in fake_grafana.mutations()] == [
        ("PUT", f"/api/folders/{FOLDER_UID}"),
        ("POST", "/api/dashboards/db"),
    ]
    assert fake_grafana.dashboards["eks-nodes"]["dashboard"]["title"] == "EKS / Nodes (USE)"
    assert fake_grafana.dashboards["eks-nodes"]["meta"]["folderUid"] == FOLDER_UID
    assert fake_grafana.folders[FOLDER_UID]["title"] == "EKS"
    aws.assert_done()


def test_throttling_and_5xx_are_retried_until_success(fake_grafana: FakeGrafana, aws: Aws) -> None:
    fake_grafana.fail("GET", "/api/datasources/uid/amp", [503, 502])
    fake_grafana.fail("POST", "/api/folders", [429])
    fake_grafana.retry_after = "1"
    aws.run(exists=False)

    started = time.monotonic()
    handler.on_event(event(fake_grafana), None)

    assert fake_grafana.attempts("GET", "/api/datasources/uid/amp") == 3
    assert fake_grafana.attempts("POST", "/api/folders") == 2
    assert time.monotonic() - started >= 1  # the Retry-After of the 429 was honoured
    assert FOLDER_UID in fake_grafana.folders
    aws.assert_done()


def test_grafana_500_exhausting_retries_fails_and_deletes_the_token(
    fake_grafana: FakeGrafana, aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_grafana.fail("POST", "/api/dashboards/db", [500] * 20)
    aws.run(exists=False)

    with pytest.raises(grafana_api.GrafanaError) as failure:
        handler.on_event(event(fake_grafana), None)

    assert failure.value.status == 500
    assert fake_grafana.attempts("POST", "/api/dashboards/db") == grafana_api.RETRIES + 1
    aws.assert_done()  # the token was deleted although the run failed
    assert TOKEN not in str(failure.value)
    assert TOKEN not in caplog.text
    assert "Bearer" not in caplog.text


def test_s3_failure_deletes_the_token_and_leaves_grafana_untouched(
    fake_grafana: FakeGrafana, aws: Aws
) -> None:
    aws.account(exists=True)
    aws.token()
    aws.s3_stub.add_client_error("get_object", service_error_code="NoSuchKey", http_status_code=404)
    aws.token_deleted()

    with pytest.raises(ClientError):
        handler.on_event(event(fake_grafana), None)

    aws.assert_done()
    assert fake_grafana.requests == []


def test_delete_removes_what_create_made(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.run(exists=False)
    handler.on_event(event(fake_grafana), None)
    aws.run(exists=True)
    aws.grafana_stub.add_response(
        "delete_workspace_service_account",
        {"serviceAccountId": "42", "workspaceId": WORKSPACE_ID},
        {"workspaceId": WORKSPACE_ID, "serviceAccountId": "42"},
    )

    result = handler.on_event(event(fake_grafana, "Delete"), None)

    assert result == {"PhysicalResourceId": f"grafana-provisioning-{WORKSPACE_ID}"}
    assert fake_grafana.state() == [{}, {}, {}]
    aws.assert_done()


def test_delete_tolerates_objects_already_gone(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.run(exists=True)
    aws.grafana_stub.add_response(
        "delete_workspace_service_account",
        {"serviceAccountId": "42", "workspaceId": WORKSPACE_ID},
        {"workspaceId": WORKSPACE_ID, "serviceAccountId": "42"},
    )

    handler.on_event(event(fake_grafana, "Delete"), None)

    deletes = [p for m, p, _ in fake_grafana.requests if m == "DELETE"]
    assert deletes == [
        "/api/dashboards/uid/eks-cluster",
        "/api/dashboards/uid/eks-nodes",
        f"/api/folders/{FOLDER_UID}",
        "/api/datasources/uid/amp",
        "/api/datasources/uid/amp-alertmanager",
        "/api/datasources/uid/cloudwatch",
    ]
    aws.assert_done()


def test_delete_succeeds_when_the_workspace_is_gone(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.grafana_stub.add_client_error(
        "list_workspace_service_accounts",
        service_error_code="ResourceNotFoundException",
        http_status_code=404,
    )

    result = handler.on_event(event(fake_grafana, "Delete"), None)

    assert result["PhysicalResourceId"] == f"grafana-provisioning-{WORKSPACE_ID}"
    assert fake_grafana.requests == []
    aws.assert_done()


def test_token_never_logged_on_success(
    fake_grafana: FakeGrafana, aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    aws.run(exists=False)

    handler.on_event(event(fake_grafana), None)

    assert TOKEN not in caplog.text
    assert "Authorization" not in caplog.text
    assert "grafana POST /api/dashboards/db -> 200" in caplog.text  # method, path and status only


def test_token_lives_fifteen_minutes_at_most() -> None:
    assert 0 < service_account.TOKEN_SECONDS_TO_LIVE <= 900


def test_production_talks_https_only() -> None:
    assert grafana_api.SCHEME == "https"


@pytest.mark.parametrize("version", ["9.4", "10.4", "12.4", "13.0", "13.1", "14.0"])
def test_provisioner_and_dashboards_agree_on_the_data_source_type(version: str) -> None:
    """The Lambda ships without the spec package, so it has its own copy of the rule: both must choose the
    same type, or the dashboards would point at a data source of another type."""
    assert datasources.datasource_type(version) == dashboards_type(version)
