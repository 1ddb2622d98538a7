"""Saved cards and off-session charges on the local Stripe front, as installment plans and autopay use them:
save a card through Checkout, list the customer's cards, charge the newest one with nobody there, and get
Stripe's answers (402 card errors, signed `payment_intent.*` webhooks, idempotent retries)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
import stripe

from shared.adapters.stripe_gateway import StripeGateway
from shared.services.gateway import OffSessionCharge
from tests.fake_stripe.helpers import (
    API_KEY,
    CARD_OK,
    Front,
    WebhookInbox,
    assert_signed_by_stripe_scheme,
    front_events,
    pay,
    session_params,
)

CARD_DECLINES_CHARGES = "4000 0000 0000 0341"  # attaches fine, every charge is declined
CARD_NEEDS_AUTHENTICATION = "4000 0027 6000 3184"
CARD_LOST = "4000000000009987"


@pytest.fixture
def customer(client: stripe.StripeClient) -> str:
    return str(client.v1.customers.create(params={"email": "ada@example.com", "name": "Ada"}).id)


def setup_session(client: stripe.StripeClient, customer: str, **overrides: Any) -> stripe.checkout.Session:
    params = session_params(mode="setup", currency="eur", customer=customer, **overrides)
    del params["line_items"], params["payment_intent_data"]
    return client.v1.checkout.sessions.create(params=params)


def save_card(front: Front, client: stripe.StripeClient, customer: str, card: str) -> str:
    """The payer saves `card` on a setup-mode Checkout page; the saved card's PaymentMethod id."""
    reply = pay(front, setup_session(client, customer).id, card)
    assert reply.status_code == 303, reply.text
    return str(cards_of(client, customer)[0].id)


def cards_of(client: stripe.StripeClient, customer: str) -> list[stripe.PaymentMethod]:
    return list(client.v1.payment_methods.list(params={"customer": customer, "type": "card"}).data)


def charge_params(customer: str, payment_method: str, **overrides: Any) -> dict[str, Any]:
    """What payportal's charges function sends for one installment."""
    params: dict[str, Any] = {
        "amount": 4_000,
        "currency": "eur",
        "customer": customer,
        "payment_method": payment_method,
        "off_session": True,
        "confirm": True,
        "description": "Installment 2 of 3, invoice INV-7",
        "metadata": {"invoice_id": "inv_7", "plan_id": "plan_1", "installment": "2", "attempt": uuid.uuid4().hex},
    }
    return params | overrides


def events_about(front: Front, object_id: str, event_type: str) -> list[dict[str, Any]]:
    return [e for e in front_events(front) if e["object_id"] == object_id and e["type"] == event_type]


# -- saving a card -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("card", [CARD_OK, CARD_NEEDS_AUTHENTICATION])
def test_a_setup_session_saves_the_card_on_the_customer_and_completes_with_a_setup_intent(
    front: Front, client: stripe.StripeClient, inbox: WebhookInbox, customer: str, card: str
) -> None:
    # Given a setup-mode session for a customer
    session = setup_session(client, customer, setup_intent_data={"metadata": {"purpose": "autopay"}})
    # When the payer submits the hosted page with a card (3-D Secure ones are approved on their behalf)
    reply = pay(front, session.id, card)
    # Then the browser goes on to the success URL
    assert reply.status_code == 303
    assert reply.headers["Location"] == f"http://127.0.0.1:3000/pay/done?session={session.id}"
    # And the session is complete with a SetupIntent that succeeded for that customer
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.payment_intent) == ("complete", "no_payment_required", None)
    assert done.setup_intent is not None and done.setup_intent.startswith("seti_")
    setup = client.v1.setup_intents.retrieve(done.setup_intent)
    assert (setup.status, setup.customer, setup.usage) == ("succeeded", customer, "off_session")
    assert setup.metadata.to_dict() == {"purpose": "autopay"}
    # And the card is saved on the customer, and is the one the SetupIntent set up
    [saved] = cards_of(client, customer)
    assert (saved.id, saved.customer, saved.card.last4) == (setup.payment_method, customer, card[-4:])
    # And checkout.session.completed arrives, signed, for a setup session
    delivery = inbox.event("checkout.session.completed", session.id)
    assert_signed_by_stripe_scheme(delivery)
    completed = delivery.event["data"]["object"]
    assert (completed["mode"], completed["setup_intent"], completed["customer"]) == ("setup", setup.id, customer)


def test_a_card_declined_on_setup_is_not_saved(front: Front, client: stripe.StripeClient, customer: str) -> None:
    # Given a setup-mode session
    session = setup_session(client, customer)
    # When the payer tries a card with insufficient funds
    reply = pay(front, session.id, "4000 0000 0000 9995")
    # Then the page gives Stripe's reason, the session stays open and nothing is saved
    assert reply.status_code == 402
    assert "Your card has insufficient funds." in reply.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert cards_of(client, customer) == []


