"""Paying for real inside localstripe, on the hosted page and off session: card details go there and
nowhere else.

localstripe decides declines in two places, and both paths must catch both:
- cards such as 4000 0000 0000 0002 (and the lost, stolen, expired... test cards) are refused when
  *attached* (to a customer or a SetupIntent) but charge fine on a bare PaymentIntent, so a card not yet
  attached is first confirmed on a throwaway SetupIntent, and declined the way Stripe declines that card;
- cards such as 4000 0000 0000 0341 attach fine and fail when the PaymentIntent is confirmed (402).
Cards that ask for 3-D Secure are approved on the payer's behalf on the hosted page (it has no challenge).
Off session nobody is there to approve them, so Stripe fails the charge with `authentication_required`, and
so does the front.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local.fake_stripe.checkout import CheckoutSession
from local.fake_stripe.errors import LocalstripeFailure
from local.fake_stripe.localstripe_client import LocalstripeClient, Params, nested, path_id

DECLINED = "Your card was declined."
# Stripe's SEPA test IBANs; localstripe settles the first and fails the second, both asynchronously.
_IBAN_SETTLES = "DE89370400440532013000"
_IBAN_FAILS = "DE62370400440532013001"


@dataclass(frozen=True, slots=True)
class Card:
    # Kept out of repr so a stray log line or traceback cannot print them.
    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Decline:
    """A card error as Stripe reports it for one of its test cards."""

    code: str
    decline_code: str
    message: str
    advice_code: str | None = None
    param: str | None = None

    def last_payment_error(self, payment_method: dict[str, Any], charge: str | None) -> dict[str, Any]:
        """The PaymentIntent's `last_payment_error`; the 402's `error` is the same plus the PaymentIntent."""
        error: dict[str, Any] = {
            "type": "card_error",
            "code": self.code,
            "decline_code": self.decline_code,
            "message": self.message,
            "doc_url": f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}",
            "payment_method": payment_method,
            "payment_method_type": "card",
        }
        optional = {"advice_code": self.advice_code, "param": self.param, "charge": charge}
        return error | {name: value for name, value in optional.items() if value}


CHARGE_DECLINED = Decline("card_declined", "generic_decline", DECLINED, "try_again_later")
AUTHENTICATION_REQUIRED = Decline(
    "authentication_required",
    "authentication_required",
    "Your card was declined. This transaction requires authentication.",
)
# The declines of the test cards localstripe refuses to attach (docs.stripe.com/testing#declined-payments),
# by last four digits: among those cards they are distinct, and only those cards are looked up here.
_ISSUER_DECLINES = {
    "0002": CHARGE_DECLINED,
    "9995": Decline("card_declined", "insufficient_funds", "Your card has insufficient funds.", "try_again_later"),
    "9987": Decline("card_declined", "lost_card", DECLINED, "do_not_try_again"),
    "9979": Decline("card_declined", "stolen_card", DECLINED, "do_not_try_again"),
    "0069": Decline("expired_card", "expired_card", "Your card has expired.", "confirm_card_data", "exp_month"),
    "0127": Decline(
        "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.", "confirm_card_data", "cvc"
    ),
    "0119": Decline(
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
        "try_again_later",
    ),
}
# Stripe's test PaymentMethod ids (docs.stripe.com/testing?testing-method=payment-methods), the only way to
# charge these cards with a real Stripe test key, which refuses raw card numbers. Like Stripe, each use
# makes a new PaymentMethod. localstripe knows three of them; the front makes all of them from the number.
TEST_PAYMENT_METHODS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_visa_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_visa_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
}


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    payment_intent: dict[str, Any]  # as localstripe has it
    # Stripe's `last_payment_error` when the charge failed (localstripe's lacks most of it), else None.
    last_payment_error: dict[str, Any] | None = None

    @property
    def declined(self) -> bool:
        return self.last_payment_error is not None


@dataclass(frozen=True, slots=True)
class SetupOutcome:
    setup_intent: dict[str, Any]
    decline: Decline | None = None


# -- card payments -----------------------------------------------------------------------------------------


async def pay_by_card(client: LocalstripeClient, session: CheckoutSession, card: Card) -> PaymentOutcome:
    method = await _create_card_method(client, card)
    if not await card_attaches(client, method):
        intent = await _create_payment_intent(client, _session_intent(session))
        return _declined(intent, method, _issuer_decline(method))
    intent = await _create_payment_intent(client, [*_session_intent(session), ("payment_method", str(method["id"]))])
    outcome = await _confirm(client, intent, method, payer_present=True)
    if not outcome.declined and session.setup_future_usage and session.customer:
        # Checkout saves the card on the customer once the payment went through, not before.
        await client.ok("POST", f"/v1/payment_methods/{method['id']}/attach", [("customer", session.customer)])
    return outcome


async def save_card(client: LocalstripeClient, session: CheckoutSession, card: Card) -> SetupOutcome:
    method = await _create_card_method(client, card)
    params: Params = [("usage", "off_session"), *nested("metadata", session.setup_intent_metadata)]
    if session.customer:
        params.append(("customer", session.customer))
    intent = await client.ok("POST", "/v1/setup_intents", params)
    path = f"/v1/setup_intents/{intent['id']}"
    status, confirmed = await client.call("POST", f"{path}/confirm", [("payment_method", str(method["id"]))])
    if status == 402:
        return SetupOutcome(await client.ok("GET", path), decline=_issuer_decline(method))
    if status != 200:
        raise LocalstripeFailure(f"confirming a SetupIntent: HTTP {status}")
    if confirmed.get("status") == "requires_action":
        # 3-D Secure approved on the payer's behalf: localstripe completes a SetupIntent confirmed again.
        confirmed = await client.ok("POST", f"{path}/confirm")
    if session.customer:
        await client.ok("POST", f"/v1/payment_methods/{method['id']}/attach", [("customer", session.customer)])
    return SetupOutcome(confirmed)


async def charge_off_session(
    client: LocalstripeClient, params: Params, payment_method: dict[str, Any]
) -> PaymentOutcome:
    """Create and confirm a PaymentIntent (`params`: amount, currency, customer, metadata) with nobody there."""
    # A card already attached got past localstripe's attach-time declines.
    if payment_method.get("customer") is None and not await card_attaches(client, payment_method):
        intent = await _create_payment_intent(client, params)
        return _declined(intent, payment_method, _issuer_decline(payment_method))
    intent = await _create_payment_intent(client, [*params, ("payment_method", str(payment_method["id"]))])
    return await _confirm(client, intent, payment_method, payer_present=False)


async def find_payment_method(client: LocalstripeClient, payment_method: str) -> dict[str, Any] | None:
    """The PaymentMethod a charge names, made anew for Stripe's test ids; None if there is no such thing."""
    number = TEST_PAYMENT_METHODS.get(payment_method)
    if number is not None:
        card = Card(number=number, exp_month=12, exp_year=datetime.now(UTC).year + 3, cvc="123")
        return await _create_card_method(client, card)
    status, found = await client.call("GET", f"/v1/payment_methods/{path_id(payment_method)}")
    if status == 404:
        return None
    if status != 200:
        raise LocalstripeFailure(f"reading a PaymentMethod: HTTP {status}")
    return found


