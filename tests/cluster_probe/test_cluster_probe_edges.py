"""Edges of the cluster probe the mutation run found untested (docs/mutation-testing.md): the rollout verdict
on Deployments whose zero-valued fields Kubernetes leaves out, the Kubernetes client's retries and error
text, and the token's encoding as `aws eks get-token` makes it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kube_api
import pytest
import rollout
import urllib3
from botocore.session import get_session  # type: ignore[import-untyped]
from probe_fakes import DEPLOYMENT_PATH, FakeKubernetes, kubernetes_api

# --- rollout(): Kubernetes omits zero values (omitempty), and spec.replicas defaults to 1 ---


@pytest.mark.parametrize(
    ("deployment", "verdict"),
    [
        # Just created: no status yet, so generation 1 is not observed (observedGeneration absent: 0).
        (
            {"metadata": {"generation": 1}, "spec": {"replicas": 2}},
            rollout.Rollout(False, False, "generation 1 not observed yet (observed 0)"),
        ),
        # Scaled to zero: the status carries no replica counts at all, and no conditions; complete.
        (
            {"metadata": {"generation": 2}, "spec": {"replicas": 0}, "status": {"observedGeneration": 2}},
            rollout.Rollout(True, False, "desired 0, updated 0, total 0, available 0"),
        ),
        # spec.replicas left out: Kubernetes' default of 1.
        (
            {
                "metadata": {"generation": 1},
                "spec": {},
                "status": {
                    "observedGeneration": 1,
                    "replicas": 1,
                    "updatedReplicas": 1,
                    "availableReplicas": 1,
                },
            },
            rollout.Rollout(True, False, "desired 1, updated 1, total 1, available 1"),
        ),
        # One pod up, none available yet: availableReplicas absent means 0.
        (
            {
                "metadata": {"generation": 1},
                "spec": {"replicas": 1},
                "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1},
            },
            rollout.Rollout(False, False, "desired 1, updated 1, total 1, available 0"),
        ),
        # Given up, with the controller's message and the counts.
        (
            {
                "metadata": {"generation": 1},
                "spec": {"replicas": 1},
                "status": {
                    "observedGeneration": 1,
                    "replicas": 1,
                    "conditions": [
                        {
                            "type": "Progressing",
                            "status": "False",
                            "reason": "ProgressDeadlineExceeded",
                            "message": 'ReplicaSet "web-1" has timed out progressing.',
                        }
                    ],
                },
            },
            rollout.Rollout(
                False,
                True,
                'ProgressDeadlineExceeded: ReplicaSet "web-1" has timed out progressing. '
                "(desired 1, updated 0, total 1, available 0)",
            ),
        ),
        # Given up without a message: nothing in its place.
        (
            {
                "metadata": {"generation": 1},
                "spec": {"replicas": 1},
                "status": {
                    "observedGeneration": 1,
                    "conditions": [{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}],
                },
            },
            rollout.Rollout(
                False, True, "ProgressDeadlineExceeded:  (desired 1, updated 0, total 0, available 0)"
            ),
        ),
    ],
    ids=["just-created", "scaled-to-zero", "default-replicas", "none-available", "stuck", "stuck-no-message"],
)
def test_rollout_reads_absent_fields_as_kubernetes_means_them(
    deployment: dict[str, Any], verdict: rollout.Rollout
) -> None:
    assert rollout.rollout(deployment) == verdict


def test_a_pod_without_a_status_yet_is_not_asked() -> None:
    pods = {
        "items": [
            {"metadata": {"name": "new"}},
            {"metadata": {"name": "up"}, "status": {"phase": "Running", "podIP": "10.0.0.7"}},
        ]
    }

    assert rollout.probe_targets(pods) == [("up", "10.0.0.7")]


# --- KubeApi: retried statuses, the retry budget, the error text ---


class ScriptedKubernetes(FakeKubernetes):
    """Answers the scripted (status, body) pairs first, then as FakeKubernetes does."""

    def __init__(self, script: list[tuple[int, Any]]) -> None:
        super().__init__()
        self.script = script

    def answer(
        self, path: str, query: dict[str, list[str]], authorization: str, accept: str | None = None
    ) -> tuple[int, Any]:
        if self.script:
            self.requests.append((path, query, authorization))
            return self.script.pop(0)
        return super().answer(path, query, authorization, accept)


@pytest.fixture
def retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits urllib3's Retry asks for between attempts, recorded instead of slept."""
    sleeps: list[float] = []
    monkeypatch.setattr("urllib3.util.retry.time.sleep", sleeps.append)
    return sleeps


@pytest.fixture
def scripted(certificate: tuple[Path, Path], request: pytest.FixtureRequest) -> Iterator[ScriptedKubernetes]:
    with kubernetes_api(ScriptedKubernetes(list(request.param)), *certificate) as fake:
        assert isinstance(fake, ScriptedKubernetes)
        yield fake


def client(
    fake: FakeKubernetes, certificate: tuple[Path, Path], *, endpoint: str | None = None
) -> kube_api.KubeApi:
    ca = base64.b64encode(certificate[0].read_bytes()).decode()
    return kube_api.KubeApi(endpoint=endpoint or fake.endpoint, ca_data=ca, token="a-token")


