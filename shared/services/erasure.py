"""Erasure (GDPR Art. 17): the customer's name, email and external id become placeholders, the free text on
their invoices, recurring charges and audit trails is redacted, their Stripe customer is deleted, and nothing
is sent to them again. The financial records stay, linked to the pseudonymised record (Art. 17(3)(b)).

`pseudonymise_customer` is the reusable core, without the API's checks (the retention job calls it for
customers whose records have all expired); `erase_customer` is the data subject's request: it refuses while
money is in flight, stops all contact first, then pseudonymises."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from shared.clock import Clock
from shared.domain.errors import ConcurrentUpdate, InvalidStateTransition, NotFound
from shared.domain.invoices import Hold, Invoice, InvoiceStatus, PaymentStatus
from shared.domain.messages import EventName, outgoing_event
from shared.domain.records import (
    AuditEntry,
    AuditSubject,
    Customer,
    PlanStatus,
    RecurringCharge,
    RecurringStatus,
    RefundStatus,
)
from shared.services.aggregates import tallied
from shared.services.gateway import PaymentGateway
from shared.services.invoices import invoice_event_detail
from shared.services.once import scoped_key
from shared.services.ports import Change, ChangeRejected, Ledger, Page, RunOnce

ERASED_NAME: Final = "Erased customer"
ERASED_TEXT: Final = "[erased]"
# The reason an erasure's hold gives (fixed text: nothing of the customer's).
ERASURE_HOLD_REASON: Final = "customer erased"
# Audit detail keys whose string values are free text someone typed (or a name, an address): redacted
# wherever they appear in an entry's details, however deep ("changes" -> "description" -> "from").
FREE_TEXT_KEYS: Final = frozenset(
    {"name", "email", "external_id", "description", "reason", "note", "text", "hold", "credit_notes"}
)
# ... except a value that is a code (snake_case, e.g. "customer_hold", "autopay_disabled"): payportal's own words.
CODE: Final = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)+")
ATTEMPTS: Final = 3
PAGE: Final = 100


def erased_email(customer_id: str) -> str:
    """A placeholder address that can never be delivered (.invalid is reserved, RFC 2606), unique per customer."""
    return f"erased+{customer_id}@erased.invalid"


class ErasureCause(StrEnum):
    """Why the customer was pseudonymised (in the audit entry and the customer.erased event)."""

    REQUEST = "request"  # the data subject asked (POST /v1/customers/{id}/erase, the console)
    RETENTION = "retention"  # every record of theirs outlived its retention period


class OpenInvoices(StrEnum):
    """What an erasure does with invoices still being collected."""

    HOLD = "hold"  # kept owed, on hold: no reminder ever goes out
    VOID = "void"  # voided where nothing was paid on them (the others are held)


class MoneyInFlight(InvalidStateTransition):
    """The customer cannot be erased yet: money is moving (a payment processing, a checkout that may still
    complete, an open dispute, a pending refund, an installment charging). Try again once it settles."""

    code = "money_in_flight"


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure did (its counts are also in the customer's `customer.erased` audit entry)."""

    customer: Customer
    invoices_voided: int = 0
    invoices_held: int = 0
    plans_cancelled: int = 0
    recurring_ended: int = 0
    payment_methods_detached: int = 0


def pseudonymise_customer(
    ledger: Ledger,
    clock: Clock,
    customer_id: str,
    *,
    actor: str,
    gateway: PaymentGateway | None = None,
    cause: ErasureCause = ErasureCause.RETENTION,
    counts: dict[str, int] | None = None,
) -> Customer:
    """Replace the customer's name, email and external id with placeholders and mark them erased (nothing is
    emailed to them again), then redact the free text on their invoices, recurring charges and the audit trails
    of all three. With `gateway`, their saved payment methods are detached and their Stripe customer deleted
    first. No checks: the caller decides the customer may go (see `erase_customer`).

    Safe to retry and to call again: a customer erased already is redacted again (a no-op when it was
    complete) and returned as it is. Raises NotFound for an unknown customer."""
    customer = ledger.get_customer(customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}", field="customer_id")
    known = _identifying_values(customer)
    if gateway is not None and customer.stripe_customer_id is not None:
        detached = forget_at_stripe(gateway, customer.stripe_customer_id)
        if counts is not None:
            counts["payment_methods_detached"] = detached
    if customer.erased_at is None:
        customer = _pseudonymise_record(ledger, clock, customer, actor=actor, cause=cause, counts=counts or {})
    redact_customer_text(ledger, clock, customer.id, actor=actor, known=known)
    return customer


