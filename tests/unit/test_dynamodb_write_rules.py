"""The DynamoDB adapter's write rules: every Change field is written, every rejection can happen, and a
guard and its rejection always come together."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from shared.adapters.dynamodb.writes import WRITE_RULES, planned_writes
from shared.domain.invoices import PaymentStatus
from shared.domain.records import Payment
from shared.services.ports import Change, Rejection

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def payment(payment_intent_id: str | None) -> Payment:
    return Payment(
        key=payment_intent_id or "cs_1",
        invoice_id="inv_1",
        customer_id="cus_1",
        amount=500,
        currency="USD",
        status=PaymentStatus.SUCCEEDED,
        checkout_session_id="cs_1",
        payment_intent_id=payment_intent_id,
        created_at=NOW,
        updated_at=NOW,
    )


def test_every_change_field_has_a_write_rule() -> None:
    # Given the fields a Change can carry; Then each is written by some rule, so none is silently dropped
    assert {f.name for f in fields(Change)} == {rule.field for rule in WRITE_RULES}


def test_every_rejection_is_named_by_some_rule() -> None:
    assert {rule.reason for rule in WRITE_RULES if rule.reason is not None} == set(Rejection)


def test_a_rule_has_a_condition_exactly_when_it_has_a_rejection() -> None:
    for rule in WRITE_RULES:
        assert (rule.condition is None) == (rule.reason is None), rule.field


def test_a_payment_with_a_payment_intent_also_writes_its_lookup() -> None:
    # When a payment with a PaymentIntent is committed, and one without
    with_intent = planned_writes(Change(payment=payment("pi_1")), "table", NOW)
    without = planned_writes(Change(payment=payment(None)), "table", NOW)

    # Then the first writes the PaymentIntent -> invoice lookup, unconditionally, after the payment; both
    # write the payment's entry in the list of its state (unconditionally: the payment's guard holds it)
    assert [w.reason for w in with_intent] == [Rejection.PAYMENT_NOT_FORWARD, None, None]
    assert with_intent[1].request["Put"]["Item"]["type"] == {"S": "payment_intent"}
    assert with_intent[1].request["Put"]["Item"]["invoice_id"] == {"S": "inv_1"}
    assert "ConditionExpression" not in with_intent[1].request["Put"]
    assert [w.reason for w in without] == [Rejection.PAYMENT_NOT_FORWARD, None]
    assert without[1].request["Put"]["Item"]["type"] == {"S": "payment_listing"}
    assert "ConditionExpression" not in without[1].request["Put"]


def test_an_empty_change_writes_nothing() -> None:
    assert planned_writes(Change(), "table", NOW) == []
