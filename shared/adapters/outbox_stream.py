"""The table's DynamoDB stream, as the outbox function sees it: which outbox message a record is about."""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from shared.schema import OUTBOX_PREFIX, PARTITION_KEY


def outbox_message_id(record: DynamoDBRecord) -> str | None:
    """The id of the outbox message a stream record carries, or None when the record is not one (the event
    source filter should keep those away; a batch never fails over one)."""
    keys = record.dynamodb.keys if record.dynamodb else {}
    pk = str((keys or {}).get(PARTITION_KEY, ""))
    return pk.removeprefix(OUTBOX_PREFIX) if pk.startswith(OUTBOX_PREFIX) else None
