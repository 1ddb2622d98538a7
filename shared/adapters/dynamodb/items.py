"""Records <-> table items: every entity's keys, attributes and index keys (see shared/schema.py).

The entity key prefixes (`CUSTOMER#...`, `INVOICE#...`) are spelt here and in shared/schema.py only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Final

from shared import schema
from shared.domain import messages
from shared.domain.invoices import (
    PAYMENT_STATUS_RANK,
    CreditNote,
    Hold,
    Invoice,
    InvoiceStatus,
    LateFeeLine,
    PaymentStatus,
)
from shared.domain.messages import OutboxMessage
from shared.domain.records import (
    DISPUTE_STATUS_RANK,
    Allocation,
    AuditEntry,
    AuditSubject,
    Autopay,
    CheckoutAttempt,
    CombinedCheckout,
    Customer,
    Dispute,
    DisputeStatus,
    Drift,
    EmailUndeliverable,
    Installment,
    InstallmentStatus,
    OfflineMethod,
    OfflineReceipt,
    OpenCheckout,
    PayLink,
    Payment,
    PayTogetherLink,
    Plan,
    PlanKind,
    PlanStatus,
    ProcessorFee,
    ReconcileCursor,
    RecurringCharge,
    RecurringStatus,
    Refund,
    RefundStatus,
    ReminderAttribution,
    ReminderLine,
    ReminderOpening,
    ReturnKind,
    StripeEventRecord,
)
from shared.domain.retention import RetentionMarker, RetentionSweep, is_final
from shared.domain.text import search_text

if TYPE_CHECKING:  # annotations only: the dunning rules load when a policy is read (policy_from)
    from shared.domain.dunning import DunningPolicy
    from shared.domain.plans import PlanOffer
    from shared.services.ports import LostDispute

PK, SK = schema.PARTITION_KEY, schema.SORT_KEY
EVENT_RETENTION: Final = timedelta(days=400)
OUTBOX_RETENTION: Final = timedelta(days=30)
PAY_LINK_GRACE: Final = timedelta(days=30)

# An outbox item's delivery status (see outbox_store.py).
OUTBOX_PENDING: Final = "pending"
OUTBOX_CLAIMED: Final = "claimed"
OUTBOX_DELIVERED: Final = "delivered"

Key = tuple[str, str]  # (pk, sk)


# ----- keys ---------------------------------------------------------------------------------------------


def customer_key(customer_id: str) -> Key:
    return f"CUSTOMER#{customer_id}", "CUSTOMER"


def invoice_partition(invoice_id: str) -> str:
    """The partition holding an invoice and its checkouts, payments, plans, disputes."""
    return f"INVOICE#{invoice_id}"


def invoice_key(invoice_id: str) -> Key:
    return invoice_partition(invoice_id), "INVOICE"


def invoice_number_key(number: str) -> Key:
    return f"INVOICENUMBER#{number}", "INVOICENUMBER"


def external_id_key(external_id: str) -> Key:
    return f"EXTERNALID#{external_id}", "EXTERNALID"


def checkout_key(invoice_id: str, ref: str) -> Key:
    return invoice_partition(invoice_id), f"CHECKOUT#{ref}"


def open_checkout_key(invoice_id: str) -> Key:
    return invoice_partition(invoice_id), "OPEN_CHECKOUT"


PAYMENT_SORT_PREFIX: Final = "PAYMENT#"  # an invoice's payments in its partition


def payment_key(invoice_id: str, key: str) -> Key:
    return invoice_partition(invoice_id), f"{PAYMENT_SORT_PREFIX}{key}"


def combined_key(ref: str) -> Key:
    return f"COMBINED#{ref}", "COMBINED"


def payment_intent_key(payment_intent_id: str) -> Key:
    return f"PAYMENTINTENT#{payment_intent_id}", "PAYMENTINTENT"


def plan_key(invoice_id: str, plan_id: str) -> Key:
    return invoice_partition(invoice_id), f"PLAN#{plan_id}"


def dispute_key(invoice_id: str, dispute_id: str) -> Key:
    return invoice_partition(invoice_id), f"DISPUTE#{dispute_id}"


PAY_LINK_PREFIX: Final = "PAYLINK#"


def pay_link_key(token_hash: str) -> Key:
    return f"{PAY_LINK_PREFIX}{token_hash}", "PAYLINK"


def recurring_key(recurring_id: str) -> Key:
    return f"RECURRING#{recurring_id}", "RECURRING"


def event_key(event_id: str) -> Key:
    return f"EVENT#{event_id}", "EVENT"


def staff_key(username: str) -> Key:
    """A console user's partition: only their audit trail lives there (Cognito holds the user)."""
    return f"STAFF#{username}", "STAFF"


EMAIL_SENT_PREFIX: Final = "EMAILSENT#"
EMAIL_SENT_RETENTION: Final = timedelta(days=400)  # as kept Stripe events: a year of contact, and some


def email_sent_key(customer_id: str, sent_at: datetime, message_id: str) -> Key:
    """In the customer's partition: the emails sent to them, oldest first (their export reads them)."""
    return customer_key(customer_id)[0], f"{EMAIL_SENT_PREFIX}{utc_stamp(sent_at)}#{message_id}"


EXPORT_LINK_PREFIX: Final = "EXPORTLINK#"


def export_link_key(token_hash: str) -> Key:
    return f"{EXPORT_LINK_PREFIX}{token_hash}", "EXPORTLINK"


def incident_notice_key(incident_id: str, customer_id: str) -> Key:
    """That an incident's notice was queued for a customer: written once, with its email."""
    return f"INCIDENT#{incident_id}", f"NOTICE#{customer_id}"


def outbox_key(message_id: str) -> Key:
    return f"{schema.OUTBOX_PREFIX}{message_id}", "OUTBOX"


POLICY_KEY: Final[Key] = ("SETTINGS#dunning_policy", "SETTINGS")

# Reconciliation's state: its cursor and the drift it found, in one partition read by key (never a scan).
RECONCILE_PARTITION: Final = "RECONCILE"
RECONCILE_CURSOR_KEY: Final[Key] = (RECONCILE_PARTITION, "CURSOR")
DRIFT_SORT_PREFIX: Final = "DRIFT#"


def drift_key(kind: str, object_id: str) -> Key:
    return RECONCILE_PARTITION, f"{DRIFT_SORT_PREFIX}{kind}#{object_id}"


TALLY_PREFIX: Final = "TALLY#"


def tally_partition(scope: str) -> str:
    """A scope's counters: one partition, its buckets as sort keys (read together by one Query)."""
    return f"{TALLY_PREFIX}{scope}"


def tally_key(scope: str, bucket: str) -> Key:
    return tally_partition(scope), bucket


def tally_from(item: dict[str, Any]) -> dict[str, int]:
    """A counter item's fields (every number on it but its bookkeeping)."""
    return {name: int(value) for name, value in item.items() if name not in TALLY_BOOKKEEPING}


TALLY_BOOKKEEPING: Final = frozenset({PK, SK, "type", "scope", "bucket", schema.TTL_ATTRIBUTE})


