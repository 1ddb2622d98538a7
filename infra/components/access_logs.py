"""The access-log bucket: where S3 writes the server access logs of payportal's other buckets (the import
uploads'), encrypted, TLS only, never public, kept a year. It is not logged itself (a log of the log bucket
would log its own writes)."""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, RemovalPolicy, aws_s3
from constructs import Construct

from infra.nag import Exemption, exempt

KEPT_FOR: Final = Duration.days(365)

_NOT_LOGGED = Exemption(
    reason="This is the access-log bucket itself: S3 writes the other buckets' access logs here, and logging "
    "its own access would log each of those writes again, without end.",
    nag=("AwsSolutions-S1", "PCI.DSS.321-S3BucketLoggingEnabled"),
    checkov=("CKV_AWS_18",),
)
_S3_MANAGED_KEY = Exemption(
    reason="S3 server access log delivery writes only to buckets encrypted with S3-managed keys (SSE-S3), not "
    "with a KMS key; the logs hold request metadata (keys, callers, times), never file contents.",
    nag=("PCI.DSS.321-S3DefaultEncryptionKMS",),
    checkov=("CKV_AWS_145",),
)
_NOT_VERSIONED = Exemption(
    reason="Access logs are written once and never changed; they expire after a year, and versions would only "
    "keep deleted objects longer.",
    nag=("PCI.DSS.321-S3BucketVersioningEnabled",),
    checkov=("CKV_AWS_21",),
)
_ONE_REGION = Exemption(
    reason="payportal runs in one region; its logs stay in that region with the rest of its data.",
    nag=("PCI.DSS.321-S3BucketReplicationEnabled",),
    checkov=("CKV_AWS_144",),
)
_NO_EVENTS = Exemption(
    reason="Nothing reacts to a new log object: the logs are read by people when they investigate.",
    checkov=("CKV2_AWS_62",),
)


class AccessLogs(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.bucket = aws_s3.Bucket(
            self,
            "Bucket",
            encryption=aws_s3.BucketEncryption.S3_MANAGED,
            block_public_access=aws_s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=aws_s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                aws_s3.LifecycleRule(expiration=KEPT_FOR, abort_incomplete_multipart_upload_after=Duration.days(1))
            ],
            # Kept when the stack goes: what happened to the other buckets outlives them.
            removal_policy=RemovalPolicy.RETAIN,
        )
        exempt(self.bucket, _NOT_LOGGED, _S3_MANAGED_KEY, _NOT_VERSIONED, _ONE_REGION, _NO_EVENTS)
