"""What `DynamoLedger.commit` writes for each field of a Change: the item, the condition that guards it, and
the rejection a failed condition means. Commit walks WRITE_RULES in order, so the transaction's items (and
so which rejection is named when several guards fail) follow the order of the rules below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from shared import schema
from shared.adapters.dynamodb import items
from shared.adapters.dynamodb.codec import serialize
from shared.domain import retention
from shared.domain.invoices import PAYMENT_STATUS_RANK, PaymentStatus
from shared.domain.records import DISPUTE_STATUS_RANK, EVENT_FAILED, EVENT_FLAGGED, RefundStatus
from shared.services.ports import Change, Rejection, Tally, check_tallies_guarded, merged_tallies

NEW: Final = "attribute_not_exists(pk)"
SAME_VERSION: Final = "#version = :expected"  # the stored version is the one the update was made from
# A customer written before customers had versions has none: its first update (version 1) may replace it.
CUSTOMER_SAME_VERSION: Final = "attribute_exists(pk) AND (#version = :expected)"
CUSTOMER_FIRST_VERSION: Final = "attribute_exists(pk) AND (#version = :expected OR attribute_not_exists(#version))"
# A reminder goes out only if, when it commits, the customer is neither on hold nor unreachable (nor erased
# or restricted).
CUSTOMER_REACHABLE: Final = (
    "attribute_not_exists(email_undeliverable) AND attribute_not_exists(erased_at)"
    " AND attribute_not_exists(restricted_at) AND (attribute_not_exists(hold_reason) OR hold_until <= :at)"
)
# A pay link's first opening is recorded once: over the stored link, not opened yet.
NOT_YET_OPENED: Final = "attribute_exists(pk) AND attribute_not_exists(opened_at)"
# A reminder line goes in one email: marked emailed over the stored line not yet emailed.
NOT_YET_EMAILED: Final = "attribute_exists(pk) AND attribute_not_exists(emailed)"
NEW_OR_SAME_SESSION: Final = "attribute_not_exists(pk) OR session_id = :sid"
NEW_OR_FORWARD: Final = "attribute_not_exists(pk) OR status_rank < :rank"
# A combined payment opened again (a retry, two tabs at once) never writes over an outcome recorded since.
NEW_OR_SAME_OPENED: Final = "attribute_not_exists(pk) OR (session_id = :sid AND #version = :zero)"
NEW_OR_SAME_UNPAID: Final = "attribute_not_exists(pk) OR (session_id = :sid AND attribute_not_exists(payment_status))"
# A Stripe event is applied once: its record is written if new, or over one whose processing failed; an
# operator's replay may also write over a flagged one. Two replays racing: the first settles it, the second
# meets a final outcome.
NEW_OR_FAILED_EVENT: Final = "attribute_not_exists(pk) OR #outcome = :failed"
NEW_OR_UNSETTLED_EVENT: Final = "attribute_not_exists(pk) OR #outcome IN (:failed, :flagged)"
# A succeeded payment's refunds are replaced only over the refunds read (none yet: no refund_version).
FIRST_REFUNDS: Final = "status_rank = :succeeded AND attribute_not_exists(refund_version)"
SAME_REFUNDS: Final = "status_rank = :succeeded AND refund_version = :expected"
# An offline payment is reversed once: over the recorded payment, not reversed yet.
NOT_YET_REVERSED: Final = "attribute_exists(offline_method) AND attribute_not_exists(reversed_at)"


def _expected_version(record: Any) -> dict[str, Any]:
    return {":expected": record.version - 1}


def _always(_record: Any) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class WriteRule:
    """One item a Change field writes (or, with `check_only`, checks) and what guards it."""

    field: str  # the Change field; a list field (outbox, audit) applies the rule to each of its records
    item: Callable[[Any, datetime], dict[str, Any]]  # (record, commit instant) -> the item, or the key checked
    reason: Rejection | None  # what a failed condition means; None for an unconditional write
    condition: str | None = None
    values: Callable[[Any], dict[str, Any]] | None = None  # the condition's :placeholders, from the record
    when: Callable[[Any], bool] = _always  # whether the record needs this write at all
    check_only: bool = False  # a ConditionCheck on the item's key: nothing is written
    each: Callable[[Any], list[Any]] | None = None  # one item for each of these parts of the record, not one


def _timeless(mapper: Callable[[Any], dict[str, Any]]) -> Callable[[Any, datetime], dict[str, Any]]:
    """A mapper that does not stamp the commit instant."""
    return lambda record, _now: mapper(record)


def _listing(name: str) -> Callable[[Any, datetime], dict[str, Any]]:
    return lambda invoice, now: items.invoice_listing_item(name, invoice, now)


PAYMENT_FIELDS: Final = ("payment", "payment_refunds", "payment_reversal", "payment_fee")
REFUND_GIVEN_BACK: Final = (RefundStatus.FAILED, RefundStatus.CANCELED)  # a refund whose money came back


def moved_refunds(payment: Any) -> list[Any]:
    """The refunds a change of refunds moved: those it stamped with its own instant, as the payment
    (stripe_events/refunds.py plan_refunds), each with the payment."""
    return [(payment, refund) for refund in payment.refunds if refund.updated_at == payment.updated_at]


def failed_moved_refunds(payment: Any) -> list[Any]:
    """Of those, the ones that failed or were canceled (final states: written once)."""
    return [(payment, refund) for payment, refund in moved_refunds(payment) if refund.status in REFUND_GIVEN_BACK]


def _fee_write_for(*, first: bool, kept: bool) -> Callable[[Any], bool]:
    """Which of the fee write's guards a payment takes: its first versioned write or not, a TTL read or none."""
    return lambda payment: (payment.refund_version == 1) == first and (payment.retained_until is not None) == kept


