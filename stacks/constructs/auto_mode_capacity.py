"""EKS Auto Mode capacity: what the built-in components leave to us (see `k8s/auto_mode_chart.py`)."""

from __future__ import annotations

from collections.abc import Sequence

import cdk8s
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from config.workloads import IngressScheme
from k8s.auto_mode_chart import AutoModeChart
from stacks.constructs.managed_addon import managed_addon
from stacks.kubernetes import apply_chart


class AutoModeCapacity(Construct):
    """The workload NodePool with network policy, the ALB IngressClass, and the metrics-server add-on."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        cluster: eks.Cluster,
        node_role: iam.IRole,
        node_subnet_ids: Sequence[str],
        load_balancer_subnet_ids: Sequence[str],
        instance_types: Sequence[str],
        cpu_limit: int,
        ingress_scheme: IngressScheme,
        tls_certificate_arn: str | None,
        metrics_server_version: str | None,
    ) -> None:
        super().__init__(scope, id_)
        chart = AutoModeChart(
            cdk8s.App(),
            "auto-mode",
            node_role_name=node_role.role_name,
            subnet_ids=node_subnet_ids,
            load_balancer_subnet_ids=load_balancer_subnet_ids,
            security_group_id=cluster.cluster_security_group_id,
            instance_types=instance_types,
            cpu_limit=cpu_limit,
            ingress_scheme=ingress_scheme,
            tls_certificate_arn=tls_certificate_arn,
        )
        # `amazon-vpc-cni` may already exist in kube-system: take it over rather than fail.
        self.settings = apply_chart(self, "Settings", cluster=cluster, chart=chart, overwrite=True)
        # Auto Mode runs networking, DNS, storage and load balancing itself, but not metrics-server,
        # which the web app's HorizontalPodAutoscaler needs.
        self.metrics_server = managed_addon(
            self, cluster=cluster, name="metrics-server", version=metrics_server_version
        )
