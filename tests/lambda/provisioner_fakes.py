"""A fake Grafana (the HTTP endpoints the provisioner calls) and stubbed AWS clients, for the tests."""

from __future__ import annotations

import io
import json
import re
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3  # type: ignore[import-untyped]
from botocore.response import StreamingBody  # type: ignore[import-untyped]
from botocore.stub import ANY, Stubber  # type: ignore[import-untyped]

WORKSPACE_ID = "g-0123456789"
ACCOUNT_ID = "42"
TOKEN_ID = "7"
TOKEN = "glsa_NeverLogMe_0123456789abcdef"
VIEWER_TOKEN = "glsa_ViewerOnly_0123456789abcdef"
# The fake clock's wall time at the start of a test (2027-01-15): service account names carry it.
NOW = 1_800_000_000
REGION = "eu-west-1"
AMP_ENDPOINT = "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1234/"
BUCKET = "cdk-assets"
KEY = "abc123.json"
FOLDER_UID = "eks-observability"
SERVICE_FOLDER_UID = "svc-orders-api-folder"
DASHBOARDS = [
    {"uid": "eks-cluster", "title": "EKS / Cluster", "id": 12, "schemaVersion": 39, "panels": []},
    {"uid": "eks-nodes", "title": "EKS / Nodes", "schemaVersion": 39, "panels": [{"type": "timeseries"}]},
]
SERVICE_DASHBOARD: dict[str, Any] = {
    "uid": "svc-orders-api",
    "title": "orders / orders-api",
    "schemaVersion": 39,
    "panels": [],
}
# The asset's folders: the platform's and one service's.
FOLDERS: list[dict[str, Any]] = [
    {"uid": FOLDER_UID, "title": "EKS observability", "dashboards": DASHBOARDS},
    {"uid": SERVICE_FOLDER_UID, "title": "Service: orders-api", "dashboards": [SERVICE_DASHBOARD]},
]


def service_folder(name: str, team: str = "payments") -> dict[str, Any]:
    """Another service's folder and dashboard, as the asset carries them."""
    dashboard = {"uid": f"svc-{name}", "title": f"{team} / {name}", "schemaVersion": 39, "panels": []}
    return {"uid": f"svc-{name}-folder", "title": f"Service: {name}", "dashboards": [dashboard]}


