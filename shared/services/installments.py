"""Installment charges settled by webhook: `payment_intent.succeeded` and `payment_intent.payment_failed`
for a PaymentIntent functions/charges created, applied exactly once like every payment.

One transaction per event, guarded four ways: the event id is new, the payment (keyed by PaymentIntent)
only moves forward, and neither the invoice nor the plan changed since they were read.
- Succeeded: the money is recorded on the invoice (receipt, events), the installment is paid, and the plan
  waits for the next one's date, or is completed.
- Failed: a soft decline is retried after 3, 5, then 7 days; a hard decline (lost or stolen card...) or the
  last failed attempt defaults the plan, and the invoice returns to normal dunning.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared.clock import Clock
from shared.domain.invoices import (
    Invoice,
    InvoiceStatus,
    PaymentStatus,
    invoice_event_detail,
    payment_status_moves_forward,
)
from shared.domain.records import (
    AuditEntry,
    Installment,
    InstallmentStatus,
    OutboxMessage,
    Payment,
    Plan,
    PlanStatus,
    StripeEventRecord,
)
from shared.services.plans import plan_event_detail, settle_installment
from shared.services.ports import Change, Ledger

if TYPE_CHECKING:
    from shared.services.payments import Outcome, StripeEvent


def is_installment_event(event: StripeEvent) -> bool:
    metadata = event.object.get("metadata") or {}
    return bool(metadata.get("plan_id")) and bool(metadata.get("installment"))


def record_installment_event(
    ledger: Ledger, clock: Clock, event: StripeEvent, *, retry_days: tuple[int, ...] = (3, 5, 7)
) -> Outcome:
    from shared.services.payments import apply_once

    return apply_once(ledger, event, lambda: _plan(ledger, clock, event, retry_days))


def _plan(ledger: Ledger, clock: Clock, event: StripeEvent, retry_days: tuple[int, ...]) -> tuple[Change, Outcome]:
    from shared.services.payments import Outcome

    now = clock.now()
    obj, metadata = event.object, event.object.get("metadata") or {}
    intent_id = str(obj.get("id") or "")
    invoice_id, plan_id = str(metadata.get("invoice_id") or ""), str(metadata["plan_id"])
    number, attempt = _int(metadata.get("installment")), _int(metadata.get("attempt"))
    context = ledger.get_payment_context(invoice_id, None, intent_id, plan_id)
    invoice, plan, current = context.invoice, context.plan, context.payment

    def record(outcome: Outcome, detail: str = "") -> StripeEventRecord:
        return StripeEventRecord(
            event_id=event.id,
            type=event.type,
            object_id=intent_id,
            outcome=outcome.value,
            received_at=now,
            detail=detail,
        )

    installment = next((i for i in plan.installments if i.number == number), None) if plan else None
    amount, currency = obj.get("amount"), str(obj.get("currency") or "").upper()
    problem = ""
    if invoice is None or plan is None or installment is None or not intent_id.startswith("pi_"):
        problem = "unknown invoice, plan or installment"
    elif amount != installment.amount or currency != plan.currency:
        problem = f"amount or currency does not match installment {number} ({installment.amount} {plan.currency})"
    if problem:
        from shared.services.payments import flagged

        return flagged(event, invoice_id, record(Outcome.FLAGGED, problem), now)
    assert invoice is not None and plan is not None and installment is not None

    status = PaymentStatus.SUCCEEDED if event.type == "payment_intent.succeeded" else PaymentStatus.FAILED
    if current is not None and not payment_status_moves_forward(current.status, status):
        return Change(stripe_event=record(Outcome.NO_CHANGE, current.status.value)), Outcome.NO_CHANGE

    error = obj.get("last_payment_error") or {}
    code, decline_code = error.get("code"), error.get("decline_code")
    payment = Payment(
        key=intent_id,
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        amount=installment.amount,
        currency=plan.currency,
        status=status,
        checkout_session_id=None,
        payment_intent_id=intent_id,
        created_at=current.created_at if current else now,
        updated_at=now,
        failure_reason=str(decline_code or code or "payment_failed")[:64] if status is PaymentStatus.FAILED else None,
    )
    change = Change(stripe_event=record(Outcome.APPLIED), payment=payment)
    payment_detail = {
        "payment_id": intent_id,
        "invoice_id": invoice.id,
        "customer_id": invoice.customer_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "status": status.value,
        "stripe_event_id": event.id,
        "plan_id": plan.id,
        "installment": number,
    }
    if status is PaymentStatus.SUCCEEDED:
        _succeeded(change, invoice, plan, installment, payment, payment_detail, now)
    else:
        _failed(
            change, invoice, plan, installment, attempt, payment, payment_detail, (code, decline_code), now, retry_days
        )
    return change, Outcome.APPLIED


def _succeeded(
    change: Change,
    invoice: Invoice,
    plan: Plan,
    installment: Installment,
    payment: Payment,
    payment_detail: dict[str, object],
    now: datetime,
) -> None:
    updated = invoice.with_payment(payment.amount)
    plan = settle_installment(plan, installment.number, payment.key)
    if plan.status is PlanStatus.COMPLETED:
        updated = replace(updated, active_plan=None)
        if updated.in_dunning:  # late fees or a change left something owing: normal dunning takes it from here
            updated = replace(updated, next_action_at=now)
    change.invoice_update = updated
    change.plan_update = plan
    change.outbox += [
        OutboxMessage(kind="event", name="payment.succeeded", data=payment_detail, created_at=now),
        OutboxMessage(
            kind="event",
            name="plan.installment_paid",
            data=plan_event_detail(plan) | {"installment": installment.number, "payment_intent_id": payment.key},
            created_at=now,
        ),
        OutboxMessage(
            kind="email",
            name="receipt",
            data={
                "invoice_id": invoice.id,
                "payment_id": payment.key,
                "amount": payment.amount,
                "paid_at": now.isoformat(),
            },
            created_at=now,
        ),
    ]
    if updated.status is not invoice.status or updated.status is InvoiceStatus.PARTIALLY_PAID:
        change.outbox.append(
            OutboxMessage(
                kind="event", name=f"invoice.{updated.status.value}", data=invoice_event_detail(updated), created_at=now
            )
        )
    if plan.status is PlanStatus.COMPLETED:
        change.outbox.append(
            OutboxMessage(kind="event", name="plan.completed", data=plan_event_detail(plan), created_at=now)
        )
    change.audit.append(
        AuditEntry(
            entity=f"INVOICE#{invoice.id}",
            action="plan.installment_paid",
            actor="stripe",
            at=now,
            details={
                "plan": plan.id,
                "installment": installment.number,
                "payment": payment.key,
                "amount": payment.amount,
                "currency": payment.currency,
            },
        )
    )


def _failed(
    change: Change,
    invoice: Invoice,
    plan: Plan,
    installment: Installment,
    attempt: int,
    payment: Payment,
    payment_detail: dict[str, object],
    error: tuple[str | None, str | None],
    now: datetime,
    retry_days: tuple[int, ...],
) -> None:
    from shared.domain.plans import DeclineKind, classify_decline, next_retry

    payment_detail["failure_reason"] = payment.failure_reason
    change.outbox.append(OutboxMessage(kind="event", name="payment.failed", data=payment_detail, created_at=now))
    is_current = (
        plan.status is PlanStatus.ACTIVE
        and installment.status is InstallmentStatus.CHARGING
        and installment.attempts == attempt
    )
    if not is_current:
        return  # an old attempt's late news: the payment is recorded, the plan has moved on
    kind = classify_decline(*error)
    days = next_retry(attempt, kind, retry_days)
    failed = replace(
        installment, status=InstallmentStatus.FAILED, payment_intent_id=payment.key, failure=payment.failure_reason
    )
    if kind is DeclineKind.AUTHENTICATION and days is None and attempt <= len(retry_days):
        # The customer must authenticate (the email asks them to pay it on Checkout); meanwhile the next
        # off-session try waits the longest retry interval.
        days = max(retry_days)
    if days is not None:
        plan = replace(_with(plan, failed), next_action_at=now + timedelta(days=days))
        defaulted = False
    else:
        plan = replace(_with(plan, failed), status=PlanStatus.DEFAULTED, next_action_at=None)
        defaulted = True
        # Back to normal dunning: the run sends the latest applicable reminder.
        change.invoice_update = replace(invoice, active_plan=None, next_action_at=now, version=invoice.version + 1)
    change.plan_update = plan
    detail = plan_event_detail(plan) | {
        "installment": installment.number,
        "attempt": attempt,
        "decline": payment.failure_reason,
        "kind": kind.value,
        "next_attempt_at": plan.next_action_at.isoformat() if plan.next_action_at else None,
    }
    change.outbox.append(OutboxMessage(kind="event", name="plan.installment_failed", data=detail, created_at=now))
    # The customer hears of it too, with a link to pay the installment (or, once defaulted, the invoice).
    email_kind = "defaulted" if defaulted else "action_required" if kind is DeclineKind.AUTHENTICATION else "retrying"
    change.outbox.append(
        OutboxMessage(
            kind="email",
            name="plan_update",
            data={
                "invoice_id": invoice.id,
                "plan_id": plan.id,
                "installment": installment.number,
                "amount": installment.amount,
                "kind": email_kind,
                "next_attempt_at": plan.next_action_at.isoformat() if plan.next_action_at else None,
            },
            created_at=now,
        )
    )
    if defaulted:
        change.outbox.append(OutboxMessage(kind="event", name="plan.defaulted", data=detail, created_at=now))
    change.audit.append(
        AuditEntry(
            entity=f"INVOICE#{invoice.id}",
            action="plan.defaulted" if defaulted else "plan.installment_failed",
            actor="stripe",
            at=now,
            details={
                "plan": plan.id,
                "installment": installment.number,
                "attempt": attempt,
                "decline": payment.failure_reason,
                "kind": kind.value,
            },
        )
    )


def _with(plan: Plan, installment: Installment) -> Plan:
    installments = tuple(installment if i.number == installment.number else i for i in plan.installments)
    return replace(plan, installments=installments, version=plan.version + 1)


def _int(raw: object) -> int:
    try:
        return int(str(raw))
    except ValueError:
        return 0
