"""The bulk import queue: POST /v1/imports puts one message per chunk of checked rows on it, and the imports
worker takes them one at a time, a few at once. A chunk that keeps failing goes to the imports DLQ (alarmed
by Monitoring, as every DLQ is).

And the uploads bucket: a file too large for one request is uploaded there (a presigned POST from
POST /v1/imports/uploads), read once by the worker, which checks it and queues its chunks itself, then
deleted; whatever is left goes after a day. Encrypted with the table's key, TLS only, never public, its access
logged."""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, Stack, aws_iam, aws_kms, aws_lambda, aws_lambda_event_sources, aws_s3, aws_sqs
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.components.queues import dead_letter_queue, function_queue
from infra.config import StageConfig
from infra.nag import Exemption, exempt

ENV_IMPORTS_QUEUE_URL: Final = "PAYPORTAL_IMPORTS_QUEUE_URL"
RECEIVES: Final = 3  # deliveries of a chunk before it is dead-lettered
# Chunks worked on at once: each makes a few DynamoDB requests per row, on an on-demand table; ten keep a
# 100,000-row import to minutes without crowding out the API's own writes.
MAX_CONCURRENCY: Final = 10
RETENTION: Final = Duration.days(4)  # SQS's default: a chunk waits out a long outage of the worker
ENV_IMPORTS_BUCKET: Final = "PAYPORTAL_IMPORTS_BUCKET"
UPLOADS_KEPT_FOR: Final = Duration.days(1)  # the worker deletes a file once checked; this catches the rest
UPLOAD_PREFIX: Final = "imports/"  # shared.services.imports.upload_key

_UPLOADS_NOT_VERSIONED = Exemption(
    reason="An uploaded import file is written once, read once by the imports worker and deleted; it is gone "
    "after a day anyway. Versions would keep files the operator has finished with.",
    nag=("PCI.DSS.321-S3BucketVersioningEnabled",),
    checkov=("CKV_AWS_21",),
)
_UPLOADS_ONE_REGION = Exemption(
    reason="An uploaded import file lives minutes, in the stack's one region, with the table it is imported into.",
    nag=("PCI.DSS.321-S3BucketReplicationEnabled",),
    checkov=("CKV_AWS_144",),
)
_UPLOADS_NO_EVENTS = Exemption(
    reason="The upload is followed by POST /v1/imports, which queues the file's check; no S3 event is needed.",
    checkov=("CKV2_AWS_62",),
)


class ImportQueue(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        key: aws_kms.IKey,
        worker: aws_lambda.Function,
        senders: tuple[aws_lambda.Function, ...],
        uploader: aws_lambda.Function,
        access_logs: aws_s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.dlq = dead_letter_queue(self, "ImportsDlq", key=key, config=config, used_by="the bulk import queue")
        self.queue = self._build_queue(key, worker)
        self._consume(worker)
        # POST /v1/imports, the console's Import page, and the worker (an uploaded file's chunks, once checked)
        for sender in (*senders, worker):
            sender.add_environment(ENV_IMPORTS_QUEUE_URL, self.queue.queue_url)
            self.queue.grant_send_messages(sender)
        self.uploads = self._build_uploads(key, access_logs)
        self._grant_uploads(uploader, worker)

    def _build_uploads(self, key: aws_kms.IKey, access_logs: aws_s3.IBucket) -> aws_s3.Bucket:
        bucket = aws_s3.Bucket(
            self,
            "Uploads",
            encryption=aws_s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=aws_s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=aws_s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="import-uploads/",
            lifecycle_rules=[
                aws_s3.LifecycleRule(
                    expiration=UPLOADS_KEPT_FOR, abort_incomplete_multipart_upload_after=Duration.days(1)
                )
            ],
            removal_policy=self._config.disposable_removal_policy,
        )
        exempt(bucket, _UPLOADS_NOT_VERSIONED, _UPLOADS_ONE_REGION, _UPLOADS_NO_EVENTS)
        return bucket

    def _grant_uploads(self, uploader: aws_lambda.Function, worker: aws_lambda.Function) -> None:
        """The operator API signs upload forms (its role is what S3 checks the upload against) and sees whether a
        file is there; the worker reads and deletes it. Each only under the uploads' prefix, nothing else (the
        table's key grants already cover the KMS data keys of SSE-KMS)."""
        objects = self.uploads.arn_for_objects(f"{UPLOAD_PREFIX}*")
        bucket_id = Stack.of(self).get_logical_id(self.uploads.node.default_child)  # type: ignore[arg-type]
        for function, actions in (
            (uploader, ["s3:PutObject", "s3:GetObject"]),
            (worker, ["s3:GetObject", "s3:DeleteObject"]),
        ):
            function.add_to_role_policy(aws_iam.PolicyStatement(actions=actions, resources=[objects]))
            function.add_environment(ENV_IMPORTS_BUCKET, self.uploads.bucket_name)
            assert function.role is not None
            NagSuppressions.add_resource_suppressions(
                function.role,
                [
                    NagPackSuppression(
                        id="AwsSolutions-IAM5",
                        reason="The import uploads: any object under imports/, the only prefix payportal writes "
                        "there, each an operator's one uploaded file (shared.services.imports.upload_key).",
                        applies_to=[f"Resource::<{bucket_id}.Arn>/{UPLOAD_PREFIX}*"],
                    )
                ],
                apply_to_children=True,
            )

    def _build_queue(self, key: aws_kms.IKey, worker: aws_lambda.Function) -> aws_sqs.Queue:
        return function_queue(
            self, "Imports", key=key, config=self._config, consumer=worker, retention=RETENTION, dlq=self.dlq,
            receives=RECEIVES,
        )  # fmt: skip

    def _consume(self, worker: aws_lambda.Function) -> None:
        worker.add_event_source(
            aws_lambda_event_sources.SqsEventSource(
                self.queue, batch_size=1, report_batch_item_failures=True, max_concurrency=MAX_CONCURRENCY
            )
        )
        NagSuppressions.add_resource_suppressions(
            worker,
            [
                NagPackSuppression(
                    id="Serverless-LambdaEventSourceMappingDestination",
                    reason="An SQS event source takes no on-failure destination: failed chunks return to the "
                    "queue and its redrive policy moves them to the imports DLQ after 3 receives.",
                )
            ],
            apply_to_children=True,
        )