@pytest.mark.parametrize(
    "scripted", [[(status, {})] for status in (429, 500, 502, 503, 504)], indirect=True, ids=str
)
def test_throttling_and_5xx_are_retried(
    scripted: ScriptedKubernetes, certificate: tuple[Path, Path], retry_sleeps: list[float]
) -> None:
    result = client(scripted, certificate).get(DEPLOYMENT_PATH)

    assert result["metadata"]["name"] == "orders-api"
    assert len(scripted.requests) == 2


@pytest.mark.parametrize("scripted", [[(503, {"message": "unavailable"})] * 5], indirect=True)
def test_two_retries_then_the_error(
    scripted: ScriptedKubernetes, certificate: tuple[Path, Path], retry_sleeps: list[float]
) -> None:
    """Three attempts (two retries), then urllib3's error (the handler answers it as {"error": ...}); urllib3
    waits nothing before the first retry and the factor (0.2 s) x 2 before the second."""
    with pytest.raises(urllib3.exceptions.MaxRetryError, match="too many 503 error responses"):
        client(scripted, certificate).get(DEPLOYMENT_PATH)

    assert len(scripted.requests) == 3
    assert retry_sleeps == [0.4]


@pytest.mark.parametrize(
    ("scripted", "reason"),
    [
        ([(403, {"kind": "Status", "message": "m" * 300})], "m" * 200),  # at most 200 characters
        ([(403, {"kind": "Status"})], ""),  # no message: nothing rather than a placeholder
        ([(403, ["not", "a", "Status"])], ""),
    ],
    indirect=["scripted"],
    ids=["long", "no-message", "not-a-status"],
)
def test_an_error_carries_the_status_message_only(
    scripted: ScriptedKubernetes, certificate: tuple[Path, Path], reason: str
) -> None:
    with pytest.raises(kube_api.KubeError) as failure:
        client(scripted, certificate).get(DEPLOYMENT_PATH)

    assert str(failure.value) == f"Kubernetes GET {DEPLOYMENT_PATH} returned 403: {reason}"


def test_an_endpoint_with_a_trailing_slash(
    kubernetes: FakeKubernetes, certificate: tuple[Path, Path]
) -> None:
    client(kubernetes, certificate, endpoint=kubernetes.endpoint + "/").get(DEPLOYMENT_PATH)

    assert [path for path, _, _ in kubernetes.requests] == [DEPLOYMENT_PATH]


def test_every_request_asks_for_json(kubernetes: FakeKubernetes, certificate: tuple[Path, Path]) -> None:
    """The client decodes JSON only: it asks for it (an API server serves protobuf or YAML on request, and
    answers 406 to a media type it does not serve, as the fake does)."""
    api = client(kubernetes, certificate)
    api.get(DEPLOYMENT_PATH)
    api.get("/api/v1/namespaces/orders/pods", labelSelector="app.kubernetes.io/name=orders-api")

    assert kubernetes.accepts == ["application/json", "application/json"]


@pytest.mark.parametrize(
    ("accept", "served"),
    [
        (None, True),  # no Accept: the API server's default, JSON
        ("application/json", True),
        ("application/json;as=Table;g=meta.k8s.io;v=v1, application/json", True),
        ("*/*", True),
        ("application/*;q=0.5", True),
        ("application/vnd.kubernetes.protobuf", False),
        ("XXapplication/jsonXX", False),
    ],
)
def test_the_fake_refuses_what_it_cannot_serve(
    kubernetes: FakeKubernetes, certificate: tuple[Path, Path], accept: str | None, served: bool
) -> None:
    """The fake's own check, through a plain client: what makes a wrong Accept header fail the probe's
    tests."""
    headers = {} if accept is None else {"Accept": accept}
    ca = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=str(certificate[0]))
    response = ca.request("GET", kubernetes.endpoint + DEPLOYMENT_PATH, headers=headers, retries=False)

    assert response.status == (200 if served else 406)


# --- The token: a presigned GET, base64url without padding (aws-cli's get_token.py) ---


def sts(key_id: str = "AKIDPROBE") -> Any:
    return get_session().create_client(
        "sts", region_name="eu-west-1", aws_access_key_id=key_id, aws_secret_access_key="secret-example"
    )


def test_the_token_presigns_a_get() -> None:
    """EKS calls the URL with GET: the signature must be for GET (STS's own operation is a POST)."""
    signer = sts()
    methods: list[str] = []
    signer.meta.events.register_last(
        "before-sign.sts.GetCallerIdentity", lambda request, **_: methods.append(request.method)
    )

    kube_api.eks_token(signer, "c")

    assert methods == ["GET"]


def test_the_token_is_base64url_without_padding() -> None:
    """Key ids of three lengths give URLs of three lengths: at least one encoding needs padding, which the
    token leaves out; each decodes back to the presigned URL."""
    bodies = [kube_api.eks_token(sts(key_id), "c") for key_id in ("AKIDPROBE", "AKIDPROBE1", "AKIDPROBE12")]

    assert all(body.startswith("k8s-aws-v1.") for body in bodies)
    encoded = [body.removeprefix("k8s-aws-v1.") for body in bodies]
    assert not any("=" in e for e in encoded)
    assert {len(e) % 4 for e in encoded} != {0}
    urls = [base64.urlsafe_b64decode(e + "=" * (-len(e) % 4)).decode() for e in encoded]
    assert all(url.startswith("https://sts.") for url in urls)
