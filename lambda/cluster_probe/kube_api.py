"""A read-only Kubernetes API client for the EKS private endpoint: an IAM bearer token, the cluster's CA.

The token is what `aws eks get-token` produces (aws-cli awscli/customizations/eks/get_token.py): a presigned
STS GetCallerIdentity URL, signed with the header `x-k8s-aws-id: <cluster name>`, base64url-encoded without
padding behind `k8s-aws-v1.`. Presigning is local: the function calls no AWS API, EKS checks the URL.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any
from urllib.parse import urlencode

import urllib3
from urllib3.util import Retry, Timeout

LOG = logging.getLogger(__name__)

TOKEN_PREFIX = "k8s-aws-v1."  # noqa: S105 - a format prefix, not a secret
K8S_AWS_ID_HEADER = "x-k8s-aws-id"
URL_TIMEOUT_SECONDS = 60  # aws-cli's URL_TIMEOUT: the API server accepts the URL for this long


class KubeError(Exception):
    """A Kubernetes API call failed: method, path and status, never the token."""


def eks_token(sts: Any, cluster_name: str) -> str:
    """The bearer token for `cluster_name`, signed with `sts`'s credentials (a botocore STS client)."""

    def keep_id(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if K8S_AWS_ID_HEADER in params:
            context[K8S_AWS_ID_HEADER] = params.pop(K8S_AWS_ID_HEADER)

    def add_header(request: Any, **_: Any) -> None:
        if K8S_AWS_ID_HEADER in request.context:
            request.headers[K8S_AWS_ID_HEADER] = request.context[K8S_AWS_ID_HEADER]

    sts.meta.events.register("provide-client-params.sts.GetCallerIdentity", keep_id)
    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_header)
    url = sts.generate_presigned_url(
        "get_caller_identity",
        Params={K8S_AWS_ID_HEADER: cluster_name},
        ExpiresIn=URL_TIMEOUT_SECONDS,
        HttpMethod="GET",
    )
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


class KubeApi:
    def __init__(self, *, endpoint: str, ca_data: str, token: str) -> None:
        """`endpoint`: https://…; `ca_data`: the cluster's base64 PEM (certificateAuthority.data)."""
        self._base = endpoint.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._http = urllib3.PoolManager(
            cert_reqs="CERT_REQUIRED",
            ca_cert_data=base64.b64decode(ca_data).decode(),
            retries=Retry(total=2, backoff_factor=0.2, status_forcelist=(429, 500, 502, 503, 504)),
            timeout=Timeout(connect=3.0, read=10.0),
        )

    def get(self, path: str, **query: str) -> dict[str, Any]:
        url = self._base + path + (f"?{urlencode(query)}" if query else "")
        response = self._http.request("GET", url, headers=self._headers)
        LOG.info("kubernetes GET %s -> %d", path, response.status)
        if response.status != 200:
            raise KubeError(f"Kubernetes GET {path} returned {response.status}: {_reason(response.data)}")
        result: dict[str, Any] = json.loads(response.data)
        return result


def _reason(data: bytes) -> str:
    # Kubernetes errors are Status objects: {"kind": "Status", "message": ...}.
    try:
        return str(json.loads(data).get("message", ""))[:200]
    except (ValueError, AttributeError):
        return ""
