"""The Grafana client against a local server: errors carry the method, path and status and only Grafana's own
message, cut short for the CloudFormation event (a Grafana error body is `{"message": ...}`); any status from
300 up is an error (a 404 only where the caller tolerates it); bodies are JSON, sent only when given."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grafana_api
import pytest

from tests.local_http import local_server, serving


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"message": "x" * 300}, "x" * 200),  # at most 200 characters of it
        ({"message": "Dashboard not found", "status": "not-found"}, "Dashboard not found"),
        ({"status": "not-found"}, ""),  # no message: nothing rather than a placeholder
        ("not an object", ""),
    ],
    ids=["long", "message", "no-message", "not-an-object"],
)
def test_an_error_carries_grafanas_message_only(
    monkeypatch: pytest.MonkeyPatch, body: Any, message: str
) -> None:
    monkeypatch.setattr(grafana_api, "SCHEME", "http")  # the local server speaks plain HTTP
    with serving(local_server(lambda request: (400, body))) as port:
        api = grafana_api.GrafanaApi(endpoint=f"127.0.0.1:{port}", token="a-token")
        with pytest.raises(grafana_api.GrafanaError) as failure:
            api.request("GET", "/api/dashboards/uid/x")
        api.close()

    assert str(failure.value) == f"Grafana GET /api/dashboards/uid/x returned 400: {message}"
    assert failure.value.status == 400


class Recorder(BaseHTTPRequestHandler):
    """Answers every request with the server's scripted (status, raw body) and records what it was sent."""

    server: Any

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.seen.append((self.command, self.path, self.rfile.read(length), dict(self.headers)))
        status, body = self.server.answer
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def recording_server(status: int, body: bytes) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.answer, server.seen = (status, body), []  # type: ignore[attr-defined]
    return server


def call(
    monkeypatch: pytest.MonkeyPatch, server: ThreadingHTTPServer, *requests: tuple[str, Any], **kwargs: Any
) -> list[Any]:
    """Each (method, body) through one client, in order: what each returned."""
    monkeypatch.setattr(grafana_api, "SCHEME", "http")
    with serving(server) as port:
        api = grafana_api.GrafanaApi(endpoint=f"127.0.0.1:{port}", token="a-token")
        try:
            return [api.request(method, "/api/folders/x", body, **kwargs) for method, body in requests]
        finally:
            api.close()


def test_a_404_is_an_error_unless_tolerated(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(grafana_api.GrafanaError, match="returned 404"):
        call(monkeypatch, recording_server(404, b'{"message": "Folder not found"}'), ("GET", None))
    assert call(monkeypatch, recording_server(404, b"{}"), ("GET", None), missing_ok=True) == [None]


def test_a_300_is_an_error_and_an_empty_200_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(grafana_api.GrafanaError, match="returned 300"):
        call(monkeypatch, recording_server(300, b"{}"), ("GET", None))
    assert call(monkeypatch, recording_server(200, b""), ("DELETE", None)) == [None]  # no body to decode


def test_json_bodies_only_when_given_and_the_token_as_bearer(monkeypatch: pytest.MonkeyPatch) -> None:
    server = recording_server(200, b'{"uid": "x"}')
    answers = call(monkeypatch, server, ("GET", None), ("POST", {"uid": "x", "title": "X"}))

    assert answers == [{"uid": "x"}, {"uid": "x"}]
    (_, _, get_body, get_headers), (_, _, post_body, post_headers) = server.seen  # type: ignore[attr-defined]
    assert get_body == b""  # a GET sends no body (not even `null`)
    assert json.loads(post_body) == {"uid": "x", "title": "X"}
    for headers in (get_headers, post_headers):
        assert headers["Authorization"] == "Bearer a-token"
        assert headers["Content-Type"] == headers["Accept"] == "application/json"
