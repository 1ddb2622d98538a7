"""The outbox consumer: the table's stream, filtered to new outbox items, feeds `functions/outbox`.

Delivery failures are retried (the handler reports failed items, bisecting isolates a poison
record); what still fails lands in the DLQ as a pointer to the stream records. The outbox item
itself stays in the table, undelivered, so it can be replayed from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aws_cdk import Duration, aws_dynamodb, aws_kms, aws_lambda, aws_lambda_event_sources, aws_sqs
from constructs import Construct

from infra.components.queues import dead_letter_queue
from infra.config import StageConfig
from shared import schema

DLQ_ID: Final = "Dlq"
# Key prefix of outbox items (see the table in shared/schema.py's docstring).
OUTBOX_KEY_PREFIX: Final = schema.OUTBOX_PREFIX
STREAM_EVENT_NAME: Final = "INSERT"
BATCH_SIZE: Final = 10
RETRY_ATTEMPTS: Final = 8
# Well inside the stream's 24 h retention, so a DLQ entry still points at readable records.
MAX_RECORD_AGE: Final = Duration.hours(6)


def outbox_filter() -> Mapping[str, Any]:
    """Only newly inserted outbox items; delivery marks (MODIFY) and other entities never invoke the function."""
    return aws_lambda.FilterCriteria.filter(
        {
            "eventName": aws_lambda.FilterRule.is_equal(STREAM_EVENT_NAME),
            "dynamodb": {"Keys": {schema.PARTITION_KEY: {"S": aws_lambda.FilterRule.begins_with(OUTBOX_KEY_PREFIX)}}},
        }
    )


class Outbox(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        table: aws_dynamodb.ITable,
        key: aws_kms.IKey,
        function: aws_lambda.Function,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._key = key
        self.dlq = self._build_dlq()
        self.event_source = self._build_event_source(table)
        function.add_event_source(self.event_source)

    def _build_dlq(self) -> aws_sqs.Queue:
        return dead_letter_queue(
            self, DLQ_ID, key=self._key, config=self._config, used_by="the outbox stream event source mapping"
        )

    def _build_event_source(self, table: aws_dynamodb.ITable) -> aws_lambda_event_sources.DynamoEventSource:
        return aws_lambda_event_sources.DynamoEventSource(
            table,
            starting_position=aws_lambda.StartingPosition.TRIM_HORIZON,
            batch_size=BATCH_SIZE,
            bisect_batch_on_error=True,
            report_batch_item_failures=True,
            retry_attempts=RETRY_ATTEMPTS,
            max_record_age=MAX_RECORD_AGE,
            on_failure=aws_lambda_event_sources.SqsDlq(self.dlq),
            filters=[outbox_filter()],
        )
