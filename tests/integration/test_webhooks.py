"""Stripe webhooks over moto: verified, deduplicated, applied once, in any order."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest

from tests.integration.conftest import Aws
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver, get_invoice
from tests.support import FakeLambdaContext, json_body, stripe_event, webhook_request


@pytest.fixture
def invoice(aws: Aws) -> dict[str, Any]:
    customer = create_customer(email="pat@example.com", name="Pat Payer", locale="en-US", timezone="America/New_York")
    return create_invoice(customer["id"], amount_due=10_000, allow_partial=True, min_partial_amount=1_000)


def test_a_paid_checkout_marks_the_invoice_paid_sends_a_receipt_and_events(aws: Aws, invoice: dict[str, Any]) -> None:
    attempt = checkout_for(invoice, 10_000)
    response = deliver(completed(attempt))
    assert response["statusCode"] == 200
    assert json_body(response)["outcome"] == "applied"
    after = get_invoice(invoice["id"])
    assert (after["status"], after["amount_paid"], after["amount_remaining"]) == ("paid", 10_000, 0)
    assert [p["status"] for p in after["payments"]] == ["succeeded"]
    # The receipt and the domain events go out through the outbox
    assert aws.drain_outbox() == {"batchItemFailures": []}
    [receipt] = aws.emails()
    assert receipt.to == ["pat@example.com"]
    assert "$100.00" in receipt.subject and invoice["number"] in receipt.subject
    assert "Remaining balance: $0.00" in receipt.text
    types = sorted(e["detail-type"] for e in aws.domain_events())
    assert types == ["invoice.created", "invoice.paid", "payment.succeeded"]


def test_a_repeated_event_is_a_200_that_changes_nothing(aws: Aws, invoice: dict[str, Any]) -> None:
    event = completed(checkout_for(invoice, 10_000))
    deliver(event)
    response = deliver(event)
    assert response["statusCode"] == 200
    assert json_body(response)["outcome"] == "duplicate_event"
    assert get_invoice(invoice["id"])["amount_paid"] == 10_000
    aws.drain_outbox()
    assert len(aws.emails()) == 1


def test_another_event_announcing_the_same_payment_moves_no_money(aws: Aws, invoice: dict[str, Any]) -> None:
    attempt = checkout_for(invoice, 4_000)
    deliver(completed(attempt))
    # A different event id about the same session and payment intent
    response = deliver(completed(attempt, kind="checkout.session.async_payment_succeeded"))
    assert json_body(response)["outcome"] == "no_change"
    after = get_invoice(invoice["id"])
    assert (after["status"], after["amount_paid"]) == ("partially_paid", 4_000)
    aws.drain_outbox()
    assert len(aws.emails()) == 1


def test_a_partial_payment_leaves_the_rest_to_pay(aws: Aws, invoice: dict[str, Any]) -> None:
    deliver(completed(checkout_for(invoice, 2_500)))
    after = get_invoice(invoice["id"])
    assert (after["status"], after["amount_remaining"]) == ("partially_paid", 7_500)
    aws.drain_outbox()
    assert "Remaining balance: $75.00" in aws.emails()[0].text
    assert "invoice.partially_paid" in [e["detail-type"] for e in aws.domain_events()]


def test_overpayment_is_kept_as_credit(aws: Aws, invoice: dict[str, Any]) -> None:
    first, second = checkout_for(invoice, 10_000), checkout_for(invoice, 3_000)
    deliver(completed(first))
    deliver(completed(second))
    after = get_invoice(invoice["id"])
    assert (after["status"], after["amount_paid"], after["amount_credit"]) == ("paid", 13_000, 3_000)
    assert "invoice.overpaid" in [
        a["action"] for a in aws.items(f"INVOICE#{invoice['id']}") if a["sk"].startswith("AUDIT#")
    ]


@pytest.mark.parametrize(
    "tamper",
    [{"amount": 9_999}, {"currency": "eur"}, {"session_id": "cs_test_someone_else"}],
)
def test_a_mismatch_is_flagged_for_review_and_moves_no_money(
    aws: Aws, invoice: dict[str, Any], tamper: dict[str, Any]
) -> None:
    event = completed(checkout_for(invoice, 10_000), **tamper)
    response = deliver(event)
    assert response["statusCode"] == 200
    assert json_body(response)["outcome"] == "flagged"
    assert get_invoice(invoice["id"])["amount_paid"] == 0
    [kept] = aws.items(f"EVENT#{event['id']}")
    assert kept["outcome"] == "flagged"
    audit = [a for a in aws.items(f"INVOICE#{invoice['id']}") if a["sk"].startswith("AUDIT#")]
    assert "stripe_event.flagged" in [a["action"] for a in audit]


def test_delayed_payment_is_pending_until_it_succeeds(aws: Aws, invoice: dict[str, Any]) -> None:
    attempt = checkout_for(invoice, 10_000)
    deliver(completed(attempt, payment_status="unpaid"))
    after = get_invoice(invoice["id"])
    assert (after["status"], [p["status"] for p in after["payments"]]) == ("open", ["pending"])
    deliver(completed(attempt, kind="checkout.session.async_payment_succeeded"))
    assert get_invoice(invoice["id"])["status"] == "paid"


def test_a_failed_delayed_payment_is_recorded_and_announced(aws: Aws, invoice: dict[str, Any]) -> None:
    attempt = checkout_for(invoice, 10_000)
    deliver(completed(attempt, payment_status="unpaid"))
    deliver(completed(attempt, kind="checkout.session.async_payment_failed", payment_status="unpaid"))
    after = get_invoice(invoice["id"])
    assert (after["status"], after["payments"][0]["status"]) == ("open", "failed")
    aws.drain_outbox()
    # The customer, who left Checkout thinking it was paid, hears that it was not, with a link to pay
    [email] = aws.emails()
    assert email.subject == f"Your payment of $100.00 for invoice {invoice['number']} did not go through"
    assert "/pay/" in email.text and "You have not been charged." in email.text
    assert "payment.failed" in [e["detail-type"] for e in aws.domain_events()]


def test_any_order_of_events_converges_and_a_success_is_never_downgraded(aws: Aws, invoice: dict[str, Any]) -> None:
    kinds = [
        ("checkout.session.completed", {"payment_status": "unpaid"}),
        ("checkout.session.async_payment_failed", {"payment_status": "unpaid"}),
        ("checkout.session.async_payment_succeeded", {}),
        ("checkout.session.completed", {}),
    ]
    for n, order in enumerate(itertools.permutations(kinds)):
        attempt = checkout_for(invoice, 1_000)
        for kind, extra in order:
            assert deliver(completed(attempt, kind=kind, **extra))["statusCode"] == 200
        payments = {p["id"]: p for p in get_invoice(invoice["id"])["payments"]}
        assert payments[f"pi_{attempt.ref[4:20]}"]["status"] == "succeeded", order
        assert get_invoice(invoice["id"])["amount_paid"] == 1_000 * (n + 1)
        if n == 5:
            break  # six orders are plenty; each pays 1,000 of the 10,000


def test_an_expired_session_moves_nothing(aws: Aws, invoice: dict[str, Any]) -> None:
    attempt = checkout_for(invoice, 10_000)
    response = deliver(
        completed(attempt, kind="checkout.session.expired", payment_status="unpaid", payment_intent=None)
    )
    assert response["statusCode"] == 200
    assert get_invoice(invoice["id"])["payments"] == []


def test_a_declined_payment_intent_is_recorded_as_failed(aws: Aws, invoice: dict[str, Any]) -> None:
    attempt = checkout_for(invoice, 10_000)
    intent = {
        "id": "pi_declined_1",
        "object": "payment_intent",
        "amount": 10_000,
        "currency": "usd",
        "metadata": {"invoice_id": invoice["id"], "checkout_ref": attempt.ref},
        "last_payment_error": {"code": "card_declined", "decline_code": "generic_decline"},
    }
    deliver(stripe_event("payment_intent.payment_failed", intent))
    [payment] = get_invoice(invoice["id"])["payments"]
    assert (payment["status"], payment["failure_reason"]) == ("failed", "generic_decline")
    # The customer retries in the same session and succeeds: the failure is overtaken
    deliver(completed(attempt, payment_intent="pi_declined_1"))
    [payment] = get_invoice(invoice["id"])["payments"]
    assert payment["status"] == "succeeded"


@pytest.mark.parametrize(
    "request_change",
    [
        {"headers": {}},
        {"headers": {"Stripe-Signature": "t=1,v1=deadbeef"}},
        {"secret": "whsec_wrong"},
        {"offset": -301},
        {"offset": +360},  # ahead by more than the tolerance, however long the test takes to verify it
    ],
)
def test_missing_malformed_stale_or_wrong_signatures_are_a_400_and_store_nothing(
    aws: Aws, invoice: dict[str, Any], request_change: dict[str, Any]
) -> None:
    from functions.webhooks.handler import lambda_handler

    event = completed(checkout_for(invoice, 10_000))
    kwargs: dict[str, Any] = {k: v for k, v in request_change.items() if k in ("secret",)}
    if "offset" in request_change:
        kwargs["at"] = int(time.time()) + request_change["offset"]
    request = webhook_request(event, **kwargs)
    if "headers" in request_change:
        request["headers"] = {"Content-Type": "application/json", **request_change["headers"]}
    response = lambda_handler(request, FakeLambdaContext())
    assert response["statusCode"] == 400
    assert aws.items("EVENT#") == []
    assert get_invoice(invoice["id"])["amount_paid"] == 0


def test_a_base64_encoded_body_is_verified_on_its_decoded_bytes(aws: Aws, invoice: dict[str, Any]) -> None:
    response = deliver(completed(checkout_for(invoice, 10_000)), base64_body=True)
    assert response["statusCode"] == 200
    assert get_invoice(invoice["id"])["status"] == "paid"


def test_unknown_event_types_and_foreign_objects_are_ignored(aws: Aws) -> None:
    assert json_body(deliver(stripe_event("customer.created", {"id": "cus_1"})))["outcome"] == "ignored"
    foreign = stripe_event("checkout.session.completed", {"id": "cs_x", "metadata": {}})
    assert json_body(deliver(foreign))["outcome"] == "ignored"
    assert aws.items("EVENT#") == []


def test_a_signed_body_that_is_not_an_event_is_ignored_with_a_200(aws: Aws) -> None:
    from functions.webhooks.handler import lambda_handler
    from shared.adapters.stripe_signature import sign
    from tests.support import WEBHOOK_SECRET, api_event

    raw = json.dumps({"hello": "world"})
    request = api_event(
        "POST",
        "/webhooks/stripe",
        body=raw,
        headers={"Stripe-Signature": sign(raw.encode(), WEBHOOK_SECRET, int(time.time()))},
    )
    response = lambda_handler(request, FakeLambdaContext())
    assert (response["statusCode"], json_body(response)["ignored"]) == (200, "not_a_stripe_event")


def test_a_transient_storage_failure_is_a_5xx_so_stripe_retries(
    aws: Aws, invoice: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.wiring import ledger

    def unavailable(*_: object, **__: object) -> None:
        raise ConnectionError("DynamoDB unreachable")

    event = completed(checkout_for(invoice, 10_000))
    monkeypatch.setattr(ledger(), "commit", unavailable)
    response = deliver(event)
    assert response["statusCode"] == 500


def test_an_applied_event_costs_one_read_and_one_write_request(aws: Aws, invoice: dict[str, Any]) -> None:
    from collections import Counter

    from shared.adapters.aws import client

    deliver(completed(checkout_for(invoice, 1_000)))  # warm: the secret is read once per five minutes
    event = completed(checkout_for(invoice, 1_000))
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client("dynamodb").meta.events.register("before-call", count)
    try:
        assert json_body(deliver(event))["outcome"] == "applied"
    finally:
        client("dynamodb").meta.events.unregister("before-call", count)
    assert calls == Counter({"BatchGetItem": 1, "TransactWriteItems": 1})


def test_a_customers_transactions_are_listed_newest_first_page_by_page(aws: Aws, invoice: dict[str, Any]) -> None:
    from tests.integration.helpers import operator

    for amount in (1_000, 2_000, 3_000):
        deliver(completed(checkout_for(invoice, amount)))
        time.sleep(0.01)  # distinct timestamps
    path = f"/v1/customers/{invoice['customer_id']}/transactions"
    resource = "/v1/customers/{customer_id}/transactions"
    params = {"customer_id": invoice["customer_id"]}
    first = json_body(operator("GET", path, resource, params=params, query={"limit": "2"}))
    assert [p["amount"] for p in first["data"]] == [3_000, 2_000]
    assert first["next_cursor"]
    next_page = {"limit": "2", "cursor": first["next_cursor"]}
    second = json_body(operator("GET", path, resource, params=params, query=next_page))
    assert [p["amount"] for p in second["data"]] == [1_000]
    assert all(p["status"] == "succeeded" for p in first["data"] + second["data"])
    # A cursor from elsewhere, or a bad limit, is the caller's mistake
    other = create_customer(email="other@example.com")
    response = operator(
        "GET",
        f"/v1/customers/{other['id']}/transactions",
        resource,
        params={"customer_id": other["id"]},
        query={"cursor": first["next_cursor"]},
    )
    assert response["statusCode"] == 400
    assert operator("GET", path, resource, params=params, query={"limit": "500"})["statusCode"] == 422


def test_two_events_racing_for_the_same_payment_move_money_once(
    aws: Aws, invoice: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given two different events announcing one payment, when the second one lands between the first
    one's read and its write, then the first one's guarded write fails, it re-reads, and moves nothing."""
    from shared.wiring import ledger

    attempt = checkout_for(invoice, 4_000)
    first = completed(attempt)
    second = completed(attempt, kind="checkout.session.async_payment_succeeded")
    store = ledger()
    real_read = store.get_payment_context
    outcomes: list[str] = []

    def read_then_let_the_other_event_win(*args: Any, **kwargs: Any) -> Any:
        context = real_read(*args, **kwargs)
        if not outcomes:  # only during the first event's first read
            outcomes.append("raced")
            monkeypatch.setattr(store, "get_payment_context", real_read)
            outcomes.append(json_body(deliver(second))["outcome"])
            monkeypatch.setattr(store, "get_payment_context", read_then_let_the_other_event_win)
        return context

    monkeypatch.setattr(store, "get_payment_context", read_then_let_the_other_event_win)
    first_outcome = json_body(deliver(first))["outcome"]
    assert outcomes == ["raced", "applied"]
    assert first_outcome == "no_change"
    after = get_invoice(invoice["id"])
    assert (after["amount_paid"], len(after["payments"])) == (4_000, 1)
    aws.drain_outbox()
    assert len(aws.emails()) == 1
    # Both events are kept, each once
    assert len(aws.items("EVENT#")) == 2


