"""Configuration validation: every bad value is refused with the field and the rule, before any synth."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest

from app import select_config
from config import (
    ENVIRONMENTS,
    KUBERNETES_VERSION,
    CapacityMode,
    ConfigError,
    EndpointAccessMode,
    PlatformConfig,
    environment_config,
    environments,
)
from config.monitoring import Collector, MonitoringConfig
from config.platform import node_architecture, node_vcpus
from config.workloads import IngressScheme, Resources, WorkloadsConfig
from tests.unit.conftest import REPOSITORY, STACK_ROLES, TLS_CERTIFICATE_ARN

DEV = environment_config("dev")

INVALID = {
    "bad CIDR": ({"vpc_cidr": "10.0.0.0/33"}, "vpc_cidr: must be an IPv4 network"),
    "CIDR too small": ({"vpc_cidr": "10.0.0.0/24"}, "vpc_cidr: prefix must be /16 to /20"),
    "unsupported Kubernetes": ({"kubernetes_version": "1.29"}, "kubernetes_version: must be one of ['1.35']"),
    "min above max": (
        {"node_min_size": 5, "node_max_size": 3},
        "node_max_size: must be >= node_min_size (5)",
    ),
    "no nodes": ({"node_min_size": 0}, "node_min_size: must be at least 1"),
    "empty instance list": ({"node_instance_types": ()}, "node_instance_types: must list at least one"),
    "malformed instance type": ({"node_instance_types": ("large",)}, "node_instance_types: must look like"),
    "mixed architectures": (
        {"node_instance_types": ("m7i.large", "m7g.large")},
        "all be Graviton (arm64) or all x86_64",
    ),
    "Auto Mode size without a fixed vCPU count": (
        {"capacity_mode": CapacityMode.AUTO, "node_instance_types": ("m7i.large", "m7i.metal-24xl")},
        "node_instance_types: in Auto Mode each size must be large, xlarge or <N>xlarge",
    ),
    "malformed account": ({"account": "12345"}, "account: must be a 12-digit AWS account id"),
    "malformed region": ({"region": "europe"}, "region: must be an AWS region code"),
    "zone outside region": (
        {"availability_zones": ("us-east-1a", "eu-west-1b")},
        "availability_zones: every zone must be in region 'us-east-1'",
    ),
    "one zone": (
        {"availability_zones": ("us-east-1a",), "nat_gateways": 1},
        "availability_zones: must list at least 2",
    ),
    "NAT above zone count": (
        {"nat_gateways": 3},
        "nat_gateways: must be between 0 and the number of availability zones (2)",
    ),
    "negative NAT": ({"nat_gateways": -1}, "nat_gateways: must be between 0"),
    "public without CIDRs": (
        {"endpoint_access": EndpointAccessMode.PUBLIC_AND_PRIVATE},
        "public_access_cidrs: must list the CIDRs",
    ),
    "public to the world": (
        {"endpoint_access": EndpointAccessMode.PUBLIC_AND_PRIVATE, "public_access_cidrs": ("0.0.0.0/0",)},
        "opens the API to the whole internet",
    ),
    "CIDRs on private endpoint": (
        {"public_access_cidrs": ("203.0.113.0/24",)},
        "public_access_cidrs: must be empty when endpoint_access is 'private'",
    ),
    "bad admin ARN": (
        {"admin_principal_arns": ("admin",)},
        "admin_principal_arns: must be IAM role or user ARNs",
    ),
    "verifier trusted by an account": (
        {"verifier_principal_arns": ("arn:aws:iam::123456789012:root",)},
        "verifier_principal_arns: must be IAM role or user ARNs (got ['arn:aws:iam::123456789012:root'])",
    ),
    "unknown add-on": (
        {"addon_versions": {"istio": "v1.0.0-eksbuild.1"}},
        "addon_versions: unknown add-on 'istio'",
    ),
    "bad add-on version": (
        {"addon_versions": {"coredns": "latest"}},
        "addon_versions: coredns version must look like",
    ),
    "bad retention": ({"log_retention_days": 31}, "log_retention_days: must be one of CloudWatch's periods"),
    "reserved tag": ({"tags": {"aws:owner": "x"}}, "tags: key 'aws:owner'"),
    "web replicas out of order": (
        {"workloads": WorkloadsConfig(web_min_replicas=4, web_max_replicas=2)},
        "workloads.web_min_replicas: must be at least 1 and at most web_max_replicas (2)",
    ),
    "memory limit below request": (
        {
            "workloads": WorkloadsConfig(
                web_resources=Resources(cpu_request="1", memory_request="1Gi", memory_limit="512Mi")
            )
        },
        "workloads.web_resources.memory_limit: must be >= memory_request (1Gi)",
    ),
    "malformed CPU": (
        {
            "workloads": WorkloadsConfig(
                postgres_resources=Resources(cpu_request="fast", memory_request="1Gi", memory_limit="1Gi")
            )
        },
        "workloads.postgres_resources.cpu_request: must look like '250m'",
    ),
    "volume too large": (
        {"workloads": WorkloadsConfig(postgres_volume_gib=20000)},
        "workloads.postgres_volume_gib: must be 1-16384",
    ),
    "bad backup schedule": (
        {"workloads": WorkloadsConfig(backup_schedule="daily")},
        "workloads.backup_schedule: must be an AWS cron expression",
    ),
    "no backup retention": (
        {"workloads": WorkloadsConfig(backup_retention_days=0)},
        "workloads.backup_retention_days: must be 1-36500",
    ),
    "malformed certificate": (
        {"workloads": WorkloadsConfig(tls_certificate_arn="arn:aws:iam::123456789012:server-certificate/x")},
        "workloads.tls_certificate_arn: must be an ACM certificate ARN",
    ),
    "internet-facing without TLS": (
        {
            "workloads": WorkloadsConfig(
                ingress_scheme=IngressScheme.INTERNET_FACING, ingress_allowed_cidrs=("203.0.113.0/24",)
            )
        },
        "workloads.tls_certificate_arn: required when ingress_scheme is 'internet-facing'",
    ),
    "certificate in another region": (
        {
            "workloads": WorkloadsConfig(
                tls_certificate_arn=TLS_CERTIFICATE_ARN.replace("us-east-1", "eu-west-1")
            )
        },
        "workloads.tls_certificate_arn: must be in the load balancer's region 'us-east-1' (got 'eu-west-1')",
    ),
    "scrape interval too short": (
        {"monitoring": MonitoringConfig(scrape_interval_seconds=5)},
        "monitoring.scrape_interval_seconds: must be 10-300",
    ),
    "bad extra metric": (
        {"monitoring": MonitoringConfig(extra_metrics=("ok_total", "not-a-metric"))},
        "monitoring.extra_metrics: must be Prometheus metric names (got ['not-a-metric'])",
    ),
    "bad workspace alias": (
        {"monitoring": MonitoringConfig(workspace_alias="has space")},
        "monitoring.workspace_alias: must be 1-100 letters",
    ),
    "metrics retention too long": (
        {"monitoring": MonitoringConfig(metrics_retention_days=2000)},
        "monitoring.metrics_retention_days: must be 1-1095",
    ),
    "bad name": ({"name": "Dev_1"}, "name: must be 1-16 lowercase letters"),
    "the same zone twice": (
        {"availability_zones": ("us-east-1a", "us-east-1a")},
        "availability_zones: must list at least 2 distinct zones",
    ),
    "no WAL volume": (
        {"monitoring": MonitoringConfig(agent_wal_volume_gib=0)},
        "monitoring.agent_wal_volume_gib: must be 1-1000 (got 0)",
    ),
    "WAL volume too large": (
        {"monitoring": MonitoringConfig(agent_wal_volume_gib=1001)},
        "monitoring.agent_wal_volume_gib: must be 1-1000 (got 1001)",
    ),
    "scrape interval too long": (
        {"monitoring": MonitoringConfig(scrape_interval_seconds=301)},
        "monitoring.scrape_interval_seconds: must be 10-300",
    ),
    "no metrics retention": (
        {"monitoring": MonitoringConfig(metrics_retention_days=0)},
        "monitoring.metrics_retention_days: must be 1-1095",
    ),
    "no agent": (
        {"monitoring": MonitoringConfig(agent_replicas=0)},
        "monitoring.agent_replicas: must be 1-3 (got 0)",
    ),
    "more agents per shard than zones are useful": (
        {"monitoring": MonitoringConfig(agent_replicas=4)},
        "monitoring.agent_replicas: must be 1-3 (got 4)",
    ),
    "no shard": ({"monitoring": MonitoringConfig(shards=0)}, "monitoring.shards: must be 1-16 (got 0)"),
    "unknown collector": (
        {"monitoring": MonitoringConfig(collector="daemonset")},  # type: ignore[arg-type]
        "monitoring.collector: must be one of ['agent', 'managed'] (got 'daemonset')",
    ),
    # AMP's managed collector refuses intervals under 30 s (AMP user guide, "Scraper limitations").
    "managed collector every 29 s": (
        {"monitoring": MonitoringConfig(collector=Collector.MANAGED, scrape_interval_seconds=29)},
        "monitoring.scrape_interval_seconds: must be at least 30 when collector is 'managed'",
    ),
    "managed collector in two shards": (
        {"monitoring": MonitoringConfig(collector=Collector.MANAGED, shards=2)},
        "monitoring.shards: must be 1 when collector is 'managed'",
    ),
    "managed collector into a CMK workspace": (
        {"monitoring": MonitoringConfig(collector=Collector.MANAGED, customer_managed_key=True)},
        "monitoring.customer_managed_key: must be false when collector is 'managed'",
    ),
    "too many shards": (
        {"monitoring": MonitoringConfig(shards=17)},
        "monitoring.shards: must be 1-16 (got 17)",
    ),
    "more NAT gateways than zones": ({"nat_gateways": 3}, "nat_gateways: must be between 0 and the number"),
    "metrics kept a day too long": (
        {"monitoring": MonitoringConfig(metrics_retention_days=1096)},
        "monitoring.metrics_retention_days: must be 1-1095 (got 1096)",
    ),
    "CIDR one bit too small": ({"vpc_cidr": "10.0.0.0/21"}, "vpc_cidr: prefix must be /16 to /20"),
    "CIDR one bit too large": ({"vpc_cidr": "10.0.0.0/15"}, "vpc_cidr: prefix must be /16 to /20"),
    "tag value of 257 characters": (
        {"tags": {"team": "x" * 257}},
        "tags: key 'team' must be 1-128 characters, not start with 'aws:', and its value at most 256 "
        "characters",
    ),
    "agent memory limit below request": (
        {
            "monitoring": MonitoringConfig(
                agent_resources=Resources(cpu_request="1", memory_request="1Gi", memory_limit="1Mi")
            )
        },
        "monitoring.agent_resources.memory_limit: must be >= memory_request (1Gi)",
    ),
    "no web replica": (
        {"workloads": WorkloadsConfig(web_min_replicas=0)},
        "workloads.web_min_replicas: must be at least 1 and at most web_max_replicas",
    ),
    "CPU target 9 %": (
        {"workloads": WorkloadsConfig(web_target_cpu_percent=9)},
        "workloads.web_target_cpu_percent: must be 10-95 (got 9)",
    ),
    "CPU target 96 %": (
        {"workloads": WorkloadsConfig(web_target_cpu_percent=96)},
        "workloads.web_target_cpu_percent: must be 10-95 (got 96)",
    ),
    "Postgres volume above the gp3 limit": (
        {"workloads": WorkloadsConfig(postgres_volume_gib=16385)},
        "workloads.postgres_volume_gib: must be 1-16384 (the gp3 limit)",
    ),
    "backups kept a day too long": (
        {"workloads": WorkloadsConfig(backup_retention_days=36501)},
        "workloads.backup_retention_days: must be 1-36500",
    ),
    "malformed memory request": (
        {
            "workloads": WorkloadsConfig(
                web_resources=Resources(cpu_request="1", memory_request="1GB", memory_limit="1Gi")
            )
        },
        "workloads.web_resources.memory_request: must look like '512Mi' or '1Gi' (got '1GB')",
    ),
}

# The edges of each range above, accepted: a rule that is off by one fails here or above.
BOUNDARIES = {
    "WAL volume 1 GiB": {"monitoring": MonitoringConfig(agent_wal_volume_gib=1)},
    "WAL volume 1000 GiB": {"monitoring": MonitoringConfig(agent_wal_volume_gib=1000)},
    "scrape every 10 s": {"monitoring": MonitoringConfig(scrape_interval_seconds=10)},
    "scrape every 300 s": {"monitoring": MonitoringConfig(scrape_interval_seconds=300)},
    "metrics kept 1 day": {"monitoring": MonitoringConfig(metrics_retention_days=1)},
    "metrics kept 1095 days": {"monitoring": MonitoringConfig(metrics_retention_days=1095)},
    "Postgres volume 16384 GiB": {"workloads": WorkloadsConfig(postgres_volume_gib=16384)},
    "a single agent": {"monitoring": MonitoringConfig(agent_replicas=1)},
    "three agents per shard": {"monitoring": MonitoringConfig(agent_replicas=3)},
    "one shard": {"monitoring": MonitoringConfig(shards=1)},
    "sixteen shards": {"monitoring": MonitoringConfig(shards=16)},
    "managed collector every 30 s": {
        "monitoring": MonitoringConfig(collector=Collector.MANAGED, scrape_interval_seconds=30)
    },
    "managed collector in one shard": {"monitoring": MonitoringConfig(collector=Collector.MANAGED, shards=1)},
    "managed collector into an AWS-owned-key workspace": {
        "monitoring": MonitoringConfig(collector=Collector.MANAGED, customer_managed_key=False)
    },
    "agent every 29 s": {
        "monitoring": MonitoringConfig(collector=Collector.AGENT, scrape_interval_seconds=29)
    },
    "two distinct zones": {"availability_zones": ("us-east-1a", "us-east-1b")},
    "a NAT gateway per zone": {"nat_gateways": 2},
    "no NAT gateway": {"nat_gateways": 0},
    "a /16 VPC": {"vpc_cidr": "10.0.0.0/16"},
    "a /20 VPC": {"vpc_cidr": "10.0.0.0/20"},
    "one node at least": {"node_min_size": 1, "node_max_size": 1},
    "as many nodes at least as at most": {"node_min_size": 4, "node_max_size": 4},
    "a tag value of 256 characters": {"tags": {"team": "x" * 256}},
    "one web replica": {"workloads": WorkloadsConfig(web_min_replicas=1, web_max_replicas=1)},
    "CPU target 10 %": {"workloads": WorkloadsConfig(web_target_cpu_percent=10)},
    "CPU target 95 %": {"workloads": WorkloadsConfig(web_target_cpu_percent=95)},
    "Postgres volume 1 GiB": {"workloads": WorkloadsConfig(postgres_volume_gib=1)},
    "backups kept 1 day": {"workloads": WorkloadsConfig(backup_retention_days=1)},
    "backups kept 36500 days": {"workloads": WorkloadsConfig(backup_retention_days=36500)},
}


@pytest.mark.parametrize("changes", BOUNDARIES.values(), ids=BOUNDARIES.keys())
def test_values_at_the_edge_of_a_range_are_accepted(changes):
    config = dataclasses.replace(DEV, **changes)  # raises ConfigError if refused
    assert {field: getattr(config, field) for field in changes} == changes


@pytest.mark.parametrize(("changes", "message"), INVALID.values(), ids=INVALID.keys())
def test_invalid_value_is_rejected_naming_field_and_rule(changes, message):
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(DEV, **changes)
    assert message in str(error.value)
    assert len(error.value.problems) == 1, error.value.problems


def test_all_problems_are_reported_in_one_error():
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(DEV, vpc_cidr="nope", account="1", node_instance_types=())
    fields = [problem.split(":")[0] for problem in error.value.problems]
    assert fields == ["account", "vpc_cidr", "node_instance_types"]


@pytest.mark.parametrize("name", sorted(ENVIRONMENTS))
def test_shipped_environments_are_valid_and_run_the_supported_version(name):
    config = environment_config(name)
    assert config.kubernetes_version == KUBERNETES_VERSION


def test_default_environment_needs_no_account():
    assert environment_config("dev").account is None


def test_unknown_environment_names_the_choices():
    with pytest.raises(ConfigError, match=r"env: must be one of \['dev', 'prod'\] \(got 'staging'\)"):
        environment_config("staging")


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEV.nat_gateways = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"env": "staging"}, "env: must be one of ['dev', 'prod']"),
        ({"env": "prod", "account": "not-an-account"}, "account: must be a 12-digit AWS account id"),
    ],
)
def test_app_refuses_bad_input_without_synthesizing_anything(tmp_path, context, message):
    """What `cdk synth -c ...` runs: one clear error on stderr, a failing exit code, no assembly."""
    outdir = tmp_path / "cdk.out"
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(outdir)}
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (outdir / "manifest.json").exists()


def _broken_dev() -> PlatformConfig:
    return PlatformConfig(
        name="dev",
        region="us-east-1",
        availability_zones=("us-east-1a", "us-east-1b"),
        vpc_cidr="10.40.0.0/33",
    )


def test_a_broken_environment_does_not_stop_another_from_building(monkeypatch):
    monkeypatch.setitem(environments.ENVIRONMENTS, "dev", _broken_dev)
    assert environment_config("prod").name == "prod"
    assert select_config(cdk.App(context={"env": "prod"})).name == "prod"
    with pytest.raises(ConfigError) as error:
        select_config(cdk.App(context={"env": "dev"}))
    assert error.value.problems == [
        "vpc_cidr: must be an IPv4 network like '10.0.0.0/16' (got '10.40.0.0/33')"
    ]


def test_each_environment_is_built_under_its_own_name():
    assert {name: environment_config(name).name for name in ENVIRONMENTS} == {"dev": "dev", "prod": "prod"}


# Edits a user could make by mistake in config/environments.py, to dev only.
BAD_DEV_VALUES = {
    'vpc_cidr="10.40.0.0/16",': 'vpc_cidr="10.40.0.0/33",',
    "node_min_size=2,": "node_min_size=0,",
}


@pytest.fixture(scope="module")
def broken_dev_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the app with two bad dev values in config/environments.py (the repository is untouched)."""
    copy = tmp_path_factory.mktemp("checkout") / "app"
    shutil.copytree(
        REPOSITORY,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "node_modules", "cdk.out*", "dist", "tests", "__pycache__"
        ),
    )
    source = copy / "config" / "environments.py"
    text = source.read_text()
    for good, bad in BAD_DEV_VALUES.items():
        assert text.count(good) == 1, good  # dev's value, and only dev's
        text = text.replace(good, bad)
    source.write_text(text)
    return copy


