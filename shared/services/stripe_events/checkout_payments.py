"""Payments taken on Checkout: a session completed, its bank debit succeeded or failed, it expired, or its
PaymentIntent failed.

What the event says is checked against the session we recorded when we created it (invoice, session,
amount, currency), then applied in one transaction guarded three ways: the event id is new, the payment's
status only moves forward, and the invoice has not changed since we read it. Any order of events converges.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shared.clock import Clock
from shared.domain.invoices import (
    PAYMENT_STATUS_RANK,
    Invoice,
    InvoiceStatus,
    PaymentStatus,
    invoice_event_detail,
    payment_status_moves_forward,
)
from shared.domain.messages import (
    EventName,
    PaymentFailedEmail,
    ReceiptEmail,
    invoice_paid_event,
    outgoing_email,
    outgoing_event,
    payment_event_detail,
)
from shared.domain.plan_lifecycle import activate, plan_event_detail, settle_installment
from shared.domain.records import (
    AuditEntry,
    AuditSubject,
    CheckoutAttempt,
    OpenCheckout,
    Payment,
    Plan,
    PlanStatus,
)
from shared.services import reminder_report
from shared.services.aggregates import tallied
from shared.services.ports import Change, Ledger
from shared.services.stripe_events.engine import Decision, Outcome, apply_once, event_record, flagged, unchanged
from shared.services.stripe_events.facts import CheckoutSessionFact, EventMeta, PaymentIntentFact, SessionState
from shared.services.stripe_events.overpayment import note_overpayment

_SESSION_STATUS: dict[SessionState, PaymentStatus | None] = {
    SessionState.ASYNC_SUCCEEDED: PaymentStatus.SUCCEEDED,
    SessionState.ASYNC_FAILED: PaymentStatus.FAILED,
    SessionState.EXPIRED: None,  # nothing was paid, nothing moves
}


@dataclass(frozen=True, slots=True)
class Observed:
    """What one event says about one payment."""

    invoice_id: str
    checkout_ref: str | None
    session_id: str | None
    payment_key: str | None
    amount: int | None
    currency: str | None
    status: PaymentStatus | None  # None: the event moves no payment (an expired session)
    failure_reason: str | None = None
    plan_id: str | None = None  # the first installment of this installment plan, or the one in `installment`
    installment: int | None = None  # an installment the customer paid on Checkout after it failed off-session
    # One invoice's share of a combined payment (its ref): its receipt and failure emails are the combined
    # payment's, one for every share; `payment_key` is the share's and `payment_intent_id` the shared one
    combined_ref: str = ""
    payment_intent_id: str | None = None


def record_session(ledger: Ledger, clock: Clock, fact: CheckoutSessionFact) -> Outcome:
    if not fact.tags.invoice_id:
        return Outcome.IGNORED  # not created by payportal
    if fact.state is SessionState.COMPLETED:
        status: PaymentStatus | None = PaymentStatus.SUCCEEDED if fact.paid else PaymentStatus.PENDING
    else:
        status = _SESSION_STATUS[fact.state]
    seen = Observed(
        invoice_id=fact.tags.invoice_id,
        checkout_ref=fact.tags.checkout_ref,
        session_id=fact.session_id,
        payment_key=fact.payment_intent_id or fact.session_id,
        amount=fact.amount,
        currency=fact.currency,
        status=status,
        failure_reason="async_payment_failed" if status is PaymentStatus.FAILED else None,
        plan_id=fact.tags.plan_id,
        installment=fact.tags.installment,
    )
    return apply_once(ledger, fact.event, lambda: decide_payment(ledger, clock, fact.event, seen))


def record_failed_intent(ledger: Ledger, clock: Clock, fact: PaymentIntentFact) -> Outcome:
    """A Checkout payment's PaymentIntent failed (a declined card, a returned debit)."""
    if not fact.tags.invoice_id:
        return Outcome.IGNORED
    seen = Observed(
        invoice_id=fact.tags.invoice_id,
        checkout_ref=fact.tags.checkout_ref,
        session_id=None,
        payment_key=fact.payment_intent_id or None,
        amount=fact.amount,
        currency=fact.currency,
        status=PaymentStatus.FAILED,
        failure_reason=fact.failure_reason,
    )
    return apply_once(ledger, fact.event, lambda: decide_payment(ledger, clock, fact.event, seen))


