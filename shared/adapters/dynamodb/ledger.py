"""The ledger over one DynamoDB table: a Change committed as one transaction, and the reads services make."""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Final

from shared import schema
from shared.adapters.dynamodb import items
from shared.adapters.dynamodb.codec import deserialize, serialize, wire_key
from shared.adapters.dynamodb.counters import mark_counters_ready
from shared.adapters.dynamodb.cursors import decode_cursor, encode_cursor
from shared.adapters.dynamodb.items import Key
from shared.adapters.dynamodb.lists import ListReader
from shared.adapters.dynamodb.outbox_store import DynamoOutboxStore
from shared.adapters.dynamodb.writes import COMMIT_ATTRIBUTE, Write, planned_writes, sealed
from shared.clock import wall_clock_now
from shared.domain import retention
from shared.domain.errors import DomainError
from shared.domain.invoices import Invoice
from shared.domain.records import (
    DUNNING_POLICY_ID,
    AuditEntry,
    AuditSubject,
    CheckoutAttempt,
    CombinedCheckout,
    Customer,
    Dispute,
    Drift,
    OpenCheckout,
    PayLink,
    Payment,
    PayTogetherLink,
    Plan,
    ReconcileCursor,
    RecurringCharge,
    RecurringStatus,
    ReminderLine,
    StripeEventRecord,
)
from shared.services.ports import (
    Change,
    ChangeRejected,
    Claim,
    CustomerListing,
    InvoiceListing,
    Page,
    PaymentContext,
    PaymentListing,
    ReturnListing,
    SkippedItem,
    UnreadableRecord,
)

if TYPE_CHECKING:  # annotations only: the dunning rules load when the policy is read (items.policy_from)
    from shared.domain.dunning import DunningPolicy
    from shared.domain.subject_access import EmailSent


# A transaction cancelled only because another one held an item (DynamoDB's TransactionConflict; botocore does
# not retry it) is sent again, up to this many attempts in all, pausing up to 20, 40, 80 ms between them.
CONFLICT_ATTEMPTS: Final = 4
CONFLICT_PAUSE_SECONDS: Final = 0.01


def _only_conflicts(error: Any) -> bool:
    codes = {reason.get("Code") for reason in error.response.get("CancellationReasons") or []} - {"None", None}
    return codes == {"TransactionConflict"}


def _marker_unchanged(marker: retention.RetentionMarker) -> dict[str, Any]:
    """The condition that the stored marker is the one the job read (or is gone already)."""
    return {
        "ConditionExpression": "attribute_not_exists(pk) OR retain_until = :seen",
        "ExpressionAttributeValues": {":seen": {"S": items.utc_stamp(marker.retain_until)}},
    }


