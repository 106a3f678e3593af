"""The Postgres password, generated and kept in AWS Secrets Manager; never written anywhere else."""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.nag import acknowledge


class DatabaseCredentials(Construct):
    def __init__(self, scope: Construct, id_: str, *, username: str) -> None:
        super().__init__(scope, id_)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="Postgres credentials of the orders database",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": username}),
                generate_string_key="password",
                password_length=32,
                # Letters and digits only: safe in connection strings and config files without quoting.
                exclude_punctuation=True,
            ),
            # The database volume outlives a stack deletion, so must the password that opens it.
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.secret,
            "SMG4",
            "Rotation must also run ALTER ROLE in Postgres, which needs a rotation Lambda with network "
            "access to the database; planned with the pipeline work, not yet built.",
        )
