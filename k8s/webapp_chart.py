"""The orders API: Deployment, Service, autoscaler, disruption budget and Ingress."""

from __future__ import annotations

import json
from collections.abc import Sequence

import cdk8s
from cdk8s_plus_35 import k8s
from constructs import Construct

from config.workloads import IngressScheme, WorkloadsConfig
from k8s.pod_security import container_resources, restricted_container, restricted_pod
from k8s.secrets import secrets_volume, secrets_volume_mount
from observability import names
from webapp.orders_api import slo_contract

WEBAPP_UID = 10001  # the non-root user baked into webapp/Dockerfile
# Endpoints and kube-proxy/iptables rules take a few seconds to drop a terminating pod: keep serving
# until they have, then SIGTERM lets the app finish in-flight requests.
PRE_STOP_SLEEP_SECONDS = 10
APP_GRACEFUL_SHUTDOWN_SECONDS = 20
TERMINATION_GRACE_SECONDS = PRE_STOP_SLEEP_SECONDS + APP_GRACEFUL_SHUTDOWN_SECONDS + 10
# The agent scrapes pods directly; through the load balancer `/metrics` (and below) gets this fixed 404
# (an AWS Load Balancer Controller action, named by the backend of the rule that uses it).
METRICS_NOT_FOUND_ACTION = "metrics-not-found"
NOT_FOUND_RESPONSE = {
    "type": "fixed-response",
    "fixedResponseConfig": {"contentType": "text/plain", "statusCode": "404", "messageBody": "Not Found"},
}


def listener_annotations(tls_certificate_arn: str | None) -> dict[str, str]:
    """HTTP only without a certificate; with one, HTTPS (TLS terminated at the load balancer; targets
    stay HTTP inside the VPC) and HTTP redirected to it."""
    if tls_certificate_arn is None:
        return {"alb.ingress.kubernetes.io/listen-ports": json.dumps([{"HTTP": 80}])}
    return {
        "alb.ingress.kubernetes.io/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
        "alb.ingress.kubernetes.io/ssl-redirect": "443",
        "alb.ingress.kubernetes.io/certificate-arn": tls_certificate_arn,
        "alb.ingress.kubernetes.io/ssl-policy": names.ALB_TLS_POLICY,
    }


def access_annotations(inbound_cidrs: Sequence[str]) -> dict[str, str]:
    """Who may reach the load balancer (its security group, every listener) and the 404 action."""
    annotations = {
        f"alb.ingress.kubernetes.io/actions.{METRICS_NOT_FOUND_ACTION}": json.dumps(NOT_FOUND_RESPONSE)
    }
    if inbound_cidrs:
        annotations["alb.ingress.kubernetes.io/inbound-cidrs"] = ",".join(inbound_cidrs)
    return annotations


def metrics_not_found_rule() -> k8s.IngressRule:
    """`/metrics` and `/metrics/*` (a Prefix path) to the fixed 404. Rules are evaluated before the
    default backend, which serves everything else."""
    backend = k8s.IngressBackend(
        service=k8s.IngressServiceBackend(
            name=METRICS_NOT_FOUND_ACTION, port=k8s.ServiceBackendPort(name="use-annotation")
        )
    )
    path = k8s.HttpIngressPath(path=slo_contract.METRICS_PATH, path_type="Prefix", backend=backend)
    return k8s.IngressRule(http=k8s.HttpIngressRuleValue(paths=[path]))


