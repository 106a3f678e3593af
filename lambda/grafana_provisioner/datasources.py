"""The data sources the provisioner keeps in Grafana, all signing with the workspace IAM role (SigV4)."""

from __future__ import annotations

from typing import Any

AMP_UID = "amp"
ALERTMANAGER_UID = "amp-alertmanager"
CLOUDWATCH_UID = "cloudwatch"
UIDS = (AMP_UID, ALERTMANAGER_UID, CLOUDWATCH_UID)

CORE_PROMETHEUS = "prometheus"
AMAZON_PROMETHEUS_PLUGIN = "grafana-amazonprometheus-datasource"
# grafana/grafana#123089 (merged 2026-04-20) removed SigV4 from core Prometheus; the first release without it
# is assumed to be 13 (unconfirmed): 10.x-12.x keep the core type.
FIRST_MAJOR_WITHOUT_CORE_SIGV4 = 13
# "Workspace IAM Role" in the AMG editor; the stored value (grafana-aws-sdk AuthTypeEC2IAMRole).
WORKSPACE_ROLE_AUTH = "ec2_iam_role"


def datasource_type(version: str) -> str:
    """The AMP data source type for a Grafana version such as "10.4"."""
    major = int(version.split(".", 1)[0])
    return AMAZON_PROMETHEUS_PLUGIN if major >= FIRST_MAJOR_WITHOUT_CORE_SIGV4 else CORE_PROMETHEUS


def _sigv4(region: str, *, plugin: bool) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "sigV4Auth": True,
        "sigV4AuthType": WORKSPACE_ROLE_AUTH,
        "sigV4Region": region,
    }
    if plugin:
        settings["sigv4Service"] = "aps"
    return settings


def desired(*, version: str, region: str, prometheus_endpoint: str) -> list[dict[str, Any]]:
    """The data source bodies, by uid. `prometheus_endpoint` is AMP's workspace URL ending in "/"."""
    amp_type = datasource_type(version)
    sigv4 = _sigv4(region, plugin=amp_type == AMAZON_PROMETHEUS_PLUGIN)
    return [
        {
            "uid": AMP_UID,
            "name": "Amazon Managed Prometheus",
            "type": amp_type,
            "access": "proxy",
            "url": prometheus_endpoint,
            "isDefault": True,
            "jsonData": {"httpMethod": "POST", **sigv4},
        },
        {
            "uid": ALERTMANAGER_UID,
            "name": "Amazon Managed Prometheus Alertmanager",
            "type": "alertmanager",
            "access": "proxy",
            "url": prometheus_endpoint + "alertmanager",
            "isDefault": False,
            # AMP's Alertmanager is read-only from Grafana and must not receive Grafana-managed alerts.
            "jsonData": {"implementation": "prometheus", "handleGrafanaManagedAlerts": False, **sigv4},
        },
        {
            "uid": CLOUDWATCH_UID,
            "name": "Amazon CloudWatch",
            "type": "cloudwatch",
            "access": "proxy",
            "isDefault": False,
            "jsonData": {"authType": WORKSPACE_ROLE_AUTH, "defaultRegion": region},
        },
    ]


def up_to_date(existing: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """True when Grafana already holds every field we set (Grafana adds others: id, version, ...)."""
    return all(existing.get(key) == value for key, value in wanted.items())
