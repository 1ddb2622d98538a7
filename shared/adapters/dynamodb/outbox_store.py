"""The outbox's delivery leases over the table: claim a message, then mark it delivered or release it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.adapters.dynamodb.codec import deserialize, wire_key
from shared.adapters.dynamodb.items import (
    OUTBOX_CLAIMED,
    OUTBOX_DELIVERED,
    OUTBOX_PENDING,
    outbox_from,
    outbox_key,
    timestamp,
)
from shared.clock import wall_clock_now
from shared.domain.messages import OutboxMessage
from shared.services.ports import OutboxBusy


class DynamoOutboxStore:
    """Implements the OutboxStore port."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def claim(self, message_id: str, lease_seconds: int, token: str) -> OutboxMessage | None:
        now = int(datetime.now(UTC).timestamp())  # leases use the real clock, never the business one
        try:
            reply = self._db.update_item(
                TableName=self._table,
                Key=wire_key(*outbox_key(message_id)),
                UpdateExpression="SET #st = :claimed, claim_expires = :until, claim_token = :token ADD attempts :one",
                # The token makes a retried request idempotent: botocore retries a call whose reply was
                # lost, and the first try's lease must then count as this delivery's own.
                ConditionExpression=(
                    "#st = :pending OR (#st = :claimed AND (claim_expires < :now OR claim_token = :token))"
                ),
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={
                    ":claimed": {"S": OUTBOX_CLAIMED},
                    ":pending": {"S": OUTBOX_PENDING},
                    ":until": {"N": str(now + lease_seconds)},
                    ":now": {"N": str(now)},
                    ":token": {"S": token},
                    ":one": {"N": "1"},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._db.exceptions.ConditionalCheckFailedException as failed:
            held = failed.response.get("Item") or {}
            if held.get("status", {}).get("S") == OUTBOX_CLAIMED:
                raise OutboxBusy(f"outbox {message_id} is being delivered by another worker") from None
            return None  # delivered, or no such item
        return outbox_from(deserialize(reply["Attributes"]))

    def mark_delivered(self, message_id: str) -> None:
        self._db.update_item(
            TableName=self._table,
            Key=wire_key(*outbox_key(message_id)),
            UpdateExpression="SET #st = :delivered, delivered_at = :at REMOVE claim_expires, claim_token",
            ExpressionAttributeNames={"#st": "status"},
            ExpressionAttributeValues={
                ":delivered": {"S": OUTBOX_DELIVERED},
                ":at": {"S": timestamp(wall_clock_now())},
            },
        )

    def release(self, message_id: str, error: str) -> None:
        self._db.update_item(
            TableName=self._table,
            Key=wire_key(*outbox_key(message_id)),
            UpdateExpression="SET #st = :pending, last_error = :error REMOVE claim_expires, claim_token",
            ConditionExpression="#st = :claimed",
            ExpressionAttributeNames={"#st": "status"},
            ExpressionAttributeValues={
                ":pending": {"S": OUTBOX_PENDING},
                ":claimed": {"S": OUTBOX_CLAIMED},
                ":error": {"S": error[:200]},
            },
        )