async def _create_card_method(client: LocalstripeClient, card: Card) -> dict[str, Any]:
    params: Params = [
        ("type", "card"),
        ("card[number]", card.number),
        ("card[exp_month]", str(card.exp_month)),
        ("card[exp_year]", str(card.exp_year)),
        ("card[cvc]", card.cvc),
    ]
    return await client.ok("POST", "/v1/payment_methods", params)


async def card_attaches(client: LocalstripeClient, payment_method: dict[str, Any]) -> bool:
    # A SetupIntent rather than a customer: a probe customer would show up in every customer list.
    probe = await client.ok("POST", "/v1/setup_intents", [("usage", "on_session")])
    status, _ = await client.call(
        "POST", f"/v1/setup_intents/{probe['id']}/confirm", [("payment_method", str(payment_method["id"]))]
    )
    if status not in (200, 402):
        raise LocalstripeFailure(f"probing the card: HTTP {status}")
    return status == 200


def _issuer_decline(payment_method: dict[str, Any]) -> Decline:
    return _ISSUER_DECLINES.get(str(payment_method.get("card", {}).get("last4")), CHARGE_DECLINED)


def _session_intent(session: CheckoutSession) -> Params:
    params: Params = [
        ("amount", str(session.amount_total)),
        ("currency", session.currency or ""),
        *nested("metadata", session.payment_intent_metadata),
    ]
    if session.customer:
        params.append(("customer", session.customer))
    return params


