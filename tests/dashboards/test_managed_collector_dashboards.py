"""With AMP's managed collector no agent runs: no agent dashboard (its panels read the agent's own series,
which nothing writes then); every other dashboard is the same."""

from __future__ import annotations

from observability.dashboards import PLATFORM_FOLDER_UID, all_dashboards, folders
from observability.model.load import load_default


def test_no_agent_dashboard_with_the_managed_collector():
    uids = [model["uid"] for model in all_dashboards(managed_collector=True)]
    assert "eks-obs-agent" not in uids
    assert [m for m in all_dashboards() if m["uid"] != "eks-obs-agent"] == all_dashboards(
        managed_collector=True
    )


def test_the_provisioned_platform_folder_follows_the_collector():
    (platform,) = [f for f in folders(load_default(), managed_collector=True) if f.uid == PLATFORM_FOLDER_UID]
    assert "eks-obs-agent" not in [model["uid"] for model in platform.dashboards]
    (with_agent,) = [f for f in folders(load_default()) if f.uid == PLATFORM_FOLDER_UID]
    assert "eks-obs-agent" in [model["uid"] for model in with_agent.dashboards]
