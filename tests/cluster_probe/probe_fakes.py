"""A fake Kubernetes API server (HTTPS, a self-signed certificate for 127.0.0.1) and a fake web app pod
(HTTP readiness endpoint), for the cluster probe's tests."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.local_http import local_server, serving

CLUSTER = "dev-cluster-abc"
REGION = "eu-west-1"
NAMESPACE = "orders"
APP = "orders-api"
DEPLOYMENT_PATH = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{APP}"
PODS_PATH = f"/api/v1/namespaces/{NAMESPACE}/pods"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate (and key) for IP 127.0.0.1, like the API server's for its endpoint."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=kubernetes",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def deployment(
    *, generation: int = 3, observed: int = 3, replicas: int = 2, updated: int = 2, total: int = 2,
    available: int = 2, progressing: str = "NewReplicaSetAvailable",
) -> dict[str, Any]:  # fmt: skip
    return {
        "metadata": {"name": APP, "namespace": NAMESPACE, "generation": generation},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": observed,
            "replicas": total,
            "updatedReplicas": updated,
            "availableReplicas": available,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": progressing,
                    "message": "replica set progress",
                },
            ],
        },
    }


def pod(
    name: str, *, ip: str = "127.0.0.1", phase: str = "Running", terminating: bool = False
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": NAMESPACE,
        "labels": {"app.kubernetes.io/name": APP},
    }
    if terminating:
        metadata["deletionTimestamp"] = "2026-12-01T00:00:00Z"
    return {"metadata": metadata, "status": {"phase": phase, "podIP": ip}}


class FakeKubernetes:
    def __init__(self) -> None:
        self.deployment: dict[str, Any] = deployment()
        self.pods: list[dict[str, Any]] = [pod("orders-api-a"), pod("orders-api-b")]
        self.status = 200  # e.g. 403 when RBAC refuses
        self.requests: list[tuple[str, dict[str, list[str]], str]] = []  # (path, query, authorization)
        self.accepts: list[str | None] = []  # each request's Accept header (None: not sent)
        self.endpoint = ""

    def answer(
        self, path: str, query: dict[str, list[str]], authorization: str, accept: str | None = None
    ) -> tuple[int, Any]:
        self.requests.append((path, query, authorization))
        self.accepts.append(accept)
        if not json_acceptable(accept):
            # The API server answers 406 when no media range it serves matches; no Accept means JSON.
            return 406, {"kind": "Status", "reason": "NotAcceptable", "message": f"cannot serve {accept}"}
        if self.status != 200:
            return self.status, {"kind": "Status", "message": f'{path} is forbidden: User "verifier"'}
        if path == DEPLOYMENT_PATH:
            return 200, self.deployment
        if path == PODS_PATH:
            return 200, {"kind": "PodList", "items": self.pods}
        return 404, {"kind": "Status", "message": "not found"}


def json_acceptable(accept: str | None) -> bool:
    """Whether an Accept header (RFC 9110 media ranges, parameters such as q= ignored) admits
    application/json."""
    if accept is None:
        return True
    ranges = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return bool(ranges & {"application/json", "application/*", "*/*"})


class FakeApp:
    def __init__(self) -> None:
        self.status = 200
        self.paths: list[str] = []
        self.port = 0


@contextmanager
def kubernetes_api(fake: FakeKubernetes, cert: Path, key: Path) -> Iterator[FakeKubernetes]:
    def respond(request: BaseHTTPRequestHandler) -> tuple[int, Any]:
        url = urlsplit(request.path)
        headers = request.headers
        authorization, accept = headers.get("Authorization", ""), headers.get("Accept")
        return fake.answer(url.path, parse_qs(url.query), authorization, accept)

    server = local_server(respond)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with serving(server) as port:
        fake.endpoint = f"https://127.0.0.1:{port}"
        yield fake


@contextmanager
def web_app(fake: FakeApp) -> Iterator[FakeApp]:
    def respond(request: BaseHTTPRequestHandler) -> tuple[int, Any]:
        fake.paths.append(request.path)
        return fake.status, {"status": "ready" if fake.status == 200 else "not ready"}

    with serving(local_server(respond)) as port:
        fake.port = port
        yield fake
