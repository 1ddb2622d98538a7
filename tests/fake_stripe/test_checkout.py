"""Checkout on the fake Stripe: sessions created and read as Stripe's, the hosted page that really pays through
localstripe, expiry, and delayed (bank debit) payments, each followed by its signed webhook."""

from __future__ import annotations

import time
import uuid
from html.parser import HTMLParser

import pytest
import requests
import stripe

from tests.fake_stripe.helpers import (
    CARD_OK,
    Front,
    WebhookInbox,
    assert_signed_by_stripe_scheme,
    pay,
    session_params,
)

CARDS_DECLINED = ["4000 0000 0000 0002", "4000000000000341"]


# -- creating and reading sessions -------------------------------------------------------------------------


def test_creating_a_session_returns_an_open_unpaid_stripe_shaped_session(
    front: Front, client: stripe.StripeClient
) -> None:
    # Given a customer that exists in localstripe
    customer = client.v1.customers.create(params={"email": "ada@example.com", "name": "Ada"})
    before = int(time.time())
    # When payportal's adapter creates a session for two line items
    params = session_params(customer=customer.id)
    params["line_items"].append(
        {"quantity": 2, "price_data": {"currency": "eur", "unit_amount": 250, "product_data": {"name": "Fee"}}}
    )
    session = client.v1.checkout.sessions.create(params=params)
    # Then it is open, unpaid and priced from the line items, with the hosted page's URL on the front
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{front.url}/checkout/{session.id}"
    assert (session.status, session.payment_status, session.payment_intent) == ("open", "unpaid", None)
    assert (session.amount_total, session.amount_subtotal, session.currency) == (13_000, 13_000, "eur")
    assert (session.customer, session.mode, session.client_reference_id) == (customer.id, "payment", "inv_7")
    assert session.metadata.to_dict() == {"invoice_id": "inv_7"}
    assert session.payment_method_types == ["card"]
    assert session.livemode is False
    assert before <= session.created and session.expires_at - session.created == 24 * 3600
    # And reading it back gives the same session
    assert client.v1.checkout.sessions.retrieve(session.id).to_dict() == session.to_dict()


def test_the_same_idempotency_key_and_params_give_back_the_same_session(client: stripe.StripeClient) -> None:
    # Given a session created under an idempotency key
    key = f"invoice-{uuid.uuid4()}"
    params = session_params()
    first = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": key})
    # When the same request is retried with the same key
    again = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": key})
    # Then it is the same session, not a second one
    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"


def test_reusing_an_idempotency_key_with_other_params_is_an_idempotency_error(client: stripe.StripeClient) -> None:
    # Given a session created under an idempotency key
    key = f"invoice-{uuid.uuid4()}"
    client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": key})
    # When the key is reused for a different amount, Then Stripe's idempotency error comes back
    other = session_params()
    other["line_items"][0]["price_data"]["unit_amount"] = 99
    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.checkout.sessions.create(params=other, options={"idempotency_key": key})
    assert raised.value.http_status == 400


@pytest.mark.parametrize(
    ("drop", "param"),
    [("mode", "mode"), ("success_url", "success_url"), ("line_items", "line_items")],
)
def test_a_session_without_a_required_param_is_refused(client: stripe.StripeClient, drop: str, param: str) -> None:
    # Given create params missing one required parameter
    params = session_params()
    del params[drop]
    # When creating the session, Then Stripe's 400 names the parameter
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.create(params=params)
    assert raised.value.http_status == 400
    assert raised.value.param == param


@pytest.mark.parametrize(("currency", "unit_amount"), [("isk", 500_050), ("ugx", 1_001), ("bhd", 1_234)])
def test_amounts_stripe_cannot_charge_in_the_currency_are_refused_as_stripe_does(
    client: stripe.StripeClient, currency: str, unit_amount: int
) -> None:
    # ISK and UGX are two-decimal at Stripe with no fractions; three-decimal currencies must end in 0
    params = session_params()
    params["line_items"][0]["price_data"] |= {"currency": currency, "unit_amount": unit_amount}
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.create(params=params)
    assert raised.value.http_status == 400 and raised.value.param == "line_items[0][price_data][unit_amount]"


def test_an_unknown_session_is_a_stripe_404(client: stripe.StripeClient) -> None:
    # When reading a session that was never created, Then it is Stripe's resource_missing 404
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"


def test_a_setup_mode_session_is_accepted_and_kept(client: stripe.StripeClient) -> None:
    # When creating a setup-mode session (no line items)
    params = session_params(mode="setup", currency="eur")
    del params["line_items"], params["payment_intent_data"]
    session = client.v1.checkout.sessions.create(params=params)
    # Then it is stored as a setup session with nothing to pay
    stored = client.v1.checkout.sessions.retrieve(session.id)
    assert (stored.mode, stored.status, stored.amount_total) == ("setup", "open", None)