def _run_app(checkout: Path, outdir: Path, env_name: str) -> subprocess.CompletedProcess[str]:
    """`python3 app.py` as the CDK CLI runs it for `cdk synth -c env=<env_name>`."""
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"env": env_name}), "CDK_OUTDIR": str(outdir)}
    return subprocess.run(
        [sys.executable, "app.py"], cwd=checkout, env=env, capture_output=True, text=True, timeout=600
    )


def test_a_bad_value_prints_only_the_list_of_problems(broken_dev_checkout, tmp_path):
    result = _run_app(broken_dev_checkout, tmp_path / "cdk.out", "dev")
    assert result.returncode == 1
    assert result.stderr == (
        "invalid configuration for environment 'dev':\n"
        "  - vpc_cidr: must be an IPv4 network like '10.0.0.0/16' (got '10.40.0.0/33')\n"
        "  - node_min_size: must be at least 1 (got 0)\n"
    )
    assert result.stdout == ""


def test_prod_synthesizes_while_dev_is_broken(broken_dev_checkout, tmp_path):
    outdir = tmp_path / "cdk.out"
    result = _run_app(broken_dev_checkout, outdir, "prod")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((outdir / "assembly-Prod" / "manifest.json").read_text())
    stacks = sorted(
        artifact["displayName"]
        for artifact in manifest["artifacts"].values()
        if artifact["type"] == "aws:cloudformation:stack"
    )
    assert stacks == sorted(f"Prod/{role}" for role in STACK_ROLES)


