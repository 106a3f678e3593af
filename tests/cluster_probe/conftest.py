"""Fixtures for the cluster probe: the Lambda's folder as import root, a fake Kubernetes API over HTTPS, a
fake web app, and the function's environment."""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3  # type: ignore[import-untyped]
import pytest

# The Lambda runs with its own folder as the import root: the tests import its modules the same way, and
# this folder for the fakes (like tests/lambda does for the Grafana provisioner).
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1] / "lambda" / "cluster_probe"), str(HERE)]

import probe_handler  # noqa: E402
from probe_fakes import (  # noqa: E402
    APP,
    CLUSTER,
    NAMESPACE,
    REGION,
    FakeApp,
    FakeKubernetes,
    kubernetes_api,
    self_signed,
    web_app,
)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def kubernetes(certificate: tuple[Path, Path]) -> Iterator[FakeKubernetes]:
    with kubernetes_api(FakeKubernetes(), *certificate) as fake:
        yield fake


@pytest.fixture
def app() -> Iterator[FakeApp]:
    with web_app(FakeApp()) as fake:
        yield fake


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch, kubernetes: FakeKubernetes, app: FakeApp, certificate: tuple[Path, Path]
) -> None:
    for name, value in {
        "AWS_REGION": REGION,
        "CLUSTER_NAME": CLUSTER,
        "CLUSTER_ENDPOINT": kubernetes.endpoint,
        "CLUSTER_CA_DATA": base64.b64encode(certificate[0].read_bytes()).decode(),
        "APP_NAMESPACE": NAMESPACE,
        "APP_NAME": APP,
        "APP_NAME_LABEL": "app.kubernetes.io/name",
        "APP_PORT": str(app.port),
        "READYZ_PATH": "/readyz",
    }.items():
        monkeypatch.setenv(name, value)
    # Presigning is local: fake credentials sign a URL no one calls.
    monkeypatch.setattr(
        probe_handler,
        "sts_client",
        lambda region: boto3.client(
            "sts", region_name=region, aws_access_key_id="AKIDPROBE", aws_secret_access_key="secret-example"
        ),
    )
