"""Paying a Checkout Session for real inside localstripe: card details go there and nowhere else.

localstripe decides declines in two places, and the hosted page must catch both:
- cards such as 4000 0000 0000 0002 are refused when *attached* (to a customer or a SetupIntent) but
  charge fine on a bare PaymentIntent, so each card is first confirmed on a throwaway SetupIntent;
- cards such as 4000 0000 0000 0341 attach fine and fail when the PaymentIntent is confirmed (402).
Cards that ask for 3-D Secure are approved on the payer's behalf (the test page has no challenge).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from local.stripe_front_checkout import CheckoutSession
from local.stripe_front_localstripe import INTERNAL_API_KEY

DECLINED = "Your card was declined."
# Stripe's SEPA test IBANs; localstripe settles the first and fails the second, both asynchronously.
_IBAN_SETTLES = "DE89370400440532013000"
_IBAN_FAILS = "DE62370400440532013001"

Params = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Card:
    # Kept out of repr so a stray log line or traceback cannot print them.
    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    payment_intent: dict[str, Any]
    declined: bool


@dataclass(frozen=True, slots=True)
class SetupOutcome:
    setup_intent: dict[str, Any]
    declined: bool


class LocalstripeFailure(RuntimeError):
    """localstripe answered something a working payment never gets (a bug here or there)."""


class LocalstripeClient:
    def __init__(self, base_url: str, http: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self._http = http
        self._auth = {"Authorization": f"Bearer {INTERNAL_API_KEY}"}

    async def call(self, method: str, path: str, params: Params | None = None) -> tuple[int, dict[str, Any]]:
        async with self._http.request(method, self.base_url + path, data=params, headers=self._auth) as reply:
            return reply.status, await reply.json(content_type=None)

    async def ok(self, method: str, path: str, params: Params | None = None) -> dict[str, Any]:
        status, body = await self.call(method, path, params)
        if status != 200:
            # Only the error's type and message: the request may have carried card details.
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise LocalstripeFailure(f"{method} {path.split('?')[0]}: HTTP {status} {error.get('message')}")
        return body

    async def forward(
        self, method: str, raw_path: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, bytes, str]:
        """An API call passed through as it came (the front already checked the caller's key)."""
        async with self._http.request(
            method, self.base_url + raw_path, data=body or None, headers={**headers, **self._auth}
        ) as reply:
            return reply.status, await reply.read(), reply.headers.get("Content-Type", "")


def nested(prefix: str, values: Mapping[str, str]) -> Params:
    return [(f"{prefix}[{key}]", value) for key, value in values.items()]


# -- card payments -----------------------------------------------------------------------------------------


async def pay_by_card(client: LocalstripeClient, session: CheckoutSession, card: Card) -> PaymentOutcome:
    method = await _create_card_method(client, card)
    if not await _card_attaches(client, method):
        intent = await _create_payment_intent(client, session, payment_method=None)
        return PaymentOutcome(_as_declined(intent, method), declined=True)
    intent = await _create_payment_intent(client, session, payment_method=method)
    return await _confirm(client, intent)


async def save_card(client: LocalstripeClient, session: CheckoutSession, card: Card) -> SetupOutcome:
    method = await _create_card_method(client, card)
    params: Params = [("usage", "off_session"), *nested("metadata", session.metadata)]
    if session.customer:
        params.append(("customer", session.customer))
    intent = await client.ok("POST", "/v1/setup_intents", params)
    status, confirmed = await client.call(
        "POST", f"/v1/setup_intents/{intent['id']}/confirm", [("payment_method", method)]
    )
    if status == 402:
        return SetupOutcome(await client.ok("GET", f"/v1/setup_intents/{intent['id']}"), declined=True)
    if status != 200:
        raise LocalstripeFailure(f"confirming a SetupIntent: HTTP {status}")
    if session.customer:
        await client.ok("POST", f"/v1/payment_methods/{method}/attach", [("customer", session.customer)])
    return SetupOutcome(confirmed, declined=False)


async def _create_card_method(client: LocalstripeClient, card: Card) -> str:
    params: Params = [
        ("type", "card"),
        ("card[number]", card.number),
        ("card[exp_month]", str(card.exp_month)),
        ("card[exp_year]", str(card.exp_year)),
        ("card[cvc]", card.cvc),
    ]
    return str((await client.ok("POST", "/v1/payment_methods", params))["id"])


async def _card_attaches(client: LocalstripeClient, payment_method: str) -> bool:
    # A SetupIntent rather than a customer: a probe customer would show up in every customer list.
    probe = await client.ok("POST", "/v1/setup_intents", [("usage", "on_session")])
    status, _ = await client.call(
        "POST", f"/v1/setup_intents/{probe['id']}/confirm", [("payment_method", payment_method)]
    )
    if status not in (200, 402):
        raise LocalstripeFailure(f"probing the card: HTTP {status}")
    return status == 200


async def _create_payment_intent(
    client: LocalstripeClient, session: CheckoutSession, *, payment_method: str | None
) -> dict[str, Any]:
    params: Params = [
        ("amount", str(session.amount_total)),
        ("currency", session.currency or ""),
        *nested("metadata", session.payment_intent_metadata),
    ]
    if session.customer:
        params.append(("customer", session.customer))
    if payment_method:
        params.append(("payment_method", payment_method))
    return await client.ok("POST", "/v1/payment_intents", params)


async def _confirm(client: LocalstripeClient, intent: dict[str, Any]) -> PaymentOutcome:
    path = f"/v1/payment_intents/{intent['id']}"
    status, body = await client.call("POST", f"{path}/confirm")
    if status == 200 and body.get("status") == "requires_action":
        authenticate = [("client_secret", str(intent["client_secret"])), ("success", "true")]
        status, body = await client.call("POST", f"{path}/_authenticate", authenticate)
    if status == 402:
        failed = await client.ok("GET", path)
        return PaymentOutcome(_with_card_error(failed), declined=True)
    if status != 200 or body.get("status") != "succeeded":
        raise LocalstripeFailure(f"confirming a PaymentIntent: HTTP {status}, status {body.get('status')}")
    return PaymentOutcome(body, declined=False)


def _as_declined(intent: dict[str, Any], payment_method: str) -> dict[str, Any]:
    """A declined-at-attach PaymentIntent as Stripe would show it (localstripe never saw the attempt)."""
    error = {"code": "card_declined", "message": DECLINED, "payment_method": {"id": payment_method}}
    return _with_card_error({**intent, "last_payment_error": error})


def _with_card_error(intent: dict[str, Any]) -> dict[str, Any]:
    # localstripe's last_payment_error lacks the type and decline code Stripe's has.
    error = dict(intent.get("last_payment_error") or {"code": "card_declined", "message": DECLINED})
    error.setdefault("type", "card_error")
    error.setdefault("decline_code", "generic_decline")
    return {**intent, "last_payment_error": error, "status": "requires_payment_method"}


# -- delayed (bank debit) payments -------------------------------------------------------------------------


async def open_delayed_payment(client: LocalstripeClient, session: CheckoutSession) -> dict[str, Any]:
    """The PaymentIntent a delayed method leaves behind at checkout: not settled yet."""
    return await _create_payment_intent(client, session, payment_method=None)


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
