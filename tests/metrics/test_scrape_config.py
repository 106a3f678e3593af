"""The generated agent config, by structure: jobs, discovery, auth, labels, keep rules, limits, remote
write, rendering. Jobs are selected by name, never by position."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from observability import names
from observability.jobs import BY_NAME
from observability.render import keep_rules
from observability.render import scrape_config as sc

TOKEN = "${Token[TOKEN.123]}"
URL = "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"


def make(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "cluster_name": "orders-dev",
        "environment": "dev",
        "region": "us-east-1",
        "remote_write_url": URL,
    }
    return sc.agent_config(**(kwargs | overrides))


def job(config: dict[str, Any], name: str) -> dict[str, Any]:
    (match,) = [j for j in config["scrape_configs"] if j["job_name"] == name]
    return match


# The fields the generated config may use, each reviewed: a new one (a 3.x scrape-protocol setting, say)
# is a decision, not an accident. The tests run the cluster's release, which accepts every one of them.
ALLOWED_TOP = {"global", "scrape_configs", "remote_write"}
ALLOWED_GLOBAL = {"scrape_interval", "scrape_timeout", "external_labels"}
ALLOWED_JOB = {
    "job_name",
    "kubernetes_sd_configs",
    "relabel_configs",
    "metric_relabel_configs",
    "sample_limit",
    "label_limit",
    "label_name_length_limit",
    "label_value_length_limit",
    "scheme",
    "metrics_path",
    "honor_labels",
    "authorization",
    "tls_config",
}
ALLOWED_RELABEL = {"action", "source_labels", "target_label", "regex", "replacement", "modulus"}
ALLOWED_ACTIONS = {"replace", "keep", "drop", "keepequal", "hashmod", "labeldrop"}  # keepequal: 2.41+
ALLOWED_REMOTE_WRITE = {"name", "url", "sigv4", "queue_config", "metadata_config"}
ALLOWED_QUEUE = {
    "capacity",
    "min_shards",
    "max_shards",
    "max_samples_per_send",
    "batch_send_deadline",
    "min_backoff",
    "max_backoff",
}


def test_jobs_by_name():
    config = make()
    # The platform's jobs, then one per service (services/: the orders API).
    assert [j["job_name"] for j in config["scrape_configs"]] == [*sc.JOBS, "orders-api"]
    assert sc.JOBS == (
        "apiserver",
        "kubelet",
        "cadvisor",
        "node-exporter",
        "kube-state-metrics",
        "prometheus-agent",
        "pods",
        "service-endpoints",
    )


@pytest.mark.parametrize("shards", [1, 3])
def test_only_reviewed_fields(shards):
    config = make(shard=shards - 1, shards=shards)
    assert set(config) == ALLOWED_TOP
    assert set(config["global"]) == ALLOWED_GLOBAL
    for scrape in config["scrape_configs"]:
        assert set(scrape) <= ALLOWED_JOB, scrape["job_name"]
        for rule in scrape["relabel_configs"] + scrape["metric_relabel_configs"]:
            assert set(rule) <= ALLOWED_RELABEL
            assert rule["action"] in ALLOWED_ACTIONS
        for sd in scrape["kubernetes_sd_configs"]:
            # Against the documented schema (promtool checks them too: tests/metrics/test_promtool.py).
            assert set(sd) <= {"role", "namespaces"}
            assert sd["role"] in {"node", "pod", "endpoints", "service", "endpointslice", "ingress"}
            if "namespaces" in sd:
                assert set(sd["namespaces"]) == {"names"}
                assert all(isinstance(n, str) and n for n in sd["namespaces"]["names"])
    (remote,) = config["remote_write"]
    assert set(remote) == ALLOWED_REMOTE_WRITE
    assert set(remote["queue_config"]) == ALLOWED_QUEUE


@pytest.mark.parametrize(
    ("name", "role", "namespaces"),
    [
        ("apiserver", "endpointslice", ["default"]),
        ("kubelet", "node", None),
        ("cadvisor", "node", None),
        ("node-exporter", "pod", [names.NODE_EXPORTER_NAMESPACE]),
        ("kube-state-metrics", "pod", [names.MONITORING_NAMESPACE]),
        ("pods", "pod", None),
        ("service-endpoints", "endpointslice", None),
        ("orders-api", "pod", ["orders"]),
    ],
)
def test_discovery_per_job(name, role, namespaces):
    (sd,) = job(make(), name)["kubernetes_sd_configs"]
    assert sd["role"] == role
    assert sd.get("namespaces", {}).get("names") == namespaces


def test_in_cluster_auth_for_the_control_plane_and_kubelets():
    config = make()
    bearer = {"type": "Bearer", "credentials_file": "/var/run/secrets/kubernetes.io/serviceaccount/token"}
    apiserver = job(config, "apiserver")
    assert apiserver["scheme"] == "https"
    assert apiserver["authorization"] == bearer
    assert apiserver["tls_config"] == {
        "ca_file": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
        "server_name": "kubernetes",
    }
    for name, path in (("kubelet", "/metrics"), ("cadvisor", "/metrics/cadvisor")):
        kubelet = job(config, name)
        assert kubelet["scheme"] == "https"
        assert kubelet["metrics_path"] == path
        assert kubelet["authorization"] == bearer
        assert kubelet["tls_config"] == {"insecure_skip_verify": True}  # see the comment in scrape_config
    for name in ("node-exporter", "kube-state-metrics", "pods", "service-endpoints", "orders-api"):
        assert "authorization" not in job(config, name)
        assert "tls_config" not in job(config, name)


def test_honor_labels_only_for_exporters_describing_other_objects():
    config = make()
    honoring = {j["job_name"] for j in config["scrape_configs"] if j.get("honor_labels")}
    assert honoring == {"kubelet", "cadvisor", "kube-state-metrics"}


def test_target_labels_per_job():
    def targets_of(name: str) -> set[str]:
        return {
            r["target_label"]
            for r in job(make(), name)["relabel_configs"]
            if r["action"] == "replace" and not r["target_label"].startswith("__")
        }

    workload = {"namespace", "pod", "container", "node"}
    assert targets_of("node-exporter") == workload
    assert targets_of("pods") == workload
    assert targets_of("orders-api") == workload
    assert targets_of("service-endpoints") == workload | {"service"}
    assert targets_of("apiserver") == {"namespace", "service"}
    assert targets_of("kubelet") == targets_of("cadvisor") == {"node"}
    assert targets_of("kube-state-metrics") == set()


def test_no_kubernetes_label_or_annotation_is_mapped_into_series():
    for scrape in make()["scrape_configs"]:
        for rule in scrape["relabel_configs"]:
            assert rule["action"] != "labelmap"
            if rule["action"] == "replace":
                assert not rule["target_label"].startswith("__meta_")


# Last in every job: a scraped `cluster` or `environment` label is moved aside, so the agent's external
# label applies (AMP: Kubernetes 1.28/1.29 may emit their own `cluster`, which breaks deduplication).
MOVED_ASIDE = [
    {"action": "replace", "source_labels": ["cluster"], "target_label": "exported_cluster", "regex": "(.+)"},
    {"action": "labeldrop", "regex": "cluster"},
    {
        "action": "replace",
        "source_labels": ["environment"],
        "target_label": "exported_environment",
        "regex": "(.+)",
    },
    {"action": "labeldrop", "regex": "environment"},
]


@pytest.mark.parametrize("extra", [(), ("my_app_jobs_total", "pg_up")])
def test_each_job_keeps_exactly_its_catalog_names_plus_extras(extra):
    config = make(extra_metrics=extra)
    for name in sc.JOBS:
        rule, *bucket_rules = job(config, name)["metric_relabel_configs"][: -len(MOVED_ASIDE)]
        assert job(config, name)["metric_relabel_configs"][-len(MOVED_ASIDE) :] == MOVED_ASIDE
        # Only the API server job keeps a histogram whose buckets are trimmed.
        bucket_rule = {
            "action": "keep",
            "source_labels": ["__name__", "le"],
            "regex": keep_rules.bucket_regex(name, extra),
        }
        assert bucket_rules == ([bucket_rule] if name == "apiserver" else [])
        assert rule == {
            "action": "keep",
            "source_labels": ["__name__"],
            "regex": keep_rules.keep_regex(name, extra),
        }
        assert set(rule["regex"].split("|")) == set(BY_NAME[name].series) | set(extra)


def test_limits_per_job():
    config = make()
    for name in sc.JOBS:
        scrape, limits = job(config, name), BY_NAME[name].limits
        assert scrape["sample_limit"] == limits.sample_limit > 0
        assert scrape["label_limit"] == limits.label_limit > 0
        assert scrape["label_name_length_limit"] == limits.label_name_length_limit > 0
        assert scrape["label_value_length_limit"] == limits.label_value_length_limit > 0
        # Room for the kept set: a sample limit below it would fail every scrape.
        assert limits.sample_limit >= 10 * len(BY_NAME[name].series)
    # Long label values (cgroup paths, image digests) where they occur.
    assert BY_NAME["cadvisor"].limits.label_value_length_limit >= 1024
    assert BY_NAME["kube-state-metrics"].limits.label_value_length_limit >= 1024


@pytest.mark.parametrize(
    ("interval", "timeout"), [(30, "10s"), (15, "10s"), (5, "4s"), (2, "1s"), (600, "10s")]
)
def test_interval_and_a_timeout_below_it(interval, timeout):
    config = make(scrape_interval_seconds=interval)
    assert config["global"]["scrape_interval"] == f"{interval}s"
    assert config["global"]["scrape_timeout"] == timeout
    assert int(timeout.removesuffix("s")) < interval


def test_default_interval_is_30_seconds():
    assert make()["global"]["scrape_interval"] == "30s"


def test_external_labels_and_tokens_embedded_verbatim():
    config = make(cluster_name=TOKEN, remote_write_url=f"{TOKEN}/api/v1/remote_write")
    # The replica index comes from the agent's environment (expand-external-labels), AMP's HA label.
    assert config["global"]["external_labels"] == {
        "cluster": TOKEN,
        "environment": "dev",
        "__replica__": "${AGENT_REPLICA}",
    }
    rendered = sc.render(config)
    assert f'cluster: "{TOKEN}"' in rendered
    assert f'url: "{TOKEN}/api/v1/remote_write"' in rendered


def test_one_shard_keeps_every_target_and_more_shards_split_by_address():
    single = make()
    for scrape in single["scrape_configs"]:
        assert all(rule["action"] != "hashmod" for rule in scrape["relabel_configs"]), scrape["job_name"]
    for index in range(3):
        sharded = make(shard=index, shards=3)
        for scrape, alone in zip(sharded["scrape_configs"], single["scrape_configs"], strict=True):
            # The shard's rules come last: they hash the address every earlier rule has settled.
            assert scrape["relabel_configs"][: len(alone["relabel_configs"])] == alone["relabel_configs"]
            assert scrape["relabel_configs"][len(alone["relabel_configs"]) :] == [
                {
                    "source_labels": ["__address__"],
                    "action": "hashmod",
                    "modulus": 3,
                    "target_label": "__tmp_shard",
                },
                {"action": "keep", "source_labels": ["__tmp_shard"], "regex": str(index)},
            ]
        assert sharded["global"] == single["global"]  # no shard label: a target's series keep their labels


def test_remote_write_to_amp_with_sigv4_and_a_tuned_queue():
    (remote,) = make(region="eu-west-1")["remote_write"]
    assert remote["url"] == URL
    assert remote["sigv4"] == {"region": "eu-west-1"}
    queue = remote["queue_config"]
    assert queue["capacity"] >= 3 * queue["max_samples_per_send"]  # the documented rule of thumb
    assert queue["min_shards"] <= queue["max_shards"]
    assert remote["metadata_config"] == {"send": False}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"cluster_name": " "}, "cluster_name"),
        ({"environment": ""}, "environment"),
        ({"region": ""}, "region"),
        ({"remote_write_url": ""}, "remote_write_url"),
        ({"scrape_interval_seconds": 1}, "scrape_interval_seconds"),
        ({"scrape_interval_seconds": 601}, "scrape_interval_seconds"),
        ({"extra_metrics": ["bad name"]}, "invalid metric names"),
        ({"shard": 1}, "shard must be one of 0-0"),
        ({"shard": 3, "shards": 3}, "shard must be one of 0-2"),
        ({"shard": -1, "shards": 3}, "shard must be one of 0-2"),
        ({"shards": 0}, "shard must be one of"),
    ],
)
def test_rejects_bad_arguments(overrides, message):
    with pytest.raises(ValueError, match=message):
        make(**overrides)


# --- rendering -------------------------------------------------------------------------------------------
def test_render_is_yaml_of_the_config_and_deterministic():
    config = make(extra_metrics=["b_total", "a_total"])
    text = sc.render(config)
    assert yaml.safe_load(text) == config
    assert sc.render(copy.deepcopy(config)) == text
    assert sc.render(make(extra_metrics=["a_total", "b_total"])) == text  # extras' order does not matter


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        'quo"te',
        "back\\slash \\d+",
        "new\nline",
        "tab\t",
        "ünïcødé ✓",
        "#hash",
        "a: b",
        "- dash",
        "${X}",
        "",
    ],
)
def test_render_round_trips_awkward_strings(value):
    config = {"k": value, "l": [value, {"m": value}], "n": [[value]]}
    assert yaml.safe_load(sc.render(config)) == config
