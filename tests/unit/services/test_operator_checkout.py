"""Checkout for operators with a Pay button in their own app."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.domain.errors import InvoiceNotPayable, NotFound
from shared.domain.invoices import InvoiceStatus
from shared.domain.records import PayLink
from shared.services.checkout import CheckoutConfig
from shared.services.operator_checkout import start_operator_checkout
from tests.fakes import FakeGateway, FixedClock
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import NOW, a_customer, an_invoice

CONFIG = CheckoutConfig(base_url="https://pay.example.test", payment_method_types=("card",))


def test_the_operator_gets_a_session_whose_return_page_is_backed_by_a_fresh_link() -> None:
    # Given an open invoice
    ledger = a_ledger_with(a_customer(), an_invoice())
    gateway = FakeGateway()
    # When the operator's app starts Checkout for it
    attempt = start_operator_checkout(
        ledger, gateway, FixedClock(NOW), CONFIG, invoice_id="inv_1", amount=None, pay_link_ttl_days=7
    )
    # Then the session is for what remains, and one new link (stored only as its hash) backs its return page
    assert (attempt.amount, attempt.currency, attempt.invoice_id) == (12_500, "USD", "inv_1")
    [link] = ledger.pay_links.values()
    assert link.expires_at == NOW + timedelta(days=7) and link.invoice_id == "inv_1"
    [request] = gateway.checkout_requests
    token = request.cancel_url.removeprefix("https://pay.example.test/pay/").removesuffix("?cancelled=1")
    assert PayLink.hash_token(token) == link.token_hash and token not in ledger.pay_links


def test_an_unpayable_request_mints_no_link_and_asks_stripe_nothing() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice(status=InvoiceStatus.VOID))
    gateway = FakeGateway()
    with pytest.raises(InvoiceNotPayable):
        start_operator_checkout(
            ledger, gateway, FixedClock(NOW), CONFIG, invoice_id="inv_1", amount=None, pay_link_ttl_days=7
        )
    assert ledger.pay_links == {} and gateway.checkout_requests == []


def test_an_amount_above_what_is_owed_is_refused() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice(allow_partial=True))
    with pytest.raises(InvoiceNotPayable, match="more than what remains"):
        start_operator_checkout(
            ledger, FakeGateway(), FixedClock(NOW), CONFIG, invoice_id="inv_1", amount=12_501, pay_link_ttl_days=7
        )
    assert ledger.pay_links == {}


def test_an_unknown_invoice_is_not_found() -> None:
    with pytest.raises(NotFound):
        start_operator_checkout(
            a_ledger_with(a_customer()),
            FakeGateway(),
            FixedClock(NOW),
            CONFIG,
            invoice_id="inv_nope",
            amount=None,
            pay_link_ttl_days=7,
        )