def decide_payment(ledger: Ledger, clock: Clock, event: EventMeta, seen: Observed) -> Decision:
    now = clock.now()
    context = ledger.get_payment_context(seen.invoice_id, seen.checkout_ref, seen.payment_key, seen.plan_id)
    invoice, checkout, current = context.invoice, context.checkout, context.payment
    if invoice is None or checkout is None:
        problem = "unknown invoice" if invoice is None else "no checkout session recorded for this reference"
        return flagged(event, seen.invoice_id, problem, now)
    paid = seen.status in (PaymentStatus.SUCCEEDED, PaymentStatus.PENDING)
    problem = _mismatch(seen, checkout)
    if not problem and paid and (seen.amount is None or seen.currency is None):
        problem = "the event does not say what amount and currency were paid"
    if problem:
        return flagged(event, seen.invoice_id, problem, now)
    slot = context.open_checkout
    if paid and slot is not None and slot.supersedes(checkout):
        # Replaced by a newer session, so expired at Stripe, yet paid: Stripe cannot do that; review it.
        return flagged(event, seen.invoice_id, "paid on a Checkout Session that was expired or replaced", now)
    closed = None  # the session can no longer be paid: the invoice has no payable session now
    if seen.session_id is not None and slot is not None and slot.current and slot.current.ref == checkout.ref:
        closed = replace(slot, version=slot.version + 1, current=None, identity="")
    if seen.status is None:
        change = Change(stripe_event=event_record(event, Outcome.APPLIED, now, "session expired"), open_checkout=closed)
        return change, Outcome.APPLIED
    if current is not None and not payment_status_moves_forward(current.status, seen.status):
        return _session_catches_up(event, seen, checkout, closed, current.status, now)

    assert seen.payment_key is not None
    payment = Payment(
        key=seen.payment_key,
        invoice_id=invoice.id,
        invoice_number=invoice.number,
        customer_id=invoice.customer_id,
        amount=checkout.amount,
        currency=invoice.currency,
        status=seen.status,
        checkout_session_id=checkout.session_id,
        payment_intent_id=seen.payment_intent_id
        if seen.combined_ref
        else seen.payment_key
        if seen.payment_key.startswith("pi_")
        else None,
        created_at=current.created_at if current else now,
        updated_at=now,
        failure_reason=seen.failure_reason if seen.status is PaymentStatus.FAILED else None,
        reminder=checkout.reminder,  # the reminder whose link opened the session, if one did
        combined_ref=seen.combined_ref,
    )
    change = Change(stripe_event=event_record(event, Outcome.APPLIED, now), payment=payment, open_checkout=closed)
    if seen.session_id is not None:  # the session's own outcome, read with the invoice by the return page
        change.checkout = replace(checkout, payment_status=seen.status)
    change.audit.append(
        AuditEntry(
            subject=AuditSubject.INVOICE,
            subject_id=invoice.id,
            action=f"payment.{seen.status.value}",
            actor="stripe",
            at=now,
            details={
                "event_id": event.id,
                "payment": payment.key,
                "amount": payment.amount,
                "currency": payment.currency,
            }
            | ({"reminder": payment.reminder.details()} if payment.reminder else {}),
        )
    )
    payment_detail = payment_event_detail(payment, event.id)
    if seen.status is PaymentStatus.SUCCEEDED:
        _succeeded(change, invoice, context.plan, payment, payment_detail, seen.installment, now)
        assert change.invoice_update is not None
        change.tallies += reminder_report.payment_succeeded(payment, change.invoice_update)
    elif seen.status is PaymentStatus.FAILED:
        change.outbox.append(outgoing_event(EventName.PAYMENT_FAILED, payment_detail, now))
        if seen.session_id is not None and not seen.combined_ref:
            # a delayed payment Checkout had accepted: the customer left thinking it paid
            change.outbox.append(outgoing_email(PaymentFailedEmail(invoice.id, payment.key, payment.amount), now))
    return tallied(change, now, invoice_before=invoice, plan_before=context.plan), Outcome.APPLIED