def forget_at_stripe(gateway: PaymentGateway, stripe_customer_id: str) -> int:
    """Detach every saved payment method of the Stripe customer, then delete it; how many were detached.
    Both calls are idempotent at Stripe, so a retry redoes what was left."""
    detached = 0
    try:
        saved = gateway.saved_payment_methods(stripe_customer_id).methods
    except Exception:  # deleted already (a retry): there is nothing left to detach
        saved = ()
    for method in saved:
        gateway.detach_payment_method(method.id)
        detached += 1
    gateway.delete_customer(stripe_customer_id)
    return detached


def _identifying_values(customer: Customer) -> tuple[str, ...]:
    """What identifies the customer in free text: their name, email and external id (as they are before the
    record is pseudonymised; a record erased already has only placeholders)."""
    if customer.erased_at is not None:
        return ()
    values = (customer.name, customer.email, customer.external_id or "")
    return tuple(v for v in values if len(v) >= 3)  # a one- or two-letter "name" would redact everything


def _pseudonymise_record(
    ledger: Ledger, clock: Clock, customer: Customer, *, actor: str, cause: ErasureCause, counts: dict[str, int]
) -> Customer:
    for _ in range(ATTEMPTS):
        now = clock.now()
        if customer.external_id is not None:
            # Freed before the record drops it: a crash in between leaves the record to retry the release from.
            ledger.release_external_id(customer.external_id, customer.id)
        erased = replace(
            customer,
            name=ERASED_NAME,
            email=erased_email(customer.id),
            external_id=None,
            hold=None,  # its reason is free text; nothing is sent to an erased customer anyway
            autopay=None,
            erased_at=now,
            restricted_at=None,
            stripe_push_pending=False,
            version=customer.version + 1,
        )
        details: dict[str, Any] = {"cause": cause.value, **counts}
        audit = AuditEntry(
            subject=AuditSubject.CUSTOMER,
            subject_id=customer.id,
            action="customer.erased",
            actor=actor,
            at=now,
            details=details,
        )
        event = {"customer_id": customer.id, "cause": cause.value, "erased_at": now.isoformat()}
        change = Change(
            customer_update=erased,
            outbox=[outgoing_event(EventName.CUSTOMER_ERASED, event, now)],
            audit=[audit],
        )
        try:
            ledger.commit(change)
        except ChangeRejected as rejected:
            if rejected.reason != "stale_customer":
                raise
            fresh = ledger.get_customer(customer.id)
            if fresh is None:
                raise NotFound(f"no customer {customer.id}", field="customer_id") from None
            if fresh.erased_at is not None:
                return fresh  # another erasure got there first
            customer = fresh
            continue
        return erased
    raise ConcurrentUpdate(f"customer {customer.id} kept changing while being erased; try again")


def redact_customer_text(
    ledger: Ledger, clock: Clock, customer_id: str, *, actor: str, known: tuple[str, ...] = ()
) -> None:
    """Redact the free text on the customer's invoices (description, hold reason, credit note reasons), their
    recurring charges (description), and the details of the audit entries of the customer, each invoice and
    each recurring charge: free-text keys, and any string naming one of `known` (the name, email, external id)."""
    for invoice in _each(lambda cursor: ledger.list_customer_invoices(customer_id, PAGE, cursor)):
        _redact_invoice(ledger, clock, invoice.id, actor=actor)
        _redact_trail(ledger, AuditSubject.INVOICE, invoice.id, known)
    for charge in _each(lambda cursor: ledger.list_customer_recurring(customer_id, PAGE, cursor)):
        _redact_recurring(ledger, clock, charge.id, actor=actor)
        _redact_trail(ledger, AuditSubject.RECURRING_CHARGE, charge.id, known)
    _redact_trail(ledger, AuditSubject.CUSTOMER, customer_id, known)