def tally_item(scope: str, bucket: str, counts: dict[str, int]) -> dict[str, Any]:
    """A counter item as the ADDs of writes.tally_write leave it (for building aggregates straight into a table)."""
    return {**key_item(tally_key(scope, bucket)), "type": "tally", "scope": scope, "bucket": bucket, **counts}


def snapshot_key(kind: str, day: date) -> Key:
    return f"SNAPSHOT#{kind}", day.isoformat()


def snapshot_item(kind: str, day: date, data: dict[str, dict[str, int]], keep_until: datetime) -> dict[str, Any]:
    return {
        **key_item(snapshot_key(kind, day)),
        "type": "snapshot",
        "data": data,
        schema.TTL_ATTRIBUTE: epoch(keep_until),
    }


def snapshot_from(item: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {outer: {name: int(value) for name, value in inner.items()} for outer, inner in item["data"].items()}


# Written once the running aggregates hold every invoice: at a table's creation by this code (local stack, tests,
# the stack's first deploy via `payportal reports backfill`), or by that backfill on a table from before them.
COUNTERS_READY_KEY: Final[Key] = ("SETTINGS#counters_ready", "SETTINGS")


def counters_ready_item(since: date) -> dict[str, Any]:
    return {**key_item(COUNTERS_READY_KEY), "type": "counters_ready", "since": since.isoformat()}


def counters_ready_from(item: dict[str, Any]) -> date:
    return date.fromisoformat(item["since"])


def owner_partition(customer_id: str) -> str:
    """A customer's partition of the by_owner index."""
    return f"CUSTOMER#{customer_id}"


# The kinds of items a customer owns, as by_owner sort-key prefixes.
OWNED_INVOICES: Final = "INVOICE#"
OWNED_PAYMENTS: Final = "PAYMENT#"
OWNED_RECURRING: Final = "RECURRING#"


# ----- list entries (see shared/schema.py) -------------------------------------------------------------

LIST_SORT_PREFIX: Final = "LIST#"  # an entity's copies in the lists index, in its own partition
# Every index key: a copy of a record in a list carries none of its record's (it is listed once, there).
_INDEX_KEYS: Final = frozenset(schema.KEY_ATTRIBUTES) - {PK, SK}
# The invoice lists beside the one by status, each holding the invoices for which it is true.
INVOICE_LISTINGS: Final[dict[str, Callable[[Invoice], bool]]] = {
    "OWED": lambda i: i.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID) and i.amount_remaining > 0,
    "OWEDANY": lambda i: i.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID) and i.amount_remaining > 0,
    "HELD": lambda i: i.hold is not None,
    "PROMISED": lambda i: i.promised_at is not None,
    "DISPUTED": lambda i: bool(i.open_disputes),
}


def _listed_copy(record_item: dict[str, Any], key: Key, kind: str, keys: dict[str, str] | None) -> dict[str, Any]:
    """The copy of a record's item in one list (or, `keys` None, the bare key: out of that list)."""
    if keys is None:
        return {**key_item(key), "type": kind}
    copy = {name: value for name, value in record_item.items() if name not in _INDEX_KEYS}
    return copy | key_item(key) | {"type": kind} | keys


def invoice_listing_item(listing: str, i: Invoice, now: datetime) -> dict[str, Any]:
    key = (invoice_partition(i.id), f"{LIST_SORT_PREFIX}{listing}")
    keys = None
    if INVOICE_LISTINGS[listing](i):
        partition = (
            schema.invoice_listing_partition("OWED", schema.EVERY_CURRENCY)
            if listing == "OWEDANY"
            else schema.invoice_listing_partition(listing, i.currency)
        )
        keys = schema.lists_keys(partition, schema.due_order(i.due_date.isoformat(), i.id))
    return _listed_copy(invoice_item(i, now), key, "invoice_listing", keys)


def payment_received_order(p: Payment) -> str:
    return f"{utc_stamp(p.created_at)}#{p.key}"


def payment_state_item(p: Payment) -> dict[str, Any]:
    """The payment in the list of its state (succeeded, failed, refunded...) for the month it came in."""
    key = (invoice_partition(p.invoice_id), f"{LIST_SORT_PREFIX}PAYMENT#{p.key}")
    partition = schema.payments_partition(p.created_at.astimezone(UTC).strftime("%Y-%m"), p.state)
    return _listed_copy(
        payment_item(p), key, "payment_listing", schema.lists_keys(partition, payment_received_order(p))
    )


def payment_currency_item(p: Payment) -> dict[str, Any]:
    """The payment in the list of its currency for the month it came in."""
    key = (invoice_partition(p.invoice_id), f"{LIST_SORT_PREFIX}PAYMENTCURRENCY#{p.key}")
    partition = schema.payments_partition(p.created_at.astimezone(UTC).strftime("%Y-%m"), p.currency)
    return _listed_copy(
        payment_item(p), key, "payment_listing", schema.lists_keys(partition, payment_received_order(p))
    )


def payment_method_item(p: Payment) -> dict[str, Any]:
    """The payment in the list of how it was paid (stripe, check, bank_transfer...) for the month it came in."""
    key = (invoice_partition(p.invoice_id), f"{LIST_SORT_PREFIX}PAYMENTMETHOD#{p.key}")
    partition = schema.payments_partition(p.created_at.astimezone(UTC).strftime("%Y-%m"), p.method)
    return _listed_copy(
        payment_item(p), key, "payment_listing", schema.lists_keys(partition, payment_received_order(p))
    )


def returned_order(at: datetime, p: Payment, what: str) -> str:
    return f"{utc_stamp(at)}#{p.key}#{what}"


def _return_listing(p: Payment, kind: ReturnKind, entry: str, at: datetime, returned: str) -> dict[str, Any]:
    key = (invoice_partition(p.invoice_id), f"{LIST_SORT_PREFIX}{entry}")
    month = at.astimezone(UTC).strftime("%Y-%m")
    keys = schema.lists_keys(schema.returns_partition(month), returned_order(at, p, f"{kind.value}#{returned}"))
    return _listed_copy(payment_item(p), key, "return_listing", keys) | {
        "return_kind": kind.value,
        "returned": returned,
    }


def refund_listing_item(p: Payment, refund: Refund) -> dict[str, Any]:
    """The payment in the returns list under one of its refunds, for the month the refund was booked."""
    return _return_listing(p, ReturnKind.REFUND, f"REFUND#{refund.id}", refund.booked_at, refund.id)


def refund_failure_listing_item(p: Payment, refund: Refund) -> dict[str, Any]:
    """A booked refund that failed or was canceled, in the returns list for the month it did (its money back)."""
    return _return_listing(p, ReturnKind.REFUND_FAILED, f"REFUNDFAILED#{refund.id}", refund.updated_at, refund.id)


def lost_dispute_listing_item(lost: LostDispute) -> dict[str, Any]:
    """A dispute lost, in the returns list for the month payportal recorded it: the money the bank took back."""
    d = lost.dispute
    return _return_listing(lost.payment, ReturnKind.DISPUTE_LOST, f"DISPUTELOST#{d.id}", d.updated_at, d.id) | {
        "dispute_amount": d.amount,
        "dispute_reason": d.reason,
        "dispute_closed_at": d.updated_at.isoformat(),
        "dispute_fee": _fee_item(d.fee),
    }


