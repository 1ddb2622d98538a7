"""The table and the customer-managed KMS key that encrypts it, built from shared/schema.py."""

from __future__ import annotations

from typing import Final

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack, aws_dynamodb, aws_iam, aws_kms
from constructs import Construct

from infra.config import StageConfig
from shared import schema

TABLE_ID: Final = "Table"
KEY_ID: Final = "Key"
KEY_DELETION_WINDOW: Final = Duration.days(30)


def key_alias_for(stage: str) -> str:
    return f"alias/payportal-{stage}"


def _string_attribute(name: str) -> aws_dynamodb.Attribute:
    return aws_dynamodb.Attribute(name=name, type=aws_dynamodb.AttributeType.STRING)


class Storage(Construct):
    """Table and key are RETAIN in every stage: losing either loses the ledger."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.key = self._build_key()
        self.table = self._build_table()

    def allow_log_encryption(self) -> None:
        """CloudWatch Logs may use the key, for this account's log groups only (the encryption context
        names the log group)."""
        stack = Stack.of(self)
        self.key.add_to_resource_policy(
            aws_iam.PolicyStatement(
                sid="CloudWatchLogsEncryptsThisAccountsLogGroups",
                principals=[aws_iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )

    def _build_key(self) -> aws_kms.Key:
        return aws_kms.Key(
            self,
            KEY_ID,
            alias=key_alias_for(self._config.stage),
            description="payportal data: table, its stream and backups, the Stripe secret, the outbox DLQ",
            enable_key_rotation=True,
            pending_window=KEY_DELETION_WINDOW,
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _build_table(self) -> aws_dynamodb.Table:
        table = aws_dynamodb.Table(
            self,
            TABLE_ID,
            partition_key=_string_attribute(schema.PARTITION_KEY),
            sort_key=_string_attribute(schema.SORT_KEY),
            billing_mode=aws_dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=aws_dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=aws_dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            stream=aws_dynamodb.StreamViewType.NEW_IMAGE,
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index_name, partition_key, sort_key, projected in schema.GLOBAL_SECONDARY_INDEXES:
            table.add_global_secondary_index(
                index_name=index_name,
                partition_key=_string_attribute(partition_key),
                sort_key=_string_attribute(sort_key),
                projection_type=aws_dynamodb.ProjectionType.ALL
                if projected is None
                else aws_dynamodb.ProjectionType.INCLUDE,
                non_key_attributes=list(projected) if projected is not None else None,
            )
        return table