async def _create_payment_intent(client: LocalstripeClient, params: Params) -> dict[str, Any]:
    return await client.ok("POST", "/v1/payment_intents", params)


async def _confirm(
    client: LocalstripeClient, intent: dict[str, Any], payment_method: dict[str, Any], *, payer_present: bool
) -> PaymentOutcome:
    path = f"/v1/payment_intents/{intent['id']}"
    status, body = await client.call("POST", f"{path}/confirm")
    decline: Decline | None = None
    if status == 200 and body.get("status") == "requires_action":
        # Failing localstripe's authentication leaves the PaymentIntent as Stripe leaves one that needed it
        # off session: requires_payment_method, without a payment method.
        authenticate = [("client_secret", str(intent["client_secret"])), ("success", str(payer_present).lower())]
        status, body = await client.call("POST", f"{path}/_authenticate", authenticate)
        decline = None if payer_present else AUTHENTICATION_REQUIRED
    if status == 402:
        decline = CHARGE_DECLINED
    if decline is not None:
        return _declined(await client.ok("GET", path), payment_method, decline)
    if status != 200 or body.get("status") != "succeeded":
        raise LocalstripeFailure(f"confirming a PaymentIntent: HTTP {status}, status {body.get('status')}")
    return PaymentOutcome(body)


def _declined(intent: dict[str, Any], payment_method: dict[str, Any], decline: Decline) -> PaymentOutcome:
    charge = intent.get("latest_charge")  # localstripe embeds the failed charge, if it made one
    charge_id = charge.get("id") if isinstance(charge, dict) else charge
    return PaymentOutcome(intent, decline.last_payment_error(payment_method, charge_id))


# -- delayed (bank debit) payments -------------------------------------------------------------------------


async def open_delayed_payment(client: LocalstripeClient, session: CheckoutSession) -> dict[str, Any]:
    """The PaymentIntent a delayed method leaves behind at checkout: not settled yet."""
    return await _create_payment_intent(client, _session_intent(session))


async def settle_delayed_payment(client: LocalstripeClient, payment_intent: str, *, succeeded: bool) -> dict[str, Any]:
    """Settle it in localstripe through a SEPA debit (its only asynchronous method) and wait for the result."""
    iban = _IBAN_SETTLES if succeeded else _IBAN_FAILS
    method = await client.ok("POST", "/v1/payment_methods", [("type", "sepa_debit"), ("sepa_debit[iban]", iban)])
    path = f"/v1/payment_intents/{payment_intent}"
    await client.ok("POST", path, [("payment_method", str(method["id"]))])
    await client.ok("POST", f"{path}/confirm")
    deadline = time.monotonic() + 5.0
    while True:
        intent = await client.ok("GET", path)
        if intent.get("status") != "processing" or time.monotonic() > deadline:
            return intent if succeeded else _with_debit_error(intent)
        await asyncio.sleep(0.1)


def _with_debit_error(intent: dict[str, Any]) -> dict[str, Any]:
    error = dict(intent.get("last_payment_error") or {})
    error.setdefault("type", "card_error")
    error.setdefault("code", "payment_method_provider_decline")
    return {**intent, "last_payment_error": error}
