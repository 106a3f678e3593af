"""Construct ids from kebab-case names (`aws-ebs-csi-driver` → `AwsEbsCsiDriver`)."""


def construct_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))