def owned(folders: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The resource's `Folders` property for these folders."""
    return {folder["uid"]: [d["uid"] for d in folder["dashboards"]] for folder in folders}


class FakeGrafana:
    """In-memory Grafana: exactly the endpoints the provisioner calls, with scripted failures."""

    def __init__(self) -> None:
        self.datasources: dict[str, dict[str, Any]] = {}
        self.folders: dict[str, dict[str, Any]] = {}
        self.dashboards: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.failures: dict[tuple[str, str], list[int]] = {}
        # Token -> Grafana role, as the stubbed CreateWorkspaceServiceAccountToken hands them out.
        self.tokens = {TOKEN: "Admin", VIEWER_TOKEN: "Viewer"}
        self.health: dict[str, tuple[int, dict[str, str]]] = {}  # data source uid -> scripted answer
        # A request that takes long: (method, path) -> seconds the clock moves when it arrives.
        self.slow: dict[tuple[str, str], float] = {}
        self.clock: Any = None
        # The Retry-After header a 429 carries (None: none at all, as some proxies answer).
        self.retry_after: str | None = "0"
        self.endpoint = ""  # host:port, set once the server listens
        self._next_id = 1
        self._lock = threading.Lock()

    def fail(self, method: str, path: str, statuses: list[int]) -> None:
        """Answer the next len(statuses) calls of `method path` with these statuses."""
        self.failures[(method, path)] = list(statuses)

    def attempts(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.requests if (m, p) == (method, path))

    def mutations(self) -> list[tuple[str, str, Any]]:
        return [r for r in self.requests if r[0] != "GET"]

    def bodies(self, method: str, path: str) -> list[Any]:
        return [b for m, p, b in self.requests if (m, p) == (method, path)]

    def state(self) -> list[Any]:
        """A deep copy of [data sources, folders, dashboards]."""
        snapshot: list[Any] = json.loads(json.dumps([self.datasources, self.folders, self.dashboards]))
        return snapshot

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def handle(self, method: str, path: str, body: Any, auth: str | None) -> tuple[int, Any]:
        with self._lock:
            self.requests.append((method, path, body))
            if (method, path) in self.slow:
                self.clock.now += self.slow[(method, path)]
            scripted = self.failures.get((method, path))
            if scripted:
                return scripted.pop(0), {"message": "scripted failure"}
            if (method, path) == ("GET", "/api/health"):  # unauthenticated, as in Grafana
                return 200, {"database": "ok", "version": "10.4.1"}
            role = self.tokens.get((auth or "").removeprefix("Bearer "))
            if role is None:
                return 401, {"message": "Unauthorized"}
            if role == "Viewer" and method != "GET":
                return 403, {"message": "You'll need additional permissions to perform this action."}
            return self._route(method, path, body)

    def _route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if m := re.fullmatch(r"/api/datasources/uid/([\w-]+)/health", path):
            if m.group(1) not in self.datasources:
                return 404, {"message": "Data source not found"}
            return self.health.get(m.group(1), (200, {"status": "OK", "message": "Data source is working"}))
        if m := re.fullmatch(r"/api/datasources/uid/([\w-]+)", path):
            return self._datasource(method, m.group(1), body)
        if (method, path) == ("POST", "/api/datasources"):
            taken = any(
                d["uid"] == body["uid"] or d["name"] == body["name"] for d in self.datasources.values()
            )
            if taken:
                return 409, {"message": "data source with the same name or uid already exists"}
            self.datasources[body["uid"]] = {**body, "id": self._id(), "version": 1, "orgId": 1}
            return 200, {"message": "Datasource added", "datasource": self.datasources[body["uid"]]}
        if m := re.fullmatch(r"/api/folders/([\w-]+)", path):
            return self._folder(method, m.group(1), body)
        if (method, path) == ("POST", "/api/folders"):
            if body["uid"] in self.folders:
                return 409, {"message": "a folder with the same uid already exists"}
            self.folders[body["uid"]] = {**body, "id": self._id(), "version": 1}
            return 200, self.folders[body["uid"]]
        if path.startswith("/api/search?") and method == "GET":
            return self._search(parse_qs(urlsplit(path).query))
        if m := re.fullmatch(r"/api/dashboards/uid/([\w-]+)", path):
            return self._dashboard(method, m.group(1))
        if (method, path) == ("POST", "/api/dashboards/db"):
            return self._save_dashboard(body)
        return 404, {"message": "Not found"}

    def _datasource(self, method: str, uid: str, body: Any) -> tuple[int, Any]:
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        if method == "GET":
            return 200, self.datasources[uid]
        if method == "PUT":
            old = self.datasources[uid]
            self.datasources[uid] = {**body, "id": old["id"], "version": old["version"] + 1, "orgId": 1}
            return 200, {"message": "Datasource updated"}
        del self.datasources[uid]
        return 200, {"message": "Data source deleted"}

    def _folder(self, method: str, uid: str, body: Any) -> tuple[int, Any]:
        if uid not in self.folders:
            return 404, {"message": "folder not found"}
        if method == "GET":
            return 200, self.folders[uid]
        if method == "PUT":
            self.folders[uid]["title"] = body["title"]
            return 200, self.folders[uid]
        del self.folders[uid]
        # As in Grafana: deleting a folder deletes the dashboards in it.
        self.dashboards = {k: v for k, v in self.dashboards.items() if v["meta"]["folderUid"] != uid}
        return 200, {"message": "Folder deleted"}

    def _search(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        """Dashboards in the folders of `folderUIDs` (the only filter the provisioner uses)."""
        within = set(query.get("folderUIDs", []))
        hits = [
            {"uid": uid, "type": "dash-db", "folderUid": d["meta"]["folderUid"]}
            for uid, d in sorted(self.dashboards.items())
            if d["meta"]["folderUid"] in within
        ]
        return 200, hits[: int(query.get("limit", ["1000"])[0])]

    def _dashboard(self, method: str, uid: str) -> tuple[int, Any]:
        if uid not in self.dashboards:
            return 404, {"message": "Dashboard not found"}
        if method == "GET":
            return 200, self.dashboards[uid]
        del self.dashboards[uid]
        return 200, {"message": "Dashboard deleted"}

    def _save_dashboard(self, body: Any) -> tuple[int, Any]:
        model, folder_uid = body["dashboard"], body.get("folderUid")
        if folder_uid not in self.folders:
            return 400, {"message": "folder not found"}
        old = self.dashboards.get(model["uid"])
        if old is not None and not body.get("overwrite"):
            return 412, {"message": "version-mismatched"}
        version = 1 if old is None else old["dashboard"]["version"] + 1
        ident = self._id() if old is None else old["dashboard"]["id"]
        stored = {**model, "id": ident, "version": version}
        self.dashboards[model["uid"]] = {"dashboard": stored, "meta": {"folderUid": folder_uid}}
        return 200, {"status": "success", "uid": model["uid"], "version": version}


def request_handler(fake: FakeGrafana) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, payload = fake.handle(self.command, self.path, body, self.headers.get("Authorization"))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 429 and fake.retry_after is not None:
                self.send_header("Retry-After", fake.retry_after)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler


class FakeClock:
    """Moves only when slept: `sleeps` records every wait; `tick` advances time on each look at it."""

    def __init__(self, tick: float = 0.0) -> None:
        self.now = 0.0
        self.tick = tick
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        self.now += self.tick
        return self.now

    def time(self) -> float:
        return NOW + self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeContext:
    """The part of the Lambda context the handlers read: the time left before the function's timeout."""

    def __init__(self, clock: FakeClock, timeout_seconds: float) -> None:
        self.clock, self.ends = clock, clock.now + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.ends - self.clock.now) * 1000)


