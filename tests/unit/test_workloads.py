"""The web app and Postgres as applied to the cluster: objects selected by kind and name."""

from __future__ import annotations

import json

import pytest

from k8s.images import POSTGRES_EXPORTER_IMAGE, POSTGRES_IMAGE
from k8s.storage_chart import BACKED_UP_STORAGE_CLASS, BACKUP_TAG_KEY, BACKUP_TAG_VALUE
from observability import names
from tests.unit.conftest import TLS_CERTIFICATE_ARN, Synthesized
from webapp.orders_api import slo_contract


def pod_spec(synth: Synthesized, kind: str, name: str) -> dict:
    return synth.kubernetes_object(kind, name)["spec"]["template"]["spec"]


def container(spec: dict, name: str) -> dict:
    (match,) = [c for c in spec["containers"] if c["name"] == name]
    return match


def test_app_namespace_enforces_restricted_pod_security(dev):
    labels = dev.kubernetes_object("Namespace", names.APP_NAMESPACE)["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


@pytest.mark.parametrize(("kind", "name"), [("Deployment", names.WEBAPP), ("StatefulSet", names.POSTGRES)])
def test_pods_meet_the_restricted_standard(dev, kind, name):
    spec = pod_spec(dev, kind, name)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    for each in spec["containers"]:
        context = each["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert "memory" in each["resources"]["limits"]
        assert {"cpu", "memory"} <= set(each["resources"]["requests"])


def test_webapp_rolls_out_without_losing_capacity(dev):
    deployment = dev.kubernetes_object("Deployment", names.WEBAPP)
    assert "replicas" not in deployment["spec"]  # owned by the autoscaler
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_webapp_probes_and_shutdown(dev):
    spec = pod_spec(dev, "Deployment", names.WEBAPP)
    app = container(spec, names.WEBAPP)
    assert app["livenessProbe"]["httpGet"]["path"] == slo_contract.HEALTHZ_PATH
    assert app["startupProbe"]["httpGet"]["path"] == slo_contract.HEALTHZ_PATH
    assert app["readinessProbe"]["httpGet"]["path"] == slo_contract.READYZ_PATH
    pre_stop = app["lifecycle"]["preStop"]["sleep"]["seconds"]
    env = {e["name"]: e["value"] for e in app["env"]}
    graceful = int(env["GRACEFUL_SHUTDOWN_TIMEOUT_SECONDS"])
    assert spec["terminationGracePeriodSeconds"] > pre_stop + graceful
    assert app["ports"] == [{"name": "http", "containerPort": slo_contract.APP_PORT, "protocol": "TCP"}]


def test_webapp_resources_and_autoscaling_follow_config(dev):
    workloads = dev.config.workloads
    app = container(pod_spec(dev, "Deployment", names.WEBAPP), names.WEBAPP)
    assert app["resources"] == {
        "requests": {
            "cpu": workloads.web_resources.cpu_request,
            "memory": workloads.web_resources.memory_request,
        },
        "limits": {"memory": workloads.web_resources.memory_limit},
    }
    hpa = dev.kubernetes_object("HorizontalPodAutoscaler", names.WEBAPP)["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (
        workloads.web_min_replicas,
        workloads.web_max_replicas,
    )
    (metric,) = hpa["metrics"]
    assert metric["resource"]["target"]["averageUtilization"] == workloads.web_target_cpu_percent


def test_webapp_spreads_across_zones_and_is_scraped(dev):
    deployment = dev.kubernetes_object("Deployment", names.WEBAPP)
    spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert "topology.kubernetes.io/zone" in [c["topologyKey"] for c in spread]
    # Scraped by its own job (services/orders-api/service.yaml), not by the annotation opt-in job: the pod
    # has the selected label and the named port the job keeps, and no prometheus.io annotations.
    template = deployment["spec"]["template"]
    assert "prometheus.io/scrape" not in template["metadata"].get("annotations", {})
    assert template["metadata"]["labels"]["app.kubernetes.io/name"] == "orders-api"
    app = next(c for c in template["spec"]["containers"] if c["name"] == names.WEBAPP)
    assert {"name": "http", "containerPort": slo_contract.APP_PORT} in [
        {k: p[k] for k in ("name", "containerPort")} for p in app["ports"]
    ]


def test_webapp_image_is_the_staged_asset(dev):
    app = container(pod_spec(dev, "Deployment", names.WEBAPP), names.WEBAPP)
    assert app["image"].startswith("<token>")  # the DockerImageAsset URI, resolved at deploy
    (assets_file,) = (dev.outdir / "assembly-Dev").glob("DevWorkloads*.assets.json")
    (image,) = json.loads(assets_file.read_text())["dockerImages"].values()
    assert image["source"]["platform"] == "linux/amd64"  # the node group's architecture
    staged = dev.outdir / image["source"]["directory"].removeprefix("../")
    assert (staged / "Dockerfile").is_file()
    assert not list(staged.rglob("__pycache__"))  # caches never change the image hash


def test_disruption_budgets(dev):
    webapp = dev.kubernetes_object("PodDisruptionBudget", names.WEBAPP)["spec"]
    assert webapp["maxUnavailable"] == 1
    postgres = dev.kubernetes_object("PodDisruptionBudget", names.POSTGRES)["spec"]
    assert postgres["minAvailable"] == 1


def test_service_and_internal_ingress(dev):
    service = dev.kubernetes_object("Service", names.WEBAPP)["spec"]
    assert service["type"] == "ClusterIP"
    ingress = dev.kubernetes_object("Ingress", names.WEBAPP)
    annotations = ingress["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/scheme"] == "internal"
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == slo_contract.READYZ_PATH
    assert len(annotations["alb.ingress.kubernetes.io/subnets"].split(",")) == 2
    assert ingress["spec"]["ingressClassName"] == names.ALB_INGRESS_CLASS
    assert ingress["spec"]["defaultBackend"]["service"] == {"name": names.WEBAPP, "port": {"name": "http"}}
    # No certificate configured: plain HTTP, inside the VPC only.
    assert json.loads(annotations["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}]
    assert not any("certificate" in key or "ssl" in key for key in annotations)


def test_internet_facing_ingress_serves_https_and_redirects_http(auto):
    annotations = auto.kubernetes_object("Ingress", names.WEBAPP)["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert json.loads(annotations["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == TLS_CERTIFICATE_ARN
    assert annotations["alb.ingress.kubernetes.io/ssl-policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    # In the public subnets (one per zone).
    public = auto.template("Network").find_resources(
        "AWS::EC2::Subnet", {"Properties": {"MapPublicIpOnLaunch": True}}
    )
    assert len(annotations["alb.ingress.kubernetes.io/subnets"].split(",")) == len(public) == 2


def test_auto_mode_provides_the_ingress_class(auto):
    ingress_class = auto.kubernetes_object("IngressClass", names.ALB_INGRESS_CLASS)
    assert ingress_class["spec"]["controller"] == "eks.amazonaws.com/alb"
    params = auto.kubernetes_object("IngressClassParams", names.ALB_INGRESS_CLASS)
    assert params["spec"]["scheme"] == "internet-facing"
    assert len(params["spec"]["subnets"]["ids"]) == 2
    # Auto Mode takes the certificate from the class parameters, not from the Ingress.
    assert params["spec"]["certificateARNs"] == [TLS_CERTIFICATE_ARN]
    # Only documented fields: an unknown one would fail strict field validation when applied.
    assert set(params["spec"]) == {"scheme", "subnets", "certificateARNs"}


def test_postgres_stateful_set_keeps_its_data(dev):
    stateful_set = dev.kubernetes_object("StatefulSet", names.POSTGRES)["spec"]
    assert stateful_set["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    (claim,) = stateful_set["volumeClaimTemplates"]
    assert claim["spec"]["storageClassName"] == BACKED_UP_STORAGE_CLASS
    assert (
        claim["spec"]["resources"]["requests"]["storage"] == f"{dev.config.workloads.postgres_volume_gib}Gi"
    )
    spec = stateful_set["template"]["spec"]
    assert spec["securityContext"]["fsGroup"] == spec["securityContext"]["runAsUser"]
    database = container(spec, names.POSTGRES)
    env = {e["name"]: e["value"] for e in database["env"]}
    data_mount = next(m["mountPath"] for m in database["volumeMounts"] if m["name"] == "data")
    assert env["PGDATA"].startswith(data_mount + "/")  # a subdirectory, not the volume root
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert database[probe]["exec"]["command"][0] == "pg_isready"


def test_postgres_settings_come_from_a_config_map(dev):
    config_map = dev.kubernetes_object("ConfigMap", f"{names.POSTGRES}-config")
    assert "listen_addresses = '*'" in config_map["data"]["postgresql.conf"]
    database = container(pod_spec(dev, "StatefulSet", names.POSTGRES), names.POSTGRES)
    assert database["args"] == ["-c", "config_file=/etc/postgresql/postgresql.conf"]


def test_postgres_has_a_headless_service_and_a_scraped_exporter(dev):
    service = dev.kubernetes_object("Service", names.POSTGRES)["spec"]
    assert service["clusterIP"] == "None"
    stateful_set = dev.kubernetes_object("StatefulSet", names.POSTGRES)["spec"]
    annotations = stateful_set["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(names.POSTGRES_EXPORTER_PORT)
    exporter = container(stateful_set["template"]["spec"], "postgres-exporter")
    assert exporter["ports"][0]["containerPort"] == names.POSTGRES_EXPORTER_PORT


def test_images_are_pinned(synthesized):
    images = {POSTGRES_IMAGE, POSTGRES_EXPORTER_IMAGE}
    for image in images:
        tag = image.rsplit(":", 1)[1]
        assert tag != "latest", image
        assert any(ch.isdigit() for ch in tag), image
    for variant in synthesized.values():
        used = {
            c["image"] for o in variant.kubernetes_manifests() if o["kind"] in ("Deployment", "StatefulSet")
            for c in o["spec"]["template"]["spec"]["containers"]
        }  # fmt: skip
        assert images <= used


def test_backups_cover_the_database_volume(dev):
    storage_class = dev.kubernetes_object("StorageClass", BACKED_UP_STORAGE_CLASS)
    assert storage_class["parameters"]["tagSpecification_1"] == f"{BACKUP_TAG_KEY}={BACKUP_TAG_VALUE}"
    assert storage_class["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "false"
    template = dev.template("Workloads")
    (plan,) = template.find_resources("AWS::Backup::BackupPlan").values()
    (rule,) = plan["Properties"]["BackupPlan"]["BackupPlanRule"]
    assert rule["ScheduleExpression"] == dev.config.workloads.backup_schedule
    assert rule["Lifecycle"]["DeleteAfterDays"] == dev.config.workloads.backup_retention_days
    (selection,) = template.find_resources("AWS::Backup::BackupSelection").values()
    assert selection["Properties"]["BackupSelection"]["ListOfTags"] == [
        {"ConditionKey": BACKUP_TAG_KEY, "ConditionValue": BACKUP_TAG_VALUE, "ConditionType": "STRINGEQUALS"}
    ]
    (vault,) = template.find_resources("AWS::Backup::BackupVault").values()
    assert "EncryptionKeyArn" in vault["Properties"]
    assert vault["DeletionPolicy"] == "Retain"
