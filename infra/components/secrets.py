"""The Stripe secret: an API key and a webhook signing secret the operator writes after the first deploy."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from aws_cdk import SecretValue, aws_iam, aws_kms, aws_secretsmanager
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.config import StageConfig

SECRET_ID: Final = "StripeSecret"
STRIPE_SECRET_FIELDS: Final = ("api_key", "webhook_secret")
READ_ACTIONS: Final = ("secretsmanager:GetSecretValue",)


def stripe_secret_name_for(stage: str) -> str:
    return f"payportal/{stage}/stripe"


class StripeSecret(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, key: aws_kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._key = key
        self.secret = self._build_secret()

    def grant_read(self, functions: Iterable[aws_iam.IGrantable]) -> None:
        """GetSecretValue only (CDK's grant_read adds DescribeSecret, which no function needs).

        The matching kms:Decrypt comes from the table's key grant: secret and table share the key.
        """
        for function in functions:
            function.grant_principal.add_to_principal_policy(
                aws_iam.PolicyStatement(actions=list(READ_ACTIONS), resources=[self.secret.secret_arn])
            )

    def _build_secret(self) -> aws_secretsmanager.Secret:
        secret = aws_secretsmanager.Secret(
            self,
            SECRET_ID,
            secret_name=stripe_secret_name_for(self._config.stage),
            description='Stripe credentials, JSON {"api_key": "...", "webhook_secret": "..."}; set by the operator',
            encryption_key=self._key,
            # Empty placeholders, not secrets: the operator writes the real values with
            # `aws secretsmanager put-secret-value`, so they never pass through CloudFormation.
            # Never change this value once deployed: CloudFormation would overwrite the operator's.
            secret_object_value={field: SecretValue.unsafe_plain_text("") for field in STRIPE_SECRET_FIELDS},
            removal_policy=self._config.disposable_removal_policy,
        )
        NagSuppressions.add_resource_suppressions(
            secret,
            [
                NagPackSuppression(
                    id="AwsSolutions-SMG4",
                    reason="The webhook signing secret is rotated by `payportal stripe rotate-webhook-secret`: "
                    "Stripe's API cannot be driven by a Secrets Manager rotation Lambda without the operator's key "
                    "handling, so the operator runs the rotation with their Stripe key.",
                )
            ],
        )
        return secret