@pytest.mark.parametrize(
    ("instance_type", "vcpus"),
    [
        ("m7i.large", 2),
        ("m7g.xlarge", 4),
        ("c7i.12xlarge", 48),
        ("t3.medium", None),
        ("m7i.metal-24xl", None),
    ],
)
def test_vcpus_follow_the_size(instance_type, vcpus):
    assert node_vcpus(instance_type) == vcpus


def test_node_group_mode_accepts_any_size():
    assert dataclasses.replace(DEV, node_instance_types=("t3.medium",)).node_instance_types == ("t3.medium",)


def test_the_monitoring_problems_that_explain_themselves_are_whole_lines():
    # Tests above match a problem's start; these two carry their reason, checked whole.
    assert MonitoringConfig(workspace_alias="has space").problems() == [
        "monitoring.workspace_alias: must be 1-100 letters, digits, '_', '.', '-' (got 'has space')"
    ]
    assert MonitoringConfig(collector=Collector.MANAGED, customer_managed_key=True).problems() == [
        "monitoring.customer_managed_key: must be false when collector is 'managed' (a scraper writing to a "
        "CMK workspace needs a role configuration this platform does not set)"
    ]


def test_memory_in_gi_is_1024_mi_and_a_bad_memory_field_is_named():
    assert Resources(cpu_request="1", memory_request="1Gi", memory_limit="1024Mi").problems("p") == []
    assert Resources(cpu_request="1", memory_request="1025Mi", memory_limit="1Gi").problems("p") == [
        "p.memory_limit: must be >= memory_request (1025Mi)"
    ]
    assert Resources(cpu_request="1", memory_request="128Mi", memory_limit="1G").problems("p") == [
        "p.memory_limit: must look like '512Mi' or '1Gi' (got '1G')"
    ]