# -- the hosted page ---------------------------------------------------------------------------------------


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labels: dict[str, str] = {}  # label text -> its `for`
        self.input_ids: set[str] = set()
        self.buttons: list[str] = []
        self.links: dict[str, str] = {}  # text -> href
        self.scripts = 0
        self._open: tuple[str, dict[str, str | None]] | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "input" and attributes.get("id"):
            self.input_ids.add(str(attributes["id"]))
        if tag == "script":
            self.scripts += 1
        if tag in {"label", "button", "a"}:
            self._open, self._text = (tag, attributes), ""

    def handle_data(self, data: str) -> None:
        self._text += data

    def handle_endtag(self, tag: str) -> None:
        if self._open is None or self._open[0] != tag:
            return
        text, attributes = self._text.strip(), self._open[1]
        if tag == "label":
            self.labels[text] = str(attributes.get("for"))
        elif tag == "button":
            self.buttons.append(text)
        else:
            self.links[text] = str(attributes.get("href"))
        self._open = None


def test_the_checkout_page_shows_the_amount_and_a_labelled_card_form(front: Front, client: stripe.StripeClient) -> None:
    # Given an open session for EUR 125.00
    session = client.v1.checkout.sessions.create(params=session_params())
    # When the payer opens its URL
    page = requests.get(session.url, timeout=5)
    # Then the page shows the amount and a form whose fields have real labels
    assert page.status_code == 200
    assert "€125.00" in page.text
    parsed = _PageParser()
    parsed.feed(page.text)
    for label in ("Card number", "Expiry", "CVC"):
        assert parsed.labels[label] in parsed.input_ids
    assert parsed.buttons == ["Pay"]
    assert parsed.links["Cancel"] == "http://127.0.0.1:3000/pay/cancelled"
    assert f'action="/checkout/{session.id}/pay"' in page.text
    # And it runs no script and cannot be framed
    assert parsed.scripts == 0
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_paying_with_a_good_card_completes_the_session_and_sends_a_signed_webhook(
    front: Front, client: stripe.StripeClient, inbox: WebhookInbox
) -> None:
    # Given an open session for a customer
    customer = client.v1.customers.create(params={"email": "grace@example.com"})
    session = client.v1.checkout.sessions.create(params=session_params(customer=customer.id))
    # When the payer pays with 4242 4242 4242 4242
    reply = pay(front, session.id, CARD_OK)
    # Then the browser is sent on to the success URL, with the session id filled in
    assert reply.status_code == 303
    assert reply.headers["Location"] == f"http://127.0.0.1:3000/pay/done?session={session.id}"
    # And the session is complete and paid by a PaymentIntent that succeeded in localstripe
    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert paid.payment_intent is not None
    intent = client.v1.payment_intents.retrieve(paid.payment_intent)
    assert (intent.status, intent.amount, intent.currency, intent.customer) == ("succeeded", 12_500, "eur", customer.id)
    assert intent.metadata["invoice_id"] == "inv_7"
    # And checkout.session.completed arrives, signed the way Stripe signs it
    delivery = inbox.event("checkout.session.completed", session.id)
    assert_signed_by_stripe_scheme(delivery)
    event = delivery.event
    assert event["id"].startswith("evt_")
    assert (event["object"], event["api_version"], event["livemode"], event["pending_webhooks"]) == (
        "event",
        "2024-06-20",
        False,
        1,
    )
    completed = event["data"]["object"]
    assert (completed["payment_status"], completed["payment_intent"], completed["amount_total"]) == (
        "paid",
        paid.payment_intent,
        12_500,
    )
    assert completed["metadata"] == {"invoice_id": "inv_7"}
    # And the card number appears in no log line of the front or localstripe
    assert "4242424242424242" not in front.output()
    assert CARD_OK not in front.output()


@pytest.mark.parametrize("card", CARDS_DECLINED)
def test_a_declined_card_leaves_the_session_open_and_reports_the_failed_payment(
    front: Front, client: stripe.StripeClient, inbox: WebhookInbox, card: str
) -> None:
    # Given an open session
    params = session_params()
    session = client.v1.checkout.sessions.create(params=params)
    attempt = params["payment_intent_data"]["metadata"]["attempt"]
    # When the payer pays with a card the bank declines
    reply = pay(front, session.id, card)
    # Then the form comes back with the decline announced to assistive technology
    assert reply.status_code == 402
    assert 'role="alert"' in reply.text and "Your card was declined." in reply.text
    assert "value=" not in reply.text  # the card details are not echoed back into the form
    # And the session is still open and unpaid
    still = client.v1.checkout.sessions.retrieve(session.id)
    assert (still.status, still.payment_status, still.payment_intent) == ("open", "unpaid", None)
    # And payment_intent.payment_failed arrives with the PaymentIntent and payportal's metadata
    delivery = inbox.wait_for(
        lambda d: (
            d.event["type"] == "payment_intent.payment_failed"
            and d.event["data"]["object"]["metadata"].get("attempt") == attempt
        )
    )[0]
    assert_signed_by_stripe_scheme(delivery)
    failed = delivery.event["data"]["object"]
    assert failed["id"].startswith("pi_") and failed["amount"] == 12_500
    assert failed["metadata"]["invoice_id"] == "inv_7"
    assert failed["last_payment_error"]["code"] == "card_declined"
    # And the payer can still pay with another card
    assert pay(front, session.id, CARD_OK).status_code == 303


