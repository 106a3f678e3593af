"""Dashboards as code: one module per dashboard, built with grafana-foundation-sdk and read only from
series the agent keeps (observability.jobs, the services' `metrics.keep`) or the rules record
(observability.render), plus ALERTS.

`all_dashboards()` returns the platform's JSON models; `folders()` those and one per service
(observability/dashboards/service.py), each in the Grafana folder the provisioner puts it in.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.models.dashboard import DataSourceRef

from observability.dashboards import agent, cluster, nodes, postgres, service, webapp, workloads
from observability.dashboards.common import AMP_UID, datasource_type
from observability.model.load import Services

MODULES = (cluster, nodes, workloads, webapp, postgres, agent)
PLATFORM_FOLDER_UID = "eks-observability"
PLATFORM_FOLDER_TITLE = "EKS observability"


@dataclass(frozen=True)
class Folder:
    """A Grafana folder the provisioner keeps, and the dashboards (JSON models) it puts in it."""

    uid: str
    title: str
    dashboards: tuple[dict[str, Any], ...]


def _ds(grafana_version: str) -> DataSourceRef:
    return DataSourceRef(type_val=datasource_type(grafana_version), uid=AMP_UID)


def all_dashboards(grafana_version: str = "10.4", *, managed_collector: bool = False) -> list[dict[str, Any]]:
    """The platform's dashboards' JSON models, their panels reading the data source `amp` of the version's
    type. With AMP's managed collector there is no agent: no agent dashboard (its series are the agent's
    own; the scraper's only metric is `up`, which the cluster dashboard's targets panel shows)."""
    ds = _ds(grafana_version)
    return [module.build(ds) for module in MODULES if not (managed_collector and module is agent)]


def folders(
    services: Services, grafana_version: str = "10.4", *, managed_collector: bool = False
) -> tuple[Folder, ...]:
    """The platform's folder, then one folder per service holding its dashboard. Raises ValueError if two
    uids collide (a shortened service uid meeting another's)."""
    ds = _ds(grafana_version)
    platform = all_dashboards(grafana_version, managed_collector=managed_collector)
    found = (
        Folder(PLATFORM_FOLDER_UID, PLATFORM_FOLDER_TITLE, tuple(platform)),
        *(
            Folder(
                service.folder_uid(one),
                service.folder_title(one),
                (service.build(one, services.windows_of(one), ds),),
            )
            for one in services.services
        ),
    )
    uids = Counter(
        [folder.uid for folder in found]
        + [str(model["uid"]) for folder in found for model in folder.dashboards]
    )
    if clashes := sorted(uid for uid, count in uids.items() if count > 1):
        raise ValueError(f"Grafana uids used twice: {clashes}")
    return found


__all__ = ["Folder", "all_dashboards", "datasource_type", "folders"]