def test_a_backup_vault_name_is_2_to_50_letters_digits_dashes_or_underscores():
    assert WorkloadsConfig(backup_vault_name="my_vault-1").problems() == []
    assert WorkloadsConfig(backup_vault_name="v" * 50).problems() == []
    for name in ("v", "v" * 51, "my vault"):
        assert WorkloadsConfig(backup_vault_name=name).problems() == [
            f"workloads.backup_vault_name: must be 2-50 letters, digits, '-' or '_' (got {name!r})"
        ]


def test_the_backup_vault_is_named_after_the_environment_unless_configured():
    assert WorkloadsConfig().resolved_backup_vault_name("dev") == "dev-orders-db-backups"
    assert WorkloadsConfig(backup_vault_name="kept").resolved_backup_vault_name("dev") == "kept"


def test_the_workloads_problems_that_explain_themselves_are_whole_lines():
    assert WorkloadsConfig(ingress_scheme=IngressScheme.INTERNET_FACING).problems() == [
        "workloads.tls_certificate_arn: required when ingress_scheme is 'internet-facing' (the app is not "
        "served to the internet over plain HTTP)",
        "workloads.ingress_allowed_cidrs: required when ingress_scheme is 'internet-facing' (list the "
        "clients' networks; '0.0.0.0/0' admits the whole internet and is never implied)",
    ]
    assert WorkloadsConfig(
        tls_certificate_arn="arn:aws:acm:us-east-1:123:certificate/x",
        postgres_volume_gib=0,
        backup_schedule="daily",
    ).problems() == [
        "workloads.tls_certificate_arn: must be an ACM certificate ARN like "
        "'arn:aws:acm:<region>:<account>:certificate/<id>' (got 'arn:aws:acm:us-east-1:123:certificate/x')",
        "workloads.postgres_volume_gib: must be 1-16384 (the gp3 limit) (got 0)",
        "workloads.backup_schedule: must be an AWS cron expression like 'cron(0 3 * * ? *)' (got 'daily')",
    ]


