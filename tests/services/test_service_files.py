"""Bad service, SLO and team files: one line per problem naming the file, the field and the rule, every
problem of every file at once, nothing loaded. Each case starts from a valid copy of services/ and breaks
one thing; the expected lines are literals."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from observability.model.load import load
from observability.spec.problems import SpecError

REPOSITORY = Path(__file__).resolve().parents[2]
Edit = Callable[[Path], None]


@pytest.fixture
def services(tmp_path: Path) -> Path:
    root = tmp_path / "services"
    shutil.copytree(REPOSITORY / "services", root)
    return root


def edit(path: Path, change: Callable[[dict], None]) -> None:
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def problems(root: Path) -> list[str]:
    with pytest.raises(SpecError) as error:
        load(root)
    # Paths in messages are relative to the repository when inside it; this copy is not.
    return [line.replace(f"{root}/", "services/") for line in str(error.value).splitlines()]


def second_service(
    root: Path, *, name: str = "payments", namespace: str = "payments", app: str = "payments"
) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "service.yaml").write_text(
        yaml.safe_dump(
            {
                "version": "services/v1",
                "name": name,
                "team": "orders",
                "workload": {"namespace": namespace, "selector": {"app.kubernetes.io/name": app}},
                "metrics": {
                    "port": "http",
                    "port_number": 8080,
                    "keep": ["payments_total"],
                    "series_budget": 100,
                },
            }
        )
    )
    (folder / "slos.yaml").write_text(
        yaml.safe_dump(
            {
                "version": "prometheus/v1",
                "service": name,
                "slos": [
                    {
                        "name": "availability",
                        "objective": 99.5,
                        "sli": {
                            "events": {
                                "error_query": 'sum(rate(payments_total{code=~"5.."}[{{.window}}]))',
                                "total_query": "sum(rate(payments_total[{{.window}}]))",
                            }
                        },
                        "alerting": {"name": "PaymentsAvailability"},
                    }
                ],
            }
        )
    )
    return folder


def test_the_repository_services_load():
    services = load()
    assert [service.name for service in services.services] == ["orders-api"]
    assert [slo.id for slo in services.slos()] == ["orders-api-availability", "orders-api-latency"]


def test_a_valid_second_service_loads(services):
    second_service(services)
    loaded = load(services)
    assert [service.name for service in loaded.services] == ["orders-api", "payments"]
    assert loaded.service("payments").slos[0].error_budget == pytest.approx(0.005)


def test_objective_out_of_range_and_unknown_version_are_reported_together(services):
    second_service(services)
    edit(services / "payments/slos.yaml", lambda d: d["slos"][0].update(objective=120))
    edit(services / "orders-api/service.yaml", lambda d: d.update(version="services/v9"))
    assert problems(services) == [
        "services/orders-api/service.yaml: version: must be 'services/v1' (got 'services/v9')",
        "services/payments/slos.yaml: slos[0].objective: must be in (0, 100) (got 120)",
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d.update(version="prometheus/v2"),
            "services/payments/slos.yaml: version: must be 'prometheus/v1' (got 'prometheus/v2')",
        ),
        (
            lambda d: d["slos"][0].pop("name"),
            "services/payments/slos.yaml: slos[0].name: "
            "must match ^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$ (got None)",
        ),
        (
            lambda d: d["slos"].append(dict(d["slos"][0], alerting={"name": "PaymentsAgain"})),
            "services/payments/slos.yaml: slos[1].name: "
            "must be unique in the file (got 'availability' twice)",
        ),
        (
            lambda d: d["slos"][0]["sli"]["events"].update(total_query="sum(rate(payments_total[5m]))"),
            "services/payments/slos.yaml: slos[0].sli.events.total_query: must use {{.window}} as its range, "
            "so each window gets its own query",
        ),
        (
            lambda d: d["slos"][0]["sli"]["events"].update(
                error_query="sum(rate(payments_total[{{.window}}])"
            ),
            "services/payments/slos.yaml: slos[0].sli.events.error_query: must be valid PromQL "
            "(unclosed left parenthesis)",
        ),
        (
            lambda d: d["slos"][0]["sli"]["events"].update(
                error_query="sum(rate(orders_total[{{.window}}]))"
            ),
            "services/payments/slos.yaml: slos[0].sli: reads orders_total, which service.yaml metrics.keep "
            "does not keep",
        ),
        (
            lambda d: d["slos"][0]["sli"].update(plugin={"id": "sloth-common/availability"}),
            "services/payments/slos.yaml: slos[0].sli: must have exactly one of events, raw "
            "(got ['events', 'plugin'])",
        ),
        (
            lambda d: d.update(service="billing"),
            "services/payments/slos.yaml: service: must be 'payments', the service's name (got 'billing')",
        ),
        (
            lambda d: d["slos"][0]["alerting"].update(labels={"severity": "critical"}),
            "services/payments/slos.yaml: slos[0].alerting.labels.severity: "
            "is set by the platform (it routes alerts by severity and team): remove it or use another name",
        ),
        (
            lambda d: d["slos"][0]["alerting"].update(name="OrdersApiLatencyBudgetBurn"),
            "services/payments/slos.yaml: slos[0].alerting.name: must be unique across services "
            "('OrdersApiLatencyBudgetBurn' is also orders-api's)",
        ),
        (
            lambda d: d.update(labels={"tier": 2}),
            "services/payments/slos.yaml: labels.tier: must be text; quote it (got 2)",
        ),
    ],
)
def test_slo_file_rules(services, change, expected):
    second_service(services)
    edit(services / "payments/slos.yaml", change)
    assert problems(services) == [expected]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d.update(team="billing"),
            "services/payments/service.yaml: team: "
            "must be a team of services/teams.yaml: ['orders'] (got 'billing')",
        ),
        (
            lambda d: d["metrics"].update(series_budget=5001),
            "services/payments/service.yaml: metrics.series_budget: must be a whole number of series per "
            "target in 1..5000, the platform's cap (got 5001)",
        ),
        (
            lambda d: d["metrics"].update(port_number=70000),
            "services/payments/service.yaml: metrics.port_number: "
            "must be the container port's number, 1..65535 (got 70000)",
        ),
        (
            lambda d: d["metrics"].pop("port_number"),
            "services/payments/service.yaml: metrics.port_number: "
            "must be the container port's number, 1..65535 (got None)",
        ),
        (
            lambda d: d.update(slo_period="14d"),
            "services/payments/service.yaml: slo_period: must be one of ['28d', '30d', '7d'] (got '14d')",
        ),
        (
            lambda d: d.update(name="billing"),
            "services/payments/service.yaml: name: must be the folder's name, 'payments' (got 'billing')",
        ),
        (
            lambda d: d["metrics"].update(keep=["payments_total", "payments_[a-"]),
            "services/payments/service.yaml: metrics.keep[1]: is neither a series name nor a valid regular "
            "expression (unterminated character set at position 9)",
        ),
    ],
)
def test_service_file_rules(services, change, expected):
    second_service(services)
    edit(services / "payments/service.yaml", change)
    assert problems(services) == [expected]


@pytest.mark.parametrize(
    ("dashboards", "expected"),
    [
        (
            {"red": {"requests": "payments_total", "errors": 'code=~"5.."', "duration": "payments_seconds"}},
            [
                "services/payments/service.yaml: dashboards.red.duration: "
                "reads payments_seconds_bucket, which metrics.keep does not keep"
            ],
        ),
        (
            {"red": {"requests": "http_requests_total", "errors": 'code=~"5.."'}},
            [
                "services/payments/service.yaml: dashboards.red.requests: "
                "reads http_requests_total, which metrics.keep does not keep"
            ],
        ),
        (
            {"red": {"requests": "payments_total", "errors": 'code=~"5.."} or vector(1) or up{'}},
            [
                "services/payments/service.yaml: dashboards.red.errors: must be label matchers on "
                'payments_total, like code=~"5.." (got \'code=~"5.."} or vector(1) or up{\')'
            ],
        ),
        (
            {"red": {"requests": "payments_total", "errors": "", "duration": "payments_seconds_bucket"}},
            [
                "services/payments/service.yaml: dashboards.red.duration: "
                "must be a histogram's family name, without _bucket (got 'payments_seconds_bucket')",
                "services/payments/service.yaml: dashboards.red.errors: "
                "must be label matchers like code=~\"5..\" (got '')",
            ],
        ),
        (
            {"red": {"requests": "payments_total{code='5'}", "errors": "code='5'", "latency": "x"}, "use": 1},
            [
                "services/payments/service.yaml: dashboards.red.latency: "
                "is not a RED field (known: requests, errors, duration)",
                "services/payments/service.yaml: dashboards.red.requests: "
                "must be the name of a request counter (got \"payments_total{code='5'}\")",
                "services/payments/service.yaml: dashboards.use: is not a dashboards field (known: red)",
            ],
        ),
        (
            ["red"],
            ["services/payments/service.yaml: dashboards: must be a mapping like {red: {...}} (got ['red'])"],
        ),
    ],
)
def test_dashboards_section_rules(services, dashboards, expected):
    second_service(services)
    edit(services / "payments/service.yaml", lambda d: d.update(dashboards=dashboards))
    assert problems(services) == expected


def test_red_panels_declared_with_kept_series_load(services):
    second_service(services)
    red = {"requests": "payments_total", "errors": 'code=~"5.."', "duration": "payments_seconds"}

    def declare(document: dict) -> None:
        document["metrics"]["keep"].append("payments_seconds_bucket")
        document["dashboards"] = {"red": red}

    edit(services / "payments/service.yaml", declare)
    loaded = load(services).service("payments").dashboards.red
    assert loaded is not None
    assert (loaded.requests, loaded.errors, loaded.duration) == (
        "payments_total",
        'code=~"5.."',
        "payments_seconds",
    )


def test_a_selector_matching_another_services_pods(services):
    second_service(services, name="orders-worker", namespace="orders", app="orders-api")
    edit(services / "orders-worker/service.yaml", lambda d: d["metrics"].update(keep=["payments_total"]))
    assert problems(services) == [
        "services/orders-worker/service.yaml: workload.selector: must not select orders-api's pods too (same "
        "namespace 'orders', selectors {'app.kubernetes.io/name': 'orders-api'} and "
        "{'app.kubernetes.io/name': 'orders-api'} can match one pod)",
    ]


def test_same_labels_in_other_namespaces_do_not_overlap(services):
    second_service(services, name="orders-copy", namespace="payments", app="orders-api")
    assert [service.name for service in load(services).services] == ["orders-api", "orders-copy"]


def test_missing_file_and_broken_yaml(services):
    second_service(services)
    (services / "payments/service.yaml").unlink()
    (services / "teams.yaml").write_text("version: teams/v1\nteams: [\n")
    lines = problems(services)
    assert lines[0] == "services/payments/service.yaml: file is missing"
    assert lines[1].startswith("services/teams.yaml: is not valid YAML at line 3")


def test_the_kubernetes_form_is_read_like_the_file_form(services):
    folder = second_service(services)
    document = yaml.safe_load((folder / "slos.yaml").read_text())
    slo = document["slos"][0]
    events = slo["sli"]["events"]
    (folder / "slos.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "sloth.slok.dev/v1",
                "kind": "PrometheusServiceLevel",
                "metadata": {"name": "payments"},
                "spec": {
                    "service": "payments",
                    "slos": [
                        {
                            "name": "availability",
                            "objective": 99.5,
                            "sli": {
                                "events": {
                                    "errorQuery": events["error_query"],
                                    "totalQuery": events["total_query"],
                                }
                            },
                            "alerting": {"name": "PaymentsAvailability", "pageAlert": {"disable": True}},
                        }
                    ],
                },
            }
        )
    )
    (loaded,) = load(services).service("payments").slos
    assert loaded.sli.queries() == (events["error_query"], events["total_query"])
    assert loaded.page.disable is True
    assert loaded.ticket.disable is False


def kubernetes_form_problems(services: Path, *, service: str) -> list[tuple[str, str]]:
    """The problems' (file, path) of a PrometheusServiceLevel for payments naming `service`, without SLOs."""
    folder = second_service(services)
    (folder / "slos.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "sloth.slok.dev/v1",
                "kind": "PrometheusServiceLevel",
                "metadata": {"name": "payments"},
                "spec": {"service": service, "slos": []},
            }
        )
    )
    with pytest.raises(SpecError) as error:
        load(services)
    return [(Path(p.file).name, p.path) for p in error.value.problems]


