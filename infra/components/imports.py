"""The bulk import queue: POST /v1/imports puts one message per chunk of checked rows on it, and the imports
worker takes them one at a time, a few at once. A chunk that keeps failing goes to the imports DLQ (alarmed
by Monitoring, as every DLQ is)."""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, aws_kms, aws_lambda, aws_lambda_event_sources, aws_sqs
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.components.queues import dead_letter_queue, function_queue
from infra.config import StageConfig

ENV_IMPORTS_QUEUE_URL: Final = "PAYPORTAL_IMPORTS_QUEUE_URL"
RECEIVES: Final = 3  # deliveries of a chunk before it is dead-lettered
# Chunks worked on at once: each makes a few DynamoDB requests per row, on an on-demand table; ten keep a
# 100,000-row import to minutes without crowding out the API's own writes.
MAX_CONCURRENCY: Final = 10
RETENTION: Final = Duration.days(4)  # SQS's default: a chunk waits out a long outage of the worker


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
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.dlq = dead_letter_queue(self, "ImportsDlq", key=key, config=config, used_by="the bulk import queue")
        self.queue = self._build_queue(key, worker)
        self._consume(worker)
        for sender in senders:  # POST /v1/imports and the console's Import page
            sender.add_environment(ENV_IMPORTS_QUEUE_URL, self.queue.queue_url)
            self.queue.grant_send_messages(sender)

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
