"""Console sessions in the table: `CONSOLESESSION#{sha256(id)}` / `CONSOLESESSION`, gone by TTL once lapsed.

The id is never stored, only its hash: a copy of the table (a backup, an export) opens no session. The
Cognito access token is kept for sign-out's GlobalSignOut; the table is encrypted with the stack's KMS key.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any, Final

from shared import schema
from shared.adapters.dynamodb.codec import deserialize, serialize
from shared.console_pool import REFRESH_TOKEN_HOURS
from shared.domain.console_roles import roles_from_groups
from shared.domain.console_session import ConsoleSession, Stage

PREFIX: Final = "CONSOLESESSION#"
SORT: Final = "CONSOLESESSION"
# A staff member's sessions revoked up to an instant (the Users page): one marker each, kept as long as a session
# lives (REFRESH_TOKEN_HOURS), after which no session it could end is left.
REVOKED_PREFIX: Final = "CONSOLESTAFF#"
REVOKED_SORT: Final = "CONSOLESTAFF"
# DynamoDB deletes expired items within days, not at once: reads check the expiry themselves (the
# service does); the TTL only clears the table. A margin past the lapse keeps the item for a last read.
_TTL_MARGIN: Final = timedelta(hours=1)


def _key(session_hash: str) -> dict[str, Any]:
    return serialize({schema.PARTITION_KEY: PREFIX + session_hash, schema.SORT_KEY: SORT})


def _item(session: ConsoleSession) -> dict[str, Any]:
    return {
        schema.PARTITION_KEY: PREFIX + session.session_hash,
        schema.SORT_KEY: SORT,
        "stage": session.stage.value,
        "username": session.username,
        "csrf_token": session.csrf_token,
        "created_at": session.created_at.isoformat(),
        "last_seen_at": session.last_seen_at.isoformat(),
        "challenge": session.challenge,
        "totp_secret": session.totp_secret,
        "access_token": session.access_token,
        "staff_id": session.staff_id,
        "email": session.email,
        "roles": sorted(role.value for role in session.roles),
        schema.TTL_ATTRIBUTE: _ttl(session),
    }


def _ttl(session: ConsoleSession) -> int:
    return int((session.expires_at() + _TTL_MARGIN).timestamp())


def _session(item: dict[str, Any]) -> ConsoleSession:
    return ConsoleSession(
        session_hash=str(item[schema.PARTITION_KEY]).removeprefix(PREFIX),
        stage=Stage(item["stage"]),
        username=item["username"],
        csrf_token=item["csrf_token"],
        created_at=datetime.fromisoformat(item["created_at"]),
        last_seen_at=datetime.fromisoformat(item["last_seen_at"]),
        challenge=item.get("challenge", ""),
        totp_secret=item.get("totp_secret", ""),
        access_token=item.get("access_token", ""),
        staff_id=item.get("staff_id", ""),
        email=item.get("email", ""),
        roles=roles_from_groups(item.get("roles", ())),
    )


class DynamoConsoleSessions:
    """Implements the ConsoleSessions port."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def get(self, session_hash: str) -> ConsoleSession | None:
        reply = self._db.get_item(TableName=self._table, Key=_key(session_hash), ConsistentRead=True)
        item = reply.get("Item")
        return _session(deserialize(item)) if item else None

    def put(self, session: ConsoleSession, *, replacing: str | None = None) -> None:
        put = {
            "Put": {
                "TableName": self._table,
                "Item": serialize(_item(session)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        writes: list[dict[str, Any]] = [put]
        if replacing:
            writes.append({"Delete": {"TableName": self._table, "Key": _key(replacing)}})
        # A fresh 256-bit id never collides; the condition only makes a retry of this call harmless.
        self._db.transact_write_items(TransactItems=writes, ClientRequestToken=session.session_hash[:36])

    def touch(self, session: ConsoleSession) -> None:
        # ConditionalCheckFailed: signed out meanwhile, the next read finds nothing.
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.update_item(
                TableName=self._table,
                Key=_key(session.session_hash),
                UpdateExpression="SET last_seen_at = :seen, #ttl = :ttl",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#ttl": schema.TTL_ATTRIBUTE},
                ExpressionAttributeValues=serialize({":seen": session.last_seen_at.isoformat(), ":ttl": _ttl(session)}),
            )

    def delete(self, session_hash: str) -> None:
        self._db.delete_item(TableName=self._table, Key=_key(session_hash))

    def revoke_staff(self, staff_id: str, at: datetime) -> None:
        # Overwritten by a later revocation: a later instant ends every session the earlier one did, and more.
        expires = int((at + timedelta(hours=REFRESH_TOKEN_HOURS) + _TTL_MARGIN).timestamp())
        item = {**_revoked_key(staff_id), "revoked_at": at.isoformat(), schema.TTL_ATTRIBUTE: expires}
        self._db.put_item(TableName=self._table, Item=serialize(item))

    def revoked_at(self, staff_id: str) -> datetime | None:
        reply = self._db.get_item(TableName=self._table, Key=serialize(_revoked_key(staff_id)), ConsistentRead=True)
        item = deserialize(reply["Item"]) if reply.get("Item") else None
        return datetime.fromisoformat(item["revoked_at"]) if item else None


def _revoked_key(staff_id: str) -> dict[str, Any]:
    return {schema.PARTITION_KEY: REVOKED_PREFIX + staff_id, schema.SORT_KEY: REVOKED_SORT}
