"""The cluster probe against a fake Kubernetes API (HTTPS on 127.0.0.1, checked against the given CA) and
a fake web app pod: the EKS token, the rollout verdicts, readiness, and errors without secrets."""

from __future__ import annotations

import base64
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import kube_api
import probe_handler
import pytest
import rollout
from probe_fakes import CLUSTER, DEPLOYMENT_PATH, PODS_PATH, REGION, FakeApp, FakeKubernetes, deployment, pod

pytestmark = pytest.mark.usefixtures("environment")


def invoke() -> dict[str, Any]:
    return probe_handler.handler({}, None)


def token_url(authorization: str) -> str:
    token = authorization.removeprefix("Bearer ")
    assert token.startswith("k8s-aws-v1.")
    encoded = token.removeprefix("k8s-aws-v1.")
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()


def test_rollout_complete_and_ready(
    kubernetes: FakeKubernetes, app: FakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    answer = invoke()

    assert answer["rollout"] == {
        "complete": True,
        "stuck": False,
        "detail": "desired 2, updated 2, total 2, available 2",
    }
    assert answer["readiness"] == {
        "ok": True,
        "detail": "2/2 pods answered 200 on /readyz",
        "pods": {"orders-api-a": "200", "orders-api-b": "200"},
    }
    assert app.paths == ["/readyz", "/readyz"]
    (deploy_path, _, authorization), (pods_path, query, _) = kubernetes.requests
    assert (deploy_path, pods_path) == (DEPLOYMENT_PATH, PODS_PATH)
    assert query == {"labelSelector": ["app.kubernetes.io/name=orders-api"]}
    # aws eks get-token's token: a presigned STS GetCallerIdentity URL signing the cluster-name header.
    url = urlsplit(token_url(authorization))
    params = parse_qs(url.query)
    assert url.hostname is not None
    assert url.hostname.startswith("sts.")
    assert params["Action"] == ["GetCallerIdentity"]
    assert params["X-Amz-Expires"] == ["60"]
    assert "x-k8s-aws-id" in params["X-Amz-SignedHeaders"][0].split(";")
    assert f"/{REGION}/sts/aws4_request" in params["X-Amz-Credential"][0]
    assert authorization.removeprefix("Bearer ") not in caplog.text


def test_token_names_the_cluster() -> None:
    sts = probe_handler.sts_client(REGION)
    seen: list[str] = []
    sts.meta.events.register_last(
        "before-sign.sts.GetCallerIdentity", lambda request, **_: seen.append(request.headers["x-k8s-aws-id"])
    )

    kube_api.eks_token(sts, CLUSTER)

    assert seen == [CLUSTER]


@pytest.mark.parametrize(
    ("state", "complete", "stuck", "detail"),
    [
        (
            deployment(updated=1, total=3, available=2),
            False,
            False,
            "desired 2, updated 1, total 3, available 2",
        ),
        (deployment(total=3), False, False, "desired 2, updated 2, total 3, available 2"),  # an old pod left
        (deployment(available=1), False, False, "desired 2, updated 2, total 2, available 1"),
        (deployment(generation=4, observed=3), False, False, "generation 4 not observed yet (observed 3)"),
        (
            deployment(updated=1, progressing="ProgressDeadlineExceeded"),
            False,
            True,
            "ProgressDeadlineExceeded",
        ),
    ],
    ids=["updating", "old-replica-left", "unavailable", "generation-unobserved", "deadline-exceeded"],
)
def test_rollout_not_complete(
    kubernetes: FakeKubernetes, state: dict[str, Any], complete: bool, stuck: bool, detail: str
) -> None:
    kubernetes.deployment = state

    result = invoke()["rollout"]

    assert (result["complete"], result["stuck"]) == (complete, stuck)
    assert result["detail"].startswith(detail)


def test_readiness_failing(app: FakeApp) -> None:
    app.status = 503

    readiness = invoke()["readiness"]

    assert readiness["ok"] is False
    assert readiness["detail"] == "0/2 pods answered 200 on /readyz: orders-api-a 503, orders-api-b 503"


def test_only_running_pods_that_stay_are_asked(kubernetes: FakeKubernetes, app: FakeApp) -> None:
    kubernetes.pods = [pod("a", phase="Pending"), pod("b", terminating=True), pod("c")]

    readiness = invoke()["readiness"]

    assert readiness["pods"] == {"c": "200"}
    assert rollout.probe_targets({"items": [pod("a", phase="Pending")]}) == []


def test_no_running_pod_is_not_ready(kubernetes: FakeKubernetes) -> None:
    kubernetes.pods = []

    assert invoke()["readiness"] == {"ok": False, "detail": "no running pod to ask", "pods": {}}


def test_unreachable_pod_is_not_ready(app: FakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_PORT", "9")  # nothing listens

    readiness = invoke()["readiness"]

    assert readiness["ok"] is False
    assert (
        "orders-api-a MaxRetryError" in readiness["detail"]
        or "orders-api-a NewConnectionError" in readiness["detail"]
    )


def test_forbidden_is_an_error_without_the_token(kubernetes: FakeKubernetes) -> None:
    kubernetes.status = 403

    answer = invoke()

    reason = f'{DEPLOYMENT_PATH} is forbidden: User "verifier"'
    assert answer == {"error": f"Kubernetes GET {DEPLOYMENT_PATH} returned 403: {reason}"}
    assert "k8s-aws-v1." not in str(answer)


def test_an_endpoint_with_another_ca_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from probe_fakes import self_signed

    other, _ = self_signed(tmp_path)
    monkeypatch.setenv("CLUSTER_CA_DATA", base64.b64encode(other.read_bytes()).decode())

    answer = invoke()

    assert "CERTIFICATE_VERIFY_FAILED" in answer["error"]
