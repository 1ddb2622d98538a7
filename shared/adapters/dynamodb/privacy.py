"""Data protection's reads and writes over the table: a customer's records for their export (their partition,
by_owner, each invoice's and recurring charge's partition), the audit trail by time (lists index, AUDITAT#
partitions), the account's export links and the incident notices sent once. Queries and gets only: no scan.

Implements SubjectRecords, AuditTimeline and ExportLinks (shared/services/privacy_ports.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, Final

from shared import schema
from shared.adapters.dynamodb import items
from shared.adapters.dynamodb.codec import deserialize, serialize, wire_key
from shared.domain.messages import OutboxMessage
from shared.domain.records import AuditEntry, AuditSubject, StripeEventRecord
from shared.domain.subject_access import CustomerRecords, EmailSent, InvoiceRecords, RecurringRecords
from shared.services.privacy_ports import ExportLink

PK, SK = schema.PARTITION_KEY, schema.SORT_KEY
EXPORT_LINK_GRACE: Final = timedelta(days=1)  # kept a day past its expiry (a late click says "expired"), then TTL


def _email_sent_item(sent: EmailSent) -> dict[str, Any]:
    return {
        **items.key_item(items.email_sent_key(sent.customer_id, sent.sent_at, sent.message_id)),
        "type": "email_sent",
        "customer_id": sent.customer_id,
        "message_id": sent.message_id,
        "template": sent.template,
        "subject": sent.subject,
        "sent_at": items.timestamp(sent.sent_at),
        schema.TTL_ATTRIBUTE: items.epoch(sent.sent_at + items.EMAIL_SENT_RETENTION),
    }


def _email_sent_from(item: dict[str, Any]) -> EmailSent:
    return EmailSent(
        customer_id=item["customer_id"],
        message_id=item["message_id"],
        template=item.get("template", ""),
        subject=item.get("subject", ""),
        sent_at=datetime.fromisoformat(item["sent_at"]),
    )


def email_sent_put(table: str, sent: EmailSent) -> dict[str, Any]:
    return {"TableName": table, "Item": serialize(_email_sent_item(sent))}


class DynamoPrivacy:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    # -- reading whole partitions, page by page

    def _query(self, **request: Any) -> Iterator[dict[str, Any]]:
        request = {"TableName": self._table, **request}
        while True:
            page = self._db.query(**request)
            yield from (deserialize(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _partition(self, partition: str) -> list[dict[str, Any]]:
        return list(
            self._query(
                KeyConditionExpression="#p = :p",
                ExpressionAttributeNames={"#p": PK},
                ExpressionAttributeValues={":p": {"S": partition}},
                ConsistentRead=True,
            )
        )

    # -- SubjectRecords

    def customer_records(self, customer_id: str) -> CustomerRecords | None:
        found = self._partition(items.customer_key(customer_id)[0])
        record = next((i for i in found if i.get("type") == "customer"), None)
        if record is None:
            return None
        return CustomerRecords(
            customer=items.customer_from(record),
            audit=tuple(
                items.audit_from(i, AuditSubject.CUSTOMER, customer_id) for i in found if i.get("type") == "audit"
            ),
            emails=tuple(_email_sent_from(i) for i in found if i.get("type") == "email_sent"),
        )

    def owned(self, customer_id: str) -> tuple[list[str], list[str]]:
        invoices: list[str] = []
        recurring: list[str] = []
        for item in self._query(
            IndexName=schema.BY_OWNER_INDEX,
            KeyConditionExpression="#o = :owner",
            ExpressionAttributeNames={"#o": schema.BY_OWNER_PK, "#pk": PK, "#t": "type"},
            ExpressionAttributeValues={":owner": {"S": items.owner_partition(customer_id)}},
            ProjectionExpression="#pk, #t",
        ):
            if item.get("type") == "invoice":
                invoices.append(item[PK].removeprefix("INVOICE#"))
            elif item.get("type") == "recurring":
                recurring.append(item[PK].removeprefix("RECURRING#"))
        return invoices, recurring

    def invoice_records(self, invoice_id: str) -> InvoiceRecords | None:
        found = self._partition(items.invoice_partition(invoice_id))
        by_type: dict[str, list[dict[str, Any]]] = {}
        for item in found:
            if str(item[SK]).startswith("LIST#"):
                continue  # the index copies of the invoice and its payments
            by_type.setdefault(str(item.get("type")), []).append(item)
        if not by_type.get("invoice"):
            return None
        record = by_type["invoice"][0]
        openings = (items.reminder_opening_from(i) for i in by_type.get("reminder_opening", []))
        return InvoiceRecords(
            invoice=items.invoice_from(record),
            checkouts=tuple(items.checkout_from(i) for i in by_type.get("checkout", [])),
            payments=tuple(items.payment_from(i) for i in by_type.get("payment", [])),
            plans=tuple(items.plan_from(i) for i in by_type.get("plan", [])),
            disputes=tuple(items.dispute_from(i) for i in by_type.get("dispute", [])),
            reminder_openings=tuple(o for o in openings if o is not None),
            audit=tuple(items.audit_from(i, AuditSubject.INVOICE, invoice_id) for i in by_type.get("audit", [])),
        )

    def recurring_records(self, recurring_id: str) -> RecurringRecords | None:
        found = self._partition(items.recurring_key(recurring_id)[0])
        record = next((i for i in found if i.get("type") == "recurring"), None)
        if record is None:
            return None
        audit = (i for i in found if i.get("type") == "audit")
        return RecurringRecords(
            recurring=items.recurring_from(record),
            audit=tuple(items.audit_from(i, AuditSubject.RECURRING_CHARGE, recurring_id) for i in audit),
        )

    # -- AuditTimeline

    def audit_between(self, since: datetime, until: datetime) -> Iterator[AuditEntry]:
        low, high = items.utc_stamp(since), items.utc_stamp(until)
        day = since.date()
        while day <= until.date():
            for shard in range(schema.AUDIT_TIME_SHARDS):
                for item in self._query(
                    IndexName=schema.LISTS_INDEX,
                    KeyConditionExpression="#p = :p AND #s BETWEEN :low AND :high",
                    ExpressionAttributeNames={"#p": schema.LISTS_PK, "#s": schema.LISTS_SK},
                    ExpressionAttributeValues={
                        ":p": {"S": schema.audit_time_partition(day.isoformat(), shard)},
                        ":low": {"S": low},
                        ":high": {"S": high},  # `{high}#id` sorts after `high`: the filter below drops it
                    },
                ):
                    if str(item[schema.LISTS_SK]) < high:
                        yield items.audit_from(item, AuditSubject(item["subject"]), str(item["subject_id"]))
            day += timedelta(days=1)

    def stripe_events_between(self, since: datetime, until: datetime) -> Iterator[StripeEventRecord]:
        for item in self._query(
            IndexName=schema.BY_OWNER_INDEX,
            KeyConditionExpression="#o = :p AND #s BETWEEN :low AND :high",
            ExpressionAttributeNames={"#o": schema.BY_OWNER_PK, "#s": schema.BY_OWNER_SK},
            ExpressionAttributeValues={
                ":p": {"S": schema.STRIPE_EVENTS_PARTITION},
                ":low": {"S": items.event_order_at(since)},
                ":high": {"S": items.event_order_at(until)},
            },
        ):
            event = items.event_from(item)
            if since <= event.received_at < until:
                yield event

    def owners(self, invoice_ids: list[str], recurring_ids: list[str], payment_intents: list[str]) -> dict[str, str]:
        keys = [
            *(items.invoice_key(i) for i in dict.fromkeys(invoice_ids)),
            *(items.recurring_key(r) for r in dict.fromkeys(recurring_ids)),
            *(items.payment_intent_key(p) for p in dict.fromkeys(payment_intents)),
        ]
        found: dict[str, str] = {}
        lookups: dict[str, str] = {}  # PaymentIntent -> invoice
        for start in range(0, len(keys), 100):
            for item in self._batch_get(keys[start : start + 100]):
                pk = str(item[PK])
                if item.get("type") in ("invoice", "recurring") and item.get("customer_id"):
                    found[pk.split("#", 1)[1]] = str(item["customer_id"])
                elif item.get("invoice_id"):
                    lookups[pk.split("#", 1)[1]] = str(item["invoice_id"])
        missing = [invoice for invoice in lookups.values() if invoice not in found]
        if missing:
            found |= self.owners(missing, [], [])
        for intent, invoice in lookups.items():
            if invoice in found:
                found[intent] = found[invoice]
        return found

    def _batch_get(self, keys: list[items.Key]) -> list[dict[str, Any]]:
        if not keys:
            return []
        got: list[dict[str, Any]] = []
        request: dict[str, Any] = {self._table: {"Keys": [wire_key(*key) for key in keys]}}
        while request:
            reply = self._db.batch_get_item(RequestItems=request)
            got.extend(deserialize(i) for i in reply.get("Responses", {}).get(self._table, []))
            request = reply.get("UnprocessedKeys") or {}
        return got

    def send_notice_once(self, incident_id: str, customer_id: str, email: OutboxMessage, at: datetime) -> bool:
        marker = {
            **items.key_item(items.incident_notice_key(incident_id, customer_id)),
            "type": "incident_notice",
            "incident_id": incident_id,
            "customer_id": customer_id,
            "message_id": email.id,
            "queued_at": items.timestamp(at),
        }
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": serialize(marker),
                            "ConditionExpression": "attribute_not_exists(pk)",
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
            )
        except self._db.exceptions.TransactionCanceledException as cancelled:
            reasons = cancelled.response.get("CancellationReasons") or []
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                return False
            raise
        return True

    # -- ExportLinks

    def save_export_link(self, link: ExportLink) -> None:
        item = {
            **items.key_item(items.export_link_key(link.token_hash)),
            "type": "export_link",
            "customer_id": link.customer_id,
            "created_at": items.timestamp(link.created_at),
            "expires_at": items.utc_stamp(link.expires_at),
            schema.TTL_ATTRIBUTE: items.epoch(link.expires_at + EXPORT_LINK_GRACE),
        }
        self._db.put_item(TableName=self._table, Item=serialize(item), ConditionExpression="attribute_not_exists(pk)")

    def get_export_link(self, token_hash: str) -> ExportLink | None:
        got = self._db.get_item(
            TableName=self._table, Key=wire_key(*items.export_link_key(token_hash)), ConsistentRead=True
        ).get("Item")
        if not got:
            return None
        item = deserialize(got)
        return ExportLink(
            token_hash=token_hash,
            customer_id=item["customer_id"],
            created_at=datetime.fromisoformat(item["created_at"]),
            expires_at=items.from_utc_stamp(item["expires_at"]),
            used_at=datetime.fromisoformat(item["used_at"]) if item.get("used_at") else None,
        )

    def use_export_link(self, token_hash: str, at: datetime) -> bool:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=wire_key(*items.export_link_key(token_hash)),
                UpdateExpression="SET used_at = :at",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(used_at) AND expires_at > :now",
                ExpressionAttributeValues={":at": {"S": items.timestamp(at)}, ":now": {"S": items.utc_stamp(at)}},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True