def _fee_guard_values(payment: Any) -> dict[str, Any]:
    values: dict[str, Any] = {":succeeded": PAYMENT_STATUS_RANK[PaymentStatus.SUCCEEDED]}
    if payment.refund_version != 1:
        values[":expected"] = payment.refund_version - 1
    if payment.retained_until is not None:
        values[":ttl"] = items.epoch(payment.retained_until)
    return values


WRITE_RULES: Final[tuple[WriteRule, ...]] = (
    WriteRule(
        "stripe_event", _timeless(items.event_item), Rejection.DUPLICATE_EVENT, NEW_OR_FAILED_EVENT,
        lambda _event: {":failed": EVENT_FAILED}, when=lambda event: not event.replay,
    ),
    WriteRule(
        "stripe_event", _timeless(items.event_item), Rejection.DUPLICATE_EVENT, NEW_OR_UNSETTLED_EVENT,
        lambda _event: {":failed": EVENT_FAILED, ":flagged": EVENT_FLAGGED}, when=lambda event: event.replay,
    ),
    WriteRule("new_customer", _timeless(items.customer_item), Rejection.EXISTS, NEW),
    WriteRule(
        "new_customer", _timeless(items.external_id_item), Rejection.DUPLICATE_EXTERNAL_ID, NEW,
        when=lambda customer: customer.external_id is not None,
    ),
    WriteRule(
        "customer_update", _timeless(items.customer_item), Rejection.STALE_CUSTOMER, CUSTOMER_FIRST_VERSION,
        _expected_version, when=lambda customer: customer.version == 1,
    ),
    WriteRule(
        "customer_update", _timeless(items.customer_item), Rejection.STALE_CUSTOMER, CUSTOMER_SAME_VERSION,
        _expected_version, when=lambda customer: customer.version != 1,
    ),
    WriteRule("claimed_external_id", _timeless(items.external_id_item), Rejection.DUPLICATE_EXTERNAL_ID, NEW),
    # The customer in the search list under its email, with the customer's own guard.
    *(WriteRule(field, _timeless(items.customer_email_item), None) for field in ("new_customer", "customer_update")),
    WriteRule(
        "customer_reachable_at", lambda reachable, _now: items.key_item(items.customer_key(reachable[0])),
        Rejection.CUSTOMER_PAUSED, CUSTOMER_REACHABLE, lambda reachable: {":at": items.utc_stamp(reachable[1])},
        check_only=True,
    ),
    WriteRule("new_invoice", items.invoice_item, Rejection.EXISTS, NEW),
    WriteRule("new_invoice", _timeless(items.invoice_number_item), Rejection.DUPLICATE_NUMBER, NEW),
    WriteRule("invoice_update", items.invoice_item, Rejection.STALE_INVOICE, SAME_VERSION, _expected_version),
    # Its copies in the lists (shared/schema.py): unconditional Puts, guarded by the invoice's own condition in
    # the same transaction; a new invoice only in those it belongs to, an update in each (in or out).
    *(
        WriteRule("new_invoice", _listing(name), None, when=items.INVOICE_LISTINGS[name])
        for name in items.INVOICE_LISTINGS
    ),
    *(WriteRule("invoice_update", _listing(name), None) for name in items.INVOICE_LISTINGS),
    WriteRule("pay_link", _timeless(items.pay_link_item), Rejection.EXISTS, NEW),
    WriteRule("pay_link_opened", _timeless(items.pay_link_item), Rejection.ALREADY_OPENED, NOT_YET_OPENED),
    WriteRule("reminder_opening", _timeless(items.reminder_opening_item), Rejection.REMINDER_OPENED, NEW),
    WriteRule("pay_together_link", _timeless(items.pay_together_item), Rejection.EXISTS, NEW),
    WriteRule("reminder_lines", _timeless(items.reminder_line_item), Rejection.EXISTS, NEW),
    WriteRule(
        "reminder_lines_emailed", _timeless(items.reminder_line_item), Rejection.REMINDER_EMAILED, NOT_YET_EMAILED
    ),
    WriteRule(
        "checkout", _timeless(items.checkout_item), Rejection.CHECKOUT_CONFLICT, NEW_OR_SAME_SESSION,
        lambda checkout: {":sid": checkout.session_id},
    ),
    WriteRule(
        "open_checkout", _timeless(items.open_checkout_item), Rejection.STALE_OPEN_CHECKOUT, NEW,
        when=lambda slot: slot.version == 1,
    ),
    WriteRule(
        "open_checkout", _timeless(items.open_checkout_item), Rejection.STALE_OPEN_CHECKOUT, SAME_VERSION,
        _expected_version, when=lambda slot: slot.version != 1,
    ),
    # A combined payment opened: its record and each invoice's checkout attempt for its share, new or the same
    # session (a retry); its outcome: over the stored record only, moving its status forward.
    # A combined payment opened (version 0): its record and each invoice's checkout attempt for its share, new
    # or the same session (a retry); its outcome: over the version it was decided from.
    WriteRule(
        "combined_checkout", _timeless(items.combined_item), Rejection.COMBINED_CONFLICT, NEW_OR_SAME_OPENED,
        lambda combined: {":sid": combined.session_id, ":zero": 0}, when=lambda combined: combined.version == 0,
    ),
    WriteRule(
        "combined_checkout", _timeless(items.checkout_item), Rejection.COMBINED_CONFLICT, NEW_OR_SAME_UNPAID,
        lambda attempt: {":sid": attempt.session_id},
        each=lambda combined: combined.attempts() if combined.version == 0 else [],
    ),
    WriteRule(
        "combined_checkout", _timeless(items.combined_item), Rejection.STALE_COMBINED, SAME_VERSION,
        _expected_version, when=lambda combined: combined.version != 0,
    ),
    WriteRule(
        "payment", _timeless(items.payment_item), Rejection.PAYMENT_NOT_FORWARD, NEW_OR_FORWARD,
        lambda payment: {":rank": PAYMENT_STATUS_RANK[payment.status]},
    ),
    # Same content every time: an unconditional Put is idempotent.
    WriteRule(
        "payment", _timeless(items.payment_intent_lookup_item), None,
        when=lambda payment: bool(payment.payment_intent_id),
    ),
    WriteRule(
        "payment", _timeless(items.offline_payment_lookup_item), None,
        when=lambda payment: payment.offline is not None,
    ),
    WriteRule("payment", _timeless(items.share_lookup_item), None, when=lambda payment: bool(payment.combined_ref)),
    WriteRule(
        "payment_refunds", _timeless(items.payment_item), Rejection.STALE_REFUNDS, FIRST_REFUNDS,
        lambda _payment: {":succeeded": PAYMENT_STATUS_RANK[PaymentStatus.SUCCEEDED]},
        when=lambda payment: payment.refund_version == 1,
    ),
    WriteRule(
        "payment_refunds", _timeless(items.payment_item), Rejection.STALE_REFUNDS, SAME_REFUNDS,
        lambda payment: {
            ":succeeded": PAYMENT_STATUS_RANK[PaymentStatus.SUCCEEDED], ":expected": payment.refund_version - 1,
        },
        when=lambda payment: payment.refund_version != 1,
    ),
    WriteRule("payment_reversal", _timeless(items.payment_item), Rejection.ALREADY_REVERSED, NOT_YET_REVERSED),
    # Its fee looked up: over the version of its refunds it was read at, and the TTL it was read with (a
    # retention sweep stamping the partition meanwhile is not undone).
    *(
        WriteRule(
            "payment_fee", _timeless(items.payment_item), Rejection.STALE_REFUNDS,
            f"({refunds}) AND {ttl}", _fee_guard_values,
            when=_fee_write_for(first=first, kept=kept),
        )
        for first, refunds in ((True, FIRST_REFUNDS), (False, SAME_REFUNDS))
        for kept, ttl in ((False, "attribute_not_exists(#ttl)"), (True, "#ttl = :ttl"))
    ),
    # The payment in the lists of its state, currency and method, however it moved (a status, a refund, a
    # reversal).
    *(WriteRule(field, _timeless(items.payment_state_item), None) for field in PAYMENT_FIELDS),
    *(WriteRule(field, _timeless(items.payment_currency_item), None) for field in PAYMENT_FIELDS),
    *(WriteRule(field, _timeless(items.payment_method_item), None) for field in PAYMENT_FIELDS),
    # Money given back, in the returns list of its month (the accounting export): each refund the change
    # moved, and a reversal. Unconditional, guarded by the payment's own write.
    WriteRule("payment_refunds", lambda moved, _now: items.refund_listing_item(*moved), None, each=moved_refunds),
    WriteRule(
        "payment_refunds", lambda moved, _now: items.refund_failure_listing_item(*moved), None,
        each=failed_moved_refunds,
    ),
    WriteRule("payment_reversal", _timeless(items.reversal_listing_item), None),
    WriteRule("lost_dispute", _timeless(items.lost_dispute_listing_item), None),
    WriteRule("new_plan", _timeless(items.plan_item), Rejection.PLAN_EXISTS, NEW),
    WriteRule("plan_update", _timeless(items.plan_item), Rejection.STALE_PLAN, SAME_VERSION, _expected_version),
    WriteRule("new_recurring", _timeless(items.recurring_item), Rejection.EXISTS, NEW),
    WriteRule(
        "recurring_update", _timeless(items.recurring_item), Rejection.STALE_RECURRING, SAME_VERSION,
        _expected_version,
    ),
    WriteRule(
        "dispute", _timeless(items.dispute_item), Rejection.DISPUTE_NOT_FORWARD, NEW_OR_FORWARD,
        lambda dispute: {":rank": DISPUTE_STATUS_RANK[dispute.status]},
    ),
    WriteRule("dunning_policy", _timeless(items.policy_item), None),  # replaces the stored policy
    # ... over the revision it was edited from; a policy stored without one (before revisions were kept) or none
    # at all is the caller's to compare (shared.services.dunning_policy)
    WriteRule(
        "dunning_policy_replacement", _timeless(lambda r: items.policy_item(r.policy)), Rejection.STALE_POLICY,
        "attribute_not_exists(policy_revision) OR policy_revision = :expected",
        lambda r: {":expected": r.over_revision},
    ),
    WriteRule("outbox", _timeless(items.outbox_item), Rejection.EXISTS, NEW),
    WriteRule("audit", _timeless(items.audit_item), Rejection.EXISTS, NEW),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Write:
    """One TransactWriteItems element, and what its condition failing means."""

    request: dict[str, Any]
    reason: Rejection | None


def _request(rule: WriteRule, record: Any, table: str, now: datetime) -> Write:
    item = serialize(rule.item(record, now))
    body: dict[str, Any] = {"TableName": table}
    if rule.check_only:
        body["Key"] = item
    else:
        body["Item"] = item
    if rule.condition:
        body["ConditionExpression"] = rule.condition
        names = {f"#{name}": name for name in ("version", "outcome", "ttl") if f"#{name}" in rule.condition}
        if names:
            body["ExpressionAttributeNames"] = names
    if rule.values:
        body["ExpressionAttributeValues"] = serialize(rule.values(record))
    return Write({"ConditionCheck" if rule.check_only else "Put": body}, rule.reason)


def tally_write(tally: Tally, table: str) -> Write:
    """One counter item moved by ADD (it is created at zero when new): unconditional, as the change's guarded
    write is what keeps it from counting twice."""
    names = {"#type": "type", "#scope": "scope", "#bucket": "bucket"}
    values: dict[str, Any] = {":type": "tally", ":scope": tally.scope, ":bucket": tally.bucket}
    sets = ["#type = :type", "#scope = :scope", "#bucket = :bucket"]
    if tally.expires_at is not None:  # the same instant on every write of the item (see Tally)
        names["#ttl"], values[":ttl"] = schema.TTL_ATTRIBUTE, tally.expires_at
        sets.append("#ttl = :ttl")
    adds = []
    for n, (name, delta) in enumerate(sorted(tally.deltas.items())):
        names[f"#f{n}"], values[f":d{n}"] = name, delta
        adds.append(f"#f{n} :d{n}")
    update = {
        "TableName": table,
        "Key": serialize(items.key_item(items.tally_key(tally.scope, tally.bucket))),
        "UpdateExpression": f"SET {', '.join(sets)} ADD {', '.join(adds)}",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": serialize(values),
    }
    return Write({"Update": update}, None)


def planned_writes(
    change: Change, table: str, now: datetime, financial_days: int = retention.DEFAULT_FINANCIAL_DAYS
) -> list[Write]:
    """Every write of `change`, in rule order, then its counters; `now` stamps the items that record when they
    were written. A change that leaves its invoice final also stamps the retention TTL (`financial_days` from
    now) on what it puts in the invoice's partition, and moves its customer's retention marker.
    Raises ValueError for tallies without a guarded write (ports.check_tallies_guarded)."""
    check_tallies_guarded(change)
    writes: list[Write] = []
    for rule in WRITE_RULES:
        value = getattr(change, rule.field)
        if not value:
            continue
        for record in value if isinstance(value, list) else [value]:
            for part in rule.each(record) if rule.each else [record]:
                if rule.when(part):
                    writes.append(_request(rule, part, table, now))
    writes += retention_writes(change, writes, table, now, financial_days)
    writes += [tally_write(tally, table) for tally in merged_tallies(change.tallies)]
    return writes


def retention_writes(change: Change, writes: list[Write], table: str, now: datetime, days: int) -> list[Write]:
    """When the change leaves its invoice final: the invoice's TTL (`days` from now if this change makes it
    final, else the one it has) on every item the change puts in its partition that has none (an operational
    item keeps its own, shorter one); and, when it is newly final, the customer's retention marker put at that
    expiry and a sweep for the retention job to stamp what earlier changes put there. Commits happen in
    wall-clock order, so the marker only ever moves later (the retention job checks the customer's invoices
    before acting, in case the configured period was shortened since). A change reopening an invoice that had
    a TTL puts a sweep that clears it from the partition (a payment is never deleted under an open invoice)."""
    invoice = change.invoice_update or change.new_invoice
    if invoice is None:
        return []
    if not retention.is_final(invoice):
        if invoice.retained_until is None:
            return []
        return [_put(items.retention_sweep_item(retention.RetentionSweep(invoice.id, None), now), table)]
    newly_final = invoice.retained_until is None
    expires = invoice.retained_until or retention.financial_expiry(now, days)
    partition = items.invoice_partition(invoice.id)
    for write in writes:
        item = write.request.get("Put", {}).get("Item")
        if item is not None and item[schema.PARTITION_KEY] == {"S": partition}:
            item.setdefault(schema.TTL_ATTRIBUTE, {"N": str(items.epoch(expires))})
    if not newly_final:
        return []
    sweep = items.retention_sweep_item(retention.RetentionSweep(invoice.id, expires), now)
    return [_put(items.retention_marker_item(invoice.customer_id, expires), table), _put(sweep, table)]


def _put(item: dict[str, Any], table: str) -> Write:
    return Write({"Put": {"TableName": table, "Item": serialize(item)}}, None)


COMMIT_ATTRIBUTE: Final = "commit"  # on every item a transaction puts: the token of that transaction


def sealed(writes: list[Write], token: str) -> list[dict[str, Any]]:
    """The transaction's items, each put marked with `token`: one per commit call, the same on every retry
    botocore makes of it. Sent as ClientRequestToken, it makes DynamoDB answer a retry of a transaction
    that committed (its reply was lost) with success; left on the items, it lets the ledger recognise its
    own committed transaction when such a retry meets its guards (stores that ignore the token)."""
    marked = []
    for write in writes:
        request = write.request
        if "Put" in request:
            put = request["Put"]
            request = {"Put": put | {"Item": put["Item"] | {COMMIT_ATTRIBUTE: {"S": token}}}}
        marked.append(request)
    return marked
