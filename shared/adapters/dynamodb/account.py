"""The customer account's items: code challenges, sessions and rate-limit counters, each gone by TTL.

| item             | pk                                   | sk              |
|------------------|--------------------------------------|-----------------|
| code challenge   | ACCOUNTCODE#SIGNIN#{sha256(address)} | ACCOUNTCODE     |
|                  | ACCOUNTCODE#STEPUP#{session}#{action}| ACCOUNTCODE     |
| account session  | ACCOUNTSESSION#{sha256(id)}          | ACCOUNTSESSION  |
| rate counter     | ACCOUNTRATE#{limit}#{sha256(subject)}| {window start}  |

No code, session id, address or IP is stored in clear: a code only as HMAC-SHA-256 under the challenge's salt,
the rest as SHA-256. DynamoDB deletes expired items within days, not at once: reads check expiry themselves
(the service does); the TTL only clears the table.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any, Final

from shared import schema
from shared.adapters.dynamodb import items
from shared.adapters.dynamodb.codec import deserialize, serialize
from shared.domain.account import MAX_ATTEMPTS, RATE_WINDOW, AccountSession, CodeChallenge, CodePurpose, RateLimit
from shared.domain.messages import OutboxMessage
from shared.domain.records import AuditEntry

CODE_PREFIX: Final = "ACCOUNTCODE#"
CODE_SORT: Final = "ACCOUNTCODE"
SESSION_PREFIX: Final = "ACCOUNTSESSION#"
SESSION_SORT: Final = "ACCOUNTSESSION"
RATE_PREFIX: Final = "ACCOUNTRATE#"
_TTL_MARGIN: Final = timedelta(hours=1)


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _code_key(key: str) -> dict[str, Any]:
    return serialize({schema.PARTITION_KEY: CODE_PREFIX + key, schema.SORT_KEY: CODE_SORT})


def _session_key(session_hash: str) -> dict[str, Any]:
    return serialize({schema.PARTITION_KEY: SESSION_PREFIX + session_hash, schema.SORT_KEY: SESSION_SORT})


def challenge_item(c: CodeChallenge) -> dict[str, Any]:
    return {
        schema.PARTITION_KEY: CODE_PREFIX + c.key,
        schema.SORT_KEY: CODE_SORT,
        "type": "account_code",
        "challenge_id": c.challenge_id,
        "purpose": c.purpose.value,
        "customer_ids": list(c.customer_ids),
        "created_at": c.created_at.isoformat(),
        "created_ms": _millis(c.created_at),
        "expires_at": c.expires_at.isoformat(),
        "attempts": c.attempts,
        "salt": c.salt,
        "code_hash": c.code_hash,
        schema.TTL_ATTRIBUTE: int((c.expires_at + _TTL_MARGIN).timestamp()),
    }


def challenge_from(item: dict[str, Any]) -> CodeChallenge:
    return CodeChallenge(
        key=str(item[schema.PARTITION_KEY]).removeprefix(CODE_PREFIX),
        challenge_id=item["challenge_id"],
        purpose=CodePurpose(item["purpose"]),
        customer_ids=tuple(item.get("customer_ids") or ()),
        created_at=datetime.fromisoformat(item["created_at"]),
        expires_at=datetime.fromisoformat(item["expires_at"]),
        attempts=int(item.get("attempts") or 0),
        salt=item.get("salt") or "",
        code_hash=item.get("code_hash") or "",
    )


def session_item(s: AccountSession) -> dict[str, Any]:
    return {
        schema.PARTITION_KEY: SESSION_PREFIX + s.session_hash,
        schema.SORT_KEY: SESSION_SORT,
        "type": "account_session",
        "customer_ids": list(s.customer_ids),
        "address": s.address,
        "csrf_token": s.csrf_token,
        "created_at": s.created_at.isoformat(),
        "last_seen_at": s.last_seen_at.isoformat(),
        schema.TTL_ATTRIBUTE: _session_ttl(s),
    }


def _session_ttl(s: AccountSession) -> int:
    return int((s.expires_at() + _TTL_MARGIN).timestamp())


def session_from(item: dict[str, Any]) -> AccountSession:
    return AccountSession(
        session_hash=str(item[schema.PARTITION_KEY]).removeprefix(SESSION_PREFIX),
        customer_ids=tuple(item.get("customer_ids") or ()),
        address=item.get("address") or "",
        csrf_token=item["csrf_token"],
        created_at=datetime.fromisoformat(item["created_at"]),
        last_seen_at=datetime.fromisoformat(item["last_seen_at"]),
    )


class DynamoAccountStore:
    """Implements the AccountStore port."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def get_challenge(self, key: str) -> CodeChallenge | None:
        reply = self._db.get_item(TableName=self._table, Key=_code_key(key), ConsistentRead=True)
        item = reply.get("Item")
        return challenge_from(deserialize(item)) if item else None

    def open_challenge(self, challenge: CodeChallenge, email: OutboxMessage, *, resend_before: datetime) -> bool:
        writes = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": serialize(challenge_item(challenge)),
                    "ConditionExpression": "attribute_not_exists(pk) OR created_ms < :before",
                    "ExpressionAttributeValues": serialize({":before": _millis(resend_before)}),
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": serialize(items.outbox_item(email)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        try:
            self._db.transact_write_items(TransactItems=writes, ClientRequestToken=challenge.challenge_id[:36])
        except self._db.exceptions.TransactionCanceledException:
            return False
        return True

    def _update(self, key: str, expression: str, condition: str, values: dict[str, Any]) -> bool:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=_code_key(key),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues=serialize(values),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def set_code(self, key: str, challenge_id: str, salt: str, code_hash: str) -> bool:
        return self._update(
            key,
            "SET salt = :salt, code_hash = :hash",
            "challenge_id = :id AND attempts < :max",
            {":salt": salt, ":hash": code_hash, ":id": challenge_id, ":max": MAX_ATTEMPTS},
        )

    def count_attempt(self, key: str, challenge_id: str) -> bool:
        return self._update(
            key,
            "ADD attempts :one",
            "challenge_id = :id AND attempts < :max",
            {":one": 1, ":id": challenge_id, ":max": MAX_ATTEMPTS},
        )

    def _consume_write(self, key: str, challenge_id: str) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self._table,
                "Key": _code_key(key),
                "ConditionExpression": "challenge_id = :id AND attempts < :max",
                "ExpressionAttributeValues": serialize({":id": challenge_id, ":max": MAX_ATTEMPTS}),
            }
        }

    def consume(self, key: str, challenge_id: str) -> bool:
        try:
            self._db.transact_write_items(TransactItems=[self._consume_write(key, challenge_id)])
        except self._db.exceptions.TransactionCanceledException:
            return False
        return True

    def sign_in(self, key: str, challenge_id: str, session: AccountSession, audit: list[AuditEntry]) -> bool:
        put = {
            "Put": {
                "TableName": self._table,
                "Item": serialize(session_item(session)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        try:
            self._db.transact_write_items(
                TransactItems=[self._consume_write(key, challenge_id), put, *(self._audit_put(a) for a in audit)],
                ClientRequestToken=session.session_hash[:36],
            )
        except self._db.exceptions.TransactionCanceledException:
            return False
        return True

    def _audit_put(self, entry: AuditEntry) -> dict[str, Any]:
        item = serialize(items.audit_item(entry))
        return {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}

    def within_limit(self, limit: RateLimit, subject: str, window: datetime, allowed: int) -> bool:
        expires = int((window + RATE_WINDOW + _TTL_MARGIN).timestamp())
        try:
            self._db.update_item(
                TableName=self._table,
                Key=serialize(
                    {schema.PARTITION_KEY: f"{RATE_PREFIX}{limit.value}#{subject}", schema.SORT_KEY: window.isoformat()}
                ),
                UpdateExpression="ADD n :one SET #ttl = :ttl",
                ConditionExpression="attribute_not_exists(n) OR n < :allowed",
                ExpressionAttributeNames={"#ttl": schema.TTL_ATTRIBUTE},
                ExpressionAttributeValues=serialize({":one": 1, ":ttl": expires, ":allowed": allowed}),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get_session(self, session_hash: str) -> AccountSession | None:
        reply = self._db.get_item(TableName=self._table, Key=_session_key(session_hash), ConsistentRead=True)
        item = reply.get("Item")
        return session_from(deserialize(item)) if item else None

    def touch_session(self, session: AccountSession) -> None:
        # ConditionalCheckFailed: signed out meanwhile, the next read finds nothing.
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.update_item(
                TableName=self._table,
                Key=_session_key(session.session_hash),
                UpdateExpression="SET last_seen_at = :seen, #ttl = :ttl",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#ttl": schema.TTL_ATTRIBUTE},
                ExpressionAttributeValues=serialize(
                    {":seen": session.last_seen_at.isoformat(), ":ttl": _session_ttl(session)}
                ),
            )

    def end_session(self, session_hash: str) -> None:
        self._db.delete_item(TableName=self._table, Key=_session_key(session_hash))