class Aws:
    """Stubbed Grafana control plane and S3, handed to the handler in place of the real clients."""

    def __init__(self) -> None:
        creds = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        self.grafana = boto3.client("grafana", region_name=REGION, **creds)
        self.s3 = boto3.client("s3", region_name=REGION, **creds)
        self.grafana_stub = Stubber(self.grafana)
        self.s3_stub = Stubber(self.s3)

    def workspace(self, status: str = "ACTIVE") -> None:
        self.grafana_stub.add_response(
            "describe_workspace",
            {
                "workspace": {
                    "created": NOW,
                    "dataSources": ["PROMETHEUS", "CLOUDWATCH"],
                    "endpoint": "g-0123456789.grafana-workspace.eu-west-1.amazonaws.com",
                    "grafanaVersion": "10.4",
                    "id": WORKSPACE_ID,
                    "modified": NOW,
                    "status": status,
                    "authentication": {"providers": ["AWS_SSO"]},
                }
            },
            {"workspaceId": WORKSPACE_ID},
        )

    def accounts_listed(self, *names: str) -> None:
        """ListWorkspaceServiceAccounts answers these names (ids "100", "101", ...) and someone else's."""
        accounts = [{"id": "1", "name": "someone-else", "isDisabled": "false", "grafanaRole": "ADMIN"}]
        accounts += [
            {"id": str(100 + i), "name": name, "isDisabled": "false", "grafanaRole": "ADMIN"}
            for i, name in enumerate(names)
        ]
        self.grafana_stub.add_response(
            "list_workspace_service_accounts",
            {"serviceAccounts": accounts, "workspaceId": WORKSPACE_ID},
            {"workspaceId": WORKSPACE_ID},
        )

    def account_deleted(self, account_id: str = ACCOUNT_ID) -> None:
        self.grafana_stub.add_response(
            "delete_workspace_service_account",
            {"serviceAccountId": account_id, "workspaceId": WORKSPACE_ID},
            {"workspaceId": WORKSPACE_ID, "serviceAccountId": account_id},
        )

    def account_created(self, role: str = "ADMIN") -> None:
        self.grafana_stub.add_response(
            "create_workspace_service_account",
            {"id": ACCOUNT_ID, "name": "x", "grafanaRole": role, "workspaceId": WORKSPACE_ID},
            {"workspaceId": WORKSPACE_ID, "name": ANY, "grafanaRole": role},
        )

    def token(self, *, key: str = TOKEN, seconds: int = 900) -> None:
        self.grafana_stub.add_response(
            "create_workspace_service_account_token",
            {
                "serviceAccountToken": {"id": TOKEN_ID, "name": "x", "key": key},
                "serviceAccountId": ACCOUNT_ID,
                "workspaceId": WORKSPACE_ID,
            },
            {
                "workspaceId": WORKSPACE_ID,
                "serviceAccountId": ACCOUNT_ID,
                "name": ANY,
                "secondsToLive": seconds,
            },
        )

    def token_deleted(self) -> None:
        self.grafana_stub.add_response(
            "delete_workspace_service_account_token",
            {"tokenId": TOKEN_ID, "serviceAccountId": ACCOUNT_ID, "workspaceId": WORKSPACE_ID},
            {"workspaceId": WORKSPACE_ID, "serviceAccountId": ACCOUNT_ID, "tokenId": TOKEN_ID},
        )

    def session(self, *, role: str = "ADMIN", key: str = TOKEN, seconds: int = 900) -> None:
        """A run's account: swept list (nothing left over), created, its token; then both deleted."""
        self.accounts_listed()
        self.account_created(role)
        self.token(key=key, seconds=seconds)
        self.token_deleted()
        self.account_deleted()

    def dashboards(self, folders: list[dict[str, Any]] | None = None) -> None:
        data = json.dumps({"folders": FOLDERS if folders is None else folders}).encode()
        self.s3_stub.add_response(
            "get_object",
            {"Body": StreamingBody(io.BytesIO(data), len(data))},
            {"Bucket": BUCKET, "Key": KEY},
        )

    def run(self, *, folders: list[dict[str, Any]] | None = None) -> None:
        """Expect one Create/Update: the dashboards asset, the workspace ACTIVE, a run's account and token."""
        self.dashboards(folders)
        self.workspace("ACTIVE")
        self.session()

    def assert_done(self) -> None:
        """Every queued call was made: the token and the service account were deleted."""
        self.grafana_stub.assert_no_pending_responses()
        self.s3_stub.assert_no_pending_responses()


