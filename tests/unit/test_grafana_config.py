"""Grafana configuration: defaults, and every bad value refused with one line naming the field."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from config import ConfigError, environment_config
from config.grafana import GRAFANA_VERSIONS, GrafanaAuthentication, GrafanaConfig

SAML_URL = "https://idp.example.com/app/metadata.xml"

INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "undocumented version": (
        {"grafana_version": "13"},
        "grafana.grafana_version: must be one of ['9.4', '10.4'] (got '13')",
    ),
    "version with a patch level": ({"grafana_version": "10.4.1"}, "grafana.grafana_version: must be one of"),
    "unknown authentication": ({"authentication": "OIDC"}, "grafana.authentication: must be one of"),
    "SAML without a metadata URL": (
        {"authentication": GrafanaAuthentication.SAML},
        "grafana.saml_metadata_url: must be the identity provider's https:// metadata URL when "
        "authentication is SAML (got None)",
    ),
    "SAML with an http URL": (
        {"authentication": GrafanaAuthentication.SAML, "saml_metadata_url": "http://idp.example.com/m"},
        "grafana.saml_metadata_url: must be the identity provider's https://",
    ),
    "metadata URL without SAML": (
        {"saml_metadata_url": SAML_URL},
        "grafana.saml_metadata_url: must be unset unless authentication is SAML",
    ),
    "plugin admin not a bool": ({"plugin_admin_enabled": "yes"}, "grafana.plugin_admin_enabled: must be"),
}


@pytest.mark.parametrize("case", INVALID)
def test_platform_config_refuses_with_one_line_naming_the_field(case):
    overrides, message = INVALID[case]
    dev = environment_config("dev")
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(dev, grafana=GrafanaConfig(**overrides))
    assert len(error.value.problems) == 1
    assert message in error.value.problems[0]
    assert "\n" not in error.value.problems[0]


def test_defaults_pin_10_4_with_identity_center_and_no_plugin_admin():
    grafana = environment_config("dev").grafana
    assert grafana == GrafanaConfig()
    assert grafana.grafana_version == "10.4"
    assert grafana.authentication == GrafanaAuthentication.AWS_SSO
    assert grafana.saml_metadata_url is None
    assert grafana.plugin_admin_enabled is False
    assert grafana.problems() == []


@pytest.mark.parametrize("version", GRAFANA_VERSIONS)
def test_every_listed_version_is_accepted(version):
    assert GrafanaConfig(grafana_version=version).problems() == []


def test_saml_with_an_https_metadata_url_is_valid():
    config = GrafanaConfig(authentication=GrafanaAuthentication.SAML, saml_metadata_url=SAML_URL)
    assert config.problems() == []
    assert dataclasses.replace(environment_config("prod"), grafana=config).grafana == config


def test_grafana_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        GrafanaConfig().grafana_version = "9.4"  # type: ignore[misc]


def test_a_saml_metadata_url_with_a_space_is_refused():
    config = GrafanaConfig(
        authentication=GrafanaAuthentication.SAML,
        saml_metadata_url="https://idp.example.com/app/meta data.xml",
    )
    assert config.problems() == [
        "grafana.saml_metadata_url: must be the identity provider's https:// metadata URL when "
        "authentication is SAML (got 'https://idp.example.com/app/meta data.xml')"
    ]


def test_a_metadata_url_without_saml_is_the_whole_line():
    assert GrafanaConfig(saml_metadata_url=SAML_URL).problems() == [
        "grafana.saml_metadata_url: must be unset unless authentication is SAML "
        "(got 'https://idp.example.com/app/metadata.xml')"
    ]
