"""What the post-deploy verification (scripts/verify_deployment.py) reads from the stage's stack outputs.

Pure data, no aws_cdk import: the stage builds its `verification_outputs` from this table, and the script
reads the same entries either from environment variables (the pipeline's `env_from_cfn_outputs`) or from
the file `cdk deploy --outputs-file` writes (`{"<stack name>": {"<output id>": value}}`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VerificationOutput:
    env_var: str
    stack_id: str  # the stack's construct id in the stage; its stack name is `<Stage>-<stack_id>`
    output_id: str  # the CfnOutput's id, created on the stack itself, so also its logical id


MONITORING = "Monitoring"
GRAFANA = "Grafana"
VERIFICATION = "Verification"

PROMETHEUS_WORKSPACE_ID = VerificationOutput(
    "VERIFY_PROMETHEUS_WORKSPACE_ID", MONITORING, "PrometheusWorkspaceId"
)
PROMETHEUS_QUERY_URL = VerificationOutput("VERIFY_PROMETHEUS_QUERY_URL", MONITORING, "PrometheusQueryUrl")
GRAFANA_HEALTH_CHECK_ARN = VerificationOutput(
    "VERIFY_GRAFANA_HEALTH_CHECK_ARN", GRAFANA, "GrafanaHealthCheckFunctionArn"
)
ROLE_ARN = VerificationOutput("VERIFY_ROLE_ARN", VERIFICATION, "VerifierRoleArn")
PROBE_FUNCTION_ARN = VerificationOutput("VERIFY_PROBE_FUNCTION_ARN", VERIFICATION, "ClusterProbeFunctionArn")
# Alert delivery: the topics' SNS metrics and the AMP workspace's log group.
WATCHDOG_TOPIC_ARN = VerificationOutput("VERIFY_WATCHDOG_TOPIC_ARN", MONITORING, "AlertWatchdogTopicArn")
PAGE_TOPIC_ARN = VerificationOutput("VERIFY_PAGE_TOPIC_ARN", MONITORING, "AlertPageTopicArn")
TICKET_TOPIC_ARN = VerificationOutput("VERIFY_TICKET_TOPIC_ARN", MONITORING, "AlertTicketTopicArn")
PROMETHEUS_LOG_GROUP = VerificationOutput("VERIFY_PROMETHEUS_LOG_GROUP", MONITORING, "PrometheusLogGroupName")

ALL: tuple[VerificationOutput, ...] = (
    PROMETHEUS_WORKSPACE_ID,
    PROMETHEUS_QUERY_URL,
    GRAFANA_HEALTH_CHECK_ARN,
    ROLE_ARN,
    PROBE_FUNCTION_ARN,
    WATCHDOG_TOPIC_ARN,
    PAGE_TOPIC_ARN,
    TICKET_TOPIC_ARN,
    PROMETHEUS_LOG_GROUP,
)


def stack_name(stage_id: str, stack_id: str) -> str:
    """The deployed name of a stack in a stage (`Dev` + `Monitoring` → `Dev-Monitoring`)."""
    return f"{stage_id}-{stack_id}"