class WebappChart(cdk8s.Chart):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        image: str,
        version: str,
        revision: str,
        workloads: WorkloadsConfig,
        load_balancer_subnet_ids: Sequence[str],
        secret_provider_class: str,
        inbound_cidrs: Sequence[str] = (),
    ) -> None:
        """`inbound_cidrs`: the only sources the load balancer admits (`workloads.ingress_inbound_cidrs`);
        empty leaves the controller's default (everyone), which only an internal load balancer accepts."""
        if not inbound_cidrs and workloads.ingress_scheme is IngressScheme.INTERNET_FACING:
            raise ValueError("an internet-facing Ingress needs inbound_cidrs")
        super().__init__(scope, id_, namespace=names.APP_NAMESPACE, disable_resource_name_hashes=True)
        labels = names.labels(names.WEBAPP)
        metadata = k8s.ObjectMeta(name=names.WEBAPP, labels=labels)
        self.service_account = k8s.KubeServiceAccount(
            self, "ServiceAccount", metadata=metadata, automount_service_account_token=False
        )
        self.deployment = k8s.KubeDeployment(
            self,
            "Deployment",
            metadata=metadata,
            spec=k8s.DeploymentSpec(
                # No `replicas`: the autoscaler owns the count, and a re-apply must not reset it.
                selector=k8s.LabelSelector(match_labels=names.selector(names.WEBAPP)),
                strategy=k8s.DeploymentStrategy(
                    type="RollingUpdate",
                    rolling_update=k8s.RollingUpdateDeployment(
                        max_unavailable=k8s.IntOrString.from_number(0),
                        max_surge=k8s.IntOrString.from_number(1),
                    ),
                ),
                revision_history_limit=5,
                template=k8s.PodTemplateSpec(
                    # No prometheus.io annotations: the agent scrapes the app by its own job, from its
                    # service file (services/orders-api/service.yaml: its selector, port and keep-list).
                    metadata=k8s.ObjectMeta(labels=labels),
                    spec=self._pod_spec(
                        image,
                        {"APP_VERSION": version, "APP_REVISION": revision},
                        workloads,
                        secret_provider_class,
                    ),
                ),
            ),
        )
        self.service = k8s.KubeService(
            self,
            "Service",
            metadata=metadata,
            spec=k8s.ServiceSpec(
                type="ClusterIP",
                selector=names.selector(names.WEBAPP),
                ports=[
                    k8s.ServicePort(
                        name="http", port=80, target_port=k8s.IntOrString.from_string("http"), protocol="TCP"
                    )
                ],
            ),
        )
        self.autoscaler = k8s.KubeHorizontalPodAutoscalerV2(
            self,
            "Autoscaler",
            metadata=metadata,
            spec=k8s.HorizontalPodAutoscalerSpecV2(
                scale_target_ref=k8s.CrossVersionObjectReferenceV2(
                    api_version="apps/v1", kind="Deployment", name=names.WEBAPP
                ),
                min_replicas=workloads.web_min_replicas,
                max_replicas=workloads.web_max_replicas,
                metrics=[
                    k8s.MetricSpecV2(
                        type="Resource",
                        resource=k8s.ResourceMetricSourceV2(
                            name="cpu",
                            target=k8s.MetricTargetV2(
                                type="Utilization", average_utilization=workloads.web_target_cpu_percent
                            ),
                        ),
                    )
                ],
            ),
        )
        self.disruption_budget = k8s.KubePodDisruptionBudget(
            self,
            "DisruptionBudget",
            metadata=metadata,
            spec=k8s.PodDisruptionBudgetSpec(
                max_unavailable=k8s.IntOrString.from_number(1),
                selector=k8s.LabelSelector(match_labels=names.selector(names.WEBAPP)),
            ),
        )
        self.ingress = k8s.KubeIngress(
            self,
            "Ingress",
            metadata=k8s.ObjectMeta(
                name=names.WEBAPP,
                labels=labels,
                annotations={
                    "alb.ingress.kubernetes.io/scheme": workloads.ingress_scheme.value,
                    # Pinned subnets: the network policy admits the load balancer by their CIDRs.
                    "alb.ingress.kubernetes.io/subnets": ",".join(load_balancer_subnet_ids),
                    "alb.ingress.kubernetes.io/target-type": "ip",
                    "alb.ingress.kubernetes.io/healthcheck-path": slo_contract.READYZ_PATH,
                    **listener_annotations(workloads.tls_certificate_arn),
                    **access_annotations(inbound_cidrs),
                },
            ),
            spec=k8s.IngressSpec(
                ingress_class_name=names.ALB_INGRESS_CLASS,
                rules=[metrics_not_found_rule()],
                default_backend=k8s.IngressBackend(
                    service=k8s.IngressServiceBackend(
                        name=names.WEBAPP, port=k8s.ServiceBackendPort(name="http")
                    )
                ),
            ),
        )

    @staticmethod
    def _pod_spec(
        image: str, build: dict[str, str], workloads: WorkloadsConfig, secret_provider_class: str
    ) -> k8s.PodSpec:
        def probe(path: str, *, period: int, failures: int) -> k8s.Probe:
            return k8s.Probe(
                http_get=k8s.HttpGetAction(path=path, port=k8s.IntOrString.from_string("http")),
                period_seconds=period,
                timeout_seconds=2,
                failure_threshold=failures,
            )

        env = {
            "DB_HOST": f"{names.POSTGRES}.{names.APP_NAMESPACE}.svc.cluster.local",
            "DB_PORT": str(names.POSTGRES_PORT),
            "DB_NAME": names.POSTGRES_DATABASE,
            "DB_USER": names.POSTGRES_USER,
            "DB_PASSWORD_FILE": f"{names.SECRETS_MOUNT_PATH}/{names.DB_PASSWORD_FILE}",
            **build,  # version and revision, reported by the app's build-info metric
            # The preStop sleep already covers endpoint propagation.
            "SHUTDOWN_DELAY_SECONDS": "0",
            "GRACEFUL_SHUTDOWN_TIMEOUT_SECONDS": str(APP_GRACEFUL_SHUTDOWN_SECONDS),
            "LOG_LEVEL": "INFO",
        }
        return k8s.PodSpec(
            service_account_name=names.WEBAPP,
            automount_service_account_token=False,
            security_context=restricted_pod(user=WEBAPP_UID),
            termination_grace_period_seconds=TERMINATION_GRACE_SECONDS,
            topology_spread_constraints=[
                k8s.TopologySpreadConstraint(
                    max_skew=1,
                    topology_key=key,
                    when_unsatisfiable="ScheduleAnyway",
                    label_selector=k8s.LabelSelector(match_labels=names.selector(names.WEBAPP)),
                )
                for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
            ],
            containers=[
                k8s.Container(
                    name=names.WEBAPP,
                    image=image,
                    ports=[
                        k8s.ContainerPort(name="http", container_port=slo_contract.APP_PORT, protocol="TCP")
                    ],
                    env=[k8s.EnvVar(name=key, value=value) for key, value in env.items()],
                    resources=container_resources(workloads.web_resources),
                    startup_probe=probe(slo_contract.HEALTHZ_PATH, period=2, failures=30),
                    liveness_probe=probe(slo_contract.HEALTHZ_PATH, period=10, failures=3),
                    readiness_probe=probe(slo_contract.READYZ_PATH, period=5, failures=2),
                    lifecycle=k8s.Lifecycle(
                        pre_stop=k8s.LifecycleHandler(sleep=k8s.SleepAction(seconds=PRE_STOP_SLEEP_SECONDS))
                    ),
                    security_context=restricted_container(),
                    volume_mounts=[
                        k8s.VolumeMount(name="tmp", mount_path="/tmp"),  # noqa: S108 - an emptyDir
                        secrets_volume_mount(),
                    ],
                )
            ],
            volumes=[
                k8s.Volume(
                    name="tmp",
                    empty_dir=k8s.EmptyDirVolumeSource(size_limit=k8s.Quantity.from_string("64Mi")),
                ),
                secrets_volume(secret_provider_class),
            ],
        )
