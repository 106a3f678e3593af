"""Construct ids from kebab-case names (`aws-ebs-csi-driver` → `AwsEbsCsiDriver`)."""

import re


def construct_id(name: str) -> str:
    """`platform-alerts` → `PlatformAlerts`: a construct id (so a logical id) that follows a name of
    lowercase words joined by `-`, `.` or `_` (environments, teams, rule groups namespaces)."""
    return "".join(part.capitalize() for part in re.split(r"[-._]", name) if part)


# The stage's deployment-verifier role carries this tag: the pipeline's verification step may assume only
# roles tagged so (the role's ARN is a deploy-time value of another stage, not known to the pipeline stack).
VERIFIER_ROLE_TAG_KEY = "platform-role"
VERIFIER_ROLE_TAG_VALUE = "deployment-verifier"
# The pipeline's verify steps run as roles on this IAM path (set when a role is created, never changed): the
# stage's verifier role trusts the toolchain account's roles on this path only.
VERIFY_STEP_ROLE_PATH = "/deployment-verification/"
