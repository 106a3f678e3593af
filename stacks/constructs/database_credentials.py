"""The Postgres password, generated and kept in AWS Secrets Manager; never written anywhere else."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import DefaultStackSynthesizer, Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.nag import acknowledge

# Everything on a key but using it: the account keeps control of the key without being able to decrypt.
KEY_ADMIN_ACTIONS = [
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
    "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
]  # fmt: skip


class DatabaseCredentials(Construct):
    """`readers` may read the secret. With `customer_managed_key`, it is encrypted with a key of its own whose
    policy lets only the readers and the deployment's CloudFormation role (which sets the value) decrypt, and
    only through Secrets Manager: other principals of the account, administrators included, can manage the
    key but not read the secret."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        username: str,
        readers: Sequence[iam.IRole],
        customer_managed_key: bool,
    ) -> None:
        super().__init__(scope, id_)
        self.key = self._key(readers) if customer_managed_key else None
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
        if self.key is not None:
            # Set on the CloudFormation resource, not as the L2's `encryption_key`: that one adds a key policy
            # statement letting every principal of the account decrypt through Secrets Manager.
            cfn_secret = self.secret.node.default_child
            assert isinstance(cfn_secret, secretsmanager.CfnSecret)
            cfn_secret.kms_key_id = self.key.key_arn
        for reader in readers:
            self.secret.grant_read(reader)
        acknowledge(
            self.secret,
            "SMG4",
            "Rotation must also run ALTER ROLE in Postgres, which needs a rotation Lambda with network "
            "access to the database; planned with the pipeline work, not yet built.",
        )

    def _key(self, readers: Sequence[iam.IRole]) -> kms.Key:
        stack = Stack.of(self)
        via_secrets_manager = {
            "StringEquals": {
                "kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com",
                "kms:CallerAccount": stack.account,
            }
        }
        account = iam.AccountRootPrincipal()
        # Secrets Manager needs kms:Decrypt (besides GenerateDataKey) from whoever sets the value: here
        # CloudFormation, running as the CDK bootstrap's execution role.
        synthesizer = stack.synthesizer
        assert isinstance(synthesizer, DefaultStackSynthesizer)
        # The ARN holds `${AWS::Partition}` (and `${AWS::AccountId}` without an account) for Fn::Sub.
        deployer = iam.ArnPrincipal(Fn.sub(synthesizer.cloud_formation_execution_role_arn))
        policy = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="AccountAdministersTheKey",
                    principals=[account],
                    actions=KEY_ADMIN_ACTIONS,
                    resources=["*"],
                ),
                # CloudFormation (and a future rotation function) writes the secret through Secrets Manager.
                iam.PolicyStatement(
                    sid="AccountEncryptsThroughSecretsManager",
                    principals=[account],
                    actions=["kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                    resources=["*"],
                    conditions=via_secrets_manager,
                ),
                iam.PolicyStatement(
                    sid="PodRolesDecryptThroughSecretsManager",
                    principals=[iam.ArnPrincipal(reader.role_arn) for reader in readers],
                    actions=["kms:Decrypt"],
                    resources=["*"],
                    conditions=via_secrets_manager,
                ),
                iam.PolicyStatement(
                    sid="DeployerSetsTheValueThroughSecretsManager",
                    principals=[deployer],
                    actions=["kms:Decrypt"],
                    resources=["*"],
                    conditions=via_secrets_manager,
                ),
            ]
        )
        return kms.Key(
            self,
            "Key",
            description="Encrypts the orders database password; only the pods' roles may decrypt",
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
            policy=policy,
            # Retained with the secret it encrypts.
            removal_policy=RemovalPolicy.RETAIN,
        )
