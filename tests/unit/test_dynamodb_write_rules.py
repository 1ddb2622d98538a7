"""The DynamoDB adapter's write rules: every Change field is written, every rejection can happen, and a
guard and its rejection always come together."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

from shared.adapters.dynamodb.writes import WRITE_RULES, planned_writes
from shared.domain.invoices import PaymentStatus
from shared.domain.records import Payment, Refund, RefundStatus
from shared.services.ports import Change, Rejection, Tally

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
    # Given the fields a Change can carry; Then each is written by some rule (the tallies by their own
    # writer, planned after the rules), so none is silently dropped
    assert {f.name for f in fields(Change)} == {rule.field for rule in WRITE_RULES} | {"tallies"}


def test_tallies_on_one_counter_are_one_update_after_the_guarded_writes() -> None:
    # Given a payment and three tallies, two of them on the same counter item
    change = Change(
        payment=payment(None),
        tallies=[
            Tally("owed#USD", "D#2026-11-02", {"amount": -500}),
            Tally("flows#USD", "2026-11-02", {"collected": 500}),
            Tally("owed#USD", "D#2026-11-02", {"amount": 200, "invoices": -1}),
        ],
    )

    # When planned
    writes = planned_writes(change, "table", NOW)

    # Then the payment's guarded put comes first (its list item after it), then one ADD per counter item,
    # unconditionally
    updates = [w for w in writes if "Update" in w.request]
    assert writes[0].reason is Rejection.PAYMENT_NOT_FORWARD and writes[-2:] == updates
    assert [w.reason for w in updates] == [None, None]
    owed = updates[0].request["Update"]
    assert owed["Key"] == {"pk": {"S": "TALLY#owed#USD"}, "sk": {"S": "D#2026-11-02"}}
    assert "ADD #f0 :d0, #f1 :d1" in owed["UpdateExpression"] and "ConditionExpression" not in owed
    assert owed["ExpressionAttributeNames"]["#f0"] == "amount"
    assert owed["ExpressionAttributeValues"][":d0"] == {"N": "-300"}
    assert owed["ExpressionAttributeValues"][":d1"] == {"N": "-1"}
    assert updates[1].request["Update"]["Key"]["pk"] == {"S": "TALLY#flows#USD"}


def test_tallies_that_cancel_out_write_nothing() -> None:
    change = Change(payment=payment(None), tallies=[Tally("s", "b", {"n": 1}), Tally("s", "b", {"n": -1})])
    untallied = planned_writes(Change(payment=payment(None)), "table", NOW)
    assert planned_writes(change, "table", NOW) == untallied  # the payment's own writes only


def test_every_rejection_is_named_by_some_rule() -> None:
    # Besides the Change's rules: the webhook endpoints' store's own (shared/adapters/dynamodb/webhook_endpoints.py)
    own_stores = {Rejection.STALE_WEBHOOK_ENDPOINT}
    assert {rule.reason for rule in WRITE_RULES if rule.reason is not None} == set(Rejection) - own_stores


def test_a_rule_has_a_condition_exactly_when_it_has_a_rejection() -> None:
    for rule in WRITE_RULES:
        assert (rule.condition is None) == (rule.reason is None), rule.field


def test_a_payment_with_a_payment_intent_also_writes_its_lookup() -> None:
    # When a payment with a PaymentIntent is committed, and one without
    with_intent = planned_writes(Change(payment=payment("pi_1")), "table", NOW)
    without = planned_writes(Change(payment=payment(None)), "table", NOW)

    # Then the first writes the PaymentIntent -> invoice lookup, unconditionally, after the payment; both
    # write the payment's entries in the lists of its state and currency (unconditionally: the payment's
    # guard holds them)
    assert [w.reason for w in with_intent] == [Rejection.PAYMENT_NOT_FORWARD, None, None, None, None]
    assert with_intent[1].request["Put"]["Item"]["type"] == {"S": "payment_intent"}
    assert with_intent[1].request["Put"]["Item"]["invoice_id"] == {"S": "inv_1"}
    assert "ConditionExpression" not in with_intent[1].request["Put"]
    assert [w.reason for w in without] == [Rejection.PAYMENT_NOT_FORWARD, None, None, None]
    assert [w.request["Put"]["Item"]["type"] for w in without[1:]] == [{"S": "payment_listing"}] * 3
    assert "ConditionExpression" not in without[1].request["Put"]


def test_a_change_of_refunds_lists_only_the_refunds_it_moved_and_a_failure_once_more() -> None:
    # Given a payment with three refunds, of which this change moved two (stamped with its instant): one
    # booked now, one that failed now; the third was booked an hour before
    earlier = NOW - timedelta(hours=1)
    refunds = (
        Refund("re_old", 100, RefundStatus.SUCCEEDED, False, "", earlier, created_at=earlier),
        Refund("re_new", 100, RefundStatus.PENDING, False, "", NOW, created_at=NOW),
        Refund("re_failed", 100, RefundStatus.FAILED, False, "", NOW, created_at=earlier),
    )
    moved = replace(payment("pi_1"), refunds=refunds, refund_version=2)
    writes = planned_writes(Change(payment_refunds=moved), "table", NOW)

    # Then the returns list gets the two moved refunds on their booking days, and the failure on its own
    returns = [w.request["Put"]["Item"] for w in writes if w.request["Put"]["Item"]["type"] == {"S": "return_listing"}]
    listed = [(i["return_kind"]["S"], i["returned"]["S"], i["gsi4sk"]["S"][:20]) for i in returns]
    assert listed == [
        ("refund", "re_new", "2026-11-02T09:30:00Z"),
        ("refund", "re_failed", "2026-11-02T08:30:00Z"),
        ("refund_failed", "re_failed", "2026-11-02T09:30:00Z"),
    ]
    assert {i["gsi4pk"]["S"] for i in returns} == {"RETURNS#2026-11"}
    assert all(w.reason is None for w in writes if w.request["Put"]["Item"]["type"] == {"S": "return_listing"})


def test_an_empty_change_writes_nothing() -> None:
    assert planned_writes(Change(), "table", NOW) == []
