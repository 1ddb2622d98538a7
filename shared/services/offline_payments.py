"""Money received outside Stripe (a cheque, a bank transfer, cash), recorded by the operator and applied like
any payment; and its reversal when it comes back (a bounced cheque).

A recorded payment is a `Payment` with an `OfflineReceipt`, its id derived from the caller and the
Idempotency-Key (`off_...`), so a retry after a lost reply finds it instead of recording it twice. It moves
the invoice as a Stripe payment does (`Invoice.with_payment`): a receipt naming how it was paid, the
invoice's events, dunning stopped once settled, and money beyond what was owed kept as credit
(`note_overpayment`). A Checkout Session still open for the old remainder is expired, so the customer is
not asked to pay it again.

A reversal takes the amount back off the invoice (`Invoice.with_payment_reversed`): it is owed again,
dunning resumes from now, the customer is told and `payment.reversed` goes on the bus. Only offline
payments are reversed; a Stripe payment is refunded (`shared.services.refunds`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from shared.clock import Clock
from shared.domain.errors import (
    InvalidDate,
    InvalidStateTransition,
    NotFound,
    PaymentAlreadyReversed,
    PaymentNotOffline,
)
from shared.domain.invoices import Invoice, InvoiceStatus, PaymentStatus, invoice_event_detail
from shared.domain.local_time import local_date
from shared.domain.messages import (
    EventName,
    PaymentReversedEmail,
    ReceiptEmail,
    invoice_paid_event,
    outgoing_email,
    outgoing_event,
)
from shared.domain.records import AuditEntry, AuditSubject, OfflineMethod, OfflineReceipt, Payment
from shared.domain.stripe_amounts import check_chargeable
from shared.services.aggregates import tallied
from shared.services.corrections import close_open_checkout, commit_planned
from shared.services.dunning_policy import current_policy
from shared.services.gateway import PaymentGateway
from shared.services.invoices import get_invoice, next_dunning_action
from shared.services.once import entity_id, scoped_key
from shared.services.ports import Change, Ledger, RunOnce
from shared.services.stripe_events.overpayment import note_overpayment

MAX_PAYMENT_ID = 255  # Stripe's ids and ours are far shorter; a longer key would be a DynamoDB error


@dataclass(frozen=True, slots=True)
class OfflinePaymentAsk:
    amount: int
    method: OfflineMethod
    reference: str
    received_on: date


@dataclass(frozen=True, slots=True)
class OfflinePaymentMade:
    invoice: Invoice
    payment: Payment


def record_offline_payment_once(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    once: RunOnce,
    invoice_id: str,
    ask: OfflinePaymentAsk,
    *,
    key: str | None,
    fingerprint: dict[str, Any],
    actor: str,
) -> OfflinePaymentMade:
    scoped = scoped_key(actor, key)
    payment_id = entity_id("off", scoped)

    def work() -> dict[str, str]:
        commit_planned(ledger, lambda: _record(ledger, gateway, clock, invoice_id, payment_id, ask, actor))
        return {"invoice_id": invoice_id, "payment_id": payment_id}

    done = once(scoped, fingerprint | {"invoice_id": invoice_id}, work)
    return _offline_payment(ledger, done["payment_id"], invoice_id=done["invoice_id"])


def _record(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    invoice_id: str,
    payment_id: str,
    ask: OfflinePaymentAsk,
    actor: str,
) -> tuple[None, Change | None]:
    invoice = get_invoice(ledger, invoice_id)
    if ledger.get_payment_context(invoice_id, None, payment_id).payment is not None:
        return None, None  # an earlier attempt with this key committed; its reply was lost
    if invoice.status is InvoiceStatus.VOID:
        raise InvalidStateTransition(f"invoice {invoice.number} is void: record the money on another invoice")
    if invoice.active_plan is not None:
        raise InvalidStateTransition(
            f"an installment plan or autopay pays invoice {invoice.number} off: its charges would take this again"
        )
    now = clock.now()
    if ask.received_on > local_date(now, invoice.customer_timezone):
        raise InvalidDate("received_on is in the future", field="received_on")
    # What remains must stay chargeable at Stripe, so the rest can still be paid online.
    check_chargeable(ask.amount, invoice.currency, field="amount")
    payment = Payment(
        key=payment_id,
        invoice_id=invoice.id,
        invoice_number=invoice.number,
        customer_id=invoice.customer_id,
        amount=ask.amount,
        currency=invoice.currency,
        status=PaymentStatus.SUCCEEDED,
        checkout_session_id=None,
        payment_intent_id=None,
        created_at=now,
        updated_at=now,
        offline=OfflineReceipt(method=ask.method, reference=ask.reference, received_on=ask.received_on),
    )
    updated = invoice.with_payment(ask.amount)
    change = Change(payment=payment, invoice_update=updated)
    change.open_checkout = close_open_checkout(ledger, gateway, invoice.id, now, completed_blocks=False)
    detail = offline_event_detail(updated, payment)
    change.outbox.append(outgoing_event(EventName.INVOICE_PAYMENT_RECORDED, detail, now))
    became = updated.status
    if became is InvoiceStatus.PARTIALLY_PAID or (became is InvoiceStatus.PAID and invoice.status is not became):
        change.outbox.append(outgoing_event(invoice_paid_event(became), invoice_event_detail(updated), now))
    change.outbox.append(outgoing_email(ReceiptEmail(invoice.id, payment.key, payment.amount, paid_at=now), now))
    extra = {"method": ask.method.value, "reference": ask.reference, "received_on": ask.received_on.isoformat()}
    change.audit.append(_audit("payment.recorded", invoice, updated, payment, actor, now, extra))
    note_overpayment(change, invoice, updated, payment.key, now, actor=f"operator:{actor}")
    return None, tallied(change, now, invoice_before=invoice)


def offline_event_detail(invoice: Invoice, payment: Payment) -> dict[str, Any]:
    """`invoice.payment_recorded` and `payment.reversed` (docs/events.md). The operator's reference stays out:
    free text (a transfer's reference often names the payer) stays in the audit trail, as events carry none."""
    assert payment.offline is not None
    detail = invoice_event_detail(invoice) | {
        "payment_id": payment.key,
        "amount": payment.amount,
        "method": payment.offline.method.value,
        "received_on": payment.offline.received_on.isoformat(),
    }
    if payment.offline.reversed_at is not None:
        detail["reversed_at"] = payment.offline.reversed_at.isoformat()
    return detail


# ----- reversal --------------------------------------------------------------------------------------------


def reverse_offline_payment_once(
    ledger: Ledger,
    clock: Clock,
    once: RunOnce,
    payment_id: str,
    reason: str,
    *,
    key: str | None,
    fingerprint: dict[str, Any],
    actor: str,
) -> OfflinePaymentMade:
    scoped = scoped_key(actor, key)
    ref = entity_id("rev", scoped)

    def work() -> dict[str, str]:
        made = _offline_payment(ledger, payment_id)
        commit_planned(ledger, lambda: _reverse(ledger, clock, made.invoice.id, payment_id, reason, ref, actor))
        return {"invoice_id": made.invoice.id, "payment_id": payment_id}

    done = once(scoped, fingerprint | {"payment_id": payment_id}, work)
    return _offline_payment(ledger, done["payment_id"], invoice_id=done["invoice_id"])


def _reverse(
    ledger: Ledger, clock: Clock, invoice_id: str, payment_id: str, reason: str, ref: str, actor: str
) -> tuple[None, Change | None]:
    context = ledger.get_payment_context(invoice_id, None, payment_id)
    invoice, payment = context.invoice, context.payment
    if invoice is None or payment is None or payment.offline is None:
        raise NotFound(f"no payment {payment_id}", field="payment_id")
    if payment.offline.reversed_at is not None:
        if payment.offline.reversal_ref == ref:
            return None, None  # this request's own reversal, committed by an attempt whose reply was lost
        raise PaymentAlreadyReversed(f"payment {payment_id} was reversed already")
    now = clock.now()
    offline = replace(payment.offline, reversed_at=now, reversal_reason=reason, reversal_ref=ref)
    reversed_payment = replace(payment, offline=offline, updated_at=now)
    updated = invoice.with_payment_reversed(payment.amount)
    # Owed again: dunning looks at it from now (a hold or a dispute keeps it quiet, as ever).
    updated = replace(updated, next_action_at=next_dunning_action(current_policy(ledger), updated, now))
    if updated.hold is not None and updated.hold.active_at(now):
        # Looked at again when the hold ends, as a hold placed now would have it (the paid invoice had no
        # next action to keep); an indefinite hold is released by hand, which plans it then.
        updated = replace(updated, next_action_at=updated.hold.until)
    change = Change(payment_reversal=reversed_payment, invoice_update=updated)
    change.outbox.append(
        outgoing_event(EventName.PAYMENT_REVERSED, offline_event_detail(updated, reversed_payment), now)
    )
    change.outbox.append(outgoing_email(PaymentReversedEmail(invoice.id, payment.key, payment.amount), now))
    change.audit.append(_audit("payment.reversed", invoice, updated, payment, actor, now, {"reason": reason}))
    return None, tallied(change, now, invoice_before=invoice)


def _audit(
    action: str,
    invoice: Invoice,
    updated: Invoice,
    payment: Payment,
    actor: str,
    now: datetime,
    extra: dict[str, Any],
) -> AuditEntry:
    """The operator's entry for a recorded or reversed payment: the payment, and what it moved on the invoice."""
    return AuditEntry(
        subject=AuditSubject.INVOICE,
        subject_id=invoice.id,
        action=action,
        actor=f"operator:{actor}",
        at=now,
        details={"payment": payment.key, "amount": payment.amount, "currency": payment.currency}
        | extra
        | {
            "amount_paid": {"from": invoice.amount_paid, "to": updated.amount_paid},
            "status": {"from": invoice.status.value, "to": updated.status.value},
        },
    )


def _offline_payment(ledger: Ledger, payment_id: str, *, invoice_id: str | None = None) -> OfflinePaymentMade:
    """The invoice and the payment named; a Stripe payment is refused (it is refunded, not reversed)."""
    if len(payment_id) > MAX_PAYMENT_ID:
        raise NotFound(f"no payment {payment_id[:40]}...", field="payment_id")  # longer than any id we give
    invoice_id = invoice_id or ledger.invoice_for_payment_intent(payment_id)
    context = ledger.get_payment_context(invoice_id, None, payment_id) if invoice_id else None
    if context is None or context.invoice is None or context.payment is None:
        raise NotFound(f"no payment {payment_id}", field="payment_id")
    if context.payment.offline is None:
        raise PaymentNotOffline(
            f"payment {payment_id} was made through Stripe: refund it (POST /v1/payments/{payment_id}/refunds)"
        )
    return OfflinePaymentMade(context.invoice, context.payment)