class DynamoLedger:
    """Implements the Ledger port, and the OutboxStore port over the same table."""

    def __init__(self, client: Any, table_name: str, financial_days: int = retention.DEFAULT_FINANCIAL_DAYS) -> None:
        self._db = client
        self._table = table_name
        self._financial_days = financial_days  # the TTL a change making an invoice final stamps (writes.py)
        self._outbox = DynamoOutboxStore(client, table_name)
        self._lists = ListReader(client, table_name)
        self._counters_ready: date | None = None

    # -- writes

    def commit(self, change: Change) -> None:
        writes = planned_writes(change, self._table, wall_clock_now(), self._financial_days)
        if not writes:
            return
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            token = os.urandom(16).hex()  # this attempt's: botocore's retries of it send the same
            try:
                self._commit_once(writes, token)
                return
            except self._db.exceptions.TransactionCanceledException as error:
                if attempt == CONFLICT_ATTEMPTS or not _only_conflicts(error):
                    raise
            # Another transaction held one of these items (a counter two changes move at once, typically): this
            # one wrote nothing and its guards still stand, so it is sent again after a short, jittered pause.
            time.sleep(random.uniform(0, CONFLICT_PAUSE_SECONDS * 2**attempt))

    def _commit_once(self, writes: list[Write], token: str) -> None:
        items = sealed(writes, token)
        try:
            self._db.transact_write_items(TransactItems=items, ClientRequestToken=token)
        except self._db.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons") or []
            failed = [
                (write, request)
                for write, request, reason in zip(writes, items, reasons, strict=False)
                if reason.get("Code") == "ConditionalCheckFailed"
            ]
            if failed and self._committed_already(failed[0][1], token):
                return  # a retry of this very transaction, whose first attempt committed (its reply was lost)
            for write, _request in failed:
                if write.reason is not None:
                    raise ChangeRejected(write.reason) from None
            raise

    def _committed_already(self, request: dict[str, Any], token: str) -> bool:
        """Whether the item a guard refused was put by the transaction with this token."""
        put = request.get("Put")
        if put is None:
            return False  # a ConditionCheck writes nothing, so it cannot be ours
        key = (put["Item"][schema.PARTITION_KEY]["S"], put["Item"][schema.SORT_KEY]["S"])
        stored = self._batch_get([key]).get(key) or {}  # BatchGetItem: what every writer may call
        return stored.get(COMMIT_ATTRIBUTE) == token

    def remember_stripe_customer(self, customer_id: str, stripe_customer_id: str) -> None:
        # A failed condition means it is remembered already: the same Stripe customer, as creation is idempotent.
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.update_item(
                TableName=self._table,
                Key=wire_key(*items.customer_key(customer_id)),
                # A new version, so an update that read the customer before this cannot overwrite the id.
                UpdateExpression="SET stripe_customer_id = :s, #version = if_not_exists(#version, :zero) + :one",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(stripe_customer_id)",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":s": {"S": stripe_customer_id}, ":zero": {"N": "0"}, ":one": {"N": "1"}},
            )

    def release_external_id(self, external_id: str, customer_id: str) -> None:
        """Free an external id the customer held (corrected or erased): deleted only while it names them."""
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.delete_item(
                TableName=self._table,
                Key=wire_key(*items.external_id_key(external_id)),
                ConditionExpression="customer_id = :c",
                ExpressionAttributeValues={":c": {"S": customer_id}},
            )

    def redact_audit(self, entries: list[AuditEntry]) -> None:
        """Write these entries' details over the stored entries' (an erasure's redaction); entries not stored
        are skipped, and writing the same details again changes nothing."""
        for entry in entries:
            stored = items.audit_item(entry)
            key = wire_key(stored[schema.PARTITION_KEY], stored[schema.SORT_KEY])
            update: dict[str, Any] = {"UpdateExpression": "REMOVE details"}
            if entry.details:
                update = {
                    "UpdateExpression": "SET details = :d",
                    "ExpressionAttributeValues": serialize({":d": entry.details}),
                }
            with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
                self._db.update_item(
                    TableName=self._table, Key=key, ConditionExpression="attribute_exists(pk)", **update
                )

    # -- the outbox store, over the same table

    def claim(self, message_id: str, lease_seconds: int, token: str) -> Claim | None:
        return self._outbox.claim(message_id, lease_seconds, token)

    def mark_delivered(self, message_id: str, token: str, provider_id: str | None = None) -> bool:
        return self._outbox.mark_delivered(message_id, token, provider_id)

    def release(self, message_id: str, token: str, error: str) -> None:
        self._outbox.release(message_id, token, error)

    def record_email_sent(self, sent: EmailSent) -> None:
        self._outbox.record_email_sent(sent)

    # -- reads of one item or a few

    def _get(self, key: Key) -> dict[str, Any] | None:
        found = self._db.get_item(TableName=self._table, Key=wire_key(*key), ConsistentRead=True).get("Item")
        return deserialize(found) if found else None

    def _batch_get(self, keys: list[Key]) -> dict[Key, dict[str, Any]]:
        """Several items in one BatchGetItem request (retrying what DynamoDB leaves unprocessed)."""
        found: dict[Key, dict[str, Any]] = {}
        request = {self._table: {"Keys": [wire_key(*key) for key in keys], "ConsistentRead": True}}
        while request:
            reply = self._db.batch_get_item(RequestItems=request)
            for raw in reply.get("Responses", {}).get(self._table, []):
                item = deserialize(raw)
                found[(item[schema.PARTITION_KEY], item[schema.SORT_KEY])] = item
            request = reply.get("UnprocessedKeys") or {}
        return found

    def get_customers(self, customer_ids: list[str]) -> dict[str, Customer]:
        """The customers of these ids that exist, 100 a BatchGetItem (DynamoDB's most)."""
        unique = list(dict.fromkeys(customer_ids))
        found: dict[str, Customer] = {}
        for start in range(0, len(unique), 100):
            for item in self._batch_get([items.customer_key(c) for c in unique[start : start + 100]]).values():
                customer = items.customer_from(item)
                found[customer.id] = customer
        return found

    def get_customer(self, customer_id: str) -> Customer | None:
        item = self._get(items.customer_key(customer_id))
        return items.customer_from(item) if item else None

    def customer_by_external_id(self, external_id: str) -> Customer | None:
        taken = self._get(items.external_id_key(external_id))
        return self.get_customer(taken["customer_id"]) if taken else None

    def get_invoice(self, invoice_id: str) -> Invoice | None:
        item = self._get(items.invoice_key(invoice_id))
        return items.invoice_from(item) if item else None

    def get_invoice_and_customer(self, invoice_id: str, customer_id: str) -> tuple[Invoice | None, Customer | None]:
        invoice_key, customer_key = items.invoice_key(invoice_id), items.customer_key(customer_id)
        found = self._batch_get([invoice_key, customer_key])
        invoice, customer = found.get(invoice_key), found.get(customer_key)
        return (items.invoice_from(invoice) if invoice else None, items.customer_from(customer) if customer else None)

    def invoice_for_payment_intent(self, payment_intent_id: str) -> str | None:
        key = items.payment_intent_key(payment_intent_id)
        item = self._batch_get([key]).get(key)  # BatchGetItem: the webhook needs no GetItem permission
        return str(item["invoice_id"]) if item and item.get("invoice_id") else None

    def combined_for_payment_intent(self, payment_intent_id: str) -> str | None:
        key = items.payment_intent_key(payment_intent_id)
        item = self._batch_get([key]).get(key)  # as invoice_for_payment_intent
        return str(item["combined_ref"]) if item and item.get("combined_ref") else None

    def get_pay_together_link(self, token_hash: str) -> PayTogetherLink | None:
        key = items.pay_together_key(token_hash)
        item = self._batch_get([key]).get(key)
        return items.pay_together_from(item) if item else None

    def pending_reminder_lines(self, customer_id: str) -> list[ReminderLine]:
        """One Query of the customer's reminder lines (a few per run, kept 30 days), those not emailed kept."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": items.reminder_lines_partition(customer_id)}},
            "ConsistentRead": True,
        }
        found: list[dict[str, Any]] = []
        while True:
            page = self._db.query(**request)
            found.extend(deserialize(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        lines = [items.reminder_line_from(i) for i in found if not i.get("emailed")]
        return sorted(lines, key=lambda line: (line.reminder.sent_at, line.invoice_id))

    def reminder_lines_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        found, next_cursor = self._due(schema.REMINDER_EMAIL_WORK, shard, until, limit, cursor)
        return Page(items=_each_read(found, "reminder_line", items.reminder_line_from), next_cursor=next_cursor)

    def get_combined_checkout(self, ref: str) -> CombinedCheckout | None:
        key = items.combined_key(ref)
        item = self._batch_get([key]).get(key)  # BatchGetItem: what the webhook and the pay pages may both call
        return items.combined_from(item) if item else None

    def get_dispute_context(self, invoice_id: str, dispute_id: str) -> tuple[Invoice | None, Dispute | None]:
        invoice_key, dispute_key = items.invoice_key(invoice_id), items.dispute_key(invoice_id, dispute_id)
        found = self._batch_get([invoice_key, dispute_key])
        invoice, dispute = found.get(invoice_key), found.get(dispute_key)
        return (items.invoice_from(invoice) if invoice else None, items.dispute_from(dispute) if dispute else None)

    def get_dunning_policy(self) -> DunningPolicy | None:
        item = self._get(items.POLICY_KEY)
        if not item:
            return None
        try:
            return items.policy_from(item)
        except UNREADABLE as error:  # e.g. a sending window with a UTC offset, stored before it was refused
            raise UnreadableRecord(SkippedItem("dunning_policy", DUNNING_POLICY_ID, type(error).__name__)) from error

    def get_pay_link(self, token_hash: str) -> PayLink | None:
        item = self._get(items.pay_link_key(token_hash))
        return items.pay_link_from(item) if item else None

    def get_checkout(self, invoice_id: str, ref: str) -> CheckoutAttempt | None:
        item = self._get(items.checkout_key(invoice_id, ref))
        return items.checkout_from(item) if item else None

    def get_open_checkout(self, invoice_id: str) -> OpenCheckout | None:
        item = self._get(items.open_checkout_key(invoice_id))
        return items.open_checkout_from(item) if item else None

    def get_checkout_outcome(self, invoice_id: str, ref: str) -> tuple[Invoice | None, CheckoutAttempt | None]:
        # TransactGetItems: both items as of one instant, never halfway through the webhook's transaction.
        wanted = (items.invoice_key(invoice_id), items.checkout_key(invoice_id, ref))
        reply = self._db.transact_get_items(
            TransactItems=[{"Get": {"TableName": self._table, "Key": wire_key(*key)}} for key in wanted]
        )
        invoice, checkout = (deserialize(r["Item"]) if r.get("Item") else None for r in reply["Responses"])
        return (items.invoice_from(invoice) if invoice else None, items.checkout_from(checkout) if checkout else None)

    def get_payment_context(
        self, invoice_id: str, checkout_ref: str | None, payment_key: str | None, plan_id: str | None = None
    ) -> PaymentContext:
        """Invoice, checkout attempt (with the invoice's open checkout), payment and plan in one BatchGetItem."""
        invoice_key = items.invoice_key(invoice_id)
        checkout_key = items.checkout_key(invoice_id, checkout_ref) if checkout_ref else None
        open_key = items.open_checkout_key(invoice_id) if checkout_ref else None
        payment_item_key = items.payment_key(invoice_id, payment_key) if payment_key else None
        plan_key = items.plan_key(invoice_id, plan_id) if plan_id else None
        keys = (invoice_key, checkout_key, open_key, payment_item_key, plan_key)
        found = self._batch_get([key for key in keys if key is not None])
        invoice = found.get(invoice_key)
        checkout = found.get(checkout_key) if checkout_key else None
        open_checkout = found.get(open_key) if open_key else None
        payment = found.get(payment_item_key) if payment_item_key else None
        plan = found.get(plan_key) if plan_key else None
        return PaymentContext(
            invoice=items.invoice_from(invoice) if invoice else None,
            checkout=items.checkout_from(checkout) if checkout else None,
            payment=items.payment_from(payment) if payment else None,
            plan=items.plan_from(plan) if plan else None,
            open_checkout=items.open_checkout_from(open_checkout) if open_checkout else None,
        )

    def get_plan(self, invoice_id: str, plan_id: str) -> Plan | None:
        item = self._get(items.plan_key(invoice_id, plan_id))
        return items.plan_from(item) if item else None

    def get_recurring(self, recurring_id: str) -> RecurringCharge | None:
        item = self._get(items.recurring_key(recurring_id))
        return items.recurring_from(item) if item else None

    # -- listings

    def get_invoice_payments(self, invoice_id: str) -> list[Payment]:
        """Every payment of the invoice, newest first."""
        found: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": items.invoice_partition(invoice_id)},
                ":prefix": {"S": items.PAYMENT_SORT_PREFIX},
            },
            "ConsistentRead": True,
        }
        while True:
            page = self._db.query(**request)
            found.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        payments = [items.payment_from(deserialize(i)) for i in found]
        return sorted(payments, key=lambda p: p.created_at, reverse=True)

    def list_customer_payments(self, customer_id: str, limit: int, cursor: str | None) -> Page:
        found, next_cursor = self._owned_by(customer_id, items.OWNED_PAYMENTS, limit, cursor, newest_first=True)
        return Page(items=[items.payment_from(i) for i in found], next_cursor=next_cursor)

    def list_customer_invoices(self, customer_id: str, limit: int, cursor: str | None) -> Page:
        found, next_cursor = self._owned_by(customer_id, items.OWNED_INVOICES, limit, cursor, newest_first=False)
        return Page(items=[items.invoice_from(i) for i in found], next_cursor=next_cursor)

    def list_customer_recurring(self, customer_id: str, limit: int, cursor: str | None) -> Page:
        found, next_cursor = self._owned_by(customer_id, items.OWNED_RECURRING, limit, cursor, newest_first=False)
        return Page(items=[items.recurring_from(i) for i in found], next_cursor=next_cursor)

    def _owned_by(
        self, customer_id: str, prefix: str, limit: int, cursor: str | None, *, newest_first: bool
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a customer's items of one kind, from the by_owner index."""
        owner = items.owner_partition(customer_id)
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": schema.BY_OWNER_INDEX,
            "KeyConditionExpression": "#o = :owner AND begins_with(#s, :prefix)",
            "ExpressionAttributeNames": {"#o": schema.BY_OWNER_PK, "#s": schema.BY_OWNER_SK},
            "ExpressionAttributeValues": {":owner": {"S": owner}, ":prefix": {"S": prefix}},
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        if cursor:
            request["ExclusiveStartKey"] = decode_cursor(
                cursor, owner, schema.BY_OWNER_PK, schema.BY_OWNER_SK, sort_prefix=prefix
            )
        page = self._db.query(**request)
        last = page.get("LastEvaluatedKey")
        return [deserialize(i) for i in page.get("Items", [])], encode_cursor(last) if last else None

    def get_stripe_event(self, event_id: str) -> StripeEventRecord | None:
        key = items.event_key(event_id)
        item = self._batch_get([key]).get(key)  # BatchGetItem: the webhook reads it (a combined payment's event)
        return items.event_from(item) if item else None

    def list_stripe_events(self, limit: int, cursor: str | None, *, outcome: str | None = None) -> Page:
        """Kept Stripe events, newest first: all of them (by_owner index), or those failed or flagged
        (their own due_work partition, which holds only those)."""
        if outcome is None:
            index, pk, sk, partition = (
                schema.BY_OWNER_INDEX, schema.BY_OWNER_PK, schema.BY_OWNER_SK, schema.STRIPE_EVENTS_PARTITION,
            )  # fmt: skip
        else:
            partition = schema.stripe_events_to_review(outcome)
            index, pk, sk = schema.DUE_WORK_INDEX, schema.DUE_WORK_PK, schema.DUE_WORK_SK
        found, next_cursor = self._newest_first(partition, limit, cursor, index=index, keys=(pk, sk))
        return Page(items=[items.event_from(i) for i in found], next_cursor=next_cursor)

    def list_audit(self, subject: AuditSubject, subject_id: str, limit: int, cursor: str | None) -> Page:
        """One page of a subject's audit trail, newest first: one Query of its partition's AUDIT# items."""
        partition = items.audit_partition(subject, subject_id)
        found, next_cursor = self._newest_first(
            partition, limit, cursor, keys=(schema.PARTITION_KEY, schema.SORT_KEY), prefix=items.AUDIT_SORT_PREFIX
        )
        return Page(items=[items.audit_from(i, subject, subject_id) for i in found], next_cursor=next_cursor)

    def list_invoices(self, listing: InvoiceListing, limit: int, cursor: str | None) -> Page:
        return self._lists.invoices(listing, limit, cursor)

    def list_payments(self, listing: PaymentListing, limit: int, cursor: str | None) -> Page:
        return self._lists.payments(listing, limit, cursor)

    def list_returns(self, listing: ReturnListing, limit: int, cursor: str | None) -> Page:
        return self._lists.returns(listing, limit, cursor)

    def list_customers(self, listing: CustomerListing, limit: int, cursor: str | None) -> Page:
        return self._lists.customers(listing, limit, cursor)

    def _newest_first(
        self,
        partition: str,
        limit: int,
        cursor: str | None,
        *,
        keys: tuple[str, str],
        index: str | None = None,
        prefix: str = "",
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a partition (of the table or an index), highest sort key first."""
        pk, sk = keys
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#p = :p AND begins_with(#s, :prefix)" if prefix else "#p = :p",
            "ExpressionAttributeNames": {"#p": pk, "#s": sk} if prefix else {"#p": pk},
            "ExpressionAttributeValues": {":p": {"S": partition}} | ({":prefix": {"S": prefix}} if prefix else {}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if index:
            request["IndexName"] = index
        if cursor:
            request["ExclusiveStartKey"] = decode_cursor(cursor, partition, pk, sk, sort_prefix=prefix)
        page = self._db.query(**request)
        last = page.get("LastEvaluatedKey")
        return [deserialize(i) for i in page.get("Items", [])], encode_cursor(last) if last else None

    def due_invoices(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        """Invoices in one shard of the sparse due_work index whose next reminder is at or before `until`."""
        found, next_cursor = self._due(schema.REMINDER_WORK, shard, until, limit, cursor)
        return Page(items=_each_read(found, "invoice", items.invoice_from), next_cursor=next_cursor)

    def due_recurring(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        """Recurring charges in one shard of the due_work index with a period to invoice by `until`."""
        found, next_cursor = self._due(schema.RECURRING_WORK, shard, until, limit, cursor)
        return Page(items=_each_read(found, "recurring", items.recurring_from), next_cursor=next_cursor)

    def due_plans(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        """Installment plans in one shard of the due_work index whose next charge is at or before `until`."""
        found, next_cursor = self._due(schema.CHARGE_WORK, shard, until, limit, cursor)
        return Page(items=_each_read(found, "plan", items.plan_from), next_cursor=next_cursor)

    def pending_payments_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        """Pending payments in one shard of the due_work index that have been pending longer than expected."""
        found, next_cursor = self._due(schema.PENDING_PAYMENT_WORK, shard, until, limit, cursor)
        return Page(items=_each_read(found, "payment", items.payment_from), next_cursor=next_cursor)

    def open_checkouts_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        """Invoices' open Checkout Sessions in one shard of the due_work index, past their expiry and grace."""
        found, next_cursor = self._due(schema.OPEN_CHECKOUT_WORK, shard, until, limit, cursor)
        return Page(items=_each_read(found, "open_checkout", items.open_checkout_from), next_cursor=next_cursor)

    def charges_in_flight_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        """Plans in one shard of the due_work index whose installment charge has had no outcome in its grace."""
        found, next_cursor = self._due(schema.CHARGE_OUTCOME_WORK, shard, until, limit, cursor)
        return Page(items=_each_read(found, "plan", items.plan_from), next_cursor=next_cursor)

    def _due(
        self, kind: str, shard: int, until: datetime, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        partition = schema.due_work_partition(kind, shard)
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": schema.DUE_WORK_INDEX,
            "KeyConditionExpression": "#p = :shard AND #s < :upper",
            "ExpressionAttributeNames": {"#p": schema.DUE_WORK_PK, "#s": schema.DUE_WORK_SK},
            # "$" sorts right after "#": every key stamped at or before `until` is below it.
            "ExpressionAttributeValues": {":shard": {"S": partition}, ":upper": {"S": f"{items.utc_stamp(until)}$"}},
            "Limit": limit,
        }
        if cursor:
            request["ExclusiveStartKey"] = decode_cursor(cursor, partition, schema.DUE_WORK_PK, schema.DUE_WORK_SK)
        page = self._db.query(**request)
        last = page.get("LastEvaluatedKey")
        return [deserialize(i) for i in page.get("Items", [])], encode_cursor(last) if last else None

    # -- retention (functions/retention; shared/domain/retention.py)

    def retention_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        """One page of customers' retention markers whose time has passed, from the due_work index."""
        found, next_cursor = self._due(schema.RETENTION_WORK, shard, until, limit, cursor)
        return Page(items=_each_read(found, "retention", items.retention_marker_from), next_cursor=next_cursor)

    def retention_sweeps_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        """One page of invoice partitions to sweep (made final or reopened), from the due_work index."""
        found, next_cursor = self._due(schema.RETENTION_SWEEP_WORK, shard, until, limit, cursor)
        return Page(items=_each_read(found, "retention_sweep", items.retention_sweep_from), next_cursor=next_cursor)

    def sweep_partition(self, sweep: retention.RetentionSweep) -> int:
        """The invoice's TTL set on every item of its partition with none or an earlier one (or, for a reopened
        invoice, cleared from them), operational items left as they are; how many items changed. Each update is
        conditional, so a sweep run twice, or racing a change, never shortens what a later change set."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ProjectionExpression": "pk, sk",
            "ExpressionAttributeValues": {":pk": {"S": items.invoice_partition(sweep.invoice_id)}},
        }
        changed = 0
        while True:
            page = self._db.query(**request)
            for key in page.get("Items", []):
                if not key["sk"]["S"].startswith(items.OPERATIONAL_IN_INVOICE):
                    changed += self._sweep_one(key, sweep.retained_until)
            if "LastEvaluatedKey" not in page:
                return changed
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _sweep_one(self, key: dict[str, Any], retained_until: datetime | None) -> int:
        names = {"#ttl": schema.TTL_ATTRIBUTE}
        if retained_until is None:
            update: dict[str, Any] = {
                "UpdateExpression": "REMOVE #ttl",
                "ConditionExpression": "attribute_exists(pk) AND attribute_exists(#ttl)",
            }
        else:
            update = {
                "UpdateExpression": "SET #ttl = :ttl",
                "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(#ttl) OR #ttl < :ttl)",
                "ExpressionAttributeValues": {":ttl": {"N": str(items.epoch(retained_until))}},
            }
        try:
            self._db.update_item(TableName=self._table, Key=key, ExpressionAttributeNames=names, **update)
        except self._db.exceptions.ConditionalCheckFailedException:
            return 0
        return 1

    def finish_sweep(self, sweep: retention.RetentionSweep) -> None:
        """The sweep item gone, unless a later change put another (the invoice reopened or made final again)."""
        key = items.key_item(items.retention_sweep_key(sweep.invoice_id))
        seen = items.utc_stamp(sweep.retained_until) if sweep.retained_until else None
        condition = (
            {"ConditionExpression": "retained_until = :seen", "ExpressionAttributeValues": {":seen": {"S": seen}}}
            if seen
            else {"ConditionExpression": "attribute_not_exists(retained_until)"}
        )
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.delete_item(TableName=self._table, Key=serialize(key), **condition)

    def customer_records(self, customer_id: str) -> retention.CustomerRecords:
        """The customer's invoices (final ones carry a TTL) and recurring charges, from their by_owner partition
        (keys and three attributes each, a few hundred bytes per record)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": schema.BY_OWNER_INDEX,
            "KeyConditionExpression": "#o = :owner",
            "ProjectionExpression": "#s, #status, #ttl",
            "ExpressionAttributeNames": {
                "#o": schema.BY_OWNER_PK, "#s": schema.BY_OWNER_SK, "#status": "status", "#ttl": schema.TTL_ATTRIBUTE,
            },
            "ExpressionAttributeValues": {":owner": {"S": items.owner_partition(customer_id)}},
        }  # fmt: skip
        open_records, kept_until = 0, None
        while True:
            page = self._db.query(**request)
            for raw in page.get("Items", []):
                item = deserialize(raw)
                order = item[schema.BY_OWNER_SK]
                if order.startswith(items.OWNED_RECURRING):
                    open_records += item.get("status") != RecurringStatus.ENDED.value
                elif order.startswith(items.OWNED_INVOICES):
                    if schema.TTL_ATTRIBUTE not in item:
                        open_records += 1
                    else:
                        expires = datetime.fromtimestamp(int(item[schema.TTL_ATTRIBUTE]), UTC)
                        kept_until = retention.retain_until(kept_until, expires)
            if "LastEvaluatedKey" not in page:
                return retention.CustomerRecords(open_records=open_records, kept_until=kept_until)
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def move_retention(self, marker: retention.RetentionMarker, until: datetime) -> None:
        """The marker to a later instant (a record of theirs is kept longer than it said), unless it moved since."""
        item = items.retention_marker_item(marker.customer_id, until)
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.put_item(TableName=self._table, Item=serialize(item), **_marker_unchanged(marker))

    def drop_retention(self, marker: retention.RetentionMarker) -> None:
        """The marker gone (the customer was pseudonymised, or has a record still open, whose becoming final puts
        a new one), unless an invoice made final since moved it. Idempotent."""
        key = items.key_item(items.retention_marker_key(marker.customer_id))
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.delete_item(TableName=self._table, Key=serialize(key), **_marker_unchanged(marker))

    def open_balances(self) -> dict[str, tuple[int, int]]:
        """Currency -> (amount still to collect, in minor units; invoices), from the open_balances index:
        its items are a key and two numbers each, so a million open invoices read as about 25,000 units."""
        totals: dict[str, tuple[int, int]] = {}
        for shard in range(schema.OPEN_BALANCES_SHARDS):
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": schema.OPEN_BALANCES_INDEX,
                "KeyConditionExpression": "#p = :shard",
                "ProjectionExpression": "currency, #amount",
                "ExpressionAttributeNames": {"#p": schema.OPEN_BALANCES_PK, "#amount": schema.OPEN_AMOUNT},
                "ExpressionAttributeValues": {":shard": {"S": schema.open_balances_partition(shard)}},
            }
            while True:
                page = self._db.query(**request)
                for item in page.get("Items", []):
                    currency, amount = item["currency"]["S"], int(item[schema.OPEN_AMOUNT]["N"])
                    total, count = totals.get(currency, (0, 0))
                    totals[currency] = (total + amount, count + 1)
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return totals

    # -- counters (Change.tallies): read by key or by one Query of their scope's partition

    def read_tallies(
        self, scope: str, *, buckets: list[str] | None = None, between: tuple[str, str] | None = None
    ) -> dict[str, dict[str, int]]:
        if (buckets is None) == (between is None):
            raise ValueError("name the buckets or give a range of them, not both nor neither")
        if buckets is not None:
            keys = [items.tally_key(scope, bucket) for bucket in dict.fromkeys(buckets)]
            found: dict[str, dict[str, int]] = {}
            for start in range(0, len(keys), 100):  # BatchGetItem takes 100 keys a request
                for (_pk, bucket), item in self._batch_get(keys[start : start + 100]).items():
                    found[bucket] = items.tally_from(item)
            return found
        assert between is not None
        first, last = between
        values = {":p": {"S": items.tally_partition(scope)}, ":last": {"S": last}}
        if first:
            values[":first"] = {"S": first}
        request: dict[str, Any] = {
            "TableName": self._table,
            # A key is never the empty string: from the start of the partition is `sk <= last`.
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :first AND :last" if first else "pk = :p AND sk <= :last",
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        ranged: dict[str, dict[str, int]] = {}
        if between[0] > between[1]:
            return ranged
        while True:
            page = self._db.query(**request)
            for raw in page.get("Items", []):
                item = deserialize(raw)
                ranged[item[schema.SORT_KEY]] = items.tally_from(item)
            if "LastEvaluatedKey" not in page:
                return ranged
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def save_snapshot(self, kind: str, day: date, data: dict[str, dict[str, int]], keep_until: datetime) -> None:
        self._db.put_item(TableName=self._table, Item=serialize(items.snapshot_item(kind, day, data, keep_until)))

    def get_snapshot(self, kind: str, day: date) -> dict[str, dict[str, int]] | None:
        item = self._get(items.snapshot_key(kind, day))
        return items.snapshot_from(item) if item else None

    def counters_ready(self) -> date | None:
        if self._counters_ready is None:  # once ready, ready for good: read until then, not after
            item = self._get(items.COUNTERS_READY_KEY)
            self._counters_ready = items.counters_ready_from(item) if item else None
        return self._counters_ready

    def mark_counters_ready(self, since: date) -> None:
        mark_counters_ready(self._db, self._table, since)

    def open_invoice_balances(self) -> Iterator[tuple[str, str, date, int]]:
        """Every open invoice's (customer, currency, due date, amount owed), from the open_balances index, read
        a page at a time as the caller goes on."""
        for shard in range(schema.OPEN_BALANCES_SHARDS):
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": schema.OPEN_BALANCES_INDEX,
                "KeyConditionExpression": "#p = :shard",
                "ProjectionExpression": "customer_id, currency, due_date, #amount",
                "ExpressionAttributeNames": {"#p": schema.OPEN_BALANCES_PK, "#amount": schema.OPEN_AMOUNT},
                "ExpressionAttributeValues": {":shard": {"S": schema.open_balances_partition(shard)}},
            }
            while True:
                page = self._db.query(**request)
                for raw in page.get("Items", []):
                    item = deserialize(raw)
                    due = date.fromisoformat(item["due_date"])
                    yield item["customer_id"], item["currency"], due, int(item[schema.OPEN_AMOUNT])
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- reconciliation's state: one partition, read by key and Query, never a scan

    def get_reconcile_cursor(self) -> ReconcileCursor | None:
        item = self._get(items.RECONCILE_CURSOR_KEY)
        return items.reconcile_cursor_from(item) if item else None

    def advance_reconcile_cursor(self, cursor: ReconcileCursor) -> None:
        # A failed condition: the stored cursor is as far or further (another run, or this call's retry).
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.put_item(
                TableName=self._table,
                Item=serialize(items.reconcile_cursor_item(cursor)),
                ConditionExpression="attribute_not_exists(pk) OR through_epoch < :through",
                ExpressionAttributeValues={":through": {"N": str(items.epoch(cursor.through))}},
            )

    def list_drift(self) -> list[Drift]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :p AND begins_with(sk, :drift)",
            "ExpressionAttributeValues": {
                ":p": {"S": items.RECONCILE_PARTITION},
                ":drift": {"S": items.DRIFT_SORT_PREFIX},
            },
            "ConsistentRead": True,
        }
        found: list[Drift] = []
        while True:
            page = self._db.query(**request)
            found += [items.drift_from(deserialize(i)) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return sorted(found, key=lambda d: (d.first_seen, d.kind, d.object_id))
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def record_drift(self, drift: Drift) -> None:
        self._db.update_item(
            TableName=self._table,
            Key=wire_key(*items.drift_key(drift.kind, drift.object_id)),
            UpdateExpression="SET #type = :type, kind = :kind, object_id = :id, reason = :reason, "
            "last_seen = :last, first_seen = if_not_exists(first_seen, :first)",
            ExpressionAttributeNames={"#type": "type"},
            ExpressionAttributeValues={
                ":type": {"S": "drift"},
                ":kind": {"S": drift.kind},
                ":id": {"S": drift.object_id},
                ":reason": {"S": drift.reason},
                ":last": {"S": items.timestamp(drift.last_seen)},
                ":first": {"S": items.timestamp(drift.first_seen)},
            },
        )

    def resolve_drift(self, kind: str, object_id: str) -> None:
        self._db.delete_item(TableName=self._table, Key=wire_key(*items.drift_key(kind, object_id)))


# What reading a record that is not in the shape we write raises: a missing or mistyped attribute, or a
# value the domain refuses.
UNREADABLE: Final = (KeyError, TypeError, ValueError, AttributeError, DomainError)


def _each_read(found: list[dict[str, Any]], kind: str, read: Callable[[dict[str, Any]], Any]) -> list[Any]:
    """The page's records of `kind`, each read on its own: one that does not read is a SkippedItem in its
    place, so one bad item never stops a run."""
    records: list[Any] = []
    for item in found:
        if item.get("type") != kind:
            continue
        try:
            records.append(read(item))
        except UNREADABLE as error:
            records.append(SkippedItem(kind, str(item.get("id") or item.get("pk")), type(error).__name__))
    return records
