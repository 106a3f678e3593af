"""The Grafana client's errors: the method, path and status, and only Grafana's own message, cut short for
the CloudFormation event (a Grafana error body is `{"message": ...}`)."""

from __future__ import annotations

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
