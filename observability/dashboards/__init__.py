"""Dashboards as code: one module per dashboard, built with grafana-foundation-sdk and read only from
series the agent keeps (observability.jobs) or the rules record (observability.rule_files), plus ALERTS.

`all_dashboards()` returns the JSON models the Grafana provisioner uploads (and `make dashboards` writes).
"""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.models.dashboard import DataSourceRef

from observability.dashboards import agent, cluster, nodes, postgres, webapp, workloads
from observability.dashboards.common import AMP_UID, datasource_type

MODULES = (cluster, nodes, workloads, webapp, postgres, agent)


def all_dashboards(grafana_version: str = "10.4") -> list[dict[str, Any]]:
    """The dashboards' JSON models, their panels reading the data source `amp` of the version's type."""
    ds = DataSourceRef(type_val=datasource_type(grafana_version), uid=AMP_UID)
    return [module.build(ds) for module in MODULES]


__all__ = ["all_dashboards", "datasource_type"]