def _each(read: Callable[[str | None], Page]) -> Iterator[Any]:
    cursor: str | None = None
    while True:
        page = read(cursor)
        yield from page.items
        cursor = page.next_cursor
        if cursor is None:
            return


def _redacted(text: str) -> str:
    return ERASED_TEXT if text and text != ERASURE_HOLD_REASON else text


def redacted_invoice(invoice: Invoice) -> Invoice:
    """The invoice without the free text anyone typed on it (the amounts, dates and numbers stay)."""
    return replace(
        invoice,
        description=_redacted(invoice.description),
        hold=replace(invoice.hold, reason=_redacted(invoice.hold.reason)) if invoice.hold else None,
        credit_notes=tuple(replace(n, reason=_redacted(n.reason)) for n in invoice.credit_notes),
    )


def _redact_invoice(ledger: Ledger, clock: Clock, invoice_id: str, *, actor: str) -> None:
    for _ in range(ATTEMPTS):
        invoice = ledger.get_invoice(invoice_id)
        if invoice is None:
            return
        redacted = redacted_invoice(invoice)
        if redacted == invoice:
            return
        audit = AuditEntry(
            subject=AuditSubject.INVOICE,
            subject_id=invoice.id,
            action="invoice.text_redacted",
            actor=actor,
            at=clock.now(),
            details={"cause": "customer_erased"},
        )
        try:
            ledger.commit(Change(invoice_update=replace(redacted, version=invoice.version + 1), audit=[audit]))
        except ChangeRejected as rejected:
            if rejected.reason != "stale_invoice":
                raise
            continue
        return
    raise ConcurrentUpdate(f"invoice {invoice_id} kept changing while being redacted; try again")


def _redact_recurring(ledger: Ledger, clock: Clock, recurring_id: str, *, actor: str) -> None:
    def redacted(charge: RecurringCharge) -> RecurringCharge | None:
        return None if charge.description in ("", ERASED_TEXT) else replace(charge, description=ERASED_TEXT)

    _change_recurring(ledger, clock, recurring_id, redacted, action="recurring.text_redacted", actor=actor)


def _change_recurring(
    ledger: Ledger,
    clock: Clock,
    recurring_id: str,
    changed: Callable[[RecurringCharge], RecurringCharge | None],
    *,
    action: str,
    actor: str,
) -> bool:
    """Commit `changed(charge)` (None: nothing to do) with its audit entry, on the stored charge, again on a
    lost race; whether anything was written."""
    for _ in range(ATTEMPTS):
        charge = ledger.get_recurring(recurring_id)
        after = changed(charge) if charge is not None else None
        if charge is None or after is None:
            return False
        audit = AuditEntry(
            subject=AuditSubject.RECURRING_CHARGE,
            subject_id=charge.id,
            action=action,
            actor=actor,
            at=clock.now(),
            details={"cause": "customer_erased"},
        )
        try:
            ledger.commit(Change(recurring_update=replace(after, version=charge.version + 1), audit=[audit]))
        except ChangeRejected as rejected:
            if rejected.reason != "stale_recurring":
                raise
            continue
        return True
    raise ConcurrentUpdate(f"recurring charge {recurring_id} kept changing while being erased; try again")


def _redact_trail(ledger: Ledger, subject: AuditSubject, subject_id: str, known: tuple[str, ...]) -> None:
    changed = []
    for entry in _each(lambda cursor: ledger.list_audit(subject, subject_id, PAGE, cursor)):
        details = redact_details(entry.details, known)
        if details != entry.details:
            changed.append(replace(entry, details=details))
    if changed:
        ledger.redact_audit(changed)


