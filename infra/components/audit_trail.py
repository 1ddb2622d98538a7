"""Who touched what in the account: a CloudTrail trail of every management event (who changed a function, a
key, a role, the table's settings) in every region, and, where the operator turns them on
(`payportal:tableDataEvents`), the table's data events (every read and write, with the caller).

The log files go to a bucket of their own: encrypted with the trail's own KMS key, versioned, TLS only, never
public, its access logged, its files kept `payportal:auditTrailDays` (400 by default) and validated (CloudTrail's
digest files prove none was changed or deleted). They are also sent to a CloudWatch Logs group, kept as long,
for searching.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Aws, Duration, RemovalPolicy, aws_cloudtrail, aws_dynamodb, aws_iam, aws_kms, aws_logs, aws_s3
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.config import StageConfig
from infra.nag import Exemption, exempt, inline_policy

KEY_DELETION_WINDOW: Final = Duration.days(30)

_ONE_REGION = Exemption(
    reason="The trail's files stay in the stack's region, with the rest of payportal's data; CloudTrail itself "
    "records every region's events into them (a multi-region trail).",
    nag=("PCI.DSS.321-S3BucketReplicationEnabled",),
    checkov=("CKV_AWS_144",),
)
_NO_EVENTS = Exemption(
    reason="Nothing reacts to a new trail file: they are read when someone investigates (and searched in the "
    "trail's CloudWatch Logs group).",
    checkov=("CKV2_AWS_62",),
)


class AuditTrail(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        access_logs: aws_s3.IBucket,
        table: aws_dynamodb.ITable,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.key = aws_kms.Key(
            self,
            "Key",
            description="payportal audit trail: CloudTrail's log files and their CloudWatch Logs copy",
            enable_key_rotation=True,
            pending_window=KEY_DELETION_WINDOW,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.bucket = self._build_bucket(access_logs)
        self.log_group = self._build_log_group()
        self.trail = self._build_trail()
        if config.table_data_events:
            self._record_table_data_events(table)

    def _build_bucket(self, access_logs: aws_s3.IBucket) -> aws_s3.Bucket:
        bucket = aws_s3.Bucket(
            self,
            "Bucket",
            encryption=aws_s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            versioned=True,
            block_public_access=aws_s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=aws_s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="audit-trail/",
            lifecycle_rules=[
                aws_s3.LifecycleRule(
                    expiration=Duration.days(self._config.audit_trail_days),
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            # An audit trail outlives the stack it watched.
            removal_policy=RemovalPolicy.RETAIN,
        )
        exempt(bucket, _ONE_REGION, _NO_EVENTS)
        return bucket

    def _build_log_group(self) -> aws_logs.LogGroup:
        return aws_logs.LogGroup(
            self,
            "Logs",
            encryption_key=self.key,
            retention=retention_for(self._config.audit_trail_days),
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _build_trail(self) -> aws_cloudtrail.Trail:
        self.key.grant_encrypt_decrypt(_logs_principal())
        trail = aws_cloudtrail.Trail(
            self,
            "Trail",
            trail_name=f"payportal-{self._config.stage}",
            bucket=self.bucket,
            encryption_key=self.key,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_file_validation=True,
            send_to_cloud_watch_logs=True,
            cloud_watch_log_group=self.log_group,
            management_events=aws_cloudtrail.ReadWriteType.ALL,
        )
        # The role CDK makes for CloudTrail to write to the log group: its one policy, for that group only.
        NagSuppressions.add_resource_suppressions(trail, [inline_policy()], apply_to_children=True)
        return trail

    def _record_table_data_events(self, table: aws_dynamodb.ITable) -> None:
        """CloudTrail records a table's data events through advanced event selectors only; with them, the
        management events need a selector of their own too."""
        cfn = self.trail.node.default_child
        assert isinstance(cfn, aws_cloudtrail.CfnTrail)
        cfn.event_selectors = None
        cfn.advanced_event_selectors = [
            aws_cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
                name="Management events",
                field_selectors=[
                    aws_cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(
                        field="eventCategory", equal_to=["Management"]
                    )
                ],
            ),
            aws_cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
                name="The payportal table's reads and writes",
                field_selectors=[
                    aws_cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(field="eventCategory", equal_to=["Data"]),
                    aws_cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(
                        field="resources.type", equal_to=["AWS::DynamoDB::Table"]
                    ),
                    aws_cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(
                        field="resources.ARN", equal_to=[table.table_arn]
                    ),
                ],
            ),
        ]


def _logs_principal() -> aws_iam.ServicePrincipal:
    return aws_iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")


# CloudWatch Logs' retention periods (days) from three months on, as CDK names them.
_RETENTIONS: Final = (
    (90, aws_logs.RetentionDays.THREE_MONTHS),
    (180, aws_logs.RetentionDays.SIX_MONTHS),
    (365, aws_logs.RetentionDays.ONE_YEAR),
    (400, aws_logs.RetentionDays.THIRTEEN_MONTHS),
    (545, aws_logs.RetentionDays.EIGHTEEN_MONTHS),
    (731, aws_logs.RetentionDays.TWO_YEARS),
    (1096, aws_logs.RetentionDays.THREE_YEARS),
    (1827, aws_logs.RetentionDays.FIVE_YEARS),
    (2192, aws_logs.RetentionDays.SIX_YEARS),
    (2557, aws_logs.RetentionDays.SEVEN_YEARS),
    (2922, aws_logs.RetentionDays.EIGHT_YEARS),
    (3288, aws_logs.RetentionDays.NINE_YEARS),
    (3653, aws_logs.RetentionDays.TEN_YEARS),
)


def retention_for(days: int) -> aws_logs.RetentionDays:
    """The shortest CloudWatch Logs retention that keeps the log files' `days`."""
    return next((retention for kept, retention in _RETENTIONS if kept >= days), aws_logs.RetentionDays.TEN_YEARS)
