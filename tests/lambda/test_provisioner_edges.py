"""Edges of the Grafana provisioner the mutation run found untested (docs/mutation-testing.md): leftover
service accounts listed over several pages, what counts as an answering Grafana front end, the method and
path a failed call reports, and the deadline on the Delete path. Fake clock throughout."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grafana_api
import handler
import pytest
import readiness
import service_account
from deadline import Deadline, DeadlineExceededError
from provisioner_fakes import (
    FOLDER_UID,
    NOW,
    WORKSPACE_ID,
    Aws,
    FakeClock,
    FakeContext,
    FakeGrafana,
    event,
)

from tests.local_http import serving

# --- service_account.sweep: every page of ListWorkspaceServiceAccounts is read ---


def listed(aws: Aws, accounts: dict[str, str], *, token: str | None, next_token: str | None) -> None:
    """A ListWorkspaceServiceAccounts page (id -> name), asked for with `token`, pointing to `next_token`."""
    page: dict[str, Any] = {
        "serviceAccounts": [
            {"id": ident, "name": name, "isDisabled": "false", "grafanaRole": "ADMIN"}
            for ident, name in accounts.items()
        ],
        "workspaceId": WORKSPACE_ID,
    }
    if next_token is not None:
        page["nextToken"] = next_token
    asked = {"workspaceId": WORKSPACE_ID} | ({} if token is None else {"nextToken": token})
    aws.grafana_stub.add_response("list_workspace_service_accounts", page, asked)


def test_leftover_accounts_on_every_page_are_swept(aws: Aws) -> None:
    """Three pages: a stale account on the first and on the last; each page asked for with the previous
    page's token; both stale accounts deleted, the young one and someone else's kept."""
    listed(aws, {"100": f"cdk-provisioner-{NOW - 901}-0a1b2c3d"}, token=None, next_token="page-2")
    listed(
        aws,
        {"1": "someone-else", "101": f"cdk-provisioner-{NOW - 60}-0a1b2c3d"},
        token="page-2",
        next_token="page-3",
    )
    listed(aws, {"102": "cdk-provisioner"}, token="page-3", next_token=None)
    aws.account_deleted("100")
    aws.account_deleted("102")

    swept = service_account.sweep(aws.grafana, WORKSPACE_ID, service_account.PROVISIONER, now=NOW)

    assert swept == ["100", "102"]
    aws.assert_done()


# --- readiness.wait_for_http: any answer below 500 proves the front end is up ---


def health_server(answers: list[tuple[int, str | None]]) -> ThreadingHTTPServer:
    """Answers /api/health with the scripted (status, Location) in turn (the last one from then on); any other
    path with 503. Records the paths it was asked for."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            status, location = answers.pop(0) if len(answers) > 1 else answers[0]
            if self.path != readiness.HEALTH_PATH:
                status, location = 503, None
            self.send_response(status)
            if location is not None:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.seen = seen  # type: ignore[attr-defined]
    return server


def waited(
    monkeypatch: pytest.MonkeyPatch, answers: list[tuple[int, str | None]]
) -> tuple[list[float], list[str]]:
    """Runs wait_for_http against the scripted answers on a fake clock: the waits slept, the paths asked."""
    monkeypatch.setattr(grafana_api, "SCHEME", "http")
    clock = FakeClock()
    server = health_server(answers)
    with serving(server) as port:
        readiness.wait_for_http(f"127.0.0.1:{port}", Deadline(clock=clock, at=870.0, started=0.0))
    return clock.sleeps, server.seen  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [200, 401, 499])
