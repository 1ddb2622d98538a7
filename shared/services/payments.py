"""Stripe events to ledger state, exactly once.

Keep what arrived (the event record), check it against what we expected when we created the session,
then apply it in one transaction guarded three ways: the event id is new, the payment's status only
moves forward, and the invoice has not changed since we read it. Any order of events converges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.clock import Clock
from shared.domain.invoices import (
    Invoice,
    InvoiceStatus,
    PaymentStatus,
    invoice_event_detail,
    payment_status_moves_forward,
)
from shared.domain.records import AuditEntry, CheckoutAttempt, OutboxMessage, Payment, PlanStatus, StripeEventRecord
from shared.services.ports import Change, ChangeRejected, Ledger

HANDLED_EVENT_TYPES = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
        "payment_intent.payment_failed",
        "payment_intent.succeeded",  # off-session installment charges (shared/services/installments.py)
    }
)
# Handled by shared/services/disputes.py (kept here, not imported, so the payment path stays light).
DISPUTE_EVENT_TYPES = frozenset({"charge.dispute.created", "charge.dispute.closed"})
MAX_ATTEMPTS = 5


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE_EVENT = "duplicate_event"
    NO_CHANGE = "no_change"  # the payment was already at this state or beyond
    FLAGGED = "flagged"  # did not match what we recorded: kept for review, balances untouched
    IGNORED = "ignored"  # not an event payportal acts on


@dataclass(frozen=True, slots=True)
class StripeEvent:
    id: str
    type: str
    created: int
    object: dict[str, Any]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> StripeEvent:
        data = payload.get("data") or {}
        obj = data.get("object") if isinstance(data, dict) else None
        if (
            not isinstance(payload.get("id"), str)
            or not isinstance(payload.get("type"), str)
            or not isinstance(obj, dict)
        ):
            raise ValueError("not a Stripe event")
        return cls(id=payload["id"], type=payload["type"], created=int(payload.get("created") or 0), object=obj)


@dataclass(frozen=True, slots=True)
class _Observed:
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


def _observe(event: StripeEvent) -> _Observed | None:
    obj = event.object
    metadata = obj.get("metadata") or {}
    invoice_id = metadata.get("invoice_id")
    if not isinstance(invoice_id, str) or not invoice_id:
        return None  # not created by payportal
    raw_currency = obj.get("currency")
    currency = raw_currency.upper() if isinstance(raw_currency, str) else None
    checkout_ref = metadata.get("checkout_ref")
    plan_id = metadata.get("plan_id") if isinstance(metadata.get("plan_id"), str) else None
    raw_installment = str(metadata.get("installment") or "")
    installment = int(raw_installment) if raw_installment.isdigit() else None
    if event.type.startswith("checkout.session.") and obj.get("mode") == "setup":
        return None  # a card saved for later (setup mode): no money moves; Stripe keeps the card
    if event.type.startswith("checkout.session."):
        status: PaymentStatus | None
        if event.type == "checkout.session.completed":
            status = PaymentStatus.SUCCEEDED if obj.get("payment_status") == "paid" else PaymentStatus.PENDING
        elif event.type == "checkout.session.async_payment_succeeded":
            status = PaymentStatus.SUCCEEDED
        elif event.type == "checkout.session.async_payment_failed":
            status = PaymentStatus.FAILED
        else:
            status = None
        intent = obj.get("payment_intent")
        intent_id = intent.get("id") if isinstance(intent, dict) else intent
        return _Observed(
            session_id=obj.get("id"),
            payment_key=intent_id or obj.get("id"),
            amount=obj.get("amount_total"),
            status=status,
            failure_reason="async_payment_failed" if status is PaymentStatus.FAILED else None,
            invoice_id=invoice_id,
            checkout_ref=checkout_ref,
            currency=currency,
            plan_id=plan_id,
            installment=installment,
        )
    # payment_intent.payment_failed
    error = obj.get("last_payment_error") or {}
    return _Observed(
        session_id=None,
        payment_key=obj.get("id"),
        amount=obj.get("amount"),
        status=PaymentStatus.FAILED,
        failure_reason=(error.get("decline_code") or error.get("code") or "payment_failed")[:64],
        invoice_id=invoice_id,
        checkout_ref=checkout_ref,
        currency=currency,
    )


def record_stripe_event(
    ledger: Ledger, clock: Clock, event: StripeEvent, *, retry_days: tuple[int, ...] = (3, 5, 7)
) -> Outcome:
    """`retry_days`: after a soft decline of an off-session charge, the days until each next attempt."""
    if event.type in DISPUTE_EVENT_TYPES:
        from shared.services.disputes import record_dispute_event

        return record_dispute_event(ledger, clock, event)
    if event.type not in HANDLED_EVENT_TYPES:
        return Outcome.IGNORED
    if event.object.get("mode") == "setup" and (event.object.get("metadata") or {}).get("purpose") == "autopay":
        from shared.services.autopay import is_autopay_setup, record_autopay_setup

        return record_autopay_setup(ledger, clock, event) if is_autopay_setup(event) else Outcome.IGNORED
    if event.type.startswith("payment_intent."):
        metadata = event.object.get("metadata") or {}
        if metadata.get("plan_id") and metadata.get("installment"):
            from shared.services.installments import record_installment_event

            return record_installment_event(ledger, clock, event, retry_days=retry_days)
        if event.type == "payment_intent.succeeded":
            return Outcome.IGNORED  # a Checkout payment: its checkout.session.* events record it
    observed = _observe(event)
    if observed is None:
        return Outcome.IGNORED
    return apply_once(ledger, event, lambda: _plan(ledger, clock, event, observed))


def apply_once(ledger: Ledger, event: StripeEvent, plan: Callable[[], tuple[Change, Outcome]]) -> Outcome:
    """Read, plan and commit one Stripe event's change; when a guard fails because something else moved
    first, read again and re-plan. A repeated event id is reported, never applied twice."""
    for _ in range(MAX_ATTEMPTS):
        change, outcome = plan()
        try:
            ledger.commit(change)
        except ChangeRejected as rejected:
            if rejected.reason == "duplicate_event":
                return Outcome.DUPLICATE_EVENT
            continue  # another event for this invoice, payment or plan won the race
        return outcome
    raise RuntimeError(f"event {event.id} kept conflicting; Stripe will retry it")


def _plan(ledger: Ledger, clock: Clock, event: StripeEvent, seen: _Observed) -> tuple[Change, Outcome]:
    now = clock.now()
    context = ledger.get_payment_context(seen.invoice_id, seen.checkout_ref, seen.payment_key, seen.plan_id)
    invoice, checkout, current = context.invoice, context.checkout, context.payment

    def record(outcome: Outcome, detail: str = "") -> StripeEventRecord:
        return StripeEventRecord(
            event_id=event.id,
            type=event.type,
            object_id=str(event.object.get("id", "")),
            outcome=outcome.value,
            received_at=now,
            detail=detail,
        )

    problem = _mismatch(seen, invoice, checkout)
    if problem:
        return flagged(event, seen.invoice_id, record(Outcome.FLAGGED, problem), now)
    assert invoice is not None and checkout is not None  # _mismatch checked both

    if seen.status is None:  # the session expired: nothing was paid, nothing moves
        return Change(stripe_event=record(Outcome.APPLIED, "session expired")), Outcome.APPLIED

    if current is not None and not payment_status_moves_forward(current.status, seen.status):
        return Change(stripe_event=record(Outcome.NO_CHANGE, current.status.value)), Outcome.NO_CHANGE

    assert seen.payment_key is not None
    amount = checkout.amount
    payment = Payment(
        key=seen.payment_key,
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        amount=amount,
        currency=invoice.currency,
        status=seen.status,
        checkout_session_id=checkout.session_id,
        payment_intent_id=seen.payment_key if seen.payment_key.startswith("pi_") else None,
        created_at=current.created_at if current else now,
        updated_at=now,
        failure_reason=seen.failure_reason if seen.status is PaymentStatus.FAILED else None,
    )
    change = Change(stripe_event=record(Outcome.APPLIED), payment=payment)
    change.audit.append(
        AuditEntry(
            entity=f"INVOICE#{invoice.id}",
            action=f"payment.{seen.status.value}",
            actor="stripe",
            at=now,
            details={
                "event_id": event.id,
                "payment": payment.key,
                "amount": amount,
                "currency": payment.currency,
            },
        )
    )
    payment_detail = {
        "payment_id": payment.key,
        "invoice_id": invoice.id,
        "customer_id": invoice.customer_id,
        "amount": amount,
        "currency": payment.currency,
        "status": payment.status.value,
        "stripe_event_id": event.id,
    }
    if seen.status is PaymentStatus.SUCCEEDED:
        updated = invoice.with_payment(amount)
        change.invoice_update = updated
        change.outbox.append(OutboxMessage(kind="event", name="payment.succeeded", data=payment_detail, created_at=now))
        became = updated.status
        if became is InvoiceStatus.PARTIALLY_PAID or (became is InvoiceStatus.PAID and invoice.status is not became):
            change.outbox.append(
                OutboxMessage(
                    kind="event",
                    name=f"invoice.{became.value}",
                    data=invoice_event_detail(updated),
                    created_at=now,
                )
            )
        change.outbox.append(
            OutboxMessage(
                kind="email",
                name="receipt",
                data={
                    "invoice_id": invoice.id,
                    "payment_id": payment.key,
                    "amount": amount,
                    "paid_at": now.isoformat(),
                },
                created_at=now,
            )
        )
        plan = context.plan
        if plan is not None and seen.installment and plan.status is PlanStatus.ACTIVE:
            # An installment that failed off-session, paid by the customer on Checkout.
            from shared.services.plans import plan_event_detail, settle_installment

            settled = settle_installment(plan, seen.installment, payment.payment_intent_id)
            change.plan_update = settled
            if settled.status is PlanStatus.COMPLETED:
                change.invoice_update = replace(
                    updated,
                    active_plan=None,
                    next_action_at=now if replace(updated, active_plan=None).in_dunning else None,
                )
                change.outbox.append(
                    OutboxMessage(kind="event", name="plan.completed", data=plan_event_detail(settled), created_at=now)
                )
            change.outbox.append(
                OutboxMessage(
                    kind="event",
                    name="plan.installment_paid",
                    data=plan_event_detail(settled)
                    | {"installment": seen.installment, "payment_intent_id": payment.payment_intent_id},
                    created_at=now,
                )
            )
        elif plan is not None and plan.status is PlanStatus.AWAITING_FIRST and plan.invoice_id == invoice.id:
            # The first installment: the plan runs from now, and pays the invoice off instead of dunning.
            from shared.services.plans import activate

            activated, announced = activate(plan, updated, payment.payment_intent_id, now)
            change.plan_update = activated
            if activated.status is PlanStatus.ACTIVE:
                change.invoice_update = replace(updated, active_plan=plan.id, next_action_at=None)
            change.outbox.extend(announced.outbox)
            change.audit.append(
                AuditEntry(
                    entity=f"INVOICE#{invoice.id}",
                    action="plan.created",
                    actor="customer",
                    at=now,
                    details={"plan": plan.id, "installments": len(plan.installments), "frequency": plan.frequency},
                )
            )
        if updated.amount_credit > invoice.amount_credit:
            change.audit.append(
                AuditEntry(
                    entity=f"INVOICE#{invoice.id}",
                    action="invoice.overpaid",
                    actor="stripe",
                    at=now,
                    details={"credit": updated.amount_credit, "currency": invoice.currency},
                )
            )
    elif seen.status is PaymentStatus.FAILED:
        payment_detail["failure_reason"] = payment.failure_reason
        change.outbox.append(OutboxMessage(kind="event", name="payment.failed", data=payment_detail, created_at=now))
    return change, Outcome.APPLIED


def flagged(event: StripeEvent, invoice_id: str, record: StripeEventRecord, now: datetime) -> tuple[Change, Outcome]:
    """An event that does not match what we recorded: kept, with an audit entry for review; nothing moves."""
    audit = AuditEntry(
        entity=f"INVOICE#{invoice_id}",
        action="stripe_event.flagged",
        actor="stripe",
        at=now,
        details={"event_id": event.id, "type": event.type, "reason": record.detail},
    )
    return Change(stripe_event=record, audit=[audit]), Outcome.FLAGGED


def _mismatch(seen: _Observed, invoice: Invoice | None, checkout: CheckoutAttempt | None) -> str:
    if invoice is None:
        return "unknown invoice"
    if checkout is None:
        return "no checkout session recorded for this reference"
    if seen.session_id is not None and seen.session_id != checkout.session_id:
        return "session does not match the one recorded"
    if seen.currency is not None and seen.currency != checkout.currency:
        return f"currency {seen.currency} does not match {checkout.currency}"
    if seen.amount is not None and seen.amount != checkout.amount:
        return f"amount {seen.amount} does not match {checkout.amount}"
    return ""
