"""Saved cards over the API: a customer's cards as Stripe lists them, the off-session charge's parameters,
and PaymentIntents shown with what localstripe cannot hold.

Through the plain proxy, localstripe 1.15 gets these wrong (each tried against it):
- `GET /v1/payment_methods?customer=…&type=card` lists oldest first, and
  `GET /v1/customers/{id}/payment_methods` does not exist;
- a confirmed off-session PaymentIntent sends no webhook, a card that needs 3-D Secure stops at
  `requires_action`, 4000 0000 0000 0341's decline is a bare `invalid_request_error` without the
  PaymentIntent the SDK's CardError carries, and lost or stolen cards charge fine (payments.py
  says what the front does instead);
- a PaymentIntent embeds its whole `latest_charge` (Stripe gives the id) and the `charges` list Stripe
  dropped in API version 2022-11-15, and keeps no `description` or `setup_future_usage`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from local.fake_stripe.checkout import (
    MAX_AMOUNT,
    StripeApiError,
    currency_param,
    integer_param,
    metadata_param,
    optional_str,
    required_str,
)
from local.fake_stripe.payments import LocalstripeClient, LocalstripeFailure, Params, nested

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
    return OffSessionCharge(
        amount=amount,
        currency=currency_param(params.get("currency"), "currency", required=True) or "",
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


# -- PaymentIntents as Stripe shows them -------------------------------------------------------------------


class PaymentIntentViews:
    """What the front knows about PaymentIntents that localstripe cannot hold, laid over localstripe's JSON
    wherever a PaymentIntent leaves the front: API replies, 402 errors and webhooks."""

    def __init__(self) -> None:
        self._fields: dict[str, dict[str, Any]] = {}
        self._failures: dict[str, dict[str, Any]] = {}

    def remember(self, intent_id: str, **fields: Any) -> None:
        self._fields.setdefault(intent_id, {}).update(fields)

    def record_failure(self, intent_id: str, last_payment_error: dict[str, Any]) -> None:
        self._failures[intent_id] = last_payment_error

    def present(self, intent: Mapping[str, Any], *, expanded: frozenset[str] = frozenset()) -> dict[str, Any]:
        intent_id = str(intent.get("id"))
        # `charges` went in API version 2022-11-15; Stripe always has the two fields localstripe cannot keep.
        shown = {name: value for name, value in intent.items() if name != "charges"}
        shown.setdefault("description", None)
        shown.setdefault("setup_future_usage", None)
        charge = shown.get("latest_charge")
        if isinstance(charge, dict) and "latest_charge" not in expanded:
            shown["latest_charge"] = charge.get("id")
        shown |= self._fields.get(intent_id, {})
        failure = self._failures.get(intent_id)
        # Only while it still waits for another card: once paid or canceled, localstripe's state is the truth.
        if failure is not None and shown.get("status") == "requires_payment_method":
            # Stripe keeps the failed card in the error, not on the PaymentIntent.
            shown |= {"last_payment_error": failure, "payment_method": None}
        return shown

    def present_body(self, body: Any, *, expanded: frozenset[str] = frozenset()) -> Any:
        """A PaymentIntent, or a list of them, from a proxied reply; anything else as it is."""
        if not isinstance(body, dict):
            return body
        if body.get("object") == "payment_intent":
            return self.present(body, expanded=expanded)
        if body.get("object") == "list" and isinstance(body.get("data"), list):
            items = [
                self.present(item, expanded=expanded) if item.get("object") == "payment_intent" else item
                for item in body["data"]
            ]
            return {**body, "data": items}
        return body


def expanded_fields(params: Mapping[str, Any]) -> frozenset[str]:
    expand = params.get("expand")
    fields = expand if isinstance(expand, list) else [expand] if isinstance(expand, str) else []
    return frozenset(field for field in fields if isinstance(field, str))


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


def page_of(
    items: list[dict[str, Any]], *, limit: int, starting_after: str | None, ending_before: str | None
) -> tuple[list[dict[str, Any]], bool]:
    """One page of a newest-first list, and whether more lie beyond it in the direction of travel."""
    ids = [item["id"] for item in items]
    if starting_after:
        rest = items[ids.index(starting_after) + 1 :] if starting_after in ids else []
        return rest[:limit], len(rest) > limit
    if ending_before:
        before = items[: ids.index(ending_before)] if ending_before in ids else []
        return before[-limit:], len(before) > limit
    return items[:limit], len(items) > limit
