"""A payment of several invoices in one Checkout Session: each invoice gets its share exactly once.

The event is checked against the combined payment recorded when the session was opened (session, amount,
currency), then applied in parts: each invoice's share is recorded as a single invoice's Checkout payment is
(checkout_payments.decide_payment, with the share's own payment id), in a transaction of its own guarded by
the payment's status moving only forward and the invoice's version, so any number of invoices fits DynamoDB's
100 items a transaction. The last part records the event and the combined payment's outcome, guarded by the
event id and that outcome moving only forward, and queues the one receipt (or failure email) listing them.

A part applied before (this event delivered again, cut short halfway, or read again by reconciliation; or
another event that took the payment as far) decides no change, so every order of events converges.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from shared.clock import Clock
from shared.domain.invoices import PaymentStatus, payment_status_moves_forward
from shared.domain.messages import CombinedPaymentFailedEmail, CombinedReceiptEmail, outgoing_email
from shared.domain.records import CombinedCheckout
from shared.services.ports import Change, Ledger
from shared.services.stripe_events.checkout_payments import Observed, decide_payment
from shared.services.stripe_events.engine import (
    Decision,
    Outcome,
    apply_once,
    apply_part,
    event_record,
    flagged,
    unchanged,
)
from shared.services.stripe_events.facts import CheckoutSessionFact, EventMeta, PaymentIntentFact, SessionState

_SESSION_STATUS: dict[SessionState, PaymentStatus | None] = {
    SessionState.ASYNC_SUCCEEDED: PaymentStatus.SUCCEEDED,
    SessionState.ASYNC_FAILED: PaymentStatus.FAILED,
    SessionState.EXPIRED: None,
}


def record_combined_session(ledger: Ledger, clock: Clock, fact: CheckoutSessionFact) -> Outcome:
    assert fact.tags.combined_ref is not None
    if fact.state is SessionState.COMPLETED:
        status: PaymentStatus | None = PaymentStatus.SUCCEEDED if fact.paid else PaymentStatus.PENDING
    else:
        status = _SESSION_STATUS[fact.state]
    failure = "async_payment_failed" if status is PaymentStatus.FAILED else None
    return _record(
        ledger, clock, fact.event, fact.tags.combined_ref, status,
        session_id=fact.session_id, payment_intent_id=fact.payment_intent_id,
        amount=fact.amount, currency=fact.currency, failure_reason=failure,
    )  # fmt: skip


def record_combined_failed_intent(ledger: Ledger, clock: Clock, fact: PaymentIntentFact) -> Outcome:
    """The combined payment's PaymentIntent failed (a declined card, a returned debit)."""
    assert fact.tags.combined_ref is not None
    return _record(
        ledger, clock, fact.event, fact.tags.combined_ref, PaymentStatus.FAILED,
        session_id=None, payment_intent_id=fact.payment_intent_id or None,
        amount=fact.amount, currency=fact.currency, failure_reason=fact.failure_reason,
    )  # fmt: skip


def _record(
    ledger: Ledger,
    clock: Clock,
    event: EventMeta,
    ref: str,
    status: PaymentStatus | None,
    *,
    session_id: str | None,
    payment_intent_id: str | None,
    amount: int | None,
    currency: str | None,
    failure_reason: str | None,
) -> Outcome:
    kept = ledger.get_stripe_event(event.id)
    if kept is not None and not kept.needs_attention:
        return Outcome.DUPLICATE_EVENT  # every part was applied: nothing to read again
    combined = ledger.get_combined_checkout(ref)
    problem = _mismatch(combined, session_id, amount, currency, paid=status is not None)
    if combined is None or problem:
        return apply_once(ledger, event, lambda: _flag(event, combined, problem, clock.now()))
    if status is None:  # expired unpaid: nothing moves
        return apply_once(ledger, event, lambda: unchanged(event, Outcome.APPLIED, clock.now(), "session expired"))
    moved = False
    problems = []
    for allocation in combined.allocations:
        seen = Observed(
            invoice_id=allocation.invoice_id,
            checkout_ref=ref,
            session_id=session_id,
            payment_key=combined.share_key(allocation.invoice_id),
            amount=allocation.amount,
            currency=combined.currency,
            status=status,
            failure_reason=failure_reason,
            combined_ref=ref,
            payment_intent_id=payment_intent_id or combined.payment_intent_id,
        )
        part = apply_part(ledger, event, lambda seen=seen: decide_payment(ledger, clock, event, seen))  # type: ignore[misc]
        moved |= part is Outcome.APPLIED
        if part is Outcome.FLAGGED:
            problems.append(allocation.invoice_id)
    settle = lambda: _settle(  # noqa: E731
        ledger, clock, event, ref, status, payment_intent_id, session_id, moved=moved, problems=problems
    )
    return apply_once(ledger, event, settle)


def _mismatch(
    combined: CombinedCheckout | None, session_id: str | None, amount: int | None, currency: str | None, *, paid: bool
) -> str:
    if combined is None:
        return "unknown combined payment"
    if session_id is not None and session_id != combined.session_id:
        return "session does not match the one recorded"
    if currency is not None and currency != combined.currency:
        return f"currency {currency} does not match {combined.currency}"
    if amount is not None and amount != combined.amount:
        return f"amount {amount} does not match {combined.amount}"
    if paid and (amount is None or currency is None):
        return "the event does not say what amount and currency were paid"
    return ""


def _flag(event: EventMeta, combined: CombinedCheckout | None, problem: str, now: datetime) -> Decision:
    """Kept for review on the first invoice's trail (or the event alone when no combined payment is known)."""
    if combined is None or not combined.allocations:
        return unchanged(event, Outcome.FLAGGED, now, problem)
    return flagged(event, combined.allocations[0].invoice_id, problem, now)


def _settle(
    ledger: Ledger,
    clock: Clock,
    event: EventMeta,
    ref: str,
    status: PaymentStatus,
    payment_intent_id: str | None,
    session_id: str | None,
    *,
    moved: bool,
    problems: list[str],
) -> Decision:
    """The event's last part: its record, the combined payment's outcome, and the one email saying it."""
    now = clock.now()
    combined = ledger.get_combined_checkout(ref)
    assert combined is not None  # read a moment ago; never deleted
    if problems:
        invoices = ", ".join(problems)
        return flagged(event, problems[0], f"shares not recorded for invoices {invoices}", now)
    before = combined.payment_status
    forward = payment_status_moves_forward(before, status)
    # a delayed payment Checkout had accepted failed (the customer left thinking it paid): told once, whichever
    # of its events says it first
    tell = (
        status is PaymentStatus.FAILED
        and not combined.failure_told
        and (session_id is not None or before is PaymentStatus.PENDING)
    )
    if not forward and not tell:
        outcome = Outcome.APPLIED if moved else Outcome.NO_CHANGE
        return unchanged(event, outcome, now, before.value if before else "")
    first = combined.allocations[0].invoice_id
    change = Change(
        stripe_event=event_record(event, Outcome.APPLIED, now),
        combined_checkout=replace(
            combined,
            payment_status=status if forward else before,
            payment_intent_id=payment_intent_id or combined.payment_intent_id,
            failure_told=combined.failure_told or tell,
            version=combined.version + 1,
        ),
    )
    if forward and status is PaymentStatus.SUCCEEDED:
        change.outbox.append(outgoing_email(CombinedReceiptEmail(first, ref, paid_at=now), now))
    if tell:
        change.outbox.append(outgoing_email(CombinedPaymentFailedEmail(first, ref), now))
    return change, Outcome.APPLIED
