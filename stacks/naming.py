"""Construct ids from kebab-case names (`aws-ebs-csi-driver` → `AwsEbsCsiDriver`)."""


def construct_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


# The stage's deployment-verifier role carries this tag: the pipeline's verification step may assume only
# roles tagged so (the role's ARN is a deploy-time value of another stage, not known to the pipeline stack).
VERIFIER_ROLE_TAG_KEY = "platform-role"
VERIFIER_ROLE_TAG_VALUE = "deployment-verifier"
# The pipeline's verify steps run as roles on this IAM path (set when a role is created, never changed): the
# stage's verifier role trusts the toolchain account's roles on this path only.
VERIFY_STEP_ROLE_PATH = "/deployment-verification/"
