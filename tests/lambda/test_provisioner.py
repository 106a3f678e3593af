"""The Grafana provisioner against a fake Grafana (HTTP on 127.0.0.1) and a stubbed AMG control plane."""

from __future__ import annotations

import logging
import re

import datasources
import grafana_api
import handler
import pytest
import readiness
import service_account
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from deadline import DeadlineExceededError
from provisioner_fakes import (
    AMP_ENDPOINT,
    DASHBOARDS,
    FOLDER_UID,
    FOLDERS,
    NOW,
    REGION,
    SERVICE_DASHBOARD,
    SERVICE_FOLDER_UID,
    TOKEN,
    WORKSPACE_ID,
    Aws,
    FakeClock,
    FakeContext,
    FakeGrafana,
    event,
    service_folder,
)

from observability.dashboards.common import datasource_type as dashboards_type

SIGV4 = {"sigV4Auth": True, "sigV4AuthType": "ec2_iam_role", "sigV4Region": REGION}


def test_create_upserts_datasources_folder_and_dashboards(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.run()

    result = handler.on_event(event(fake_grafana), None)

    aws.assert_done()  # includes deleting the token and the service account
    assert result == {
        "PhysicalResourceId": f"grafana-provisioning-{WORKSPACE_ID}",
        "Data": {"AmpDataSourceType": "prometheus", "FolderCount": "2", "DashboardCount": "3"},
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
    assert fake_grafana.bodies("POST", "/api/folders") == [
        {"uid": FOLDER_UID, "title": "EKS observability"},
        {"uid": SERVICE_FOLDER_UID, "title": "Service: orders-api"},
    ]
    uploads = fake_grafana.bodies("POST", "/api/dashboards/db")
    assert [(u["dashboard"]["uid"], u["folderUid"]) for u in uploads] == [
        ("eks-cluster", FOLDER_UID),
        ("eks-nodes", FOLDER_UID),
        ("svc-orders-api", SERVICE_FOLDER_UID),
    ]
    for upload, source in zip(uploads, [*DASHBOARDS, SERVICE_DASHBOARD], strict=True):
        assert upload["overwrite"] is True
        assert upload["dashboard"] == {**source, "id": None}
    assert {uid: d["meta"]["folderUid"] for uid, d in fake_grafana.dashboards.items()} == {
        "eks-cluster": FOLDER_UID,
        "eks-nodes": FOLDER_UID,
        "svc-orders-api": SERVICE_FOLDER_UID,
    }


@pytest.mark.parametrize(
    ("version", "expected"),
    [("10.4", "prometheus"), ("12.4", "prometheus"), ("13.0", "grafana-amazonprometheus-datasource")],
)
def test_amp_datasource_type_follows_the_grafana_version(version: str, expected: str) -> None:
    assert datasources.datasource_type(version) == expected


def test_plugin_datasource_signs_for_the_aps_service(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.run()

    handler.on_event(event(fake_grafana, GrafanaVersion="13.0"), None)

    amp = fake_grafana.datasources["amp"]
    assert amp["type"] == "grafana-amazonprometheus-datasource"
    assert amp["jsonData"] == {"httpMethod": "POST", **SIGV4, "sigv4Service": "aps"}
    aws.assert_done()


def test_second_run_changes_nothing(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.run()
    handler.on_event(event(fake_grafana), None)
    before = fake_grafana.state()
    fake_grafana.requests.clear()
    aws.run()  # a new account for this run too

    handler.on_event(event(fake_grafana, "Update"), None)

    assert fake_grafana.mutations() == []
    assert fake_grafana.state() == before
    aws.assert_done()


def test_update_rewrites_only_what_changed(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.run()
    handler.on_event(event(fake_grafana), None)
    fake_grafana.requests.clear()
    changed = [
        {
            "uid": FOLDER_UID,
            "title": "EKS",
            "dashboards": [DASHBOARDS[0], {**DASHBOARDS[1], "title": "EKS / Nodes (USE)"}],
        },
        FOLDERS[1],
    ]
    aws.run(folders=changed)

    handler.on_event(event(fake_grafana, "Update", folders=changed, old_folders=FOLDERS), None)

    assert [(m, p) for m, p, _ in fake_grafana.mutations()] == [
        ("PUT", f"/api/folders/{FOLDER_UID}"),
        ("POST", "/api/dashboards/db"),
    ]
    assert fake_grafana.dashboards["eks-nodes"]["dashboard"]["title"] == "EKS / Nodes (USE)"
    assert fake_grafana.dashboards["eks-nodes"]["meta"]["folderUid"] == FOLDER_UID
    assert fake_grafana.folders[FOLDER_UID]["title"] == "EKS"
    aws.assert_done()


def retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits urllib3's Retry asks for between attempts, recorded instead of slept."""
    sleeps: list[float] = []
    monkeypatch.setattr("urllib3.util.retry.time.sleep", sleeps.append)
    return sleeps


def test_throttling_and_5xx_are_retried_until_success(
    fake_grafana: FakeGrafana, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_grafana.fail("GET", "/api/datasources/uid/amp", [503, 502])
    fake_grafana.fail("POST", "/api/folders", [429])
    fake_grafana.retry_after = "7"
    sleeps = retry_sleeps(monkeypatch)
    aws.run()

    handler.on_event(event(fake_grafana), None)

    assert fake_grafana.attempts("GET", "/api/datasources/uid/amp") == 3
    assert fake_grafana.attempts("POST", "/api/folders") == 3  # the 429, then each of the two folders
    assert 7.0 in sleeps  # the 429's Retry-After was honoured
    assert FOLDER_UID in fake_grafana.folders
    aws.assert_done()


def test_a_429_without_retry_after_is_retried_with_backoff(
    fake_grafana: FakeGrafana, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Throttling is retried for its status alone: not every 429 carries Retry-After."""
    fake_grafana.fail("POST", "/api/folders", [429, 429])
    fake_grafana.retry_after = None
    sleeps = retry_sleeps(monkeypatch)
    aws.run()

    handler.on_event(event(fake_grafana), None)

    assert fake_grafana.attempts("POST", "/api/folders") == 4  # two 429s, then each of the two folders
    # urllib3's backoff: none before the first retry, then factor x 2^(retries - 1); the tests' factor is
    # 0.01 (conftest), so the second retry waits 0.02 s.
    assert sleeps == [0.02]
    assert FOLDER_UID in fake_grafana.folders
    aws.assert_done()


def test_grafana_500_exhausting_retries_fails_and_deletes_the_token(
    fake_grafana: FakeGrafana, aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_grafana.fail("POST", "/api/dashboards/db", [500] * 20)
    aws.run()

    with pytest.raises(grafana_api.GrafanaError) as failure:
        handler.on_event(event(fake_grafana), None)

    assert failure.value.status == 500
    # The first attempt and the 4 retries grafana_api documents (retries after the first attempt).
    assert fake_grafana.attempts("POST", "/api/dashboards/db") == 5
    aws.assert_done()  # the token was deleted although the run failed
    assert TOKEN not in str(failure.value)
    assert TOKEN not in caplog.text
    assert "Bearer" not in caplog.text


def test_s3_failure_creates_no_account_and_leaves_grafana_untouched(
    fake_grafana: FakeGrafana, aws: Aws
) -> None:
    aws.s3_stub.add_client_error("get_object", service_error_code="NoSuchKey", http_status_code=404)

    with pytest.raises(ClientError):
        handler.on_event(event(fake_grafana), None)

    aws.assert_done()  # no Grafana control-plane call at all
    assert fake_grafana.requests == []


def test_delete_removes_what_create_made(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.run()
    handler.on_event(event(fake_grafana), None)
    aws.workspace("ACTIVE")
    aws.session()  # no asset read: the resource's properties say what it owns

    result = handler.on_event(event(fake_grafana, "Delete"), None)

    assert result == {"PhysicalResourceId": f"grafana-provisioning-{WORKSPACE_ID}"}
    assert fake_grafana.state() == [{}, {}, {}]
    aws.assert_done()


def test_delete_tolerates_objects_already_gone(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.workspace("ACTIVE")
    aws.session()

    handler.on_event(event(fake_grafana, "Delete"), None)

    deletes = [p for m, p, _ in fake_grafana.requests if m == "DELETE"]
    assert deletes == [
        "/api/dashboards/uid/eks-cluster",
        "/api/dashboards/uid/eks-nodes",
        "/api/dashboards/uid/svc-orders-api",
        f"/api/folders/{FOLDER_UID}",
        f"/api/folders/{SERVICE_FOLDER_UID}",
        "/api/datasources/uid/amp",
        "/api/datasources/uid/amp-alertmanager",
        "/api/datasources/uid/cloudwatch",
    ]
    aws.assert_done()


def test_a_new_service_gets_its_folder_and_dashboard(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.run()
    handler.on_event(event(fake_grafana), None)
    fake_grafana.requests.clear()
    grown = [*FOLDERS, service_folder("payments")]
    aws.run(folders=grown)

    handler.on_event(event(fake_grafana, "Update", folders=grown, old_folders=FOLDERS), None)

    assert [(m, p) for m, p, _ in fake_grafana.mutations()] == [
        ("POST", "/api/folders"),
        ("POST", "/api/dashboards/db"),
    ]
    assert fake_grafana.folders["svc-payments-folder"]["title"] == "Service: payments"
    assert fake_grafana.dashboards["svc-payments"]["meta"]["folderUid"] == "svc-payments-folder"
    aws.assert_done()


def test_a_removed_service_loses_its_dashboard_and_empty_folder(fake_grafana: FakeGrafana, aws: Aws) -> None:
    before = [*FOLDERS, service_folder("payments")]
    aws.run(folders=before)
    handler.on_event(event(fake_grafana, folders=before), None)
    fake_grafana.requests.clear()
    aws.run(folders=FOLDERS)

    handler.on_event(event(fake_grafana, "Update", folders=FOLDERS, old_folders=before), None)

    assert [(m, p) for m, p, _ in fake_grafana.mutations()] == [
        ("DELETE", "/api/dashboards/uid/svc-payments"),
        ("DELETE", "/api/folders/svc-payments-folder"),
    ]
    assert set(fake_grafana.folders) == {FOLDER_UID, SERVICE_FOLDER_UID}
    assert set(fake_grafana.dashboards) == {"eks-cluster", "eks-nodes", "svc-orders-api"}
    aws.assert_done()


def test_a_removed_services_folder_holding_someone_elses_dashboard_is_kept(
    fake_grafana: FakeGrafana, aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    before = [*FOLDERS, service_folder("payments")]
    aws.run(folders=before)
    handler.on_event(event(fake_grafana, folders=before), None)
    mine = {"uid": "payments-mine", "title": "Saved by a user", "version": 1}
    fake_grafana.dashboards["payments-mine"] = {
        "dashboard": mine,
        "meta": {"folderUid": "svc-payments-folder"},
    }
    fake_grafana.requests.clear()
    aws.run(folders=FOLDERS)

    handler.on_event(event(fake_grafana, "Update", folders=FOLDERS, old_folders=before), None)

    assert [(m, p) for m, p, _ in fake_grafana.mutations()] == [
        ("DELETE", "/api/dashboards/uid/svc-payments")
    ]
    assert "svc-payments-folder" in fake_grafana.folders
    assert "payments-mine" in fake_grafana.dashboards
    assert "folder svc-payments-folder still holds dashboards or folders not provisioned here" in caplog.text
    aws.assert_done()


def test_a_dashboard_moving_folders_leaves_the_old_folder_empty_and_deleted(
    fake_grafana: FakeGrafana, aws: Aws
) -> None:
    """A folder renamed (its uid changed): the dashboard is uploaded into the new one, the old one goes."""
    moved = [FOLDERS[0], {**FOLDERS[1], "uid": "svc-orders-api-f2"}]
    aws.run()
    handler.on_event(event(fake_grafana), None)
    fake_grafana.requests.clear()
    aws.run(folders=moved)

    handler.on_event(event(fake_grafana, "Update", folders=moved, old_folders=FOLDERS), None)

    assert fake_grafana.dashboards["svc-orders-api"]["meta"]["folderUid"] == "svc-orders-api-f2"
    assert set(fake_grafana.folders) == {FOLDER_UID, "svc-orders-api-f2"}
    assert ("DELETE", "/api/dashboards/uid/svc-orders-api") not in [
        (m, p) for m, p, _ in fake_grafana.requests
    ]
    aws.assert_done()


def test_an_update_from_properties_without_folders_removes_nothing(
    fake_grafana: FakeGrafana, aws: Aws
) -> None:
    """Old properties from before folders were tracked (FolderUid/FolderTitle): nothing is known to own."""
    aws.run()
    handler.on_event(event(fake_grafana), None)
    fake_grafana.requests.clear()
    aws.run()
    update = event(fake_grafana, "Update")
    update["OldResourceProperties"] = {
        k: v for k, v in update["OldResourceProperties"].items() if k != "Folders"
    } | {"FolderUid": FOLDER_UID, "FolderTitle": "EKS observability"}

    handler.on_event(update, None)

    assert fake_grafana.mutations() == []
    aws.assert_done()


def test_delete_succeeds_when_the_workspace_is_gone(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.grafana_stub.add_client_error(
        "describe_workspace", service_error_code="ResourceNotFoundException", http_status_code=404
    )

    result = handler.on_event(event(fake_grafana, "Delete"), None)

    assert result["PhysicalResourceId"] == f"grafana-provisioning-{WORKSPACE_ID}"
    assert fake_grafana.requests == []
    aws.assert_done()


def test_token_never_logged_on_success(
    fake_grafana: FakeGrafana, aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    aws.run()

    handler.on_event(event(fake_grafana), None)

    assert TOKEN not in caplog.text
    assert "Authorization" not in caplog.text
    assert "grafana POST /api/dashboards/db -> 200" in caplog.text  # method, path and status only


def test_token_lives_fifteen_minutes_at_most() -> None:
    assert 0 < service_account.PROVISIONER.token_seconds_to_live <= 900


def test_production_talks_https_only() -> None:
    assert grafana_api.SCHEME == "https"


@pytest.mark.parametrize("version", ["9.4", "10.4", "12.4", "13.0", "13.1", "14.0"])
def test_provisioner_and_dashboards_agree_on_the_data_source_type(version: str) -> None:
    """The Lambda ships without the spec package, so it has its own copy of the rule: both must choose the
    same type, or the dashboards would point at a data source of another type."""
    assert datasources.datasource_type(version) == dashboards_type(version)


# --- The admin service account exists only while a run lasts ---


def test_a_run_deletes_its_account_and_token_and_leaves_no_admin_behind(
    fake_grafana: FakeGrafana, aws: Aws
) -> None:
    aws.dashboards()
    aws.workspace("ACTIVE")
    aws.accounts_listed()
    created = []
    aws.grafana.meta.events.register(
        "provide-client-params.grafana.CreateWorkspaceServiceAccount",
        lambda params, **_: created.append(params["name"]),
    )
    aws.account_created("ADMIN")
    aws.token(seconds=900)
    aws.token_deleted()
    aws.account_deleted("42")

    handler.on_event(event(fake_grafana), None)

    aws.assert_done()  # the token and then the account were deleted
    (name,) = created
    # The run's own account: the prefix, the wall time it was made (the fake clock's), a random suffix.
    assert re.fullmatch(rf"cdk-provisioner-{NOW}-[0-9a-f]{{8}}", name)


def test_leftovers_of_earlier_runs_are_swept_first(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.dashboards()
    aws.workspace("ACTIVE")
    aws.accounts_listed(
        "cdk-provisioner",  # id 100: the permanent account of earlier versions
        f"cdk-provisioner-{NOW - 901}-0a1b2c3d",  # id 101: a run killed more than a timeout ago
        f"cdk-provisioner-{NOW - 60}-0a1b2c3d",  # id 102: younger than a timeout: kept
        f"health-check-{NOW - 5000}-0a1b2c3d",  # id 103: not ours to sweep
    )
    aws.account_deleted("100")
    aws.account_deleted("101")
    aws.account_created("ADMIN")
    aws.token()
    aws.token_deleted()
    aws.account_deleted()

    handler.on_event(event(fake_grafana), None)

    aws.assert_done()


def test_grafana_error_deletes_token_and_account(fake_grafana: FakeGrafana, aws: Aws) -> None:
    fake_grafana.fail("POST", "/api/folders", [400])
    aws.run()

    with pytest.raises(grafana_api.GrafanaError, match="POST /api/folders returned 400"):
        handler.on_event(event(fake_grafana), None)

    aws.assert_done()


def test_running_out_of_time_mid_work_deletes_token_and_account(
    fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock
) -> None:
    """The first dashboard upload takes 20 minutes (fake clock): the next call would outlive the Lambda
    timeout, so the run stops there and still cleans up within the time it kept back."""
    fake_grafana.clock = clock
    fake_grafana.slow[("POST", "/api/dashboards/db")] = 1200
    aws.run()

    with pytest.raises(DeadlineExceededError, match="before GET /api/dashboards/uid/eks-nodes"):
        handler.on_event(event(fake_grafana), FakeContext(clock, timeout_seconds=900))

    aws.assert_done()
    assert fake_grafana.attempts("POST", "/api/dashboards/db") == 1


def test_token_deletion_failing_still_deletes_the_account(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.dashboards()
    aws.workspace("ACTIVE")
    aws.accounts_listed()
    aws.account_created("ADMIN")
    aws.token()
    aws.grafana_stub.add_client_error(
        "delete_workspace_service_account_token",
        service_error_code="InternalServerException",
        http_status_code=500,
    )
    aws.account_deleted()  # and with it its tokens (DeleteWorkspaceServiceAccount)

    handler.on_event(event(fake_grafana), None)

    aws.assert_done()


def test_account_deletion_failing_after_success_fails_the_run(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.dashboards()
    aws.workspace("ACTIVE")
    aws.accounts_listed()
    aws.account_created("ADMIN")
    aws.token()
    aws.token_deleted()
    aws.grafana_stub.add_client_error(
        "delete_workspace_service_account", service_error_code="InternalServerException", http_status_code=500
    )

    with pytest.raises(RuntimeError, match="service account 42 could not be deleted"):
        handler.on_event(event(fake_grafana), None)

    aws.assert_done()


# --- A workspace that is not ready yet is waited for, within the Lambda timeout ---


def test_fresh_workspace_is_waited_for_with_backoff(
    fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock
) -> None:
    aws.dashboards()
    for status in ("CREATING", "CREATING", "UPDATING", "ACTIVE"):
        aws.workspace(status)
    aws.session()
    fake_grafana.fail("GET", "/api/health", [503, 502])  # then answers 200

    handler.on_event(event(fake_grafana), FakeContext(clock, timeout_seconds=900))

    # 2, 4, 8 s for the control plane; then 2, 4 s for the HTTP API (each wait starts over at 2 s).
    assert clock.sleeps == [2.0, 4.0, 8.0, 2.0, 4.0]
    assert fake_grafana.attempts("GET", "/api/health") == 3
    assert set(fake_grafana.dashboards) == {"eks-cluster", "eks-nodes", "svc-orders-api"}
    aws.assert_done()


def test_connection_errors_are_waited_out(aws: Aws, clock: FakeClock, fake_grafana: FakeGrafana) -> None:
    """Nothing listens on the endpoint: every look fails to connect, until the deadline."""
    aws.dashboards()
    aws.workspace("ACTIVE")

    with pytest.raises(
        DeadlineExceededError, match=r"Grafana's HTTP API \(last answer: (NewConnectionError|MaxRetryError)"
    ):
        handler.on_event(
            event(fake_grafana, GrafanaEndpoint="127.0.0.1:9"), FakeContext(clock, timeout_seconds=100)
        )

    # Deadline 100 - 30 s kept for cleanup = 70 s: 2 + 4 + 8 + 16 + 30 = 60, and the next 30 would pass it.
    assert clock.sleeps == [2.0, 4.0, 8.0, 16.0, 30.0]
    aws.assert_done()  # no service account was created


def test_workspace_never_ready_fails_clearly_at_the_deadline(
    fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock
) -> None:
    """A 900 s function keeps 30 s for cleanup: it looks 33 times (waits 2, 4, 8, 16, then 28 x 30 s = 870 s)
    and gives up before a wait that would pass 870 s."""
    aws.dashboards()
    for _ in range(33):
        aws.workspace("CREATING")

    with pytest.raises(DeadlineExceededError) as failure:
        handler.on_event(event(fake_grafana), FakeContext(clock, timeout_seconds=900))

    assert str(failure.value) == (
        f"gave up after 870 s waiting for workspace {WORKSPACE_ID} (still CREATING); the function's timeout "
        "bounds the wait: deploy again once the workspace is ACTIVE"
    )
    assert sum(clock.sleeps) == 870
    assert len(clock.sleeps) == 32
    aws.assert_done()  # no service account was ever created
    assert fake_grafana.requests == []


@pytest.mark.parametrize("status", ["CREATION_FAILED", "FAILED", "DELETING", "DEGRADED"])
def test_a_failed_workspace_fails_at_once(
    fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock, status: str
) -> None:
    aws.dashboards()
    aws.workspace(status)

    with pytest.raises(readiness.NotReadyError, match=f"Grafana workspace {WORKSPACE_ID} is {status}"):
        handler.on_event(event(fake_grafana), None)

    assert clock.sleeps == []
    aws.assert_done()


def test_delete_of_a_workspace_being_deleted_does_nothing(fake_grafana: FakeGrafana, aws: Aws) -> None:
    aws.workspace("DELETING")

    handler.on_event(event(fake_grafana, "Delete"), None)

    assert fake_grafana.requests == []
    aws.assert_done()


def test_a_front_end_asking_for_sign_in_counts_as_up(
    fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock
) -> None:
    """AMG may answer an unauthenticated /api/health with 401 or a redirect: the HTTP API is up."""
    fake_grafana.fail("GET", "/api/health", [503, 401])
    aws.run()

    handler.on_event(event(fake_grafana), FakeContext(clock, timeout_seconds=900))

    assert clock.sleeps == [2.0]
    assert fake_grafana.attempts("GET", "/api/health") == 2
    aws.assert_done()
