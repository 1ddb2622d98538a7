"""Stripe's fee on a payment, as payportal's adapter reads it (StripeGateway.payment_fee) from the local
Stripe: the charge's balance transaction, with the fee the front lays over localstripe's (fees.py)."""

from __future__ import annotations

import pytest
import requests
import stripe

from local.fake_stripe.fees import card_fee
from shared.adapters.stripe_gateway import StripeGateway
from shared.domain.records import ProcessorFee
from tests.fake_stripe.helpers import API_KEY, CARD_OK, Front, pay, session_params


@pytest.mark.parametrize(
    ("amount", "currency", "fee"),
    [(12_500, "eur", 393), (10_000, "usd", 320), (5_000, "jpy", 145), (500_000, "isk", 14_500), (1_000, "kwd", 29)],
)
def test_the_fronts_fee_schedule(amount: int, currency: str, fee: int) -> None:
    assert card_fee(amount, currency) == fee


def test_a_paid_sessions_fee_is_read_from_its_charges_balance_transaction(
    front: Front, client: stripe.StripeClient
) -> None:
    # Given a session of 125.00 EUR paid with a good card
    session = client.v1.checkout.sessions.create(params=session_params())
    assert pay(front, session.id, CARD_OK).status_code == 303
    intent_id = str(client.v1.checkout.sessions.retrieve(session.id).payment_intent)
    # When payportal asks for the payment's fee
    fee = StripeGateway(API_KEY, api_base=front.url).payment_fee(intent_id)
    # Then it is the balance transaction's, in our minor units, with the transaction's id
    assert fee is not None and (fee.amount, fee.currency) == (393, "EUR")
    assert fee.balance_transaction.startswith("txn_")
    shown = requests.get(
        f"{front.url}/v1/balance_transactions/{fee.balance_transaction}", auth=(API_KEY, ""), timeout=5
    )
    assert (shown.json()["fee"], shown.json()["net"], shown.json()["amount"]) == (393, 12_500 - 393, 12_500)
    assert fee == ProcessorFee(393, "EUR", fee.balance_transaction)


def test_no_fee_for_a_payment_intent_stripe_does_not_know_or_one_not_charged(
    front: Front, client: stripe.StripeClient
) -> None:
    gateway = StripeGateway(API_KEY, api_base=front.url)
    assert gateway.payment_fee("pi_nobody_knows") is None
    # An open session's PaymentIntent has no charge yet
    intent = client.v1.payment_intents.create(params={"amount": 2_000, "currency": "usd"})
    assert gateway.payment_fee(intent.id) is None
    reply = requests.get(f"{front.url}/v1/balance_transactions/txn_nobody", auth=(API_KEY, ""), timeout=5)
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "resource_missing"
