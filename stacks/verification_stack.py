"""What the post-deploy verification needs in the stage: the cluster probe inside the VPC and the role the
verification script assumes (scripts/verify_deployment.py, `make verify`, the pipeline's Verify step).

The role trusts the stage's CDK deploy role, the environment's `verifier_principal_arns`, and (when a
pipeline deploys the stage) the pipeline's verify-step roles in `pipeline_account`: never a whole account."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, DefaultStackSynthesizer, Fn, Stack
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks import verification_outputs
from stacks.cluster_stack import ClusterStack
from stacks.constructs.cluster_probe import PROBE_CODE, ClusterProbe
from stacks.constructs.deployment_verifier import DeploymentVerifier
from stacks.constructs.platform_vpc import INTERNAL_LB_SUBNETS, PlatformVpc
from stacks.grafana_stack import GrafanaStack
from stacks.monitoring_stack import MonitoringStack
from stacks.workloads_stack import WorkloadsStack


class VerificationStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        verifier_principal_arns: Sequence[str],
        pipeline_account: str | None,
        network: PlatformVpc,
        cluster_stack: ClusterStack,
        workloads: WorkloadsStack,
        monitoring: MonitoringStack,
        grafana: GrafanaStack,
        log_retention: logs.RetentionDays,
        probe_code: Path = PROBE_CODE,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        # The internal load balancer subnets hold no pods: the web app's network policy can admit the
        # probe by their CIDRs without admitting any other pod (k8s/verifier_access_chart.py).
        self.probe = ClusterProbe(
            self,
            "ClusterProbe",
            cluster=cluster_stack.platform_cluster.cluster,
            vpc=network.vpc,
            subnets=list(network.vpc.select_subnets(subnet_group_name=INTERNAL_LB_SUBNETS).subnets),
            log_retention=log_retention,
            code_directory=probe_code,
        )
        # Its Role, RoleBinding and policy live in the app namespace.
        self.probe.access.node.add_dependency(workloads.namespace)
        self.verifier = DeploymentVerifier(
            self,
            "Verifier",
            trusted_principal_arns=[*self.deploy_role_arns(), *verifier_principal_arns],
            pipeline_account=pipeline_account,
            prometheus_workspace_arn=monitoring.prometheus.workspace.attr_arn,
            rule_groups_namespaces_read_policy=monitoring.rules.read_policy,
            grafana_health_check=grafana.health_check.function,
            probe=self.probe.function,
            prometheus_log_group_arn=monitoring.prometheus.log_group.log_group_arn,
        )
        self.role_arn_output = CfnOutput(
            self,
            verification_outputs.ROLE_ARN.output_id,
            value=self.verifier.role.role_arn,
            description="IAM role `make verify` assumes for the post-deploy checks",
        )
        self.probe_function_arn_output = CfnOutput(
            self,
            verification_outputs.PROBE_FUNCTION_ARN.output_id,
            value=self.probe.function.function_arn,
            description="Lambda function checking the web app's rollout and readiness from inside the VPC",
        )

    def deploy_role_arns(self) -> list[str]:
        """The CDK bootstrap deploy role this stack is deployed with (`make deploy` and the pipeline both
        assume it): whoever may deploy the stage may verify it."""
        synthesizer = self.synthesizer
        if not isinstance(synthesizer, DefaultStackSynthesizer):
            return []
        return [Fn.sub(synthesizer.deploy_role_arn)]