def test_invalid_card_details_are_refused_before_reaching_localstripe(
    front: Front, client: stripe.StripeClient
) -> None:
    # Given an open session
    session = client.v1.checkout.sessions.create(params=session_params())
    # When the payer mistypes the card number
    reply = pay(front, session.id, "4242 4242 4242 4241")
    # Then the page says so and the session stays open
    assert reply.status_code == 400
    assert "Your card number is invalid." in reply.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_a_completed_session_cannot_be_paid_twice(front: Front, client: stripe.StripeClient) -> None:
    # Given a session already paid
    session = client.v1.checkout.sessions.create(params=session_params())
    first = pay(front, session.id, CARD_OK)
    assert first.status_code == 303
    intents_before = len(client.v1.payment_intents.list(params={"limit": 100}).data)
    # When the form is submitted again
    reply = pay(front, session.id, CARD_OK)
    # Then the page says it is already complete and nothing more is charged
    assert reply.status_code == 409
    assert "already complete" in reply.text
    assert len(client.v1.payment_intents.list(params={"limit": 100}).data) == intents_before


def test_an_unknown_checkout_page_is_a_404_page(front: Front) -> None:
    reply = requests.get(f"{front.url}/checkout/cs_test_unknown", timeout=5)
    assert reply.status_code == 404
    assert "does not exist" in reply.text


# -- expiry ------------------------------------------------------------------------------------------------


def test_expiring_a_session_closes_it_and_sends_checkout_session_expired(
    front: Front, client: stripe.StripeClient, inbox: WebhookInbox
) -> None:
    # Given an open session
    session = client.v1.checkout.sessions.create(params=session_params())
    # When payportal expires it
    expired = client.v1.checkout.sessions.expire(session.id)
    # Then it is expired, the event arrives signed, and it cannot be expired again
    assert (expired.status, expired.url) == ("expired", None)
    assert_signed_by_stripe_scheme(inbox.event("checkout.session.expired", session.id))
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)
    # And paying it shows that it expired, without charging anything
    intents_before = len(client.v1.payment_intents.list(params={"limit": 100}).data)
    reply = pay(front, session.id, CARD_OK)
    assert reply.status_code == 410
    assert "expired" in reply.text
    assert len(client.v1.payment_intents.list(params={"limit": 100}).data) == intents_before


# -- delayed payment methods -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("succeeded", "outcome", "payment_status"), [(True, "succeeded", "paid"), (False, "failed", "unpaid")]
)
def test_a_delayed_payment_completes_first_and_settles_later(
    front: Front,
    client: stripe.StripeClient,
    inbox: WebhookInbox,
    succeeded: bool,
    outcome: str,
    payment_status: str,
) -> None:
    # Given an open session the payer completes with a bank debit
    session = client.v1.checkout.sessions.create(params=session_params())
    reply = requests.post(f"{front.url}/_front/sessions/{session.id}/complete-delayed", timeout=10)
    assert reply.status_code == 200
    # Then checkout.session.completed arrives with nothing paid yet
    completed = inbox.event("checkout.session.completed", session.id).event["data"]["object"]
    assert (completed["status"], completed["payment_status"]) == ("complete", "unpaid")
    # When the bank's answer comes in
    reply = requests.post(
        f"{front.url}/_front/sessions/{session.id}/async-result", json={"succeeded": succeeded}, timeout=10
    )
    assert reply.status_code == 200
    # Then the matching async event arrives and the session and PaymentIntent agree with it
    settled = inbox.event(f"checkout.session.async_payment_{outcome}", session.id).event["data"]["object"]
    assert settled["payment_status"] == payment_status
    assert settled["payment_intent"] and settled["payment_intent"].startswith("pi_")
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == payment_status
    intent = client.v1.payment_intents.retrieve(settled["payment_intent"])
    assert intent.status == ("succeeded" if succeeded else "requires_payment_method")
    assert intent.metadata["invoice_id"] == "inv_7"
