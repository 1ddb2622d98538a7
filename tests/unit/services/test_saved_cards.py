"""Checkout in setup mode: one session per double click, a Stripe customer created once."""

from __future__ import annotations

from datetime import timedelta

from shared.clock import FixedClock
from shared.domain.double_click import DOUBLE_CLICK_WINDOW_SECONDS
from shared.services.checkout import CheckoutConfig, PayPage
from shared.services.ports import Change
from shared.services.saved_cards import open_setup_session
from shared.services.stripe_events.facts import SetupPurpose
from tests.fakes import FakeGateway, InMemoryLedger
from tests.fakes.records import NOW, a_customer, an_invoice

CLOCK = FixedClock(NOW)
CONFIG = CheckoutConfig(base_url="https://pay.example.test", payment_method_types=("card",))


def given_page() -> tuple[InMemoryLedger, PayPage]:
    ledger = InMemoryLedger()
    customer, invoice = a_customer(), an_invoice()
    ledger.commit(Change(new_customer=customer, new_invoice=invoice))
    return ledger, PayPage(invoice=invoice, customer=customer)


def open_session(ledger: InMemoryLedger, gateway: FakeGateway, page: PayPage, clock: FixedClock = CLOCK) -> str:
    return open_setup_session(
        ledger, gateway, clock, CONFIG, page=page, purpose=SetupPurpose.AUTOPAY, returned="autopay=on"
    )


def test_a_setup_session_saves_the_card_for_the_stripe_customer_it_creates() -> None:
    ledger, page = given_page()
    gateway = FakeGateway()

    url = open_session(ledger, gateway, page)

    [request] = gateway.setup_requests
    customer = ledger.get_customer("cus_1")
    assert customer is not None and customer.stripe_customer_id == request.stripe_customer_id == "cus_fake_1"
    assert request.metadata == {"customer_id": "cus_1", "invoice_id": "inv_1", "purpose": "autopay"}
    assert request.success_url == "https://pay.example.test/pay/return/inv_1?autopay=on"  # no pay link in it
    assert request.cancel_url == "https://pay.example.test/pay/return/inv_1"
    assert request.idempotency_scope.startswith("payportal-autopay-cus_1-")
    assert url.endswith("cs_fake_setup_1")


def test_a_double_click_opens_the_same_session_and_a_later_click_a_new_one() -> None:
    ledger, page = given_page()
    gateway = FakeGateway()
    later = FixedClock(NOW + timedelta(seconds=DOUBLE_CLICK_WINDOW_SECONDS))

    first, again = open_session(ledger, gateway, page), open_session(ledger, gateway, page)
    next_time = open_session(ledger, gateway, page, later)

    assert first == again != next_time
    assert len(gateway.stripe_customers) == 1  # one Stripe customer however many sessions
