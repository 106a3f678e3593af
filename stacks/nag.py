"""cdk-nag acknowledgements: each one names the exact finding and says why it is acceptable here."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

PACK = "AwsSolutions"


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one AwsSolutions finding (e.g. `IAM5[Resource::*]`) on `scope` and its children."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PACK}::{PACK}-{finding}", reason=reason))


def managed_policy(name: str) -> str:
    """The IAM4 finding for an AWS managed policy, e.g. `service-role/AmazonEBSCSIDriverPolicy`."""
    return f"IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]"
