"""The web app's Ingress: who may reach the load balancer, and `/metrics` never served through it."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import cdk8s
import pytest

from config import ConfigError, environment_config
from config.workloads import IngressScheme, WorkloadsConfig
from k8s.webapp_chart import METRICS_NOT_FOUND_ACTION, WebappChart
from observability import names
from tests.unit.conftest import TLS_CERTIFICATE_ARN, Synthesized
from webapp.orders_api import slo_contract

INBOUND_CIDRS = "alb.ingress.kubernetes.io/inbound-cidrs"
ACTION = f"alb.ingress.kubernetes.io/actions.{METRICS_NOT_FOUND_ACTION}"


def ingress(synth: Synthesized) -> dict[str, Any]:
    return synth.kubernetes_object("Ingress", names.WEBAPP)


def test_internal_load_balancer_admits_only_the_vpc_by_default(dev):
    assert dev.config.workloads.ingress_scheme is IngressScheme.INTERNAL
    assert dev.config.workloads.ingress_allowed_cidrs == ()
    annotations = ingress(dev)["metadata"]["annotations"]
    assert annotations[INBOUND_CIDRS].split(",") == [dev.config.vpc_cidr]


def test_internet_facing_load_balancer_admits_only_the_configured_cidrs(auto):
    allowed = auto.config.workloads.ingress_allowed_cidrs
    assert auto.config.workloads.ingress_scheme is IngressScheme.INTERNET_FACING
    assert allowed
    annotations = ingress(auto)["metadata"]["annotations"]
    assert annotations[INBOUND_CIDRS].split(",") == list(allowed)


@pytest.mark.parametrize("variant", ["dev", "auto"])
def test_metrics_get_a_fixed_404_and_everything_else_the_web_app(synthesized, variant):
    spec = ingress(synthesized[variant])["spec"]
    annotations = ingress(synthesized[variant])["metadata"]["annotations"]
    (rule,) = spec["rules"]
    assert "host" not in rule  # every host name
    (path,) = rule["http"]["paths"]
    # Prefix: the controller turns it into the patterns `/metrics` and `/metrics/*`.
    assert path["path"] == slo_contract.METRICS_PATH
    assert path["pathType"] == "Prefix"
    assert path["backend"] == {
        "service": {"name": METRICS_NOT_FOUND_ACTION, "port": {"name": "use-annotation"}}
    }
    action = json.loads(annotations[ACTION])
    assert action["type"] == "fixed-response"
    assert action["fixedResponseConfig"]["statusCode"] == "404"
    assert action["fixedResponseConfig"]["contentType"] == "text/plain"
    # Requests matching no rule take the default backend: the web app's Service.
    assert spec["defaultBackend"] == {"service": {"name": names.WEBAPP, "port": {"name": "http"}}}


def _chart_ingress(workloads: WorkloadsConfig, inbound_cidrs: tuple[str, ...]) -> dict[str, Any]:
    chart = WebappChart(
        cdk8s.Testing.app(),
        "webapp",
        image="orders-api:test",
        version="test",
        revision="test",
        workloads=workloads,
        load_balancer_subnet_ids=["subnet-a", "subnet-b"],
        secret_provider_class="test",
        inbound_cidrs=inbound_cidrs,
    )
    (manifest,) = [m for m in chart.to_json() if m["kind"] == "Ingress"]
    return manifest


def test_listed_cidrs_replace_the_vpc_default():
    workloads = WorkloadsConfig(ingress_allowed_cidrs=("10.50.0.0/16", "192.168.10.0/24"))
    assert workloads.ingress_inbound_cidrs("10.40.0.0/16") == ("10.50.0.0/16", "192.168.10.0/24")
    annotations = _chart_ingress(workloads, workloads.ingress_inbound_cidrs("10.40.0.0/16"))["metadata"]
    assert annotations["annotations"][INBOUND_CIDRS] == "10.50.0.0/16,192.168.10.0/24"


def test_the_chart_refuses_an_internet_facing_ingress_without_cidrs():
    workloads = WorkloadsConfig(
        ingress_scheme=IngressScheme.INTERNET_FACING,
        tls_certificate_arn=TLS_CERTIFICATE_ARN,
        ingress_allowed_cidrs=("0.0.0.0/0",),
    )
    with pytest.raises(ValueError, match="inbound_cidrs"):
        _chart_ingress(workloads, ())


def _internet_facing(**changes: Any) -> WorkloadsConfig:
    return WorkloadsConfig(
        ingress_scheme=IngressScheme.INTERNET_FACING, tls_certificate_arn=TLS_CERTIFICATE_ARN, **changes
    )


def test_the_whole_internet_only_when_listed():
    # Explicit 0.0.0.0/0 is accepted (a public app); it is never the default.
    config = dataclasses.replace(
        environment_config("dev"), workloads=_internet_facing(ingress_allowed_cidrs=("0.0.0.0/0",))
    )
    assert config.workloads.ingress_inbound_cidrs(config.vpc_cidr) == ("0.0.0.0/0",)


@pytest.mark.parametrize(
    ("workloads", "message"),
    [
        (
            _internet_facing(),
            "workloads.ingress_allowed_cidrs: required when ingress_scheme is 'internet-facing'",
        ),
        (
            WorkloadsConfig(ingress_allowed_cidrs=("10.0.0.1/24",)),
            "workloads.ingress_allowed_cidrs: must be IPv4 networks like '203.0.113.0/24', no host bits set "
            "(got ['10.0.0.1/24'])",
        ),
        (
            WorkloadsConfig(ingress_allowed_cidrs=("10.0.0.5",)),
            "workloads.ingress_allowed_cidrs: must be IPv4",
        ),
        (
            WorkloadsConfig(ingress_allowed_cidrs=("2001:db8::/32",)),
            "workloads.ingress_allowed_cidrs: must be IPv4",
        ),
        (
            WorkloadsConfig(ingress_allowed_cidrs=("10.0.0.0/255.0.0.0",)),
            "workloads.ingress_allowed_cidrs: must be IPv4",
        ),
        (
            WorkloadsConfig(ingress_allowed_cidrs=("10.0.0.0/8", "10.0.0.0/8")),
            "workloads.ingress_allowed_cidrs: must not list a CIDR twice",
        ),
        (
            WorkloadsConfig(ingress_allowed_cidrs="10.0.0.0/8"),  # type: ignore[arg-type]
            "workloads.ingress_allowed_cidrs: must be a tuple of CIDR strings",
        ),
    ],
    ids=[
        "internet-facing without cidrs",
        "host bits",
        "bare address",
        "ipv6",
        "netmask",
        "duplicate",
        "string",
    ],
)
def test_bad_allowed_cidrs_are_one_clear_config_error(workloads, message):
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(environment_config("dev"), workloads=workloads)
    assert len(error.value.problems) == 1, error.value.problems
    assert error.value.problems[0].startswith(message), error.value.problems
