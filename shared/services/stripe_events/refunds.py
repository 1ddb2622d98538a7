"""Refunds, exactly once, in any order, whether payportal or the Stripe dashboard made them.

Each refund is kept on the payment it refunds, with its status on a ladder (pending, succeeded, then
failed or canceled) that only moves up. A pending or succeeded refund counts as refunded, as Stripe's
charge counts it in `amount_refunded`; one that fails or is canceled stops counting. The invoice moves by
exactly what a refund's step changes in that count, so however Stripe's `refund.*` and `charge.refunded`
events are ordered or repeated, the payment ends with Stripe's `amount_refunded`.

A refund of a payment we still have as pending or failed arrived before the event that says it succeeded:
it is not kept (`Outcome.RETRY_LATER`), and applies when Stripe delivers it again.

One transaction per event, guarded three ways: the event id is new, the payment's refunds are the version
read (`refund_version`), and the invoice has not changed since it was read.

A refund is a credit by default: the invoice stays settled for what remains. One made with
`reopen_balance` (its metadata says so) makes the refunded amount owed again, and dunning resumes.
A refund pauses nothing; a failed one is announced (`refund.failed`) for the operator.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shared.clock import Clock
from shared.domain.invoices import Invoice, PaymentStatus
from shared.domain.messages import EventName, RefundEmail, outgoing_email, outgoing_event
from shared.domain.records import REFUND_STATUS_RANK, AuditEntry, AuditSubject, Payment, Refund, RefundStatus
from shared.services.aggregates import tallied
from shared.services.ports import Change, Ledger
from shared.services.stripe_events.engine import (
    Decision,
    Outcome,
    apply_once,
    event_record,
    flagged,
    not_yet,
    unchanged,
)
from shared.services.stripe_events.facts import RefundFact, RefundSeen


@dataclass(frozen=True, slots=True)
class RefundsPlan:
    """What refunds seen on a payment change, or why they cannot be applied."""

    change: Change | None = None  # None with no problem: every refund was already at that state or beyond
    problem: str = ""


def record_refunds(ledger: Ledger, clock: Clock, fact: RefundFact) -> Outcome:
    invoice_id = ledger.invoice_for_payment_intent(fact.payment_intent_id)
    if invoice_id is None:
        return Outcome.IGNORED  # a payment payportal did not take, or one of several invoices (the router's)
    return apply_once(ledger, fact.event, lambda: _decide(ledger, clock, fact, invoice_id))


def _decide(ledger: Ledger, clock: Clock, fact: RefundFact, invoice_id: str) -> Decision:
    now = clock.now()
    context = ledger.get_payment_context(invoice_id, None, fact.payment_intent_id)
    if not fact.refunds:
        # charge.refunded without its refunds listed (API 2022-11-15 and later): refund.* events carry them.
        return unchanged(fact.event, Outcome.NO_CHANGE, now, "refunds not listed on the charge")
    if context.payment is not None and context.payment.status is not PaymentStatus.SUCCEEDED:
        # Stripe refunds only money it received: the payment's success (a bank debit's, or a card's after a
        # declined attempt) was sent first and is still on its way. Flagged, the refund would be lost.
        return not_yet()
    planned = plan_refunds(context.invoice, context.payment, fact.refunds, now, actor="stripe", cause=fact.event.id)
    if planned.problem:
        return flagged(fact.event, invoice_id, planned.problem, now)
    if planned.change is None:
        return unchanged(fact.event, Outcome.NO_CHANGE, now, "refunds already at this state")
    planned.change.stripe_event = event_record(fact.event, Outcome.APPLIED, now)
    return planned.change, Outcome.APPLIED


def plan_refunds(
    invoice: Invoice | None,
    payment: Payment | None,
    seen: tuple[RefundSeen, ...],
    now: datetime,
    *,
    actor: str,
    cause: str,
) -> RefundsPlan:
    """The change refunds seen on `payment` make (the webhook's, and the operator's as Stripe answered)."""
    if invoice is None or payment is None:
        return RefundsPlan(problem="refund of a payment not recorded")
    if payment.status is not PaymentStatus.SUCCEEDED:
        return RefundsPlan(problem=f"refund of a payment that is {payment.status.value}")
    refunds = {r.id: r for r in payment.refunds}
    steps: list[tuple[Refund | None, Refund]] = []
    refunded = reopened = 0
    for one in seen:
        before = refunds.get(one.refund_id)
        if one.currency != payment.currency or one.amount is None or one.amount <= 0:
            return RefundsPlan(problem=f"refund {one.refund_id}: amount or currency does not match {payment.currency}")
        if before is not None and before.amount != one.amount:
            return RefundsPlan(problem=f"refund {one.refund_id}: amount {one.amount} does not match {before.amount}")
        if before is not None and REFUND_STATUS_RANK[one.status] <= REFUND_STATUS_RANK[before.status]:
            continue  # already at this state or beyond: a late or repeated event
        after = Refund(
            id=one.refund_id,
            amount=one.amount,
            status=one.status,
            reopens_balance=before.reopens_balance if before else one.reopens_balance,
            reason=one.reason or (before.reason if before else ""),
            updated_at=now,
            request_ref=before.request_ref if before else one.request_ref,
            # booked once: a refund kept before created_at was has been booked on its last change (the returns
            # list's backfill and booked_at say so), and keeps that day
            created_at=(before.created_at or before.updated_at) if before else now,
        )
        refunds[after.id] = after
        delta = after.amount * (int(after.counts) - int(before is not None and before.counts))
        refunded += delta
        reopened += delta if after.reopens_balance else 0
        steps.append((before, after))
    if not steps:
        return RefundsPlan()
    moved = replace(payment, refunds=tuple(refunds.values()), refund_version=payment.refund_version + 1, updated_at=now)
    if moved.amount_refunded > payment.amount:
        return RefundsPlan(problem=f"refunds of {moved.amount_refunded} exceed the payment of {payment.amount}")
    change = Change(payment_refunds=moved)
    updated = invoice.with_refunds(refunded, reopened, now) if refunded or reopened else invoice
    if updated is not invoice:
        change.invoice_update = updated
    for before, after in steps:
        _announce(change, updated, moved, before, after, now, actor=actor, cause=cause)
    return RefundsPlan(change=tallied(change, now, invoice_before=invoice))


def _announce(
    change: Change,
    invoice: Invoice,
    payment: Payment,
    before: Refund | None,
    after: Refund,
    now: datetime,
    *,
    actor: str,
    cause: str,
) -> None:
    detail = refund_event_detail(invoice, payment, after, cause)
    if after.counts and (before is None or not before.counts):
        change.outbox.append(outgoing_event(EventName.PAYMENT_REFUNDED, detail, now))
        change.outbox.append(outgoing_email(RefundEmail(invoice.id, payment.key, after.id, after.amount), now))
    elif after.status in (RefundStatus.FAILED, RefundStatus.CANCELED):
        change.outbox.append(outgoing_event(EventName.REFUND_FAILED, detail, now))
    change.audit.append(
        AuditEntry(
            subject=AuditSubject.INVOICE,
            subject_id=invoice.id,
            action=f"refund.{after.status.value}",
            actor=actor,
            at=now,
            details={
                "cause": cause,
                "payment": payment.key,
                "refund": after.id,
                "amount": after.amount,
                "currency": payment.currency,
                "from": before.status.value if before else None,
                "reopens_balance": after.reopens_balance,
            },
        )
    )


def refund_event_detail(invoice: Invoice, payment: Payment, refund: Refund, cause: str) -> dict[str, object]:
    """The detail of `payment.refunded` and `refund.failed` (docs/events.md)."""
    return {
        "payment_id": payment.key,
        "invoice_id": invoice.id,
        "customer_id": invoice.customer_id,
        "refund_id": refund.id,
        "amount": refund.amount,
        "currency": payment.currency,
        "status": refund.status.value,
        "reopens_balance": refund.reopens_balance,
        "payment_amount_refunded": payment.amount_refunded,
        "payment_status": payment.state,
        "invoice_status": invoice.status.value,
        "invoice_amount_remaining": invoice.amount_remaining,
        "cause": cause,
    }
