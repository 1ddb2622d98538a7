"""A receipt says how the customer paid: read from Stripe when the email is composed, never stored."""

from __future__ import annotations

import pytest

from shared.clock import FixedClock
from shared.domain.messages import ReceiptEmail
from shared.services.gateway import PaymentMethodUsed
from shared.services.outbox import Branding, compose_email
from shared.services.ports import Change
from tests.fakes import FakeGateway, InMemoryLedger
from tests.fakes.records import NOW, a_customer, an_invoice

BRANDING = Branding(
    business_name="Acme",
    support_contact="help@acme.test",
    public_base_url="https://pay.acme.test",
    pay_link_ttl_days=30,
)


def receipt_for(payment_id: str, gateway: FakeGateway) -> tuple[str, str]:
    ledger = InMemoryLedger()
    ledger.commit(Change(new_customer=a_customer(), new_invoice=an_invoice(amount_paid=12_500)))
    email = compose_email(
        ReceiptEmail("inv_1", payment_id, 12_500, paid_at=NOW), "msg_1", ledger, FixedClock(NOW), BRANDING, gateway
    )
    assert email is not None
    return email.text, email.html


@pytest.mark.parametrize(
    ("method", "said"),
    [
        (PaymentMethodUsed("card", brand="visa", last4="4242"), "Visa ending in 4242"),
        (PaymentMethodUsed("card", brand="amex", last4="0005"), "American Express ending in 0005"),
        (PaymentMethodUsed("sepa_debit", last4="3000"), "SEPA Direct Debit ending in 3000"),
        (PaymentMethodUsed("us_bank_account", bank_name="STRIPE TEST BANK", last4="6789"),
         "US bank account, STRIPE TEST BANK ending in 6789"),
        (PaymentMethodUsed("card", brand="newnetwork", last4="1111"), "Newnetwork ending in 1111"),
    ],
)  # fmt: skip
def test_the_receipt_names_the_card_or_bank_debit_that_paid(method: PaymentMethodUsed, said: str) -> None:
    # Given Stripe says what paid pi_1
    gateway = FakeGateway(payment_methods={"pi_1": method})
    # When the receipt is composed
    text, html = receipt_for("pi_1", gateway)
    # Then both parts say it
    assert f"Payment method: {said}" in text
    assert f"<td>Payment method</td><td>{said}</td>" in html


def test_a_bank_name_is_escaped_in_the_html_part() -> None:
    gateway = FakeGateway(payment_methods={"pi_1": PaymentMethodUsed("us_bank_account", bank_name="<b>Bank</b>")})
    text, html = receipt_for("pi_1", gateway)
    assert "US bank account, <b>Bank</b>" in text
    assert "&lt;b&gt;Bank&lt;/b&gt;" in html and "<b>Bank</b>" not in html


@pytest.mark.parametrize("payment_id", ["pi_unknown_to_stripe", "cs_session_without_intent"])
def test_without_an_answer_from_stripe_the_receipt_goes_out_without_a_method(payment_id: str) -> None:
    # Given Stripe cannot say (or the payment has no PaymentIntent to ask about)
    gateway = FakeGateway(payment_methods={"pi_unknown_to_stripe": None})
    # When / Then the receipt still goes out, without the line
    text, html = receipt_for(payment_id, gateway)
    assert "Thank you. We received your payment." in text
    assert "Payment method" not in text and "Payment method" not in html
