"""Stripe's event JSON becomes typed facts in one place (shared/adapters/stripe_events.py); anything
else is refused as "not a Stripe event", never an unexpected exception (which the webhook would turn
into a 500 and Stripe into three days of retries)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.adapters.stripe_events import HANDLED_EVENT_TYPES, NotAStripeEvent, parse_event
from shared.domain.records import DisputeStatus, ProcessorFee, RefundStatus
from shared.services.stripe_events.facts import (
    CheckoutSessionFact,
    DisputeFact,
    OtherEvent,
    PaymentIntentFact,
    RefundFact,
    SessionState,
    SetupPurpose,
    SetupSessionFact,
)
from tests.support import session_object, stripe_event


def test_a_paid_checkout_session_is_a_completed_session_fact_with_our_tags() -> None:
    # Given a checkout.session.completed event for a session payportal created
    obj = session_object(session_id="cs_1", invoice_id="inv_1", checkout_ref="ref_1", amount=12500)
    # When it is parsed
    fact = parse_event(stripe_event("checkout.session.completed", obj, event_id="evt_1"))
    # Then the fact carries what the use case checks, in our types
    assert isinstance(fact, CheckoutSessionFact)
    assert fact.event.id == "evt_1" and fact.event.object_id == "cs_1"
    assert fact.state is SessionState.COMPLETED and fact.paid
    assert (fact.amount, fact.currency, fact.payment_intent_id) == (12500, "USD", "pi_test_1")
    assert (fact.tags.invoice_id, fact.tags.checkout_ref) == ("inv_1", "ref_1")


def test_an_expanded_payment_intent_is_read_by_its_id() -> None:
    obj = session_object(session_id="cs_1", invoice_id="inv_1", checkout_ref="r", amount=100) | {
        "payment_intent": {"id": "pi_expanded", "object": "payment_intent"}
    }
    fact = parse_event(stripe_event("checkout.session.async_payment_succeeded", obj))
    assert isinstance(fact, CheckoutSessionFact)
    assert fact.state is SessionState.ASYNC_SUCCEEDED and fact.payment_intent_id == "pi_expanded"


def test_a_setup_mode_session_is_a_setup_fact_naming_its_purpose() -> None:
    obj = {"id": "cs_setup", "mode": "setup", "metadata": {"customer_id": "cus_1", "purpose": "autopay"}}
    fact = parse_event(stripe_event("checkout.session.completed", obj))
    assert isinstance(fact, SetupSessionFact)
    assert fact.completed and fact.tags.purpose == SetupPurpose.AUTOPAY and fact.tags.customer_id == "cus_1"


def test_an_installment_charge_failure_carries_the_plan_the_attempt_and_the_decline() -> None:
    obj = {
        "id": "pi_9",
        "amount": 5000,
        "currency": "eur",
        "metadata": {"invoice_id": "inv_1", "plan_id": "plan_1", "installment": "2", "attempt": "3"},
        "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds"},
    }
    fact = parse_event(stripe_event("payment_intent.payment_failed", obj))
    assert isinstance(fact, PaymentIntentFact)
    assert not fact.succeeded and fact.tags.is_installment_charge
    assert (fact.tags.installment, fact.tags.attempt, fact.currency) == (2, 3, "EUR")
    assert fact.failure_reason == "insufficient_funds"


@pytest.mark.parametrize(
    ("event_type", "status", "expected"),
    [
        ("charge.dispute.created", "needs_response", DisputeStatus.OPEN),
        ("charge.dispute.closed", "lost", DisputeStatus.LOST),
        ("charge.dispute.closed", "won", DisputeStatus.WON),
        ("charge.dispute.closed", "warning_closed", DisputeStatus.WON),
    ],
)
def test_a_dispute_is_open_until_closed_and_lost_only_when_stripe_says_lost(
    event_type: str, status: str, expected: DisputeStatus
) -> None:
    obj = {"id": "dp_1", "payment_intent": "pi_1", "amount": 700, "currency": "usd", "status": status}
    fact = parse_event(stripe_event(event_type, obj))
    assert isinstance(fact, DisputeFact) and fact.status is expected and fact.payment_intent_id == "pi_1"


def test_a_dispute_without_a_payment_intent_is_not_ours_to_act_on() -> None:
    fact = parse_event(stripe_event("charge.dispute.created", {"id": "dp_1", "amount": 700}))
    assert isinstance(fact, OtherEvent)


def test_an_event_type_payportal_does_not_handle_is_an_other_event() -> None:
    fact = parse_event(stripe_event("customer.created", {"id": "cus_1"}))
    assert isinstance(fact, OtherEvent) and fact.event.type == "customer.created"
    assert "customer.created" not in HANDLED_EVENT_TYPES


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "evt",
        {"id": "evt_1", "type": "checkout.session.completed"},
        {"id": 1, "type": "checkout.session.completed", "data": {"object": {}}},
        {"id": "evt_1", "type": "checkout.session.completed", "data": {"object": []}},
        {"id": "evt_1", "type": "x", "created": "yesterday", "data": {"object": {}}},
    ],
)
def test_what_is_not_an_event_in_stripes_shape_is_refused(payload: Any) -> None:
    with pytest.raises(NotAStripeEvent):
        parse_event(payload)


@pytest.mark.parametrize("amount", [125.0, "12500", True])
def test_an_amount_that_is_not_an_integer_is_refused_never_rounded(amount: object) -> None:
    obj = session_object(session_id="cs_1", invoice_id="inv_1", checkout_ref="r", amount=1) | {"amount_total": amount}
    with pytest.raises(NotAStripeEvent):
        parse_event(stripe_event("checkout.session.completed", obj))


def test_metadata_that_is_not_an_object_carries_no_tags() -> None:
    obj = {"id": "pi_1", "amount": 100, "currency": "usd", "metadata": ["invoice_id"]}
    fact = parse_event(stripe_event("payment_intent.payment_failed", obj))
    assert isinstance(fact, PaymentIntentFact) and fact.tags.invoice_id is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(
    event_type=st.sampled_from(sorted(HANDLED_EVENT_TYPES)),
    obj=st.dictionaries(
        st.sampled_from(
            ["id", "mode", "amount", "amount_total", "currency", "payment_intent", "metadata", "status",
             "payment_status", "last_payment_error", "reason"]
        ),
        _json,
    ),
)  # fmt: skip
def test_any_object_under_a_handled_type_gives_a_fact_or_a_clear_refusal(event_type: str, obj: dict[str, Any]) -> None:
    try:
        fact = parse_event({"id": "evt_1", "type": event_type, "data": {"object": obj}})
    except NotAStripeEvent:
        return
    assert fact.event.id == "evt_1"


def test_amounts_are_read_back_from_stripes_form_into_ours() -> None:
    # Given a completed session for ISK 5,000, which Stripe writes as 500000 (two decimals ending in 00)
    obj = session_object(session_id="cs_1", invoice_id="inv_1", checkout_ref="r", amount=500_000, currency="isk")
    fact = parse_event(stripe_event("checkout.session.completed", obj))
    # Then the fact says ISK 5,000, in ISK's real minor unit
    assert isinstance(fact, CheckoutSessionFact) and (fact.amount, fact.currency) == (5_000, "ISK")
    # And so do PaymentIntents and disputes
    intent = parse_event(stripe_event("payment_intent.succeeded", {"id": "pi_1", "amount": 120_000, "currency": "ugx"}))
    assert isinstance(intent, PaymentIntentFact) and intent.amount == 1_200
    dispute = {"id": "dp_1", "payment_intent": "pi_1", "amount": 500_000, "currency": "isk", "status": "lost"}
    lost = parse_event(stripe_event("charge.dispute.closed", dispute))
    assert isinstance(lost, DisputeFact) and lost.amount == 5_000


def _transaction(txn: str, amount: int, fee: int, currency: str = "usd") -> dict[str, Any]:
    return {"id": txn, "object": "balance_transaction", "amount": amount, "fee": fee, "currency": currency}


@pytest.mark.parametrize(
    ("listed", "fee"),
    [
        ([_transaction("txn_w", -5_000, 1_500)], ProcessorFee(1_500, "USD", "txn_w")),
        # withdrawn, then reinstated with the fee given back: what Stripe kept in all
        ([_transaction("txn_w", -5_000, 1_500), _transaction("txn_r", 5_000, -1_500)], ProcessorFee(0, "USD", "txn_w")),
        ([_transaction("txn_w", -500_000, 150_000, "isk")], ProcessorFee(1_500, "ISK", "txn_w")),  # ours: whole ISK
        ([_transaction("txn_w", -500_000, 150_050, "isk")], None),  # a fraction of an ISK: not a fee we can hold
        ([_transaction("txn_w", -5_000, 1_500), _transaction("txn_r", 5_000, 0, "eur")], None),  # two currencies
        ([_transaction("txn_w", -5_000, 1_500.0)], None),  # type: ignore[arg-type]  # not Stripe's integer
        ([{"id": "txn_w", "fee": 1_500}], None),  # no currency
        (["txn_w"], None),  # an id, not the transaction
        ([], None),
        ("txn_w", None),
        ([_transaction(f"txn_{n}", 0, 1) for n in range(5)], None),  # more than a dispute lists
    ],
)
def test_a_disputes_fee_is_the_sum_of_its_balance_transactions_fees(listed: object, fee: ProcessorFee | None) -> None:
    dispute = {"id": "dp_1", "payment_intent": "pi_1", "amount": 5_000, "currency": "usd", "status": "lost"}
    fact = parse_event(stripe_event("charge.dispute.closed", dispute | {"balance_transactions": listed}))
    assert isinstance(fact, DisputeFact) and fact.fee == fee
    assert isinstance(without := parse_event(stripe_event("charge.dispute.closed", dispute)), DisputeFact)
    assert without.fee is None


def test_a_stripe_amount_that_is_not_a_whole_number_of_our_units_states_no_amount() -> None:
    obj = session_object(session_id="cs_1", invoice_id="inv_1", checkout_ref="r", amount=500_050, currency="isk")
    fact = parse_event(stripe_event("checkout.session.completed", obj))
    assert isinstance(fact, CheckoutSessionFact) and fact.amount is None  # never rounded into the ledger


def _refund(status: str = "succeeded", **overrides: Any) -> dict[str, Any]:
    return {
        "id": "re_1", "object": "refund", "amount": 3_000, "currency": "usd", "charge": "ch_1",
        "payment_intent": "pi_1", "status": status, "reason": "requested_by_customer",
        "metadata": {"reopen_balance": "true", "refund_ref": "rfq_1"},
    } | overrides  # fmt: skip


@pytest.mark.parametrize(
    ("event_type", "status", "expected"),
    [
        ("refund.created", "pending", RefundStatus.PENDING),
        ("refund.created", "requires_action", RefundStatus.PENDING),
        ("refund.updated", "succeeded", RefundStatus.SUCCEEDED),
        ("refund.updated", "canceled", RefundStatus.CANCELED),
        ("refund.failed", "failed", RefundStatus.FAILED),
    ],
)
def test_a_refund_event_is_a_refund_fact_of_its_payment_intent(
    event_type: str, status: str, expected: RefundStatus
) -> None:
    fact = parse_event(stripe_event(event_type, _refund(status)))

    assert isinstance(fact, RefundFact) and fact.payment_intent_id == "pi_1" and fact.amount_refunded is None
    [seen] = fact.refunds
    assert (seen.refund_id, seen.amount, seen.currency, seen.status) == ("re_1", 3_000, "USD", expected)
    assert seen.reopens_balance and seen.request_ref == "rfq_1"


def test_a_dashboard_refund_is_a_credit_without_a_request() -> None:
    fact = parse_event(stripe_event("refund.created", _refund(metadata={})))

    assert isinstance(fact, RefundFact)
    assert not fact.refunds[0].reopens_balance and fact.refunds[0].request_ref == ""


def test_charge_refunded_lists_the_charge_s_refunds_and_its_amount_refunded_in_our_units() -> None:
    charge = {
        "id": "ch_1", "object": "charge", "amount": 500_000, "currency": "isk", "payment_intent": "pi_1",
        "amount_refunded": 200_000, "refunds": {"data": [_refund(amount=200_000, currency="isk")]},
    }  # fmt: skip

    fact = parse_event(stripe_event("charge.refunded", charge))

    assert isinstance(fact, RefundFact) and fact.amount_refunded == 2_000  # ISK 2,000 is 200000 at Stripe
    assert [r.amount for r in fact.refunds] == [2_000]


def test_charge_refunded_without_refunds_listed_has_none() -> None:
    charge = {"id": "ch_1", "amount": 5_000, "currency": "usd", "payment_intent": "pi_1", "amount_refunded": 5_000}

    fact = parse_event(stripe_event("charge.refunded", charge))

    assert isinstance(fact, RefundFact) and fact.refunds == () and fact.amount_refunded == 5_000


@pytest.mark.parametrize(
    "obj",
    [
        _refund(payment_intent=None),  # a refund of a charge without a PaymentIntent: not one of ours
        _refund(status="weird"),
        _refund(id=None),
    ],
)
def test_a_refund_we_cannot_read_is_another_event(obj: dict[str, Any]) -> None:
    if obj.get("id") is None:
        with pytest.raises(NotAStripeEvent):
            parse_event(stripe_event("refund.updated", obj))
        return
    assert isinstance(parse_event(stripe_event("refund.updated", obj)), OtherEvent)


def test_a_refund_amount_that_is_not_an_integer_is_refused() -> None:
    with pytest.raises(NotAStripeEvent):
        parse_event(stripe_event("refund.created", _refund(amount=30.5)))


def test_refund_events_are_subscribed() -> None:
    assert {"charge.refunded", "refund.created", "refund.updated", "refund.failed"} <= HANDLED_EVENT_TYPES


def test_the_event_says_which_stripe_mode_it_is_from() -> None:
    obj = session_object(session_id="cs_1", invoice_id="inv_1", checkout_ref="chk_1", amount=12500)
    event = stripe_event("checkout.session.completed", obj)
    assert parse_event(event).event.livemode is False
    assert parse_event(event | {"livemode": True}).event.livemode is True
    assert parse_event({k: v for k, v in event.items() if k != "livemode"}).event.livemode is False
    with pytest.raises(NotAStripeEvent):
        parse_event(event | {"livemode": "true"})
