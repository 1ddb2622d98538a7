"""Dead-letter queues: encrypted with the data key, TLS only, kept two weeks."""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, aws_kms, aws_sqs
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.config import StageConfig

DLQ_RETENTION: Final = Duration.days(14)


def dead_letter_queue(
    scope: Construct, construct_id: str, *, key: aws_kms.IKey, config: StageConfig, used_by: str
) -> aws_sqs.Queue:
    queue = aws_sqs.Queue(
        scope,
        construct_id,
        encryption=aws_sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=DLQ_RETENTION,
        removal_policy=config.disposable_removal_policy,
    )
    NagSuppressions.add_resource_suppressions(
        queue,
        [
            NagPackSuppression(
                id="AwsSolutions-SQS3",
                reason=f"This queue is itself the dead-letter queue of {used_by}, which cdk-nag does not "
                "recognise as a DLQ use.",
            ),
            NagPackSuppression(
                id="Serverless-SQSRedrivePolicy",
                reason=f"This queue is itself the dead-letter queue of {used_by}; a DLQ of a DLQ would only "
                "move the messages an operator must look at.",
            ),
        ],
    )
    return queue
