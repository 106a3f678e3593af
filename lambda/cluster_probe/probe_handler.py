"""Lambda handler of the cluster probe: the web app's rollout and readiness, seen from inside the VPC.

Returns `{"rollout": {"complete", "stuck", "detail"}, "readiness": {"ok", "detail", "pods"}}`, or
`{"error": "..."}` when the Kubernetes API cannot be read. The verification script decides and waits.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3  # type: ignore[import-untyped]
import urllib3
from kube_api import KubeApi, KubeError, eks_token
from rollout import probe_targets, rollout

LOG = logging.getLogger(__name__)
for _name in (__name__, "kube_api"):
    logging.getLogger(_name).setLevel(logging.INFO)
# botocore's DEBUG logs would print the presigned URL, which is the bearer token.
logging.getLogger("botocore").setLevel(logging.INFO)

READYZ_TIMEOUT = urllib3.Timeout(connect=2.0, read=3.0)


def sts_client(region: str) -> Any:
    """The STS client that signs the token (the tests replace this)."""
    return boto3.client("sts", region_name=region)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    env = os.environ
    namespace, app = env["APP_NAMESPACE"], env["APP_NAME"]
    token = eks_token(sts_client(env["AWS_REGION"]), env["CLUSTER_NAME"])
    api = KubeApi(endpoint=env["CLUSTER_ENDPOINT"], ca_data=env["CLUSTER_CA_DATA"], token=token)
    try:
        deployment = api.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{app}")
        pods = api.get(f"/api/v1/namespaces/{namespace}/pods", labelSelector=f"{env['APP_NAME_LABEL']}={app}")
    except (KubeError, urllib3.exceptions.HTTPError) as error:
        LOG.warning("kubernetes API unreadable: %s", error)
        return {"error": str(error)}
    state = rollout(deployment)
    return {
        "rollout": {"complete": state.complete, "stuck": state.stuck, "detail": state.detail},
        "readiness": readiness(probe_targets(pods), port=int(env["APP_PORT"]), path=env["READYZ_PATH"]),
    }


def readiness(targets: list[tuple[str, str]], *, port: int, path: str) -> dict[str, Any]:
    """GET the readiness endpoint of each pod on its IP: ok when there is one at least and all answer 200."""
    http = urllib3.PoolManager(retries=False, timeout=READYZ_TIMEOUT)
    answers: dict[str, str] = {}
    for name, ip in targets:
        try:
            answers[name] = str(http.request("GET", f"http://{ip}:{port}{path}").status)
        except urllib3.exceptions.HTTPError as error:
            answers[name] = type(error).__name__
    if not answers:
        return {"ok": False, "detail": "no running pod to ask", "pods": answers}
    failing = {name: answer for name, answer in answers.items() if answer != "200"}
    detail = f"{len(answers) - len(failing)}/{len(answers)} pods answered 200 on {path}"
    if failing:
        detail += ": " + ", ".join(f"{name} {answer}" for name, answer in sorted(failing.items()))
    return {"ok": not failing, "detail": detail, "pods": answers}