def test_paying_with_setup_future_usage_saves_the_card_that_paid(
    front: Front, client: stripe.StripeClient, inbox: WebhookInbox, customer: str
) -> None:
    # Given a payment session that asks to keep the card for off-session use, as payportal's adapter creates it
    params = session_params(customer=customer)
    params["payment_intent_data"]["setup_future_usage"] = "off_session"
    session = client.v1.checkout.sessions.create(params=params)
    # When the payer pays
    assert pay(front, session.id, CARD_OK).status_code == 303
    # Then the session is paid, and the PaymentIntent's card is now saved on the customer
    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.payment_intent is not None
    intent = client.v1.payment_intents.retrieve(paid.payment_intent)
    [saved] = cards_of(client, customer)
    assert (intent.status, intent.payment_method, intent.setup_future_usage) == ("succeeded", saved.id, "off_session")
    assert (saved.customer, saved.card.last4) == (customer, "4242")
    assert inbox.event("checkout.session.completed", session.id).event["data"]["object"]["payment_status"] == "paid"


def test_paying_without_setup_future_usage_saves_nothing(
    front: Front, client: stripe.StripeClient, customer: str
) -> None:
    # Given a payment session that does not ask to keep the card
    session = client.v1.checkout.sessions.create(params=session_params(customer=customer))
    # When the payer pays, Then the customer has no saved card
    assert pay(front, session.id, CARD_OK).status_code == 303
    assert cards_of(client, customer) == []


def test_an_unknown_setup_future_usage_is_refused(client: stripe.StripeClient) -> None:
    params = session_params()
    params["payment_intent_data"]["setup_future_usage"] = "forever"
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.create(params=params)
    assert raised.value.param == "payment_intent_data[setup_future_usage]"


# -- listing a customer's cards ----------------------------------------------------------------------------


def test_a_customers_cards_are_listed_newest_first_in_stripes_shape(
    front: Front, client: stripe.StripeClient, customer: str
) -> None:
    # Given two cards saved one after the other (within the same second, as often as not)
    older = save_card(front, client, customer, CARD_OK)
    newer = save_card(front, client, customer, "4000 0566 5566 5556")
    # When listing the customer's cards
    listed = client.v1.payment_methods.list(params={"customer": customer, "type": "card"})
    # Then the newest comes first, each Stripe-shaped
    assert [card.id for card in listed.data] == [newer, older]
    assert listed.has_more is False and listed.url == "/v1/payment_methods"
    card = listed.data[1]
    assert (card.object, card.type, card.customer) == ("payment_method", "card", customer)
    assert (card.card.brand, card.card.last4, card.card.exp_month, card.card.exp_year) == ("visa", "4242", 12, 2034)
    assert isinstance(card.created, int) and abs(card.created - time.time()) < 60
    # And the customer's own list says the same
    under_customer = client.v1.customers.payment_methods.list(customer, params={"type": "card"})
    assert [c.id for c in under_customer.data] == [newer, older]
    assert under_customer.url == f"/v1/customers/{customer}/payment_methods"
    # And it pages like every Stripe list
    first = client.v1.payment_methods.list(params={"customer": customer, "type": "card", "limit": 1})
    assert ([c.id for c in first.data], first.has_more) == ([newer], True)
    rest = client.v1.payment_methods.list(params={"customer": customer, "type": "card", "starting_after": newer})
    assert ([c.id for c in rest.data], rest.has_more) == ([older], False)
    back = client.v1.payment_methods.list(params={"customer": customer, "type": "card", "ending_before": older})
    assert [c.id for c in back.data] == [newer]


def test_cards_of_an_unknown_customer_are_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_methods.list(params={"customer": "cus_nope", "type": "card"})
    assert (raised.value.http_status, raised.value.code) == (400, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.customers.payment_methods.list("cus_nope")
    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")


# -- charging off session ----------------------------------------------------------------------------------


def test_an_off_session_charge_on_a_good_card_succeeds_and_sends_payment_intent_succeeded(
    front: Front, client: stripe.StripeClient, inbox: WebhookInbox, customer: str
) -> None:
    # Given a card the customer saved through Checkout
    card = save_card(front, client, customer, CARD_OK)
    # When payportal charges it with nobody there
    params = charge_params(customer, card)
    intent = client.v1.payment_intents.create(params=params, options={"idempotency_key": f"charge-{uuid.uuid4()}"})
    # Then it succeeded, on that card, for that customer
    assert intent.id.startswith("pi_") and intent.object == "payment_intent"
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 4_000, "eur")
    assert (intent.customer, intent.payment_method, intent.description) == (customer, card, params["description"])
    assert intent.metadata.to_dict() == params["metadata"]
    assert intent.last_payment_error is None
    assert isinstance(intent.latest_charge, str) and intent.latest_charge.startswith("ch_")
    # And reading it back gives the same PaymentIntent
    assert client.v1.payment_intents.retrieve(intent.id).to_dict() == intent.to_dict()
    # And payment_intent.succeeded arrives, signed, with everything payportal records
    delivery = inbox.event("payment_intent.succeeded", intent.id)
    assert_signed_by_stripe_scheme(delivery)
    succeeded = delivery.event["data"]["object"]
    assert (succeeded["status"], succeeded["amount"], succeeded["currency"]) == ("succeeded", 4_000, "eur")
    assert (succeeded["customer"], succeeded["payment_method"]) == (customer, card)
    assert succeeded["metadata"] == params["metadata"]


