"""Saved cards over the API: a customer's cards as Stripe lists them, and the off-session charge's parameters.

Through the plain proxy, localstripe 1.15 gets these wrong (each tried against it):
- `GET /v1/payment_methods?customer=…&type=card` lists oldest first, and
  `GET /v1/customers/{id}/payment_methods` does not exist;
- a confirmed off-session PaymentIntent sends no webhook, a card that needs 3-D Secure stops at
  `requires_action`, 4000 0000 0000 0341's decline is a bare `invalid_request_error` without the
  PaymentIntent the SDK's CardError carries, and lost or stolen cards charge fine (payments.py
  says what the front does instead);
- a PaymentIntent is not shown as Stripe shows it (payment_intents.py lays the difference over it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from local.fake_stripe.currencies import check_amount
from local.fake_stripe.errors import LocalstripeFailure, StripeApiError
from local.fake_stripe.localstripe_client import LocalstripeClient, Params, nested
from local.fake_stripe.params import (
    MAX_AMOUNT,
    currency_param,
    integer_param,
    metadata_param,
    optional_str,
    required_str,
)

# `off_session` is a boolean, or says why the customer is away (Stripe accepts both).
_OFF_SESSION = {"true", "one_off", "recurring"}
_CHARGE_PARAMS = {
    "amount",
    "currency",
    "customer",
    "payment_method",
    "metadata",
    "description",
    "off_session",
    "confirm",
    "expand",
}
# Real Stripe parameters accepted without modelling them (they change nothing locally).
_CHARGE_PARAMS_IGNORED = {
    "error_on_requires_action",
    "payment_method_types",
    "receipt_email",
    "statement_descriptor",
    "statement_descriptor_suffix",
}


# -- the off-session charge --------------------------------------------------------------------------------


def is_off_session_charge(params: Mapping[str, Any]) -> bool:
    """`POST /v1/payment_intents` charging a saved card now, with nobody there; anything else is localstripe's."""
    return params.get("off_session") in _OFF_SESSION and params.get("confirm") == "true"


@dataclass(frozen=True, slots=True)
class OffSessionCharge:
    amount: int
    currency: str
    customer: str | None
    payment_method: str
    metadata: dict[str, str]
    description: str | None

    def intent_params(self) -> Params:
        """For localstripe's PaymentIntent; the front picks and confirms the payment method itself."""
        params: Params = [("amount", str(self.amount)), ("currency", self.currency), *nested("metadata", self.metadata)]
        return [*params, ("customer", self.customer)] if self.customer else params


def off_session_charge(params: Mapping[str, Any]) -> OffSessionCharge:
    """The charge from the create call's (unflattened) params, or the StripeApiError Stripe would give."""
    for name in params:
        if name not in _CHARGE_PARAMS and name not in _CHARGE_PARAMS_IGNORED:
            raise StripeApiError(
                400, f"The local Stripe front does not support `{name}` on off-session charges.", param=name
            )
    if "amount" not in params:
        raise StripeApiError(400, "Missing required param: amount.", code="parameter_missing", param="amount")
    amount = integer_param(params["amount"], "amount", minimum=1)
    if amount > MAX_AMOUNT:
        raise StripeApiError(400, f"Amount must be no more than {MAX_AMOUNT}.", code="amount_too_large", param="amount")
    currency = currency_param(params.get("currency"), "currency", required=True) or ""
    check_amount(amount, currency, "amount")
    return OffSessionCharge(
        amount=amount,
        currency=currency,
        customer=optional_str(params, "customer"),
        payment_method=required_str(params, "payment_method"),
        metadata=metadata_param(params.get("metadata"), "metadata"),
        description=optional_str(params, "description"),
    )


def check_usable(payment_method: Mapping[str, Any], customer: str | None) -> None:
    """A card, and one saved on a customer charges that customer only (the messages are the front's words)."""
    if payment_method.get("type") != "card":
        raise StripeApiError(400, "The local Stripe front charges cards only off session.", param="payment_method")
    owner = payment_method.get("customer")
    if owner is None or owner == customer:
        return
    if customer is None:
        message = "The provided PaymentMethod is attached to a Customer: pass that Customer as `customer` to use it."
    else:
        message = f"The provided PaymentMethod is attached to another Customer than '{customer}'."
    raise StripeApiError(400, message, param="payment_method")


# -- a customer's saved cards ------------------------------------------------------------------------------


class NoSuchCustomer(Exception):
    pass


async def saved_cards(client: LocalstripeClient, customer: str) -> list[dict[str, Any]]:
    """The customer's cards, newest first, as Stripe lists them."""
    cards: list[dict[str, Any]] = []
    query = {"customer": customer, "type": "card", "limit": "100"}
    while True:
        status, page = await client.call("GET", f"/v1/payment_methods?{urlencode(query)}")
        if status == 404:
            raise NoSuchCustomer(customer)
        if status != 200:
            raise LocalstripeFailure(f"listing PaymentMethods: HTTP {status}")
        cards.extend(page["data"])
        if not page.get("has_more") or not page["data"]:
            break
        query["starting_after"] = str(page["data"][-1]["id"])
    # localstripe keeps creation order; `created` alone cannot order cards made in the same second.
    cards.reverse()
    return cards
