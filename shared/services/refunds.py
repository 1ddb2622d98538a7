"""The operator refunds a payment (POST /v1/payments/{payment_id}/refunds): at Stripe once, in the ledger once.

The request is made once per (caller, Idempotency-Key): its ref derives from both, the Stripe refund is
created under an idempotency key made of that ref, and the refund is kept on the payment with the ref. So
a timeout and a retry find the same refund at Stripe and in the ledger, and never refund twice. Stripe's
answer is recorded at once through the same planning the webhook uses (`stripe_events.refunds`), so the
refund's events that follow change nothing more.

`credit` refunds the invoice's credit (what an overpayment left beyond amount_due) from this payment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from shared.clock import Clock
from shared.domain.errors import (
    InvalidAmount,
    InvalidStateTransition,
    NotFound,
    OfflinePaymentNotRefundable,
    RefundExceedsRefundable,
)
from shared.domain.invoices import Invoice, PaymentStatus
from shared.domain.records import Payment, Refund
from shared.domain.stripe_amounts import check_chargeable
from shared.services.gateway import PaymentGateway, RefundCreated, RefundRequest
from shared.services.once import entity_id, scoped_key
from shared.services.ports import ChangeRejected, Ledger, RunOnce
from shared.services.stripe_events.facts import RefundSeen
from shared.services.stripe_events.refunds import plan_refunds

STRIPE_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class RefundAsk:
    amount: int | None  # None: what remains refundable (or, with credit, the invoice's credit)
    reason: str  # one of STRIPE_REASONS
    reopen_balance: bool  # the refunded amount is owed again, and dunning resumes
    credit: bool = False  # refund the invoice's credit


@dataclass(frozen=True, slots=True)
class RefundMade:
    invoice: Invoice
    payment: Payment
    refund: Refund


def refund_payment_once(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    once: RunOnce,
    payment_id: str,
    ask: RefundAsk,
    *,
    key: str | None,
    fingerprint: dict[str, Any],
    actor: str,
) -> RefundMade:
    scoped = scoped_key(actor, key)
    ref = entity_id("rfq", scoped)

    def work() -> dict[str, str]:
        made = _refund(ledger, gateway, clock, payment_id, ask, ref=ref, actor=actor)
        return {"invoice_id": made.invoice.id, "refund_id": made.refund.id}

    done = once(scoped, fingerprint | {"payment_id": payment_id}, work)
    invoice, payment = _payment(ledger, payment_id)
    refund = payment.refund(done["refund_id"])
    if refund is None:
        raise NotFound(f"no refund {done['refund_id']} of payment {payment_id}")
    return RefundMade(invoice, payment, refund)


def _refund(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, payment_id: str, ask: RefundAsk, *, ref: str, actor: str
) -> RefundMade:
    invoice, payment = _payment(ledger, payment_id)
    earlier = payment.refund_made_for(ref)
    if earlier is not None:  # an earlier attempt with this key got this far; its reply was lost
        return RefundMade(invoice, payment, earlier)
    amount = refund_amount(invoice, payment, ask)
    created = gateway.create_refund(
        RefundRequest(
            # a share of a combined payment is refunded on the PaymentIntent it shares, up to the share
            payment_intent_id=payment.payment_intent_id
            if payment.combined_ref and payment.payment_intent_id
            else payment_id,
            amount=amount,
            currency=payment.currency,
            reason=ask.reason,
            metadata={
                "invoice_id": invoice.id,
                "refund_ref": ref,
                "reopen_balance": "true" if ask.reopen_balance else "false",
            },
            idempotency_key=f"payportal-refund-{ref}",
        )
    )
    return _record(ledger, clock, invoice.id, payment_id, created, ask, ref=ref, actor=actor)


def refund_amount(invoice: Invoice, payment: Payment, ask: RefundAsk) -> int:
    """What this request refunds, or the domain error saying why it cannot."""
    if payment.offline is not None:
        raise OfflinePaymentNotRefundable(
            f"payment {payment.key} was received outside Stripe: reverse it (POST /v1/payments/{payment.key}/reversal)"
        )
    if payment.status is not PaymentStatus.SUCCEEDED:
        raise InvalidStateTransition(f"payment {payment.key} is {payment.status.value}: nothing to refund")
    if ask.credit:
        if invoice.amount_credit <= 0:
            raise InvalidAmount(f"invoice {invoice.number} has no credit to refund", field="credit")
        amount = invoice.amount_credit if ask.amount is None else ask.amount
        if amount != invoice.amount_credit:
            raise InvalidAmount("with credit, the amount is the invoice's credit", field="amount")
    else:
        amount = payment.amount_refundable if ask.amount is None else ask.amount
    if amount <= 0:
        raise RefundExceedsRefundable(f"payment {payment.key} has nothing left to refund", field="amount")
    if amount > payment.amount_refundable:
        raise RefundExceedsRefundable(
            f"{amount} is more than the {payment.amount_refundable} {payment.currency} left to refund", field="amount"
        )
    check_chargeable(amount, payment.currency, field="amount")
    return amount


def _record(
    ledger: Ledger,
    clock: Clock,
    invoice_id: str,
    payment_id: str,
    created: RefundCreated,
    ask: RefundAsk,
    *,
    ref: str,
    actor: str,
) -> RefundMade:
    """Stripe's answer in the ledger: planned on fresh reads, committed, planned again on a lost race."""
    seen = RefundSeen(created.id, created.amount, None, created.status, ask.reason, ask.reopen_balance, ref)
    for _ in range(MAX_ATTEMPTS):
        context = ledger.get_payment_context(invoice_id, None, payment_id)
        invoice, payment = context.invoice, context.payment
        assert invoice is not None and payment is not None  # read a moment ago; neither is ever deleted
        seen_here = replace(seen, currency=payment.currency)
        planned = plan_refunds(invoice, payment, (seen_here,), clock.now(), actor=f"operator:{actor}", cause=ref)
        if planned.problem:
            raise InvalidStateTransition(planned.problem)
        if planned.change is not None:
            try:
                ledger.commit(planned.change)
            except ChangeRejected:
                continue  # the refund's own webhook (or another change) landed first: decide again
            assert planned.change.payment_refunds is not None
            payment = planned.change.payment_refunds
            invoice = planned.change.invoice_update or invoice
        refund = payment.refund(created.id)
        assert refund is not None
        return RefundMade(invoice, payment, refund)
    raise RuntimeError(f"refund {created.id} kept conflicting; retry the request with the same Idempotency-Key")


def _payment(ledger: Ledger, payment_id: str) -> tuple[Invoice, Payment]:
    invoice_id = ledger.invoice_for_payment_intent(payment_id)
    context = ledger.get_payment_context(invoice_id, None, payment_id) if invoice_id else None
    if context is None or context.invoice is None or context.payment is None:
        raise NotFound(f"no payment {payment_id}", field="payment_id")
    return context.invoice, context.payment