def unsaved_lost_card(client: stripe.StripeClient) -> str:
    # localstripe, like Stripe, refuses to save a lost card: this one is made from its number and charged as is.
    card = {"number": CARD_LOST, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    return str(client.v1.payment_methods.create(params={"type": "card", "card": card}).id)


@pytest.mark.parametrize(
    ("card", "code", "decline_code"),
    [
        (CARD_DECLINES_CHARGES, "card_declined", "generic_decline"),
        (CARD_NEEDS_AUTHENTICATION, "authentication_required", "authentication_required"),
        ("lost", "card_declined", "lost_card"),
        ("pm_card_visa_chargeDeclinedStolenCard", "card_declined", "stolen_card"),
    ],
)
def test_a_failed_off_session_charge_is_a_402_card_error_and_sends_payment_intent_payment_failed(
    front: Front,
    client: stripe.StripeClient,
    inbox: WebhookInbox,
    customer: str,
    card: str,
    code: str,
    decline_code: str,
) -> None:
    # Given a card that will not pay off session: saved through Checkout, a lost card, or Stripe's test id
    if card == "lost":
        method = unsaved_lost_card(client)
    elif card.startswith("pm_"):
        method = card
    else:
        method = save_card(front, client, customer, card)
    params = charge_params(customer, method)
    # When payportal charges it
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_intents.create(params=params, options={"idempotency_key": f"charge-{uuid.uuid4()}"})
    # Then the SDK raises Stripe's card error, carrying the PaymentIntent waiting for another card
    error = raised.value
    assert (error.http_status, error.code) == (402, code)
    assert error.error is not None
    assert (error.error.type, error.error.decline_code) == ("card_error", decline_code)
    failed = error.error.payment_intent
    assert failed is not None and failed["id"].startswith("pi_")
    assert (failed["status"], failed["amount"], failed["customer"], failed["payment_method"]) == (
        "requires_payment_method",
        4_000,
        customer,
        None,
    )
    assert failed["metadata"].to_dict() == params["metadata"]
    last_error = failed["last_payment_error"]
    assert (last_error["type"], last_error["code"], last_error["decline_code"]) == ("card_error", code, decline_code)
    assert last_error["payment_method"]["id"].startswith("pm_")
    # And payment_intent.payment_failed arrives, signed, with the same PaymentIntent
    delivery = inbox.event("payment_intent.payment_failed", failed["id"])
    assert_signed_by_stripe_scheme(delivery)
    sent = delivery.event["data"]["object"]
    assert sent["metadata"] == params["metadata"]
    assert (sent["last_payment_error"]["code"], sent["last_payment_error"]["decline_code"]) == (code, decline_code)
    # And reading the PaymentIntent back tells the same story
    again = client.v1.payment_intents.retrieve(failed["id"])
    assert (again.status, again.payment_method) == ("requires_payment_method", None)
    assert again.last_payment_error is not None and again.last_payment_error.decline_code == decline_code


def test_the_same_idempotency_key_and_params_give_the_same_payment_intent_and_charge_once(
    front: Front, client: stripe.StripeClient, inbox: WebhookInbox, customer: str
) -> None:
    # Given an off-session charge made under an idempotency key
    card = save_card(front, client, customer, CARD_OK)
    key, params = f"installment-{uuid.uuid4()}", charge_params(customer, card)
    first = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    # When the charges function retries it (a timeout, a redelivered schedule)
    again = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    # Then it is the same PaymentIntent, replayed, and only one payment_intent.succeeded was sent
    assert again.id == first.id
    assert again.last_response is not None and again.last_response.headers.get("Idempotent-Replayed") == "true"
    inbox.event("payment_intent.succeeded", first.id)
    assert len(events_about(front, first.id, "payment_intent.succeeded")) == 1


def test_a_declined_charge_is_replayed_as_the_same_card_error(
    front: Front, client: stripe.StripeClient, customer: str
) -> None:
    # Given an off-session charge that was declined under an idempotency key
    card = save_card(front, client, customer, CARD_DECLINES_CHARGES)
    key, params = f"installment-{uuid.uuid4()}", charge_params(customer, card)
    with pytest.raises(stripe.CardError) as first:
        client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    # When it is retried with the same key, Then the same decline comes back, about the same PaymentIntent
    with pytest.raises(stripe.CardError) as again:
        client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    assert first.value.error is not None and again.value.error is not None
    assert first.value.error.payment_intent is not None and again.value.error.payment_intent is not None
    intent_id = first.value.error.payment_intent["id"]
    assert again.value.error.payment_intent["id"] == intent_id
    assert len(events_about(front, intent_id, "payment_intent.payment_failed")) == 1


def test_reusing_a_charges_idempotency_key_with_other_params_is_an_idempotency_error(
    front: Front, client: stripe.StripeClient, customer: str
) -> None:
    # Given an off-session charge made under an idempotency key
    card = save_card(front, client, customer, CARD_OK)
    key = f"installment-{uuid.uuid4()}"
    client.v1.payment_intents.create(params=charge_params(customer, card), options={"idempotency_key": key})
    # When the key is reused for another amount, Then Stripe's idempotency error comes back
    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.payment_intents.create(
            params=charge_params(customer, card, amount=4_001), options={"idempotency_key": key}
        )
    assert raised.value.http_status == 400


def test_a_card_that_is_not_the_customers_or_not_there_is_refused(
    front: Front, client: stripe.StripeClient, customer: str
) -> None:
    # Given a card saved on another customer
    other = str(client.v1.customers.create(params={"email": "grace@example.com"}).id)
    theirs = save_card(front, client, other, CARD_OK)
    charged_before = [e["id"] for e in front_events(front) if e["type"].startswith("payment_intent.")]
    # When charging it to this customer, or charging a card that does not exist, Then both are refused
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(params=charge_params(customer, theirs))
    assert (raised.value.http_status, raised.value.param) == (400, "payment_method")
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(params=charge_params(customer, "pm_nope"))
    assert (raised.value.code, raised.value.param) == ("resource_missing", "payment_method")
    # And nothing was charged
    assert [e["id"] for e in front_events(front) if e["type"].startswith("payment_intent.")] == charged_before


def test_a_payment_intent_that_is_not_off_session_still_goes_to_localstripe(
    front: Front, client: stripe.StripeClient, customer: str
) -> None:
    # When payportal creates a PaymentIntent to confirm later (no off_session, no confirm)
    intent = client.v1.payment_intents.create(params={"amount": 500, "currency": "eur", "customer": customer})
    # Then localstripe keeps it, shown in Stripe's shape
    assert (intent.status, intent.customer, intent.latest_charge) == ("requires_payment_method", customer, None)
    assert "charges" not in intent
    reply = requests.get(f"{front.url}/v1/payment_intents/{intent.id}", auth=(API_KEY, ""), timeout=5)
    assert reply.json()["id"] == intent.id


def test_the_gateway_lists_removes_and_chooses_what_off_session_charges_use(
    front: Front, client: stripe.StripeClient, customer: str
) -> None:
    # Given two cards saved through Checkout, the newer one last
    gateway = StripeGateway(API_KEY, front.url)
    older = save_card(front, client, customer, CARD_OK)
    newer = save_card(front, client, customer, "5555 5555 5555 4444")

    # Then both are listed, newest first, with brand, last four and expiry only; nothing chosen yet
    saved = gateway.saved_payment_methods(customer)
    assert [(m.id, m.kind, m.last4) for m in saved.methods] == [(newer, "card", "4444"), (older, "card", "4242")]
    assert saved.methods[0].brand and saved.methods[0].exp_year is not None
    assert saved.default_id is None and saved.charged is not None and saved.charged.id == newer

    # When the customer chooses the older one, an off-session charge uses it
    gateway.choose_payment_method(customer, older)
    assert gateway.saved_payment_methods(customer).default_id == older
    charge = OffSessionCharge(customer, 4_000, "EUR", "Installment 1 of 2", {"invoice_id": "inv_7"}, uuid.uuid4().hex)
    outcome = gateway.charge_off_session(charge)
    assert outcome.status == "succeeded" and outcome.payment_intent_id
    intent = client.v1.payment_intents.retrieve(outcome.payment_intent_id)
    assert intent.payment_method == older

    # When it is removed, it is gone, a second removal is no error, and charges fall back to the newest
    gateway.detach_payment_method(older)
    gateway.detach_payment_method(older)
    saved = gateway.saved_payment_methods(customer)
    assert [m.id for m in saved.methods] == [newer]
    assert saved.charged is not None and saved.charged.id == newer
