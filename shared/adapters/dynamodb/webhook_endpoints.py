"""Outbound webhook endpoints in the table: all in one partition (`WEBHOOKS` / `ENDPOINT#{id}`), so the
delivery function reads every endpoint with one Query; at most MAX_ENDPOINTS of them.

Each change writes its audit entry in the same transaction, in the endpoint's trail
(`WEBHOOKENDPOINT#{id}`, items.audit_partition). The signing secrets are attributes of the endpoint item:
the table is encrypted with the stack's customer-managed KMS key (docs/security.md, docs/decisions.md 98).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Final

from shared import schema
from shared.adapters.dynamodb import items
from shared.adapters.dynamodb.codec import deserialize, serialize
from shared.adapters.dynamodb.cursors import decode_cursor, encode_cursor
from shared.domain.records import AuditEntry, AuditSubject
from shared.domain.webhooks import DisabledReason, FailedDelivery, SigningSecret, WebhookEndpoint
from shared.services.ports import ChangeRejected, Page, Rejection

PARTITION: Final = "WEBHOOKS"
SORT_PREFIX: Final = "ENDPOINT#"
FAILED_PREFIX: Final = "FAILED#"  # under WEBHOOKENDPOINT#{id}: the endpoint's failed deliveries
PK, SK = schema.PARTITION_KEY, schema.SORT_KEY


def _deliveries_partition(endpoint_id: str) -> str:
    return items.audit_partition(AuditSubject.WEBHOOK_ENDPOINT, endpoint_id)


def _failed_key(endpoint_id: str, delivery_id: str) -> dict[str, Any]:
    return serialize({PK: _deliveries_partition(endpoint_id), SK: FAILED_PREFIX + delivery_id})


def failed_item(delivery: FailedDelivery) -> dict[str, Any]:
    return {
        PK: _deliveries_partition(delivery.endpoint_id),
        SK: FAILED_PREFIX + delivery.id,
        "type": "webhook_delivery_failed",
        "id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "event": delivery.event,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "excerpt": delivery.excerpt,
        "failed_at": items.timestamp(delivery.failed_at),
    }


def failed_from(item: dict[str, Any]) -> FailedDelivery:
    status = item.get("last_status")
    return FailedDelivery(
        id=item["id"],
        endpoint_id=item["endpoint_id"],
        event=dict(item["event"]),
        attempts=int(item["attempts"]),
        last_status=int(status) if status is not None else None,
        excerpt=item.get("excerpt") or "",
        failed_at=datetime.fromisoformat(item["failed_at"]),
    )


def _key(endpoint_id: str) -> dict[str, Any]:
    return serialize({PK: PARTITION, SK: SORT_PREFIX + endpoint_id})


def _secret_item(secret: SigningSecret) -> dict[str, Any]:
    return {
        "id": secret.id,
        "value": secret.value,
        "created_at": items.timestamp(secret.created_at),
        "expires_at": items.timestamp(secret.expires_at) if secret.expires_at else None,
    }


def _secret(item: dict[str, Any]) -> SigningSecret:
    expires = item.get("expires_at")
    return SigningSecret(
        id=item["id"],
        value=item["value"],
        created_at=datetime.fromisoformat(item["created_at"]),
        expires_at=datetime.fromisoformat(expires) if expires else None,
    )


def endpoint_item(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        PK: PARTITION,
        SK: SORT_PREFIX + endpoint.id,
        "type": "webhook_endpoint",
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "secrets": [_secret_item(s) for s in endpoint.secrets],
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason.value if endpoint.disabled_reason else None,
        "consecutive_failures": endpoint.consecutive_failures,
        "version": endpoint.version,
        "created_at": items.timestamp(endpoint.created_at),
        "updated_at": items.timestamp(endpoint.updated_at),
    }


def endpoint_from(item: dict[str, Any]) -> WebhookEndpoint:
    reason = item.get("disabled_reason")
    return WebhookEndpoint(
        id=item["id"],
        url=item["url"],
        events=tuple(item.get("events") or ()),
        description=item.get("description") or "",
        secrets=tuple(_secret(s) for s in item.get("secrets") or ()),
        created_at=datetime.fromisoformat(item["created_at"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
        enabled=bool(item.get("enabled", True)),
        disabled_reason=DisabledReason(reason) if reason else None,
        consecutive_failures=int(item.get("consecutive_failures") or 0),
        version=int(item["version"]),
    )


def _token(*parts: str) -> str:
    """The transaction's ClientRequestToken: the same write sent again (botocore's retry) is applied once."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:36]