def test_an_answer_below_500_is_up_at_once(monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    assert waited(monkeypatch, [(status, None)]) == ([], ["/api/health"])


def test_a_500_is_waited_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """500 is the first status that counts as down: one wait of 2 s, then the 200."""
    assert waited(monkeypatch, [(500, None), (200, None)]) == ([2.0], ["/api/health", "/api/health"])


def test_a_redirect_to_sign_in_is_up_without_following_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A front end that wants sign-in redirects: that answer proves it is up. The redirect is not followed
    (here the sign-in page would answer 503)."""
    assert waited(monkeypatch, [(302, "/login")]) == ([], ["/api/health"])


# --- A failed call names its method and path as Grafana's API spells them ---


def failing_run(fake: FakeGrafana, aws: Aws, *, request_type: str = "Create") -> grafana_api.GrafanaError:
    if request_type == "Create":
        aws.run()
    else:
        aws.workspace("ACTIVE")
        aws.session()
    with pytest.raises(grafana_api.GrafanaError) as failure:
        handler.on_event(event(fake, request_type), None)
    aws.assert_done()
    return failure.value


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/datasources/uid/amp"),
        ("POST", "/api/datasources"),
        ("GET", f"/api/folders/{FOLDER_UID}"),
        ("POST", "/api/folders"),
        ("GET", "/api/dashboards/uid/eks-cluster"),
        ("POST", "/api/dashboards/db"),
    ],
)
def test_a_failed_create_call_names_its_method_and_path(
    fake_grafana: FakeGrafana, aws: Aws, method: str, path: str
) -> None:
    fake_grafana.fail(method, path, [400])

    failure = failing_run(fake_grafana, aws)

    assert str(failure) == f"Grafana {method} {path} returned 400: scripted failure"


def test_a_changed_data_source_and_folder_title_are_put(fake_grafana: FakeGrafana, aws: Aws) -> None:
    """A second run after someone edited the AMP data source and renamed the folder: both PUT back; a PUT
    that fails says so."""
    aws.run()
    handler.on_event(event(fake_grafana), None)
    fake_grafana.datasources["amp"]["url"] = "https://elsewhere.example"
    fake_grafana.folders[FOLDER_UID]["title"] = "renamed by hand"
    fake_grafana.fail("PUT", "/api/datasources/uid/amp", [400])

    failure = failing_run(fake_grafana, aws)

    assert str(failure) == "Grafana PUT /api/datasources/uid/amp returned 400: scripted failure"
    fake_grafana.requests.clear()
    aws.run()
    handler.on_event(event(fake_grafana), None)
    puts = [(p, b) for m, p, b in fake_grafana.requests if m == "PUT"]
    assert [p for p, _ in puts] == ["/api/datasources/uid/amp", f"/api/folders/{FOLDER_UID}"]
    # Grafana's folder update needs the version or `overwrite: true`; the provisioner owns the title.
    assert puts[1][1] == {"title": "EKS observability", "overwrite": True}
    assert fake_grafana.folders[FOLDER_UID]["title"] == "EKS observability"
    aws.assert_done()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/dashboards/uid/eks-cluster"),
        ("GET", f"/api/search?folderUIDs={FOLDER_UID}&limit=1"),
        ("DELETE", f"/api/folders/{FOLDER_UID}"),
        ("DELETE", "/api/datasources/uid/amp"),
    ],
)
def test_a_failed_delete_call_names_its_method_and_path(
    fake_grafana: FakeGrafana, aws: Aws, method: str, path: str
) -> None:
    fake_grafana.fail(method, path, [400])

    failure = failing_run(fake_grafana, aws, request_type="Delete")

    assert str(failure) == f"Grafana {method} {path} returned 400: scripted failure"


# --- The Delete path keeps to the function's timeout too ---


def test_a_delete_running_out_of_time_stops_and_deletes_token_and_account(
    fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock
) -> None:
    """The first dashboard deletion takes 20 minutes (fake clock): a 900 s function, 30 s kept for cleanup,
    stops before the next call and still deletes its token and account."""
    fake_grafana.clock = clock
    fake_grafana.slow[("DELETE", "/api/dashboards/uid/eks-cluster")] = 1200
    aws.workspace("ACTIVE")
    aws.session()

    with pytest.raises(DeadlineExceededError, match="before DELETE /api/dashboards/uid/eks-nodes"):
        handler.on_event(event(fake_grafana, "Delete"), FakeContext(clock, timeout_seconds=900))

    aws.assert_done()
    assert fake_grafana.attempts("DELETE", "/api/dashboards/uid/eks-nodes") == 0


def test_a_delete_waits_for_an_updating_workspace_within_the_timeout(
    fake_grafana: FakeGrafana, aws: Aws, clock: FakeClock
) -> None:
    """A workspace stuck UPDATING: the Delete waits 2, 4, 8, 16 s, then 30 s at a time, and gives up before a
    wait that would pass 100 - 30 = 70 s (2 + 4 + 8 + 16 + 30 = 60)."""
    for _ in range(7):
        aws.workspace("UPDATING")

    with pytest.raises(
        DeadlineExceededError, match=f"waiting for workspace {WORKSPACE_ID} \\(still UPDATING\\)"
    ):
        handler.on_event(event(fake_grafana, "Delete"), FakeContext(clock, timeout_seconds=100))

    assert clock.sleeps == [2.0, 4.0, 8.0, 16.0, 30.0]
    assert fake_grafana.requests == []
    aws.assert_done()
