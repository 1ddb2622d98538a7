"""Checkout for operators with a Pay button in their own app."""

from __future__ import annotations

import pytest

from shared.domain.errors import InvoiceNotPayable, NotFound
from shared.domain.invoices import InvoiceStatus
from shared.services.checkout import CheckoutConfig
from shared.services.operator_checkout import start_operator_checkout
from tests.fakes import FakeGateway, FixedClock
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import NOW, a_customer, an_invoice

CONFIG = CheckoutConfig(base_url="https://pay.example.test", payment_method_types=("card",))


def test_the_operator_gets_the_invoices_one_payable_session_and_no_pay_link_is_minted() -> None:
    # Given an open invoice
    ledger = a_ledger_with(a_customer(), an_invoice())
    gateway = FakeGateway()
    # When the operator's app starts Checkout for it, twice (a retry, or a second Pay button)
    attempt = start_operator_checkout(ledger, gateway, FixedClock(NOW), CONFIG, invoice_id="inv_1", amount=None)
    again = start_operator_checkout(ledger, gateway, FixedClock(NOW), CONFIG, invoice_id="inv_1", amount=None)
    # Then both get the one session for what remains, returning to a page that needs no pay link
    assert (attempt.amount, attempt.currency, attempt.invoice_id) == (12_500, "USD", "inv_1")
    assert again == attempt and len(gateway.checkout_requests) == 1
    assert ledger.pay_links == {}
    [request] = gateway.checkout_requests
    assert request.cancel_url == f"https://pay.example.test/pay/return/inv_1/{attempt.ref}?cancelled=1"


def test_an_unpayable_request_mints_no_link_and_asks_stripe_nothing() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice(status=InvoiceStatus.VOID))
    gateway = FakeGateway()
    with pytest.raises(InvoiceNotPayable):
        start_operator_checkout(ledger, gateway, FixedClock(NOW), CONFIG, invoice_id="inv_1", amount=None)
    assert ledger.pay_links == {} and gateway.checkout_requests == []


def test_an_amount_above_what_is_owed_is_refused() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice(allow_partial=True))
    with pytest.raises(InvoiceNotPayable, match="more than what remains"):
        start_operator_checkout(ledger, FakeGateway(), FixedClock(NOW), CONFIG, invoice_id="inv_1", amount=12_501)
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
        )
