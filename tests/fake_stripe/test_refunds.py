"""Refunds on the local Stripe front, as payportal and the Dashboard make them: checked against what is left
on the charge, kept with their reason and metadata, idempotent, and announced with the events Stripe sends
(`refund.created`, `charge.refunded`, and `refund.updated` / `refund.failed` when one fails later)."""

from __future__ import annotations

import uuid

import pytest
import requests
import stripe

from shared.adapters.stripe_gateway import StripeGateway
from shared.services.stripe_events.facts import RefundFact
from tests.fake_stripe.helpers import (
    API_KEY,
    CARD_OK,
    Front,
    WebhookInbox,
    assert_signed_by_stripe_scheme,
    pay,
    session_params,
)


@pytest.fixture
def paid_intent(front: Front, client: stripe.StripeClient) -> str:
    """A PaymentIntent of EUR 125.00, paid on the hosted Checkout page."""
    session = client.v1.checkout.sessions.create(params=session_params())
    assert pay(front, session.id, CARD_OK).status_code == 303
    intent = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    assert isinstance(intent, str)
    return intent


def refund(client: stripe.StripeClient, intent: str, key: str | None = None, **params: object) -> stripe.Refund:
    options: dict[str, str] = {"idempotency_key": key} if key else {}
    return client.v1.refunds.create(params={"payment_intent": intent, **params}, options=options)  # type: ignore[arg-type]


def test_a_partial_refund_is_made_and_announced_as_stripe_does(
    client: stripe.StripeClient, inbox: WebhookInbox, paid_intent: str
) -> None:
    made = refund(client, paid_intent, amount=3_000, reason="requested_by_customer", metadata={"refund_ref": "rfq_1"})

    assert (made.status, made.amount, made.currency, made.payment_intent) == ("succeeded", 3_000, "eur", paid_intent)
    assert made.reason == "requested_by_customer" and made.metadata["refund_ref"] == "rfq_1"
    created = inbox.event("refund.created", made.id)
    assert_signed_by_stripe_scheme(created)
    charge = inbox.event("charge.refunded", str(made.charge)).event["data"]["object"]
    assert (charge["amount_refunded"], charge["refunded"], charge["payment_intent"]) == (3_000, False, paid_intent)
    assert [r["id"] for r in charge["refunds"]["data"]] == [made.id]
    assert client.v1.refunds.retrieve(made.id).status == "succeeded"


def test_without_an_amount_the_rest_is_refunded_and_then_nothing_is_left(
    client: stripe.StripeClient, paid_intent: str
) -> None:
    refund(client, paid_intent, amount=2_500)

    rest = refund(client, paid_intent)

    assert rest.amount == 10_000
    with pytest.raises(stripe.InvalidRequestError) as refused:
        refund(client, paid_intent, amount=1)
    assert refused.value.code == "charge_already_refunded"


def test_more_than_is_left_is_refused(client: stripe.StripeClient, paid_intent: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        refund(client, paid_intent, amount=12_501)

    assert refused.value.param == "amount"


@pytest.mark.parametrize("params", [{"reason": "because"}, {"amount": 0}, {"amount": -5}])
def test_what_stripe_refuses_is_refused(
    client: stripe.StripeClient, paid_intent: str, params: dict[str, object]
) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        refund(client, paid_intent, **params)


def test_an_unknown_payment_intent_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        refund(client, "pi_unknown", amount=100)

    assert refused.value.code == "resource_missing"


def test_the_same_idempotency_key_refunds_once(
    client: stripe.StripeClient, inbox: WebhookInbox, paid_intent: str
) -> None:
    key = f"payportal-refund-{uuid.uuid4().hex}"
    first = refund(client, paid_intent, key, amount=1_000)

    again = refund(client, paid_intent, key, amount=1_000)

    assert again.id == first.id
    charge = client.v1.charges.retrieve(str(first.charge))
    assert charge.amount_refunded == 1_000


def test_a_refund_that_fails_later_is_announced_and_no_longer_counts(
    front: Front, client: stripe.StripeClient, inbox: WebhookInbox, paid_intent: str
) -> None:
    made = refund(client, paid_intent, amount=4_000)

    reply = requests.post(f"{front.url}/_front/refunds/{made.id}/fail", timeout=5)

    assert reply.status_code == 200 and reply.json()["status"] == "failed"
    failed = inbox.event("refund.failed", made.id).event["data"]["object"]
    assert (failed["status"], failed["failure_reason"]) == ("failed", "expired_or_canceled_card")
    assert inbox.event("refund.updated", made.id).event["data"]["object"]["status"] == "failed"
    assert client.v1.charges.retrieve(str(made.charge)).amount_refunded == 0
    assert refund(client, paid_intent).amount == 12_500  # the failed refund's money is refundable again


def test_an_event_is_served_by_id_as_it_was_sent_and_reads_as_the_webhook_reads_it(
    front: Front, client: stripe.StripeClient, inbox: WebhookInbox, paid_intent: str
) -> None:
    # Given a refund, announced by webhook
    made = refund(client, paid_intent, amount=1_000)
    sent = inbox.event("refund.created", made.id).event

    # When payportal's Stripe adapter retrieves that event by id (what a replay does)
    fact = StripeGateway(API_KEY, front.url).retrieve_event(sent["id"])

    # Then Stripe's API serves the very event delivered, and it parses into the fact the webhook would get
    assert client.v1.events.retrieve(sent["id"]).to_dict() == sent
    assert isinstance(fact, RefundFact)
    assert (fact.event.id, fact.payment_intent_id, [r.refund_id for r in fact.refunds]) == (
        sent["id"],
        paid_intent,
        [made.id],
    )
    # And an event Stripe does not have is a 404, which the adapter reads as none
    missing = requests.get(f"{front.url}/v1/events/evt_nope", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "resource_missing"
    assert StripeGateway(API_KEY, front.url).retrieve_event("evt_nope") is None