def test_the_error_names_the_environment_and_lists_one_problem_a_line():
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(
            environment_config("dev"), node_min_size=0, public_access_cidrs=("203.0.113.0/24",)
        )
    assert str(error.value) == (
        "invalid configuration for environment 'dev':\n"
        "  - node_min_size: must be at least 1 (got 0)\n"
        "  - public_access_cidrs: must be empty when endpoint_access is 'private'"
    )


def test_auto_mode_accepts_sized_types_and_names_the_unsized_ones():
    dev = environment_config("dev")
    auto = dataclasses.replace(
        dev, capacity_mode=CapacityMode.AUTO, node_instance_types=("m7i.large", "m7i.2xlarge")
    )
    assert auto.node_instance_types == ("m7i.large", "m7i.2xlarge")
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(dev, capacity_mode=CapacityMode.AUTO, node_instance_types=("m7i.medium",))
    assert error.value.problems == [
        "node_instance_types: in Auto Mode each size must be large, xlarge or <N>xlarge (their vCPUs cap the "
        "workloads NodePool at node_max_size nodes) (got ['m7i.medium'])"
    ]


def test_graviton_and_x86_types_are_not_mixed_and_each_is_named_by_its_architecture():
    assert (node_architecture("m7g.large"), node_architecture("c7gn.xlarge")) == ("arm64", "arm64")
    assert (node_architecture("m7i.large"), node_architecture("t3.large")) == ("x86_64", "x86_64")
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(environment_config("dev"), node_instance_types=("m7g.large", "m7i.large"))
    assert error.value.problems == [
        "node_instance_types: must all be Graviton (arm64) or all x86_64, one node image serves them "
        "(got ['m7g.large', 'm7i.large'])"
    ]


def test_every_bad_public_cidr_is_named_and_a_public_endpoint_needs_some():
    public = dataclasses.replace(
        environment_config("dev"),
        endpoint_access=EndpointAccessMode.PUBLIC_AND_PRIVATE,
        public_access_cidrs=("203.0.113.0/24",),
    )
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(public, public_access_cidrs=("not-a-cidr", "0.0.0.0/0", "also-not"))
    assert error.value.problems == [
        "public_access_cidrs: 'not-a-cidr' is not a CIDR block",
        "public_access_cidrs: '0.0.0.0/0' opens the API to the whole internet",
        "public_access_cidrs: 'also-not' is not a CIDR block",
    ]
    with pytest.raises(ConfigError) as error:
        dataclasses.replace(public, public_access_cidrs=())
    assert error.value.problems == [
        "public_access_cidrs: must list the CIDRs allowed when endpoint_access is public"
    ]