class DynamoWebhookEndpoints:
    """Implements the WebhookEndpoints port."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        reply = self._db.get_item(TableName=self._table, Key=_key(endpoint_id), ConsistentRead=True)
        item = reply.get("Item")
        return endpoint_from(deserialize(item)) if item else None

    def all(self) -> list[WebhookEndpoint]:
        found: list[WebhookEndpoint] = []
        start: dict[str, Any] | None = None
        while True:
            query: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
                "ExpressionAttributeNames": {"#pk": PK, "#sk": SK},
                "ExpressionAttributeValues": serialize({":pk": PARTITION, ":prefix": SORT_PREFIX}),
            }
            if start:
                query["ExclusiveStartKey"] = start
            reply = self._db.query(**query)
            found.extend(endpoint_from(deserialize(i)) for i in reply.get("Items", []))
            start = reply.get("LastEvaluatedKey")
            if not start:
                return sorted(found, key=lambda e: (e.created_at, e.id))

    def _audit_put(self, audit: AuditEntry) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": serialize(items.audit_item(audit)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _write(
        self, first: dict[str, Any], audit: AuditEntry | None, reason: Rejection, token: str, *more: dict[str, Any]
    ) -> None:
        """`first`, `more`, then the audit entry, in one transaction; the first guard that failed names the
        rejection (`reason` for `first`, STALE_WEBHOOK_ENDPOINT for the others)."""
        writes = [first, *more] + ([] if audit is None else [self._audit_put(audit)])
        try:
            self._db.transact_write_items(TransactItems=writes, ClientRequestToken=token)
        except self._db.exceptions.TransactionCanceledException as error:
            codes = [r.get("Code") for r in error.response.get("CancellationReasons") or []]
            if codes and codes[0] == "ConditionalCheckFailed":
                raise ChangeRejected(reason) from None
            if "ConditionalCheckFailed" in codes:
                raise ChangeRejected(Rejection.STALE_WEBHOOK_ENDPOINT) from None
            raise

    def _endpoint_put(self, endpoint: WebhookEndpoint) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": serialize(endpoint_item(endpoint)),
                "ConditionExpression": "#version = :previous",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": serialize({":previous": endpoint.version - 1}),
            }
        }

    def record_failure(self, delivery: FailedDelivery, endpoint: WebhookEndpoint, audit: AuditEntry | None) -> None:
        put = {
            "Put": {
                "TableName": self._table,
                "Item": serialize(failed_item(delivery)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        token = _token("failed", delivery.id, str(endpoint.version))
        self._write(put, audit, Rejection.EXISTS, token, self._endpoint_put(endpoint))

    def failed_deliveries(self, endpoint_id: str, limit: int, cursor: str | None) -> Page:
        partition = _deliveries_partition(endpoint_id)
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": PK, "#sk": SK},
            "ExpressionAttributeValues": serialize({":pk": partition, ":prefix": FAILED_PREFIX}),
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = decode_cursor(cursor, partition, PK, SK, sort_prefix=FAILED_PREFIX)
        reply = self._db.query(**query)
        last = reply.get("LastEvaluatedKey")
        found = [failed_from(deserialize(i)) for i in reply.get("Items", [])]
        return Page(items=found, next_cursor=encode_cursor(last) if last else None)

    def get_failed(self, endpoint_id: str, delivery_id: str) -> FailedDelivery | None:
        key = _failed_key(endpoint_id, delivery_id)
        item = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        return failed_from(deserialize(item)) if item else None

    def take_failed(self, delivery: FailedDelivery) -> None:
        try:
            self._db.delete_item(
                TableName=self._table,
                Key=_failed_key(delivery.endpoint_id, delivery.id),
                ConditionExpression="attribute_exists(pk)",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            raise ChangeRejected(Rejection.STALE_WEBHOOK_ENDPOINT) from None

    def restore_failed(self, delivery: FailedDelivery) -> None:
        self._db.put_item(TableName=self._table, Item=serialize(failed_item(delivery)))

    def create(self, endpoint: WebhookEndpoint, audit: AuditEntry) -> None:
        put = {
            "Put": {
                "TableName": self._table,
                "Item": serialize(endpoint_item(endpoint)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        self._write(put, audit, Rejection.EXISTS, _token("create", endpoint.id, audit.id))

    def update(self, endpoint: WebhookEndpoint, audit: AuditEntry | None) -> None:
        put = self._endpoint_put(endpoint)
        token = _token("update", endpoint.id, str(endpoint.version), audit.id if audit else "")
        self._write(put, audit, Rejection.STALE_WEBHOOK_ENDPOINT, token)

    def delete(self, endpoint: WebhookEndpoint, audit: AuditEntry) -> None:
        delete = {
            "Delete": {
                "TableName": self._table,
                "Key": _key(endpoint.id),
                "ConditionExpression": "#version = :version",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": serialize({":version": endpoint.version}),
            }
        }
        self._write(delete, audit, Rejection.STALE_WEBHOOK_ENDPOINT, _token("delete", endpoint.id, audit.id))
