"""Stripe facts as the webhook adapter builds them, for the stripe_events use cases' unit tests.

They belong with tests/fakes/records.py: a session fact pays invoice inv_1 through checkout chk_1 (cs_1,
USD 125.00), an installment fact charges installment 2 of plan_1 (USD 62.50), and so on.
"""

from __future__ import annotations

from typing import Any

from shared.domain.records import DisputeStatus, RefundStatus
from shared.services.stripe_events.facts import (
    CheckoutSessionFact,
    DisputeFact,
    EventMeta,
    PaymentIntentFact,
    RefundFact,
    RefundSeen,
    SessionState,
    SetupPurpose,
    SetupSessionFact,
    Tags,
)


def an_event_meta(
    event_id: str = "evt_1", type: str = "checkout.session.completed", object_id: str = "cs_1"
) -> EventMeta:
    return EventMeta(id=event_id, type=type, created=1_790_000_000, object_id=object_id)


def checkout_tags(**overrides: Any) -> Tags:
    fields: dict[str, Any] = {"invoice_id": "inv_1", "customer_id": "cus_1", "checkout_ref": "chk_1"}
    return Tags(**(fields | overrides))


def a_session_fact(
    event_id: str = "evt_1",
    state: SessionState = SessionState.COMPLETED,
    *,
    paid: bool = True,
    session_id: str | None = "cs_1",
    payment_intent_id: str | None = "pi_1",
    amount: int | None = 12_500,
    currency: str | None = "USD",
    tags: Tags | None = None,
) -> CheckoutSessionFact:
    type_ = "checkout.session.completed" if state is SessionState.COMPLETED else f"checkout.session.{state.value}"
    return CheckoutSessionFact(
        event=an_event_meta(event_id, type_, session_id or ""),
        state=state,
        session_id=session_id,
        paid=paid,
        payment_intent_id=payment_intent_id,
        amount=amount,
        currency=currency,
        tags=tags if tags is not None else checkout_tags(),
    )


def an_intent_fact(
    event_id: str = "evt_pi_1",
    *,
    succeeded: bool = True,
    payment_intent_id: str = "pi_1",
    amount: int | None = 12_500,
    currency: str | None = "USD",
    tags: Tags | None = None,
    error_code: str | None = None,
    decline_code: str | None = None,
) -> PaymentIntentFact:
    type_ = "payment_intent.succeeded" if succeeded else "payment_intent.payment_failed"
    return PaymentIntentFact(
        event=an_event_meta(event_id, type_, payment_intent_id),
        succeeded=succeeded,
        payment_intent_id=payment_intent_id,
        amount=amount,
        currency=currency,
        tags=tags if tags is not None else checkout_tags(),
        error_code=error_code,
        decline_code=decline_code,
    )


def an_installment_charge_fact(
    event_id: str = "evt_ic_1",
    *,
    succeeded: bool = True,
    installment: int = 2,
    attempt: int = 1,
    payment_intent_id: str = "pi_inst_2_1",
    amount: int | None = 6_250,
    currency: str | None = "USD",
    error_code: str | None = None,
    decline_code: str | None = None,
) -> PaymentIntentFact:
    tags = Tags(invoice_id="inv_1", customer_id="cus_1", plan_id="plan_1", installment=installment, attempt=attempt)
    return an_intent_fact(
        event_id,
        succeeded=succeeded,
        payment_intent_id=payment_intent_id,
        amount=amount,
        currency=currency,
        tags=tags,
        error_code=error_code,
        decline_code=decline_code,
    )


def a_dispute_fact(
    event_id: str = "evt_dp_1",
    status: DisputeStatus = DisputeStatus.OPEN,
    *,
    dispute_id: str = "dp_1",
    payment_intent_id: str = "pi_1",
    amount: int | None = 12_500,
    currency: str | None = "USD",
) -> DisputeFact:
    type_ = "charge.dispute.created" if status is DisputeStatus.OPEN else "charge.dispute.closed"
    return DisputeFact(
        event=an_event_meta(event_id, type_, dispute_id),
        dispute_id=dispute_id,
        payment_intent_id=payment_intent_id,
        status=status,
        amount=amount,
        currency=currency,
        reason="fraudulent",
    )


def a_setup_fact(
    event_id: str = "evt_setup_1", *, purpose: str | None = SetupPurpose.AUTOPAY, completed: bool = True
) -> SetupSessionFact:
    return SetupSessionFact(
        event=an_event_meta(event_id, "checkout.session.completed", "cs_setup_1"),
        completed=completed,
        session_id="cs_setup_1",
        tags=Tags(customer_id="cus_1", purpose=purpose),
    )


def a_refund_seen(
    refund_id: str = "re_1",
    status: RefundStatus = RefundStatus.SUCCEEDED,
    *,
    amount: int | None = 5_000,
    currency: str | None = "USD",
    reopens_balance: bool = False,
) -> RefundSeen:
    return RefundSeen(refund_id, amount, currency, status, "requested_by_customer", reopens_balance)


def a_refund_fact(
    event_id: str = "evt_re_1",
    refund_id: str = "re_1",
    status: RefundStatus = RefundStatus.SUCCEEDED,
    *,
    amount: int | None = 5_000,
    reopens_balance: bool = False,
    payment_intent_id: str = "pi_1",
) -> RefundFact:
    """refund.created (pending), refund.updated (succeeded, canceled) or refund.failed for re_1 of pi_1."""
    type_ = {RefundStatus.PENDING: "refund.created", RefundStatus.FAILED: "refund.failed"}.get(status, "refund.updated")
    seen = a_refund_seen(refund_id, status, amount=amount, reopens_balance=reopens_balance)
    return RefundFact(an_event_meta(event_id, type_, refund_id), payment_intent_id, (seen,))


def a_charge_refunded_fact(event_id: str, *refunds: RefundSeen, payment_intent_id: str = "pi_1") -> RefundFact:
    """charge.refunded for pi_1's charge, listing `refunds`."""
    total = sum(r.amount or 0 for r in refunds if r.status in (RefundStatus.PENDING, RefundStatus.SUCCEEDED))
    return RefundFact(an_event_meta(event_id, "charge.refunded", "ch_1"), payment_intent_id, refunds, total)