def event(
    fake: FakeGrafana,
    request_type: str = "Create",
    *,
    folders: list[dict[str, Any]] | None = None,
    old_folders: list[dict[str, Any]] | None = None,
    **overrides: str,
) -> dict[str, Any]:
    """A custom resource event; an Update's old properties own `old_folders` (default: `folders`)."""
    folders = FOLDERS if folders is None else folders
    props = {
        "ServiceToken": "arn:aws:lambda:eu-west-1:111111111111:function:provider",
        "GrafanaWorkspaceId": WORKSPACE_ID,
        "GrafanaEndpoint": fake.endpoint,
        "GrafanaVersion": "10.4",
        "Region": REGION,
        "PrometheusWorkspaceId": "ws-1234",
        "PrometheusEndpoint": AMP_ENDPOINT,
        "DashboardsBucket": BUCKET,
        "DashboardsKey": KEY,
        "Folders": owned(folders),
        **overrides,
    }
    result: dict[str, Any] = {"RequestType": request_type, "ResourceProperties": props}
    if request_type != "Create":
        result["PhysicalResourceId"] = f"grafana-provisioning-{WORKSPACE_ID}"
    if request_type == "Update":
        old = folders if old_folders is None else old_folders
        result["OldResourceProperties"] = {**props, "Folders": owned(old)}
    return result