def redact_details(value: Any, known: tuple[str, ...], *, free_text: bool = False) -> Any:
    """`value` (an audit entry's details) with every string under a FREE_TEXT_KEYS key, and every string
    naming one of `known`, replaced by ERASED_TEXT; ids, amounts, instants and enums elsewhere stay."""
    if isinstance(value, dict):
        return {k: redact_details(v, known, free_text=free_text or k in FREE_TEXT_KEYS) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_details(v, known, free_text=free_text) for v in value]
    if isinstance(value, str) and value and value != ERASED_TEXT:
        lowered = value.lower()
        if any(k.lower() in lowered for k in known) or (free_text and not CODE.fullmatch(value)):
            return ERASED_TEXT
    return value


# ----- the data subject's request ------------------------------------------------------------------------


def erase_customer(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    customer_id: str,
    *,
    open_invoices: OpenInvoices,
    actor: str,
) -> Erasure:
    """Erase the customer at their request: refused (MoneyInFlight) while money is moving; otherwise contact
    stops (open invoices held or voided, plans cancelled, recurring charges ended, pay links revoked,
    autopay off), their Stripe customer goes and the record is pseudonymised. A second call finds them
    erased and returns what they are now (the counts are the first call's, in the audit trail)."""
    customer = ledger.get_customer(customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}", field="customer_id")
    if customer.erased_at is not None:
        # Finish what a first call that died left (redaction is a no-op when complete); nothing more is stopped.
        return Erasure(pseudonymise_customer(ledger, clock, customer_id, actor=actor, gateway=gateway))
    invoices = list(_each(lambda cursor: ledger.list_customer_invoices(customer_id, PAGE, cursor)))
    now = clock.now()
    for invoice in invoices:
        reason = money_in_flight(ledger, invoice, now)
        if reason is not None:
            raise MoneyInFlight(f"invoice {invoice.number}: {reason}; erase the customer once it settles")
    counts = {"invoices_voided": 0, "invoices_held": 0, "plans_cancelled": 0, "recurring_ended": 0}
    for invoice in invoices:
        _stop_invoice(ledger, clock, invoice.id, open_invoices, actor=actor, counts=counts)
    for charge in _each(lambda cursor: ledger.list_customer_recurring(customer_id, PAGE, cursor)):
        counts["recurring_ended"] += _end_recurring(ledger, clock, charge, actor=actor)
    erased = pseudonymise_customer(
        ledger, clock, customer_id, actor=actor, gateway=gateway, cause=ErasureCause.REQUEST, counts=counts
    )
    return Erasure(
        erased,
        invoices_voided=counts["invoices_voided"],
        invoices_held=counts["invoices_held"],
        plans_cancelled=counts["plans_cancelled"],
        recurring_ended=counts["recurring_ended"],
        payment_methods_detached=counts.get("payment_methods_detached", 0),
    )


def money_in_flight(ledger: Ledger, invoice: Invoice, now: datetime) -> str | None:
    """Why the invoice's money is still moving, or None: an open dispute, a checkout that may still complete,
    a payment processing, a pending refund, an installment charging."""
    if invoice.open_disputes:
        return "a dispute is open"
    open_checkout = ledger.get_open_checkout(invoice.id)
    if open_checkout is not None and open_checkout.payable_at(now) is not None:
        return "a checkout session may still be paid"
    for payment in ledger.get_invoice_payments(invoice.id):
        if payment.status is PaymentStatus.PENDING:
            return "a payment is processing"
        if any(r.status is RefundStatus.PENDING for r in payment.refunds):
            return "a refund is pending"
    if invoice.active_plan:
        plan = ledger.get_plan(invoice.id, invoice.active_plan)
        if plan is not None and plan.charge_in_flight is not None:
            return "an installment is being charged"
    return None


