"""The local Stripe stand-in: localstripe behind the front, started by its CLI and driven with the real
stripe SDK, a browser-like HTTP client for the hosted page, and a tiny server receiving the webhooks."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe

API_KEY = "sk_test_local"
WEBHOOK_SECRET = "whsec_front_tests"
REPO_ROOT = Path(__file__).resolve().parents[2]
CARD_OK = "4242 4242 4242 4242"
CARDS_DECLINED = ["4000 0000 0000 0002", "4000000000000341"]


# -- the webhook receiver ----------------------------------------------------------------------------------


@dataclass
class Delivery:
    signature: str
    body: bytes
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class WebhookInbox:
    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    fail_next: int = 0  # answer this many deliveries with a 500, as a broken endpoint would
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, matches: Callable[[Delivery], bool], *, count: int = 1, timeout: float = 10) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [d for d in self.deliveries if d.answered == 200 and matches(d)]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"expected {count} matching webhook deliveries within {timeout} s")

    def event(self, event_type: str, object_id: str) -> Delivery:
        """The first accepted delivery of `event_type` about the object `object_id`."""

        def matches(delivery: Delivery) -> bool:
            event = delivery.event
            return bool(event["type"] == event_type and event["data"]["object"]["id"] == object_id)

        return self.wait_for(matches)[0]


@contextlib.contextmanager
def running_inbox() -> Iterator[WebhookInbox]:
    """A webhook endpoint on a free port, recording what it receives."""
    box = WebhookInbox()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with box.lock:
                status = 500 if box.fail_next > 0 else 200
                box.fail_next = max(box.fail_next - 1, 0)
                box.deliveries.append(Delivery(self.headers.get("Stripe-Signature", ""), body, status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    box.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def inbox() -> Iterator[WebhookInbox]:
    with running_inbox() as box:
        yield box


# -- the front, started as `make dev` starts it ------------------------------------------------------------


@dataclass
class Front:
    url: str
    process: subprocess.Popen[bytes]
    localstripe_port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accepts_connections(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_front(webhook_url: str, log: Path) -> Front:
    port, localstripe_port = free_port(), free_port()
    command = [
        sys.executable, "-m", "local.fake_stripe",
        "--port", str(port), "--localstripe-port", str(localstripe_port),
        "--api-key", API_KEY, "--webhook-secret", WEBHOOK_SECRET, "--webhook-url", webhook_url,
    ]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=sink, stderr=subprocess.STDOUT)
    front = Front(f"http://127.0.0.1:{port}", process, localstripe_port, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the front exited while starting:\n{front.output()}"
        try:
            if requests.get(f"{front.url}/_front/health", timeout=1).json() == {"ok": True}:
                return front
        except requests.RequestException:
            pass
        time.sleep(0.1)
    stop_front(front)
    raise AssertionError(f"the front did not become healthy:\n{front.output()}")


def stop_front(front: Front) -> int:
    if front.process.poll() is None:
        front.process.send_signal(signal.SIGTERM)
    try:
        return front.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        front.process.kill()
        front.process.wait(timeout=5)
        raise


@pytest.fixture(scope="module")
def front(inbox: WebhookInbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    running = start_front(inbox.url, tmp_path_factory.mktemp("front") / "front.log")
    try:
        yield running
    finally:
        stop_front(running)


@pytest.fixture
def client(front: Front) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": front.url}, max_network_retries=0)


def session_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "payment_method_types": ["card"],
        "line_items": [
            {
                "quantity": 1,
                "price_data": {"currency": "eur", "unit_amount": 12_500, "product_data": {"name": "Invoice INV-7"}},
            }
        ],
        "success_url": "http://127.0.0.1:3000/pay/done?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:3000/pay/cancelled",
        "metadata": {"invoice_id": "inv_7"},
        "payment_intent_data": {"metadata": {"invoice_id": "inv_7", "attempt": uuid.uuid4().hex}},
        "client_reference_id": "inv_7",
    }
    return params | overrides


def pay(front: Front, session_id: str, card_number: str) -> requests.Response:
    """What the browser posts when the payer submits the hosted page's form."""
    form = {"card_number": card_number, "expiry": "12 / 34", "cvc": "123"}
    return requests.post(f"{front.url}/checkout/{session_id}/pay", data=form, allow_redirects=False, timeout=10)


def front_events(front: Front) -> list[dict[str, Any]]:
    return list(requests.get(f"{front.url}/_front/events", timeout=5).json()["data"])


def assert_signed_by_stripe_scheme(delivery: Delivery) -> None:
    parts = dict(part.split("=", 1) for part in delivery.signature.split(","))
    expected = hmac.new(WEBHOOK_SECRET.encode(), parts["t"].encode() + b"." + delivery.body, hashlib.sha256)
    assert hmac.compare_digest(parts["v1"], expected.hexdigest())
    assert abs(int(parts["t"]) - time.time()) < 60
    event = stripe.Webhook.construct_event(delivery.body.decode(), delivery.signature, WEBHOOK_SECRET)
    assert event.id == delivery.event["id"]


# -- API keys ----------------------------------------------------------------------------------------------


