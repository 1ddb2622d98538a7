"""The queues a function is fed by, and their dead-letter queues: encrypted with the data key, TLS only."""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, aws_kms, aws_lambda, aws_sqs
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.config import StageConfig

DLQ_RETENTION: Final = Duration.days(14)
VISIBILITY_PER_TIMEOUT: Final = 6  # AWS's advice for a queue that is a Lambda event source


def function_queue(
    scope: Construct,
    construct_id: str,
    *,
    key: aws_kms.IKey,
    config: StageConfig,
    consumer: aws_lambda.Function,
    retention: Duration,
    dlq: aws_sqs.IQueue,
    receives: int,
) -> aws_sqs.Queue:
    """A queue `consumer` is fed by: hidden six of its timeouts while a message is handled, dead-lettered to
    `dlq` after `receives` receives (the imports', the webhook deliveries', the continuations')."""
    timeout = consumer.timeout.to_seconds() if consumer.timeout else 3
    return aws_sqs.Queue(
        scope,
        construct_id,
        encryption=aws_sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        visibility_timeout=Duration.seconds(timeout * VISIBILITY_PER_TIMEOUT),
        retention_period=retention,
        dead_letter_queue=aws_sqs.DeadLetterQueue(max_receive_count=receives, queue=dlq),
        removal_policy=config.disposable_removal_policy,
    )


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
