"""Installment and autopay charges settled by webhook: `payment_intent.succeeded` and
`payment_intent.payment_failed` for a PaymentIntent functions/charges created, applied exactly once like
every payment.

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

from shared.clock import Clock
from shared.domain.declines import DEFAULT_RETRY_DAYS, DeclineKind, classify_decline, next_retry
from shared.domain.invoices import (
    Invoice,
    InvoiceStatus,
    PaymentStatus,
    invoice_event_detail,
    payment_status_moves_forward,
)
from shared.domain.messages import (
    EventName,
    PlanNews,
    PlanUpdateEmail,
    ReceiptEmail,
    invoice_paid_event,
    outgoing_email,
    outgoing_event,
    payment_event_detail,
)
from shared.domain.plan_lifecycle import plan_event_detail, settle_installment, with_installment
from shared.domain.records import AuditEntry, AuditSubject, Installment, InstallmentStatus, Payment, Plan, PlanStatus
from shared.services.ports import Change, Ledger
from shared.services.stripe_events.engine import Decision, Outcome, apply_once, event_record, flagged, unchanged
from shared.services.stripe_events.facts import PaymentIntentFact
from shared.services.stripe_events.overpayment import note_overpayment


def record_charge(
    ledger: Ledger, clock: Clock, fact: PaymentIntentFact, *, retry_days: tuple[int, ...] = DEFAULT_RETRY_DAYS
) -> Outcome:
    """`retry_days`: after a soft decline, the days until each next attempt."""
    return apply_once(ledger, fact.event, lambda: _decide(ledger, clock, fact, retry_days))


def _decide(ledger: Ledger, clock: Clock, fact: PaymentIntentFact, retry_days: tuple[int, ...]) -> Decision:
    now = clock.now()
    event, intent_id = fact.event, fact.payment_intent_id
    invoice_id, plan_id = fact.tags.invoice_id or "", fact.tags.plan_id or ""
    number, attempt = fact.tags.installment or 0, fact.tags.attempt or 0
    context = ledger.get_payment_context(invoice_id, None, intent_id, plan_id)
    invoice, plan, current = context.invoice, context.plan, context.payment

    installment = next((i for i in plan.installments if i.number == number), None) if plan else None
    if invoice is None or plan is None or installment is None or not intent_id.startswith("pi_"):
        return flagged(event, invoice_id, "unknown invoice, plan or installment", now)
    if fact.amount != installment.amount or fact.currency != plan.currency:
        problem = f"amount or currency does not match installment {number} ({installment.amount} {plan.currency})"
        return flagged(event, invoice_id, problem, now)

    status = PaymentStatus.SUCCEEDED if fact.succeeded else PaymentStatus.FAILED
    if current is not None and not payment_status_moves_forward(current.status, status):
        return unchanged(event, Outcome.NO_CHANGE, now, current.status.value)

    payment = Payment(
        key=intent_id,
        invoice_id=invoice.id,
        invoice_number=invoice.number,
        customer_id=invoice.customer_id,
        amount=installment.amount,
        currency=plan.currency,
        status=status,
        checkout_session_id=None,
        payment_intent_id=intent_id,
        created_at=current.created_at if current else now,
        updated_at=now,
        failure_reason=fact.failure_reason if status is PaymentStatus.FAILED else None,
    )
    change = Change(stripe_event=event_record(event, Outcome.APPLIED, now), payment=payment)
    payment_detail = payment_event_detail(payment, event.id) | {"plan_id": plan.id, "installment": number}
    if status is PaymentStatus.SUCCEEDED:
        _succeeded(change, invoice, plan, installment, payment, payment_detail, now)
    else:
        error = (fact.error_code, fact.decline_code)
        _failed(change, invoice, plan, installment, attempt, payment, payment_detail, error, now, retry_days)
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
        outgoing_event(EventName.PAYMENT_SUCCEEDED, payment_detail, now),
        outgoing_event(
            EventName.PLAN_INSTALLMENT_PAID,
            plan_event_detail(plan) | {"installment": installment.number, "payment_intent_id": payment.key},
            now,
        ),
        outgoing_email(ReceiptEmail(invoice.id, payment.key, payment.amount, paid_at=now), now),
    ]
    if updated.status is not invoice.status or updated.status is InvoiceStatus.PARTIALLY_PAID:
        change.outbox.append(outgoing_event(invoice_paid_event(updated.status), invoice_event_detail(updated), now))
    if plan.status is PlanStatus.COMPLETED:
        change.outbox.append(outgoing_event(EventName.PLAN_COMPLETED, plan_event_detail(plan), now))
    note_overpayment(change, invoice, updated, payment.key, now)
    change.audit.append(
        AuditEntry(
            subject=AuditSubject.INVOICE,
            subject_id=invoice.id,
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
    change.outbox.append(outgoing_event(EventName.PAYMENT_FAILED, payment_detail, now))
    is_current = (
        plan.status is PlanStatus.ACTIVE
        and installment.status is InstallmentStatus.CHARGING
        and installment.attempts == attempt
    )
    if not is_current:  # an old attempt's late news: the payment is recorded, the plan has moved on
        change.audit.append(
            AuditEntry(
                subject=AuditSubject.INVOICE,
                subject_id=invoice.id,
                action="payment.failed",
                actor="stripe",
                at=now,
                details={"payment": payment.key, "plan": plan.id, "installment": installment.number,
                         "attempt": attempt, "decline": payment.failure_reason, "plan_moved_on": True},
            )
        )  # fmt: skip
        return
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
        plan = replace(with_installment(plan, failed), next_action_at=now + timedelta(days=days))
        defaulted = False
    else:
        plan = replace(with_installment(plan, failed), status=PlanStatus.DEFAULTED, next_action_at=None)
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
    change.outbox.append(outgoing_event(EventName.PLAN_INSTALLMENT_FAILED, detail, now))
    # The customer hears of it too, with a link to pay the installment (or, once defaulted, the invoice).
    if defaulted:
        news = PlanNews.DEFAULTED
    else:
        news = PlanNews.ACTION_REQUIRED if kind is DeclineKind.AUTHENTICATION else PlanNews.RETRYING
    update = PlanUpdateEmail(
        invoice_id=invoice.id,
        plan_id=plan.id,
        installment=installment.number,
        amount=installment.amount,
        news=news,
        next_attempt_at=plan.next_action_at,
    )
    change.outbox.append(outgoing_email(update, now))
    if defaulted:
        change.outbox.append(outgoing_event(EventName.PLAN_DEFAULTED, detail, now))
    change.audit.append(
        AuditEntry(
            subject=AuditSubject.INVOICE,
            subject_id=invoice.id,
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
