"""Amazon Managed Grafana: the workspace's Grafana version, who signs in, and plugin administration."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

# `GrafanaVersion` strings we have seen AMG accept, pinned because version upgrades are one-way and Grafana
# 13 migrates dashboards to schema v2 when opened. Where each was checked:
# - "10.4": botocore `grafana` service-2.json (CreateWorkspace.grafanaVersion: "defaults to the latest
#   version (for example, 10.4)"), the AWS what's-new of 2024-05-15, and aws-cdk's Grafana L2 tests.
# - "9.4": aws-samples CDK code creating `AWS::Grafana::Workspace` with `grafana_version="9.4"`.
# Newer strings (12.x, 13.x) are not listed: we could not read their exact spelling (`aws grafana
# list-versions` prints them); add one here after checking it there.
GRAFANA_VERSIONS = ("9.4", "10.4")
GRAFANA_VERSION = "10.4"


class GrafanaAuthentication(StrEnum):
    """How people sign in to the workspace (service-account tokens work with either)."""

    AWS_SSO = "AWS_SSO"  # IAM Identity Center: must be enabled in the account (or its organization)
    SAML = "SAML"  # your own identity provider, by its SAML metadata URL


@dataclass(frozen=True, kw_only=True)
class GrafanaConfig:
    # The workspace's pinned Grafana version; upgrades are one-way.
    grafana_version: str = GRAFANA_VERSION
    # `AWS_SSO` (IAM Identity Center, enabled before you deploy) or `SAML` with saml_metadata_url.
    authentication: GrafanaAuthentication = GrafanaAuthentication.AWS_SSO
    saml_metadata_url: str | None = None  # required with SAML, e.g. https://idp.example.com/metadata.xml
    plugin_admin_enabled: bool = False  # let workspace admins install plugins from the catalog

    def problems(self) -> list[str]:
        problems = []
        if self.grafana_version not in GRAFANA_VERSIONS:
            problems.append(
                f"grafana.grafana_version: must be one of {list(GRAFANA_VERSIONS)} "
                f"(got {self.grafana_version!r})"
            )
        if self.authentication not in tuple(GrafanaAuthentication):
            problems.append(
                f"grafana.authentication: must be one of {[a.value for a in GrafanaAuthentication]} "
                f"(got {self.authentication!r})"
            )
        if self.authentication == GrafanaAuthentication.SAML:
            url = urlsplit(self.saml_metadata_url or "")
            if url.scheme != "https" or not url.netloc or " " in (self.saml_metadata_url or ""):
                problems.append(
                    "grafana.saml_metadata_url: must be the identity provider's https:// metadata URL when "
                    f"authentication is SAML (got {self.saml_metadata_url!r})"
                )
        elif self.saml_metadata_url is not None:
            problems.append(
                "grafana.saml_metadata_url: must be unset unless authentication is SAML "
                f"(got {self.saml_metadata_url!r})"
            )
        if not isinstance(self.plugin_admin_enabled, bool):
            problems.append(
                f"grafana.plugin_admin_enabled: must be True or False (got {self.plugin_admin_enabled!r})"
            )
        return problems