def test_the_kubernetes_forms_problems_are_under_spec(services):
    """In sloth's PrometheusServiceLevel resource the file spec's fields sit under `spec`: so do the paths
    of its problems."""
    problems = kubernetes_form_problems(services, service="payments api")
    assert problems == [("slos.yaml", "spec.service"), ("slos.yaml", "spec.slos")]


def test_the_kubernetes_forms_service_is_the_folders_under_spec(services):
    problems = kubernetes_form_problems(services, service="orders-api")
    assert problems == [("slos.yaml", "spec.service"), ("slos.yaml", "spec.slos")]


def test_an_slo_file_that_is_not_a_mapping_is_a_problem_of_the_whole_file(services):
    folder = second_service(services)
    (folder / "slos.yaml").write_text("- name: availability\n")
    with pytest.raises(SpecError) as error:
        load(services)
    ((path, message),) = [(p.path, p.message) for p in error.value.problems]
    assert path == ""  # the whole file (Problem's convention), printed without a field
    assert message == "must be a sloth SLO spec (a mapping), got list"


def test_check_services_prints_every_problem_and_exits_1(services):
    second_service(services)
    edit(services / "payments/slos.yaml", lambda d: d["slos"][0].update(objective=0))
    edit(services / "payments/service.yaml", lambda d: d["metrics"].update(series_budget=0))
    result = subprocess.run(
        [sys.executable, str(REPOSITORY / "scripts/check_services.py"), str(services)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == "The service files break 2 rule(s):"
    assert len(result.stderr.splitlines()) == 3


def test_check_services_on_the_repository():
    result = subprocess.run(
        [sys.executable, str(REPOSITORY / "scripts/check_services.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # What a deployment gets, then what the sandbox runs (with the example services).
    assert result.stdout.splitlines() == [
        "OK: 1 service(s), 2 SLO(s), 1 team(s), 2 rule groups namespace(s) in services",
        "  orders-api (team orders, 30d): availability 99.9%, latency 99%",
        "OK: 2 service(s), 3 SLO(s), 2 team(s), 3 rule groups namespace(s) in services + examples/services",
        "  orders-api (team orders, 30d): availability 99.9%, latency 99%",
        "  inventory-api (team warehouse, 28d): availability 99.5%",
    ]


def test_the_template_folder_passes_once_filled_in(services):
    """services/_template is skipped as a service; copied to its own folder with its team added, it loads."""
    shutil.copytree(services / "_template", services / "my-service")
    edit(services / "teams.yaml", lambda d: d["teams"].append({"name": "my-team", "description": "Mine."}))
    loaded = load(services)
    assert [service.name for service in loaded.services] == ["my-service", "orders-api"]
    assert [slo.id for slo in loaded.service("my-service").slos] == ["my-service-availability"]


def test_a_service_in_a_namespace_the_platform_does_not_own_gets_its_policy_in_dist(services, tmp_path):
    """`make render` writes the NetworkPolicy the team applies: its pods admit the agent's pods from the
    monitoring namespace on the metrics port number, and nothing else; valid for Kubernetes 1.35."""
    second_service(services)
    out = tmp_path / "dist"
    result = subprocess.run(
        [
            sys.executable,
            str(REPOSITORY / "scripts/render.py"),
            "--out",
            str(out),
            "--services",
            str(services),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not (out / "services/orders-api").exists()  # the platform applies the orders namespace's own
    policy = yaml.safe_load((out / "services/payments/network-policy.yaml").read_text())
    kubernetes_validate.validate(policy, "1.35.0", strict=True)
    assert policy["metadata"] == {
        "name": "payments-metrics-from-monitoring",
        "namespace": "payments",
        # The same policy the platform applies in its own namespace (k8s/service_network_policy.py).
        "labels": {"app.kubernetes.io/part-of": "eks-observability-platform"},
    }
    assert policy["spec"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "payments"}},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [
                    {
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus-agent"}},
                    }
                ],
                "ports": [{"port": 8080, "protocol": "TCP"}],
            }
        ],
    }
    # The agent's side: its scrape job and its egress to those pods, in the rendered agent config.
    agent = yaml.safe_load((out / "agent/prometheus.yaml").read_text())
    (job,) = [job for job in agent["scrape_configs"] if job["job_name"] == "payments"]
    assert job["sample_limit"] == 100
    assert job["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["payments"]}}]
    assert job["metric_relabel_configs"][0] == {
        "action": "keep",
        "source_labels": ["__name__"],
        "regex": "payments_total",
    }
