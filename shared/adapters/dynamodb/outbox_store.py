"""The outbox's delivery leases over the table: claim a message, then mark it delivered or release it."""

from __future__ import annotations

import contextlib
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
from shared.adapters.dynamodb.privacy import email_sent_put
from shared.clock import wall_clock_now
from shared.domain.subject_access import EmailSent
from shared.services.ports import Claim, OutboxBusy


class DynamoOutboxStore:
    """Implements the OutboxStore port."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def claim(self, message_id: str, lease_seconds: int, token: str) -> Claim | None:
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
                # The item as it was: the message, and whether an earlier lease ran out unfinished.
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._db.exceptions.ConditionalCheckFailedException as failed:
            held = failed.response.get("Item") or {}
            if held.get("status", {}).get("S") == OUTBOX_CLAIMED:
                raise OutboxBusy(f"outbox {message_id} is being delivered by another worker") from None
            return None  # delivered, or no such item
        before = deserialize(reply["Attributes"])
        taken_over = before.get("status") == OUTBOX_CLAIMED and before.get("claim_token") != token
        return Claim(outbox_from(before), taken_over=taken_over)

    def mark_delivered(self, message_id: str, token: str, provider_id: str | None = None) -> bool:
        values = {
            ":delivered": {"S": OUTBOX_DELIVERED},
            ":at": {"S": timestamp(wall_clock_now())},
            ":token": {"S": token},
        }
        update = "SET #st = :delivered, delivered_at = :at"
        if provider_id:
            update += ", provider_id = :provider"
            values[":provider"] = {"S": provider_id[:200]}
        try:
            self._db.update_item(
                TableName=self._table,
                Key=wire_key(*outbox_key(message_id)),
                UpdateExpression=update + " REMOVE claim_expires, claim_token",
                # Only under this delivery's own lease, and never a stub for a message that is not there.
                ConditionExpression="claim_token = :token",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues=values,
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def record_email_sent(self, sent: EmailSent) -> None:
        self._db.put_item(**email_sent_put(self._table, sent))  # keyed by message and instant: a retry rewrites it

    def release(self, message_id: str, token: str, error: str) -> None:
        # A failed condition: the lease is another delivery's now (ours ran out), or the message is gone.
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.update_item(
                TableName=self._table,
                Key=wire_key(*outbox_key(message_id)),
                UpdateExpression="SET #st = :pending, last_error = :error REMOVE claim_expires, claim_token",
                ConditionExpression="#st = :claimed AND claim_token = :token",
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={
                    ":pending": {"S": OUTBOX_PENDING},
                    ":claimed": {"S": OUTBOX_CLAIMED},
                    ":token": {"S": token},
                    ":error": {"S": error[:200]},
                },
            )