def reversal_listing_item(p: Payment) -> dict[str, Any]:
    """A reversed offline payment in the returns list, for the month it was reversed."""
    assert p.offline is not None and p.offline.reversed_at is not None
    return _return_listing(p, ReturnKind.REVERSAL, f"REVERSAL#{p.key}", p.offline.reversed_at, p.key)


def customer_email_item(c: Customer) -> dict[str, Any]:
    """The customer in the search list under its email (the customer's own item is there under its name)."""
    key = (customer_key(c.id)[0], f"{LIST_SORT_PREFIX}EMAIL")
    keys = schema.lists_keys(schema.CUSTOMER_SEARCH_PARTITION, f"{search_text(c.email)}#{c.id}")
    return _listed_copy(customer_item(c), key, "customer_listing", keys)


def key_item(key: Key) -> dict[str, Any]:
    """Just the key attributes of an item."""
    return {PK: key[0], SK: key[1]}


# ----- instants -----------------------------------------------------------------------------------------


def timestamp(moment: datetime) -> str:
    return moment.isoformat()


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def utc_stamp(moment: datetime) -> str:
    """Fixed-width UTC to the second, so stamps sort as strings in index keys and compare in conditions."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_utc_stamp(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# ----- mappers ------------------------------------------------------------------------------------------


def customer_item(c: Customer) -> dict[str, Any]:
    return {
        **key_item(customer_key(c.id)),
        schema.BY_OWNER_PK: schema.ALL_CUSTOMERS_PARTITION,
        schema.BY_OWNER_SK: f"{timestamp(c.created_at)}#{c.id}",
        **schema.lists_keys(schema.CUSTOMER_SEARCH_PARTITION, f"{search_text(c.name)}#{c.id}"),
        "type": "customer",
        "id": c.id,
        "email": c.email,
        "name": c.name,
        "external_id": c.external_id,
        "timezone": c.timezone,
        "locale": c.locale,
        "created_at": timestamp(c.created_at),
        "stripe_customer_id": c.stripe_customer_id,
        "version": c.version,
        # Fixed-width UTC, so the reminder guard can compare it with "now" as a string (see writes.py).
        "hold_reason": c.hold.reason if c.hold else None,
        "hold_until": utc_stamp(c.hold.until) if c.hold and c.hold.until else None,
        "email_undeliverable": c.email_undeliverable.reason if c.email_undeliverable else None,
        "email_undeliverable_at": timestamp(c.email_undeliverable.at) if c.email_undeliverable else None,
        "email_undeliverable_detail": c.email_undeliverable.detail if c.email_undeliverable else None,
        "autopay_enabled_at": timestamp(c.autopay.enabled_at) if c.autopay else None,
        "erased_at": timestamp(c.erased_at) if c.erased_at else None,
        "restricted_at": timestamp(c.restricted_at) if c.restricted_at else None,
        "stripe_push_pending": c.stripe_push_pending or None,
    }


RETENTION_SORT: Final = "RETAIN"  # a customer's retention marker, in their partition (shared/domain/retention.py)


def retention_marker_key(customer_id: str) -> Key:
    return customer_key(customer_id)[0], RETENTION_SORT


def retention_marker_item(customer_id: str, retain_until: datetime) -> dict[str, Any]:
    """Its own item, not an attribute of the customer: customers are put whole under a version guard, and a
    payment settling an invoice must not be refused because the operator renamed the customer meanwhile."""
    stamp = utc_stamp(retain_until)
    return {
        **key_item(retention_marker_key(customer_id)),
        **schema.due_work_keys(customer_id, stamp, schema.RETENTION_WORK),
        "type": "retention",
        "customer_id": customer_id,
        "retain_until": stamp,
    }


RETENTION_SWEEP_SORT: Final = "RETAINSWEEP"
# Items in an invoice's partition that keep their own, operational TTL (a sweep never touches them).
OPERATIONAL_IN_INVOICE: Final = ("REMINDEROPENED#", RETENTION_SWEEP_SORT)
SWEEP_KEPT: Final = timedelta(days=30)  # a sweep the daily job never reached in a month is gone anyway


def retention_sweep_key(invoice_id: str) -> Key:
    return invoice_partition(invoice_id), RETENTION_SWEEP_SORT


def retention_sweep_item(sweep: RetentionSweep, now: datetime) -> dict[str, Any]:
    stamp = utc_stamp(now)
    return {
        **key_item(retention_sweep_key(sweep.invoice_id)),
        **schema.due_work_keys(sweep.invoice_id, stamp, schema.RETENTION_SWEEP_WORK),
        "type": "retention_sweep",
        "invoice_id": sweep.invoice_id,
        "retained_until": utc_stamp(sweep.retained_until) if sweep.retained_until else None,
        schema.TTL_ATTRIBUTE: epoch(now + SWEEP_KEPT),
    }


def retention_sweep_from(item: dict[str, Any]) -> RetentionSweep:
    until = item.get("retained_until")
    return RetentionSweep(invoice_id=item["invoice_id"], retained_until=from_utc_stamp(until) if until else None)


def retention_marker_from(item: dict[str, Any]) -> RetentionMarker:
    return RetentionMarker(customer_id=item["customer_id"], retain_until=from_utc_stamp(item["retain_until"]))


def customer_from(item: dict[str, Any]) -> Customer:
    return Customer(
        id=item["id"],
        email=item["email"],
        name=item["name"],
        external_id=item.get("external_id"),
        timezone=item["timezone"],
        locale=item["locale"],
        created_at=datetime.fromisoformat(item["created_at"]),
        stripe_customer_id=item.get("stripe_customer_id"),
        hold=Hold(
            reason=item["hold_reason"],
            until=from_utc_stamp(item["hold_until"]) if item.get("hold_until") else None,
        )
        if item.get("hold_reason")
        else None,
        email_undeliverable=EmailUndeliverable(
            reason=item["email_undeliverable"],
            at=datetime.fromisoformat(item["email_undeliverable_at"]),
            detail=item.get("email_undeliverable_detail", ""),
        )
        if item.get("email_undeliverable")
        else None,
        autopay=Autopay(enabled_at=datetime.fromisoformat(item["autopay_enabled_at"]))
        if item.get("autopay_enabled_at")
        else None,
        version=int(item.get("version", 0)),
        erased_at=datetime.fromisoformat(item["erased_at"]) if item.get("erased_at") else None,
        restricted_at=datetime.fromisoformat(item["restricted_at"]) if item.get("restricted_at") else None,
        stripe_push_pending=bool(item.get("stripe_push_pending")),
    )


def invoice_item(i: Invoice, now: datetime) -> dict[str, Any]:
    item = {
        **key_item(invoice_key(i.id)),
        schema.BY_OWNER_PK: owner_partition(i.customer_id),
        schema.BY_OWNER_SK: f"{OWNED_INVOICES}{timestamp(i.created_at)}#{i.id}",
        **schema.lists_keys(
            schema.invoice_status_partition(i.status.value, i.currency), schema.due_order(i.due_date.isoformat(), i.id)
        ),
        "type": "invoice",
        "id": i.id,
        "customer_id": i.customer_id,
        "number": i.number,
        "currency": i.currency,
        "amount_due": i.amount_due,
        "amount_paid": i.amount_paid,
        "amount_refunded": i.amount_refunded or None,
        "amount_reopened": i.amount_reopened or None,
        "status": i.status.value,
        "due_date": i.due_date.isoformat(),
        "description": i.description,
        "allow_partial": i.allow_partial,
        "min_partial_amount": i.min_partial_amount,
        "version": i.version,
        "created_at": timestamp(i.created_at),
        "updated_at": timestamp(now),
        "customer_timezone": i.customer_timezone,
        "reminders_sent": sorted(i.reminders_sent) or None,
        "late_fees": [{"step": f.step, "amount": f.amount} for f in i.late_fees] or None,
        "hold_reason": i.hold.reason if i.hold else None,
        "hold_until": timestamp(i.hold.until) if i.hold and i.hold.until else None,
        "promised_at": timestamp(i.promised_at) if i.promised_at else None,
        "open_disputes": sorted(i.open_disputes) or None,
        "plan_offer": _plan_offer_item(i.plan_offer) if i.plan_offer else None,
        "active_plan": i.active_plan,
        "credit_notes": [_credit_note_item(n) for n in i.credit_notes] or None,
        "pay_link_generation": i.pay_link_generation or None,
        "counted": i.counted or None,
        "counted_paid": i.counted_paid or None,
        "counted_promise_kept": i.counted_promise_kept or None,
    }
    if i.next_action_at is not None:  # only invoices with reminder work sit in the sparse index
        stamp = utc_stamp(i.next_action_at)
        item |= {"next_action_at": stamp, **schema.due_work_keys(i.id, stamp)}
    if i.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID) and i.amount_remaining > 0:
        item |= {schema.OPEN_AMOUNT: i.amount_remaining, **schema.open_balance_keys(i.id, i.currency)}
    if i.retained_until is not None and is_final(i):  # one reopened (a refund owed again) loses its TTL
        item[schema.TTL_ATTRIBUTE] = epoch(i.retained_until)
    return item


def invoice_from(item: dict[str, Any]) -> Invoice:
    return Invoice(
        id=item["id"],
        customer_id=item["customer_id"],
        number=item["number"],
        currency=item["currency"],
        amount_due=item["amount_due"],
        amount_paid=item["amount_paid"],
        status=InvoiceStatus(item["status"]),
        due_date=date.fromisoformat(item["due_date"]),
        description=item.get("description", ""),
        allow_partial=bool(item.get("allow_partial")),
        min_partial_amount=item.get("min_partial_amount"),
        version=item["version"],
        created_at=datetime.fromisoformat(item["created_at"]),
        customer_timezone=item.get("customer_timezone", "UTC"),
        reminders_sent=frozenset(item.get("reminders_sent") or ()),
        next_action_at=datetime.fromisoformat(item["next_action_at"]) if item.get("next_action_at") else None,
        late_fees=tuple(LateFeeLine(str(f["step"]), int(f["amount"])) for f in item.get("late_fees") or ()),
        hold=Hold(
            reason=item["hold_reason"],
            until=datetime.fromisoformat(item["hold_until"]) if item.get("hold_until") else None,
        )
        if item.get("hold_reason")
        else None,
        promised_at=datetime.fromisoformat(item["promised_at"]) if item.get("promised_at") else None,
        open_disputes=frozenset(item.get("open_disputes") or ()),
        plan_offer=_plan_offer_from(item["plan_offer"]) if item.get("plan_offer") else None,
        active_plan=item.get("active_plan"),
        amount_refunded=int(item.get("amount_refunded") or 0),
        amount_reopened=int(item.get("amount_reopened") or 0),
        credit_notes=tuple(_credit_note_from(n) for n in item.get("credit_notes") or ()),
        pay_link_generation=int(item.get("pay_link_generation") or 0),
        retained_until=datetime.fromtimestamp(int(item[schema.TTL_ATTRIBUTE]), UTC)
        if item.get(schema.TTL_ATTRIBUTE)
        else None,
        counted=bool(item.get("counted")),  # absent on items written before the aggregates: not counted
        counted_paid=bool(item.get("counted_paid")),
        counted_promise_kept=bool(item.get("counted_promise_kept")),
    )


def _credit_note_item(n: CreditNote) -> dict[str, Any]:
    return {"id": n.id, "amount": n.amount, "reason": n.reason, "created_at": timestamp(n.created_at)}


def _credit_note_from(raw: dict[str, Any]) -> CreditNote:
    return CreditNote(
        id=str(raw["id"]),
        amount=int(raw["amount"]),
        reason=str(raw.get("reason") or ""),
        created_at=datetime.fromisoformat(raw["created_at"]),
    )


def external_id_item(c: Customer) -> dict[str, Any]:
    """Holds an external id taken: another customer may not reuse it; finds the customer by it."""
    assert c.external_id is not None
    return {**key_item(external_id_key(c.external_id)), "type": "external_id", "customer_id": c.id}


def invoice_number_item(i: Invoice) -> dict[str, Any]:
    """Holds an invoice number taken: a new invoice may not reuse it."""
    return {**key_item(invoice_number_key(i.number)), "type": "invoice_number", "invoice_id": i.id}


def _plan_offer_item(offer: PlanOffer) -> dict[str, Any]:
    return {
        "max_installments": offer.max_installments,
        "min_installment_amount": offer.min_installment_amount,
        "frequencies": [f.value for f in offer.frequencies],
    }


def _plan_offer_from(raw: dict[str, Any]) -> PlanOffer:
    from shared.domain.plans import Frequency, PlanOffer  # the webhook's cold path does not load the plan rules

    return PlanOffer(
        max_installments=int(raw["max_installments"]),
        min_installment_amount=int(raw["min_installment_amount"]),
        frequencies=tuple(Frequency(f) for f in raw["frequencies"]),
    )


def pay_link_item(link: PayLink) -> dict[str, Any]:
    return {
        **key_item(pay_link_key(link.token_hash)),
        "type": "pay_link",
        "invoice_id": link.invoice_id,
        "customer_id": link.customer_id,
        "created_at": timestamp(link.created_at),
        "expires_at": timestamp(link.expires_at),
        "revoked": link.revoked,
        "generation": link.generation or None,
        "reminder": _reminder_item(link.reminder),
        "opened_at": timestamp(link.opened_at) if link.opened_at else None,
        schema.TTL_ATTRIBUTE: epoch(link.expires_at + PAY_LINK_GRACE),
    }


PAY_TOGETHER_PREFIX: Final = "PAYTOGETHER#"


def pay_together_key(token_hash: str) -> Key:
    return f"{PAY_TOGETHER_PREFIX}{token_hash}", "PAYTOGETHER"


def pay_together_item(link: PayTogetherLink) -> dict[str, Any]:
    return {
        **key_item(pay_together_key(link.token_hash)),
        "type": "pay_together_link",
        "customer_id": link.customer_id,
        "invoices": [
            {"invoice_id": i, "generation": g, "reminder": _reminder_item(r)}
            for i, g, r in zip(link.invoice_ids, link.generations, link.reminders, strict=True)
        ],
        "created_at": timestamp(link.created_at),
        "expires_at": timestamp(link.expires_at),
        "revoked": link.revoked,
        schema.TTL_ATTRIBUTE: epoch(link.expires_at + PAY_LINK_GRACE),
    }


def pay_together_from(item: dict[str, Any]) -> PayTogetherLink:
    invoices = item.get("invoices") or []
    return PayTogetherLink(
        token_hash=item[PK].removeprefix(PAY_TOGETHER_PREFIX),
        customer_id=item["customer_id"],
        invoice_ids=tuple(str(i["invoice_id"]) for i in invoices),
        generations=tuple(int(i.get("generation") or 0) for i in invoices),
        reminders=tuple(_reminder_from(i.get("reminder")) for i in invoices),
        created_at=datetime.fromisoformat(item["created_at"]),
        expires_at=datetime.fromisoformat(item["expires_at"]),
        revoked=bool(item.get("revoked")),
    )


# Reminder lines are kept a while after they are emailed (what went in which email), then TTL deletes them.
REMINDER_LINE_KEPT: Final = timedelta(days=30)


def reminder_lines_partition(customer_id: str) -> str:
    return f"REMINDERS#{customer_id}"


def reminder_line_key(line: ReminderLine) -> Key:
    return reminder_lines_partition(line.customer_id), f"LINE#{timestamp(line.reminder.sent_at)}#{line.invoice_id}"


def reminder_line_item(line: ReminderLine) -> dict[str, Any]:
    return {
        **key_item(reminder_line_key(line)),
        "type": "reminder_line",
        "customer_id": line.customer_id,
        "invoice_id": line.invoice_id,
        "reminder": _reminder_item(line.reminder),
        "emailed": line.emailed or None,
        schema.TTL_ATTRIBUTE: epoch(line.reminder.sent_at + REMINDER_LINE_KEPT),
        # Not emailed yet: in the due_work index at the instant the sweep emails it, if its run did not.
        **(
            {}
            if line.emailed
            else schema.due_work_keys(line.customer_id, utc_stamp(line.check_at), schema.REMINDER_EMAIL_WORK)
        ),
    }


def reminder_line_from(item: dict[str, Any]) -> ReminderLine:
    reminder = _reminder_from(item.get("reminder"))
    assert reminder is not None
    return ReminderLine(
        customer_id=item["customer_id"],
        invoice_id=item["invoice_id"],
        reminder=reminder,
        emailed=bool(item.get("emailed")),
    )


# A reminder's opening marker outlives every link of that reminder (the longest pay link lifetime is far less)
# and the longest range of the reminders report.
REMINDER_OPENING_KEPT: Final = timedelta(days=400)


def reminder_opening_key(invoice_id: str, reminder: ReminderAttribution) -> Key:
    """One per reminder (an invoice's dunning step, as the run sent it), in its invoice's partition."""
    return invoice_partition(invoice_id), f"REMINDEROPENED#{reminder.step}#{timestamp(reminder.sent_at)}"


def reminder_opening_item(opening: ReminderOpening) -> dict[str, Any]:
    return {
        **key_item(reminder_opening_key(opening.invoice_id, opening.reminder)),
        "type": "reminder_opening",
        "invoice_id": opening.invoice_id,
        "reminder": _reminder_item(opening.reminder),
        "opened_at": timestamp(opening.opened_at),
        schema.TTL_ATTRIBUTE: epoch(opening.opened_at + REMINDER_OPENING_KEPT),
    }


def reminder_opening_from(item: dict[str, Any]) -> ReminderOpening | None:
    """None for an item without its reminder (none is written so; a damaged one is skipped, not fatal)."""
    reminder = _reminder_from(item.get("reminder"))
    if reminder is None:
        return None
    return ReminderOpening(item["invoice_id"], reminder, datetime.fromisoformat(item["opened_at"]))


def _reminder_item(r: ReminderAttribution | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"step": r.step, "template": r.template, "channel": r.channel, "sent_at": timestamp(r.sent_at)}


def _reminder_from(item: dict[str, Any] | None) -> ReminderAttribution | None:
    if not item:
        return None
    return ReminderAttribution(
        step=str(item["step"]),
        template=str(item.get("template") or ""),
        channel=str(item["channel"]),
        sent_at=datetime.fromisoformat(item["sent_at"]),
    )


def pay_link_from(item: dict[str, Any]) -> PayLink:
    return PayLink(
        token_hash=item[PK].removeprefix(PAY_LINK_PREFIX),
        invoice_id=item["invoice_id"],
        customer_id=item["customer_id"],
        created_at=datetime.fromisoformat(item["created_at"]),
        expires_at=datetime.fromisoformat(item["expires_at"]),
        revoked=bool(item.get("revoked")),
        generation=int(item.get("generation") or 0),
        reminder=_reminder_from(item.get("reminder")),
        opened_at=datetime.fromisoformat(item["opened_at"]) if item.get("opened_at") else None,
    )


def _checkout_attributes(a: CheckoutAttempt) -> dict[str, Any]:
    return {
        "ref": a.ref,
        "invoice_id": a.invoice_id,
        "customer_id": a.customer_id,
        "session_id": a.session_id,
        "amount": a.amount,
        "currency": a.currency,
        "url": a.url,
        "created_at": timestamp(a.created_at),
        "opened_as": a.opened_as or None,
        "expires_at": timestamp(a.expires_at) if a.expires_at else None,
        "payment_status": a.payment_status.value if a.payment_status else None,
        "reminder": _reminder_item(a.reminder),
    }


def checkout_item(a: CheckoutAttempt) -> dict[str, Any]:
    return {**key_item(checkout_key(a.invoice_id, a.ref)), "type": "checkout", **_checkout_attributes(a)}


def checkout_from(item: dict[str, Any]) -> CheckoutAttempt:
    return CheckoutAttempt(
        ref=item["ref"],
        invoice_id=item["invoice_id"],
        customer_id=item["customer_id"],
        session_id=item["session_id"],
        amount=item["amount"],
        currency=item["currency"],
        url=item.get("url", ""),
        created_at=datetime.fromisoformat(item["created_at"]),
        opened_as=int(item.get("opened_as", 0)),
        expires_at=datetime.fromisoformat(item["expires_at"]) if item.get("expires_at") else None,
        payment_status=PaymentStatus(item["payment_status"]) if item.get("payment_status") else None,
        reminder=_reminder_from(item.get("reminder")),
    )


def open_checkout_item(o: OpenCheckout) -> dict[str, Any]:
    return {
        **key_item(open_checkout_key(o.invoice_id)),
        "type": "open_checkout",
        "invoice_id": o.invoice_id,
        "version": o.version,
        "current": _checkout_attributes(o.current) if o.current else None,
        "identity": o.identity or None,
        # A session open: in the due_work index at the instant reconciliation asks Stripe about it, if no
        # completed or expired event has closed it by then.
        **(schema.due_work_keys(o.invoice_id, utc_stamp(o.check_at), schema.OPEN_CHECKOUT_WORK) if o.check_at else {}),
    }


def open_checkout_from(item: dict[str, Any]) -> OpenCheckout:
    current = item.get("current")
    return OpenCheckout(
        invoice_id=item["invoice_id"],
        version=int(item["version"]),
        current=checkout_from(current) if current else None,
        identity=item.get("identity", ""),
    )


def combined_item(c: CombinedCheckout) -> dict[str, Any]:
    return {
        **key_item(combined_key(c.ref)),
        "type": "combined_checkout",
        "ref": c.ref,
        "customer_id": c.customer_id,
        "currency": c.currency,
        "allocations": [
            {
                "invoice_id": a.invoice_id,
                "number": a.invoice_number,
                "amount": a.amount,
                "reminder": _reminder_item(a.reminder),
            }
            for a in c.allocations
        ],
        "session_id": c.session_id,
        "url": c.url,
        "created_at": timestamp(c.created_at),
        "expires_at": timestamp(c.expires_at) if c.expires_at else None,
        "payment_status": c.payment_status.value if c.payment_status else None,
        "payment_intent_id": c.payment_intent_id,
        "failure_told": c.failure_told or None,
        "version": c.version,
    }


def combined_from(item: dict[str, Any]) -> CombinedCheckout:
    return CombinedCheckout(
        ref=item["ref"],
        customer_id=item["customer_id"],
        currency=item["currency"],
        allocations=tuple(
            Allocation(
                invoice_id=str(a["invoice_id"]),
                invoice_number=str(a.get("number") or ""),
                amount=int(a["amount"]),
                reminder=_reminder_from(a.get("reminder")),
            )
            for a in item.get("allocations") or ()
        ),
        session_id=item["session_id"],
        url=item.get("url", ""),
        created_at=datetime.fromisoformat(item["created_at"]),
        expires_at=datetime.fromisoformat(item["expires_at"]) if item.get("expires_at") else None,
        payment_status=PaymentStatus(item["payment_status"]) if item.get("payment_status") else None,
        payment_intent_id=item.get("payment_intent_id"),
        failure_told=bool(item.get("failure_told")),
        version=int(item.get("version") or 0),
    )


def payment_item(p: Payment) -> dict[str, Any]:
    return {
        **key_item(payment_key(p.invoice_id, p.key)),
        schema.BY_OWNER_PK: owner_partition(p.customer_id),
        schema.BY_OWNER_SK: f"{OWNED_PAYMENTS}{timestamp(p.created_at)}#{p.key}",
        **schema.lists_keys(
            schema.payments_partition(p.created_at.astimezone(UTC).strftime("%Y-%m")), payment_received_order(p)
        ),
        "type": "payment",
        "key": p.key,
        "invoice_id": p.invoice_id,
        "invoice_number": p.invoice_number or None,
        "customer_id": p.customer_id,
        "amount": p.amount,
        "currency": p.currency,
        "status": p.status.value,
        "status_rank": PAYMENT_STATUS_RANK[p.status],
        "checkout_session_id": p.checkout_session_id,
        "payment_intent_id": p.payment_intent_id,
        "failure_reason": p.failure_reason,
        "created_at": timestamp(p.created_at),
        "updated_at": timestamp(p.updated_at),
        "refunds": [_refund_item(r) for r in p.refunds] or None,
        "refund_version": p.refund_version or None,
        **_offline_attributes(p.offline),
        "reminder": _reminder_item(p.reminder),
        "combined_ref": p.combined_ref or None,
        "fee": _fee_item(p.fee),
        "fee_lookups": p.fee_lookups or None,
        **({schema.TTL_ATTRIBUTE: epoch(p.retained_until)} if p.retained_until is not None else {}),
        # Something to ask Stripe (a bank debit pending, a refund pending, the fee): in the due_work index at
        # the instant reconciliation asks.
        **(schema.due_work_keys(p.key, utc_stamp(p.check_at), schema.PENDING_PAYMENT_WORK) if p.check_at else {}),
    }


def _offline_attributes(o: OfflineReceipt | None) -> dict[str, Any]:
    if o is None:
        return {}
    return {
        "offline_method": o.method.value,
        "offline_reference": o.reference or None,
        "received_on": o.received_on.isoformat(),
        "reversed_at": timestamp(o.reversed_at) if o.reversed_at else None,
        "reversal_reason": o.reversal_reason or None,
        "reversal_ref": o.reversal_ref or None,
    }


def _offline_from(item: dict[str, Any]) -> OfflineReceipt | None:
    if not item.get("offline_method"):
        return None
    return OfflineReceipt(
        method=OfflineMethod(item["offline_method"]),
        reference=str(item.get("offline_reference") or ""),
        received_on=date.fromisoformat(item["received_on"]),
        reversed_at=datetime.fromisoformat(item["reversed_at"]) if item.get("reversed_at") else None,
        reversal_reason=str(item.get("reversal_reason") or ""),
        reversal_ref=str(item.get("reversal_ref") or ""),
    )


def _refund_item(r: Refund) -> dict[str, Any]:
    return {
        "id": r.id,
        "amount": r.amount,
        "status": r.status.value,
        "reopens_balance": r.reopens_balance,
        "reason": r.reason,
        "updated_at": timestamp(r.updated_at),
        "request_ref": r.request_ref or None,
        "created_at": timestamp(r.created_at) if r.created_at else None,
    }


def _refund_from(item: dict[str, Any]) -> Refund:
    return Refund(
        id=str(item["id"]),
        amount=int(item["amount"]),
        status=RefundStatus(item["status"]),
        reopens_balance=bool(item.get("reopens_balance")),
        reason=str(item.get("reason") or ""),
        updated_at=datetime.fromisoformat(item["updated_at"]),
        request_ref=str(item.get("request_ref") or ""),
        created_at=datetime.fromisoformat(item["created_at"]) if item.get("created_at") else None,
    )


def payment_from(item: dict[str, Any]) -> Payment:
    return Payment(
        key=item["key"],
        invoice_id=item["invoice_id"],
        customer_id=item["customer_id"],
        amount=item["amount"],
        currency=item["currency"],
        status=PaymentStatus(item["status"]),
        checkout_session_id=item.get("checkout_session_id"),
        payment_intent_id=item.get("payment_intent_id"),
        failure_reason=item.get("failure_reason"),
        created_at=datetime.fromisoformat(item["created_at"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
        refunds=tuple(_refund_from(r) for r in item.get("refunds") or ()),
        refund_version=int(item.get("refund_version") or 0),
        offline=_offline_from(item),
        invoice_number=item.get("invoice_number") or "",
        reminder=_reminder_from(item.get("reminder")),
        combined_ref=item.get("combined_ref") or "",
        fee=fee_from(item.get("fee")),
        fee_lookups=int(item.get("fee_lookups") or 0),
        retained_until=datetime.fromtimestamp(int(item[schema.TTL_ATTRIBUTE]), UTC)
        if item.get(schema.TTL_ATTRIBUTE)
        else None,
    )


def _fee_item(fee: ProcessorFee | None) -> dict[str, Any] | None:
    if fee is None:
        return None
    return {"amount": fee.amount, "currency": fee.currency, "balance_transaction": fee.balance_transaction}


def fee_from(item: dict[str, Any] | None) -> ProcessorFee | None:
    if not item:
        return None
    return ProcessorFee(int(item["amount"]), str(item["currency"]), str(item["balance_transaction"]))


def payment_intent_lookup_item(p: Payment) -> dict[str, Any]:
    """PaymentIntent -> invoice: disputes name only the PaymentIntent, not our metadata. A combined payment's
    PaymentIntent names the combined payment instead (every share writes the same item)."""
    if p.combined_ref:
        return {
            **key_item(payment_intent_key(str(p.payment_intent_id))),
            "type": "payment_intent",
            "combined_ref": p.combined_ref,
        }
    return {
        **key_item(payment_intent_key(str(p.payment_intent_id))),
        "type": "payment_intent",
        "invoice_id": p.invoice_id,
    }


def share_lookup_item(p: Payment) -> dict[str, Any]:
    """A combined payment's share id -> its invoice, in the same key space as PaymentIntents (as an offline
    payment's): the operator API names a share by its own id (`Ledger.invoice_for_payment_intent`)."""
    return {**key_item(payment_intent_key(p.key)), "type": "payment_share", "invoice_id": p.invoice_id}


def offline_payment_lookup_item(p: Payment) -> dict[str, Any]:
    """Offline payment id -> invoice, in the same key space as PaymentIntents: a payment id names one
    invoice whichever way it was paid (`Ledger.invoice_for_payment_intent`)."""
    return {**key_item(payment_intent_key(p.key)), "type": "offline_payment", "invoice_id": p.invoice_id}


def plan_item(p: Plan) -> dict[str, Any]:
    item: dict[str, Any] = {
        **key_item(plan_key(p.invoice_id, p.id)),
        "type": "plan",
        "id": p.id,
        "invoice_id": p.invoice_id,
        "customer_id": p.customer_id,
        "currency": p.currency,
        "frequency": p.frequency,
        "status": p.status.value,
        "created_at": timestamp(p.created_at),
        "customer_timezone": p.customer_timezone,
        "version": p.version,
        "kind": p.kind.value,
        "notice_sent": p.notice_sent,
        "installments": [
            {
                "number": i.number,
                "due_on": i.due_on.isoformat(),
                "amount": i.amount,
                "status": i.status.value,
                "attempts": i.attempts,
                "payment_intent_id": i.payment_intent_id,
                "failure": i.failure,
            }
            for i in p.installments
        ],
    }
    if p.next_action_at is not None:
        item["next_action_at"] = utc_stamp(p.next_action_at)
    if p.outcome_check_at is not None:  # a charge created, its outcome not in: reconciliation's to look at
        item |= schema.due_work_keys(p.id, utc_stamp(p.outcome_check_at), schema.CHARGE_OUTCOME_WORK)
    elif p.next_action_at is not None:  # only plans with a charge to make sit in the charge partitions
        item |= schema.due_work_keys(p.id, item["next_action_at"], schema.CHARGE_WORK)
    return item


def plan_from(item: dict[str, Any]) -> Plan:
    return Plan(
        id=item["id"],
        invoice_id=item["invoice_id"],
        customer_id=item["customer_id"],
        currency=item["currency"],
        frequency=item["frequency"],
        status=PlanStatus(item["status"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        customer_timezone=item.get("customer_timezone", "UTC"),
        version=int(item["version"]),
        next_action_at=from_utc_stamp(item["next_action_at"]) if item.get("next_action_at") else None,
        kind=PlanKind(item.get("kind", "installments")),
        notice_sent=bool(item.get("notice_sent")),
        installments=tuple(
            Installment(
                number=int(i["number"]),
                due_on=date.fromisoformat(i["due_on"]),
                amount=int(i["amount"]),
                status=InstallmentStatus(i["status"]),
                attempts=int(i.get("attempts", 0)),
                payment_intent_id=i.get("payment_intent_id"),
                failure=i.get("failure"),
            )
            for i in item["installments"]
        ),
    )


def recurring_item(r: RecurringCharge) -> dict[str, Any]:
    item: dict[str, Any] = {
        **key_item(recurring_key(r.id)),
        schema.BY_OWNER_PK: owner_partition(r.customer_id),
        schema.BY_OWNER_SK: f"{OWNED_RECURRING}{timestamp(r.created_at)}#{r.id}",
        "type": "recurring",
        "id": r.id,
        "customer_id": r.customer_id,
        "amount": r.amount,
        "currency": r.currency,
        "interval": r.interval,
        "start_date": r.start_date.isoformat(),
        "end_date": r.end_date.isoformat() if r.end_date else None,
        "count": r.count,
        "description": r.description,
        "status": r.status.value,
        "created_at": timestamp(r.created_at),
        "periods_created": r.periods_created,
        "version": r.version,
    }
    if r.next_action_at is not None:
        stamp = utc_stamp(r.next_action_at)
        item |= {"next_action_at": stamp, **schema.due_work_keys(r.id, stamp, schema.RECURRING_WORK)}
    return item


def recurring_from(item: dict[str, Any]) -> RecurringCharge:
    return RecurringCharge(
        id=item["id"],
        customer_id=item["customer_id"],
        amount=int(item["amount"]),
        currency=item["currency"],
        interval=item["interval"],
        start_date=date.fromisoformat(item["start_date"]),
        end_date=date.fromisoformat(item["end_date"]) if item.get("end_date") else None,
        count=int(item["count"]) if item.get("count") is not None else None,
        description=item.get("description", ""),
        status=RecurringStatus(item["status"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        periods_created=int(item.get("periods_created", 0)),
        next_action_at=from_utc_stamp(item["next_action_at"]) if item.get("next_action_at") else None,
        version=int(item["version"]),
    )


def dispute_item(d: Dispute) -> dict[str, Any]:
    return {
        **key_item(dispute_key(d.invoice_id, d.id)),
        "type": "dispute",
        "id": d.id,
        "invoice_id": d.invoice_id,
        "payment_intent_id": d.payment_intent_id,
        "amount": d.amount,
        "currency": d.currency,
        "reason": d.reason,
        "status": d.status.value,
        "status_rank": DISPUTE_STATUS_RANK[d.status],
        "updated_at": timestamp(d.updated_at),
        "fee": _fee_item(d.fee),
    }


def dispute_from(item: dict[str, Any]) -> Dispute:
    return Dispute(
        id=item["id"],
        invoice_id=item["invoice_id"],
        payment_intent_id=item["payment_intent_id"],
        amount=item["amount"],
        currency=item["currency"],
        reason=item.get("reason", ""),
        status=DisputeStatus(item["status"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
        fee=fee_from(item.get("fee")),
    )


def event_order(e: StripeEventRecord) -> str:
    """Where an event sorts in its listings: when it was received (fixed-width UTC), then its id."""
    return f"{event_order_at(e.received_at)}#{e.event_id}"


def event_order_at(moment: datetime) -> str:
    """The sort key prefix of events received at `moment` (a bound of a range of them)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_item(e: StripeEventRecord) -> dict[str, Any]:
    """Listed newest first in the by_owner index (every kept event) and, while it needs an operator (failed
    or flagged), in its outcome's partition of the due_work index: neither listing scans."""
    item: dict[str, Any] = {
        **key_item(event_key(e.event_id)),
        "type": "stripe_event",
        "event_type": e.type,
        "object_id": e.object_id,
        "outcome": e.outcome,
        "detail": e.detail or None,
        "received_at": timestamp(e.received_at),
        schema.BY_OWNER_PK: schema.STRIPE_EVENTS_PARTITION,
        schema.BY_OWNER_SK: event_order(e),
    }
    if e.needs_attention:  # failed and flagged events stay until someone (or Stripe's retry) applies them
        item[schema.DUE_WORK_PK] = schema.stripe_events_to_review(e.outcome)
        item[schema.DUE_WORK_SK] = event_order(e)
    else:
        item[schema.TTL_ATTRIBUTE] = epoch(e.received_at + EVENT_RETENTION)
    return item


def event_from(item: dict[str, Any]) -> StripeEventRecord:
    return StripeEventRecord(
        event_id=item[PK].removeprefix("EVENT#"),
        type=item.get("event_type", ""),
        object_id=item.get("object_id", ""),
        outcome=item["outcome"],
        received_at=datetime.fromisoformat(item["received_at"]),
        detail=item.get("detail") or "",
    )


def reconcile_cursor_item(c: ReconcileCursor) -> dict[str, Any]:
    return {
        **key_item(RECONCILE_CURSOR_KEY),
        "type": "reconcile_cursor",
        "through": utc_stamp(c.through),
        "through_epoch": epoch(c.through),  # the forward-only condition compares this
        "updated_at": timestamp(c.updated_at),
    }


def reconcile_cursor_from(item: dict[str, Any]) -> ReconcileCursor:
    return ReconcileCursor(
        through=from_utc_stamp(item["through"]), updated_at=datetime.fromisoformat(item["updated_at"])
    )


def drift_from(item: dict[str, Any]) -> Drift:
    return Drift(
        kind=item["kind"],
        object_id=item["object_id"],
        reason=item.get("reason", ""),
        first_seen=datetime.fromisoformat(item["first_seen"]),
        last_seen=datetime.fromisoformat(item["last_seen"]),
    )


def policy_item(p: DunningPolicy) -> dict[str, Any]:
    return {
        **key_item(POLICY_KEY),
        "type": "dunning_policy",
        "steps": [
            {
                "offset_days": s.offset_days,
                "template": s.template,
                "late_fee": {"fixed": s.late_fee.fixed, "percent": s.late_fee.percent, "cap": s.late_fee.cap}
                if s.late_fee
                else None,
            }
            for s in p.steps
        ],
        "window_start": p.window_start.isoformat("minutes"),
        "window_end": p.window_end.isoformat("minutes"),
        "mark_uncollectible_after_days": p.mark_uncollectible_after_days,
        "default_installments": _plan_offer_item(p.default_installments) if p.default_installments else None,
        "policy_revision": _policy_revision(p),
    }


def _policy_revision(p: DunningPolicy) -> str:
    # lazy: the dunning rules are 6 ms of a cold start (see policy_from)
    from shared.domain.dunning import policy_revision

    return policy_revision(p)


def policy_from(item: dict[str, Any]) -> DunningPolicy:
    # lazy: the dunning rules are 6 ms of a cold start, and only the jobs and the operator API read the policy
    from shared.domain.dunning import DunningPolicy, DunningStep, LateFee

    return DunningPolicy(
        steps=tuple(
            DunningStep(
                int(s["offset_days"]),
                str(s["template"]),
                LateFee(**{k: v for k, v in s["late_fee"].items() if v is not None}) if s.get("late_fee") else None,
            )
            for s in item["steps"]
        ),
        window_start=time.fromisoformat(item["window_start"]),
        window_end=time.fromisoformat(item["window_end"]),
        mark_uncollectible_after_days=item.get("mark_uncollectible_after_days"),
        default_installments=_plan_offer_from(item["default_installments"])
        if item.get("default_installments")
        else None,
    )


def outbox_item(m: OutboxMessage) -> dict[str, Any]:
    kind, name, data = messages.encode(m.body)
    return {
        **key_item(outbox_key(m.id)),
        "type": "outbox",
        "id": m.id,
        "kind": kind,
        "name": name,
        "data": data,
        "status": OUTBOX_PENDING,
        "attempts": 0,
        "created_at": timestamp(m.created_at),
        schema.TTL_ATTRIBUTE: epoch(m.created_at + OUTBOX_RETENTION),
    }


def outbox_from(item: dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(
        id=item["id"],
        body=messages.decode(item["kind"], item["name"], item.get("data") or {}),
        created_at=datetime.fromisoformat(item["created_at"]),
    )


_AUDIT_TRAILS: Final[dict[AuditSubject, Callable[[str], Key]]] = {
    AuditSubject.INVOICE: invoice_key,
    AuditSubject.CUSTOMER: customer_key,
    AuditSubject.RECURRING_CHARGE: recurring_key,
    AuditSubject.DUNNING_POLICY: lambda _: POLICY_KEY,
    AuditSubject.STRIPE_EVENT: event_key,
    AuditSubject.STAFF_MEMBER: staff_key,
    AuditSubject.WEBHOOK_ENDPOINT: lambda endpoint_id: (f"WEBHOOKENDPOINT#{endpoint_id}", "ENDPOINT"),
}


def audit_partition(subject: AuditSubject, subject_id: str) -> str:
    """The partition holding a subject's trail (its own record's partition)."""
    return _AUDIT_TRAILS[subject](subject_id)[0]


AUDIT_SORT_PREFIX: Final = "AUDIT#"


# The subjects whose entries concern a customer: those also go in the audit trail by time (schema.audit_time_keys).
CUSTOMER_AUDIT_SUBJECTS: Final = frozenset({AuditSubject.CUSTOMER, AuditSubject.INVOICE, AuditSubject.RECURRING_CHARGE})


def audit_item(a: AuditEntry) -> dict[str, Any]:
    """Kept in its subject's partition, so a subject's trail is one Query, oldest first; an entry about a
    customer's data also in the trail by time (an incident's reach)."""
    by_time = schema.audit_time_keys(utc_stamp(a.at), a.id) if a.subject in CUSTOMER_AUDIT_SUBJECTS else {}
    return {
        **by_time,
        PK: audit_partition(a.subject, a.subject_id),
        SK: f"{AUDIT_SORT_PREFIX}{timestamp(a.at)}#{a.id}",
        "type": "audit",
        "id": a.id,
        "subject": a.subject.value,
        "subject_id": a.subject_id,
        "action": a.action,
        "actor": a.actor,
        "cause": a.cause or None,
        "at": timestamp(a.at),
        "details": a.details or None,
    }


def audit_from(item: dict[str, Any], subject: AuditSubject, subject_id: str) -> AuditEntry:
    """An entry of the trail of `subject` (entries written before they named it carry only the key)."""
    return AuditEntry(
        subject=subject,
        subject_id=subject_id,
        action=item["action"],
        actor=item.get("actor") or "",
        at=datetime.fromisoformat(item["at"]),
        details=item.get("details") or {},
        id=item.get("id") or item[SK].rsplit("#", 1)[-1],
        cause=item.get("cause") or "",
    )