def _stop_invoice(
    ledger: Ledger, clock: Clock, invoice_id: str, open_invoices: OpenInvoices, *, actor: str, counts: dict[str, int]
) -> None:
    """No reminder, charge or pay link on the invoice any more: its plan cancelled, its links revoked, and
    it voided (asked, and nothing paid on it) or held."""
    for _ in range(ATTEMPTS):
        invoice = ledger.get_invoice(invoice_id)
        if invoice is None or invoice.status not in (
            InvoiceStatus.OPEN,
            InvoiceStatus.PARTIALLY_PAID,
            InvoiceStatus.UNCOLLECTIBLE,
        ):
            return
        now = clock.now()
        plan = ledger.get_plan(invoice.id, invoice.active_plan) if invoice.active_plan else None
        stopped = replace(
            invoice,
            active_plan=None,
            next_action_at=None,
            pay_link_generation=invoice.pay_link_generation + 1,  # every link minted so far stops working
            version=invoice.version + 1,
        )
        voiding = open_invoices is OpenInvoices.VOID and invoice.status is InvoiceStatus.OPEN
        voiding = voiding and invoice.amount_paid == 0
        if voiding:
            stopped = replace(stopped, status=InvoiceStatus.VOID)
        else:
            stopped = replace(stopped, hold=Hold(reason=ERASURE_HOLD_REASON, until=None))
        cancelled = None
        if plan is not None and plan.status in (PlanStatus.ACTIVE, PlanStatus.AWAITING_FIRST):
            cancelled = replace(plan, status=PlanStatus.CANCELLED, next_action_at=None, version=plan.version + 1)
        audit = AuditEntry(
            subject=AuditSubject.INVOICE,
            subject_id=invoice.id,
            action="invoice.voided" if voiding else "invoice.hold_placed",
            actor=actor,
            at=now,
            details={
                "cause": "customer_erased",
                "plan_cancelled": cancelled.id if cancelled else None,
                "status": {"from": invoice.status.value, "to": stopped.status.value},
            },
        )
        outbox = []
        if voiding:
            outbox.append(outgoing_event(EventName.INVOICE_VOIDED, invoice_event_detail(stopped), now))
        change = Change(invoice_update=stopped, plan_update=cancelled, outbox=outbox, audit=[audit])
        try:
            ledger.commit(tallied(change, now, invoice_before=invoice, plan_before=plan if cancelled else None))
        except ChangeRejected as rejected:
            if rejected.reason not in ("stale_invoice", "stale_plan"):
                raise
            continue
        counts["invoices_voided" if voiding else "invoices_held"] += 1
        counts["plans_cancelled"] += 1 if cancelled else 0
        return
    raise ConcurrentUpdate(f"invoice {invoice_id} kept changing while contact was stopped; try again")


def _end_recurring(ledger: Ledger, clock: Clock, charge: RecurringCharge, *, actor: str) -> int:
    def ended(fresh: RecurringCharge) -> RecurringCharge | None:
        if fresh.status is RecurringStatus.ENDED:
            return None
        return replace(fresh, status=RecurringStatus.ENDED, next_action_at=None)

    return int(_change_recurring(ledger, clock, charge.id, ended, action="recurring.ended", actor=actor))


def erase_customer_once(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    once: RunOnce,
    customer_id: str,
    *,
    open_invoices: OpenInvoices,
    key: str | None,
    actor: str,
) -> Customer:
    """`erase_customer` once per (caller, Idempotency-Key): a repeat with the same key and body answers with
    the erased customer; the same key with another body is refused. Any call after the first finds the
    customer erased and answers the same."""
    fingerprint = {"customer_id": customer_id, "open_invoices": open_invoices.value}

    def work() -> dict[str, str]:
        erase_customer(ledger, gateway, clock, customer_id, open_invoices=open_invoices, actor=actor)
        return {"customer_id": customer_id}

    once(scoped_key(actor, key), fingerprint, work)
    customer = ledger.get_customer(customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}", field="customer_id")
    return customer