def test_an_event_from_stripes_live_mode_on_a_test_mode_stack_is_flagged_and_moves_no_money(
    aws: Aws, invoice: dict[str, Any]
) -> None:
    attempt = checkout_for(invoice, 10_000)
    response = deliver(completed(attempt) | {"livemode": True})  # this stack's key is sk_test_...
    assert response["statusCode"] == 200 and json.loads(response["body"])["outcome"] == "flagged"
    after = get_invoice(invoice["id"])
    assert (after["status"], after["amount_paid"], after["payments"]) == ("open", 0, [])


def test_a_completed_session_that_does_not_say_what_was_paid_is_flagged(aws: Aws, invoice: dict[str, Any]) -> None:
    attempt = checkout_for(invoice, 10_000)
    event = completed(attempt)
    del event["data"]["object"]["amount_total"]
    del event["data"]["object"]["currency"]
    response = deliver(event)
    assert json.loads(response["body"])["outcome"] == "flagged"
    assert get_invoice(invoice["id"])["amount_paid"] == 0


def test_a_refund_that_overtakes_the_debits_success_is_a_503_then_applies_on_redelivery(
    aws: Aws, invoice: dict[str, Any]
) -> None:
    attempt = checkout_for(invoice, 10_000)
    intent = f"pi_{attempt.ref[4:20]}"
    deliver(completed(attempt, payment_status="unpaid"))
    refund = {"id": "re_early_1", "object": "refund", "amount": 4_000, "currency": "usd", "status": "succeeded"}
    early = stripe_event("refund.created", refund | {"payment_intent": intent})

    # When the refund arrives while the bank debit is still pending here, it is not kept: Stripe retries it.
    first = deliver(early)
    assert first["statusCode"] == 503 and json_body(first)["error"]["code"] == "retry_later"
    assert get_invoice(invoice["id"])["amount_refunded"] == 0
    deliver(completed(attempt, kind="checkout.session.async_payment_succeeded"))

    # Then Stripe's next delivery of the same event applies it.
    again = deliver(early)
    assert again["statusCode"] == 200 and json_body(again)["outcome"] == "applied"
    after = get_invoice(invoice["id"])
    assert (after["status"], after["amount_paid"], after["amount_refunded"]) == ("paid", 10_000, 4_000)