def test_a_wrong_or_missing_api_key_is_refused_like_stripe_refuses_it(front: Front) -> None:
    # Given a client holding the wrong key
    intruder = stripe.StripeClient("sk_test_wrong", base_addresses={"api": front.url}, max_network_retries=0)
    # When it calls the API, Then the SDK sees Stripe's authentication error
    with pytest.raises(stripe.AuthenticationError):
        intruder.v1.customers.list()
    # And a request without any key gets a 401 with a Stripe-shaped error
    reply = requests.post(f"{front.url}/v1/checkout/sessions", data={"mode": "payment"}, timeout=5)
    assert reply.status_code == 401
    assert reply.json()["error"]["type"] == "invalid_request_error"


def test_the_key_is_also_accepted_as_the_basic_auth_user(front: Front) -> None:
    # Given the key sent the way older SDKs and curl -u send it
    # When listing customers, Then localstripe's answer comes back
    reply = requests.get(f"{front.url}/v1/customers", auth=(API_KEY, ""), timeout=5)
    assert reply.status_code == 200
    assert reply.json()["object"] == "list"


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


# -- webhook delivery --------------------------------------------------------------------------------------


def test_a_failed_delivery_is_retried_until_the_endpoint_accepts_it(
    front: Front, client: stripe.StripeClient, inbox: WebhookInbox
) -> None:
    # Given a webhook endpoint that fails the next delivery
    inbox.fail_next = 1
    # When an event is sent
    session = client.v1.checkout.sessions.create(params=session_params())
    client.v1.checkout.sessions.expire(session.id)
    # Then it is delivered on the second attempt, and the front's log of events says so
    delivery = inbox.event("checkout.session.expired", session.id)
    with inbox.lock:
        answers = [d.answered for d in inbox.deliveries if d.event["id"] == delivery.event["id"]]
    assert answers == [500, 200]
    record = next(e for e in front_events(front) if e["id"] == delivery.event["id"])
    assert (record["attempts"], record["last_status_code"], record["delivered"]) == (2, 200, True)


def test_an_event_can_be_redelivered_with_the_same_id_to_prove_deduplication(
    front: Front, client: stripe.StripeClient, inbox: WebhookInbox
) -> None:
    # Given an event already delivered
    session = client.v1.checkout.sessions.create(params=session_params())
    client.v1.checkout.sessions.expire(session.id)
    first = inbox.event("checkout.session.expired", session.id)
    # When the test asks the front to send it again
    event_id = first.event["id"]
    reply = requests.post(f"{front.url}/_front/events/{event_id}/resend", timeout=5)
    assert reply.status_code == 202
    # Then the very same event arrives again, freshly and validly signed
    deliveries = inbox.wait_for(lambda d: d.event["id"] == event_id, count=2)
    assert deliveries[1].body == first.body
    assert_signed_by_stripe_scheme(deliveries[1])
    # And the front lists it once, newest last, with both attempts counted
    listed = front_events(front)
    assert [e["id"] for e in listed].count(event_id) == 1
    assert listed[-1]["id"] == event_id
    assert listed[-1]["attempts"] >= 2


# -- everything else goes to localstripe -------------------------------------------------------------------


def test_other_api_calls_reach_localstripe_and_keep_stripes_idempotency(client: stripe.StripeClient) -> None:
    # When payportal creates a customer twice under one idempotency key (as its adapter does)
    key = f"payportal-customer-{uuid.uuid4()}"
    params = {"email": "alan@example.com", "name": "Alan", "metadata": {"payportal_customer_id": "c_1"}}
    created = client.v1.customers.create(params=params, options={"idempotency_key": key})
    again = client.v1.customers.create(params=params, options={"idempotency_key": key})
    # Then localstripe made one customer, and reading it goes through too
    assert created.id.startswith("cus_") and again.id == created.id
    assert client.v1.customers.retrieve(created.id).metadata["payportal_customer_id"] == "c_1"


def test_an_api_path_nobody_implements_is_a_stripe_shaped_404(front: Front) -> None:
    reply = requests.get(f"{front.url}/v1/no_such_things", auth=(API_KEY, ""), timeout=5)
    assert reply.status_code == 404
    assert reply.json()["error"]["type"] == "invalid_request_error"


# -- lifecycle ---------------------------------------------------------------------------------------------


def test_sigterm_stops_the_front_and_its_localstripe(inbox: WebhookInbox, tmp_path: Path) -> None:
    # Given a running front (a second one, so the shared one stays up)
    running = start_front(inbox.url, tmp_path / "front.log")
    assert accepts_connections(running.localstripe_port)
    # When it gets SIGTERM, as `make dev` sends it on Ctrl-C
    code = stop_front(running)
    # Then it exits cleanly and localstripe is gone with it
    assert code == 0
    deadline = time.monotonic() + 5
    while accepts_connections(running.localstripe_port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not accepts_connections(running.localstripe_port)


def test_the_cli_reads_its_settings_from_the_environment() -> None:
    from local.fake_stripe.app import FrontConfig, parse_args

    environ = {
        "PAYPORTAL_LOCAL_STRIPE_PORT": "9420",
        "PAYPORTAL_LOCALSTRIPE_PORT": "9421",
        "PAYPORTAL_LOCAL_STRIPE_KEY": "sk_test_env",
        "PAYPORTAL_LOCAL_WEBHOOK_SECRET": "whsec_env",
        "PAYPORTAL_LOCAL_WEBHOOK_URL": "http://127.0.0.1:1/hook",
    }
    assert parse_args([], environ) == FrontConfig(9420, 9421, "sk_test_env", "whsec_env", "http://127.0.0.1:1/hook")
    assert parse_args(["--port", "1"], environ).port == 1
    assert parse_args([], {}) == FrontConfig()