def _session_catches_up(
    event: EventMeta,
    seen: Observed,
    checkout: CheckoutAttempt,
    closed: OpenCheckout | None,
    payment_status: PaymentStatus,
    now: datetime,
) -> Decision:
    """The payment is already at this state or beyond (its PaymentIntent's event came first), so no money
    moves; but a session's own event still closes the session and records its outcome for the return page,
    as it would have in Stripe's order (a bank debit's payment_intent.payment_failed before the session's
    completed and async_payment_failed left the session `pending` and payable, and the customer untold)."""
    assert seen.status is not None
    session_behind = seen.session_id is not None and (
        checkout.payment_status is None
        or PAYMENT_STATUS_RANK[checkout.payment_status] < PAYMENT_STATUS_RANK[seen.status]
    )
    if closed is None and not session_behind:
        return unchanged(event, Outcome.NO_CHANGE, now, payment_status.value)
    change = Change(
        stripe_event=event_record(event, Outcome.NO_CHANGE, now, payment_status.value),
        checkout=replace(checkout, payment_status=seen.status) if session_behind else None,
        open_checkout=closed,
    )
    told_here = seen.payment_key is not None and not seen.combined_ref  # a combined payment tells it once for all
    if session_behind and seen.status is PaymentStatus.FAILED and told_here:
        # The debit Checkout had accepted failed: the customer is told once, whichever event said it first.
        change.outbox.append(
            outgoing_email(PaymentFailedEmail(seen.invoice_id, str(seen.payment_key), checkout.amount), now)
        )
    return change, Outcome.NO_CHANGE


def _succeeded(
    change: Change,
    invoice: Invoice,
    plan: Plan | None,
    payment: Payment,
    payment_detail: dict[str, object],
    installment: int | None,
    now: datetime,
) -> None:
    updated = invoice.with_payment(payment.amount)
    change.invoice_update = updated
    change.outbox.append(outgoing_event(EventName.PAYMENT_SUCCEEDED, payment_detail, now))
    became = updated.status
    if became is InvoiceStatus.PARTIALLY_PAID or (became is InvoiceStatus.PAID and invoice.status is not became):
        change.outbox.append(outgoing_event(invoice_paid_event(became), invoice_event_detail(updated), now))
    if not payment.combined_ref:  # a combined payment's one receipt lists every share (combined_payments.py)
        change.outbox.append(outgoing_email(ReceiptEmail(invoice.id, payment.key, payment.amount, paid_at=now), now))
    if plan is not None and installment and plan.status is PlanStatus.ACTIVE:
        # An installment that failed off-session, paid by the customer on Checkout.
        settled = settle_installment(plan, installment, payment.payment_intent_id)
        change.plan_update = settled
        if settled.status is PlanStatus.COMPLETED:
            done = replace(updated, active_plan=None)
            change.invoice_update = replace(done, next_action_at=now if done.in_dunning else None)
            change.outbox.append(outgoing_event(EventName.PLAN_COMPLETED, plan_event_detail(settled), now))
        change.outbox.append(
            outgoing_event(
                EventName.PLAN_INSTALLMENT_PAID,
                plan_event_detail(settled)
                | {"installment": installment, "payment_intent_id": payment.payment_intent_id},
                now,
            )
        )
    elif plan is not None and plan.status is PlanStatus.AWAITING_FIRST and plan.invoice_id == invoice.id:
        # The first installment: the plan runs from now, and pays the invoice off instead of dunning.
        activated, announced = activate(plan, updated, payment.payment_intent_id, now)
        change.plan_update = activated
        if activated.status is PlanStatus.ACTIVE:
            change.invoice_update = replace(updated, active_plan=plan.id, next_action_at=None)
        change.outbox.extend(announced)
        change.audit.append(
            AuditEntry(
                subject=AuditSubject.INVOICE,
                subject_id=invoice.id,
                action="plan.created",
                actor="customer",
                at=now,
                details={"plan": plan.id, "installments": len(plan.installments), "frequency": plan.frequency},
            )
        )
    note_overpayment(change, invoice, updated, payment.key, now)


def _mismatch(seen: Observed, checkout: CheckoutAttempt) -> str:
    if seen.session_id is not None and seen.session_id != checkout.session_id:
        return "session does not match the one recorded"
    if seen.currency is not None and seen.currency != checkout.currency:
        return f"currency {seen.currency} does not match {checkout.currency}"
    if seen.amount is not None and seen.amount != checkout.amount:
        return f"amount {seen.amount} does not match {checkout.amount}"
    return ""
