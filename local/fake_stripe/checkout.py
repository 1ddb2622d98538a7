"""Checkout Sessions as the front keeps them: created from the SDK's parameters, validated like Stripe
validates them, and shown in the JSON shape Stripe returns.

Only what payportal and its tests touch is modelled; parameters Stripe knows but the front does not
model are accepted and ignored, unknown ones are refused like Stripe refuses them, so a typo in our
adapter fails here and not first in production.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from local.fake_stripe.currencies import check_amount
from local.fake_stripe.errors import StripeApiError
from local.fake_stripe.ids import random_id
from local.fake_stripe.params import (
    MAX_AMOUNT,
    currency_param,
    dict_param,
    integer_param,
    metadata_param,
    optional_str,
    required_str,
)

SESSION_LIFETIME_S = 24 * 3600
MIN_EXPIRY_S = 30 * 60

_HANDLED = {
    "mode",
    "customer",
    "customer_email",
    "line_items",
    "payment_method_types",
    "success_url",
    "cancel_url",
    "metadata",
    "payment_intent_data",
    "setup_intent_data",
    "client_reference_id",
    "expires_at",
    "currency",
    "expand",
}
# Real Stripe parameters the front accepts without modelling them (they change nothing locally).
_IGNORED = {
    "adaptive_pricing",
    "after_expiration",
    "allow_promotion_codes",
    "automatic_tax",
    "billing_address_collection",
    "consent_collection",
    "custom_fields",
    "custom_text",
    "customer_creation",
    "customer_update",
    "discounts",
    "invoice_creation",
    "locale",
    "optional_items",
    "payment_method_collection",
    "payment_method_configuration",
    "payment_method_options",
    "phone_number_collection",
    "redirect_on_completion",
    "return_url",
    "saved_payment_method_options",
    "shipping_address_collection",
    "shipping_options",
    "submit_type",
    "tax_id_collection",
    "ui_mode",
}
_MODES = {"payment", "setup"}
_FUTURE_USAGES = {"off_session", "on_session"}


# -- the session -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineItem:
    id: str
    name: str
    currency: str
    unit_amount: int
    quantity: int

    @property
    def amount(self) -> int:
        return self.unit_amount * self.quantity

    def to_stripe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "item",
            "amount_discount": 0,
            "amount_subtotal": self.amount,
            "amount_tax": 0,
            "amount_total": self.amount,
            "currency": self.currency,
            "description": self.name,
            "quantity": self.quantity,
            "price": {
                "id": "price_" + self.id.removeprefix("li_"),
                "object": "price",
                "currency": self.currency,
                "unit_amount": self.unit_amount,
                "product": "prod_" + self.id.removeprefix("li_"),
                "type": "one_time",
                "livemode": False,
            },
        }


@dataclass(slots=True)
class CheckoutSession:
    id: str
    mode: str
    created: int
    expires_at: int
    success_url: str
    cancel_url: str | None
    currency: str | None
    line_items: tuple[LineItem, ...]
    customer: str | None
    customer_email: str | None
    client_reference_id: str | None
    metadata: dict[str, str]
    payment_intent_metadata: dict[str, str]
    payment_method_types: list[str]
    # Payment mode: save the card on the customer once paid (`payment_intent_data[setup_future_usage]`).
    setup_future_usage: str | None = None
    setup_intent_metadata: dict[str, str] = field(default_factory=dict)
    status: str = "open"
    payment_status: str = "unpaid"
    payment_intent: str | None = None
    setup_intent: str | None = None
    customer_details: dict[str, Any] | None = None
    # A delayed payment (complete-delayed) is waiting for its async result.
    awaiting_async_result: bool = False
    failed_payment_intents: list[str] = field(default_factory=list)

    @property
    def amount_total(self) -> int | None:
        return sum(item.amount for item in self.line_items) if self.mode == "payment" else None

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def success_redirect(self) -> str:
        return self.success_url.replace("{CHECKOUT_SESSION_ID}", self.id)

    def to_stripe(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "checkout.session",
            "amount_subtotal": self.amount_total,
            "amount_total": self.amount_total,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "customer_details": self.customer_details,
            "customer_email": self.customer_email,
            "expires_at": self.expires_at,
            "livemode": False,
            "metadata": dict(self.metadata),
            "mode": self.mode,
            "payment_intent": self.payment_intent,
            "payment_method_types": list(self.payment_method_types),
            "payment_status": self.payment_status,
            "setup_intent": self.setup_intent,
            "status": self.status,
            "success_url": self.success_url,
            # Stripe only shows the hosted page's URL while the session can still be paid.
            "url": f"{base_url}/checkout/{self.id}" if self.is_open else None,
        }


def new_session(params: Mapping[str, Any], *, now: int) -> CheckoutSession:
    """A session from the create call's (unflattened) params, or the StripeApiError Stripe would give."""
    _reject_unknown(params)
    mode = required_str(params, "mode")
    if mode not in _MODES:
        raise StripeApiError(400, f"Invalid mode: must be one of {', '.join(sorted(_MODES))}", param="mode")
    customer = optional_str(params, "customer")
    customer_email = optional_str(params, "customer_email")
    if customer and customer_email:
        raise StripeApiError(400, "You may only specify one of these parameters: customer, customer_email.")
    line_items = _line_items(params.get("line_items"), required=mode == "payment")
    currency = (
        line_items[0].currency if line_items else currency_param(params.get("currency"), "currency", required=False)
    )
    payment_intent_data = dict_param(params, "payment_intent_data")
    return CheckoutSession(
        id=random_id("cs_test_", 58),
        mode=mode,
        created=now,
        expires_at=_expires_at(params.get("expires_at"), now),
        success_url=_url(params, "success_url", required=True) or "",
        cancel_url=_url(params, "cancel_url", required=False),
        currency=currency,
        line_items=line_items,
        customer=customer,
        customer_email=customer_email,
        client_reference_id=optional_str(params, "client_reference_id"),
        metadata=metadata_param(params.get("metadata"), "metadata"),
        payment_intent_metadata=metadata_param(payment_intent_data.get("metadata"), "payment_intent_data[metadata]"),
        payment_method_types=_payment_method_types(params.get("payment_method_types")),
        setup_future_usage=_setup_future_usage(payment_intent_data.get("setup_future_usage")),
        setup_intent_metadata=metadata_param(
            dict_param(params, "setup_intent_data").get("metadata"), "setup_intent_data[metadata]"
        ),
        payment_status="unpaid" if mode == "payment" else "no_payment_required",
    )


def _reject_unknown(params: Mapping[str, Any]) -> None:
    for name in params:
        if name not in _HANDLED and name not in _IGNORED:
            raise StripeApiError(400, f"Received unknown parameter: {name}", param=name)


def _setup_future_usage(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if value not in _FUTURE_USAGES:
        raise StripeApiError(
            400,
            f"Invalid payment_intent_data[setup_future_usage]: must be one of {', '.join(sorted(_FUTURE_USAGES))}",
            param="payment_intent_data[setup_future_usage]",
        )
    return str(value)


def _url(params: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = required_str(params, name) if required else optional_str(params, name)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise StripeApiError(400, "Not a valid URL", code="url_invalid", param=name)
    return value


def _payment_method_types(value: Any) -> list[str]:
    if value is None or value == "":
        return ["card"]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise StripeApiError(400, "Invalid array: payment_method_types", param="payment_method_types")
    return list(value)


def _expires_at(value: Any, now: int) -> int:
    if value is None or value == "":
        return now + SESSION_LIFETIME_S
    expires_at = integer_param(value, "expires_at", minimum=0)
    if expires_at < now + MIN_EXPIRY_S:
        raise StripeApiError(
            400,
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
            param="expires_at",
        )
    if expires_at > now + SESSION_LIFETIME_S:
        raise StripeApiError(
            400,
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            param="expires_at",
        )
    return expires_at


def _line_items(value: Any, *, required: bool) -> tuple[LineItem, ...]:
    if value is None or value == "":
        if required:
            raise StripeApiError(
                400,
                "You must specify `line_items` in `payment` mode.",
                code="parameter_missing",
                param="line_items",
            )
        return ()
    if not isinstance(value, list) or not value:
        raise StripeApiError(400, "Invalid array: line_items", param="line_items")
    items = tuple(_line_item(raw, n) for n, raw in enumerate(value))
    if len({item.currency for item in items}) > 1:
        raise StripeApiError(400, "All line items must use the same currency.", param="line_items")
    total = sum(item.amount for item in items)
    if not 1 <= total <= MAX_AMOUNT:
        raise StripeApiError(
            400,
            f"The Checkout Session's total amount due must be between 1 and {MAX_AMOUNT} (minor units).",
            code="amount_too_small" if total < 1 else "amount_too_large",
            param="line_items",
        )
    return items


def _line_item(raw: Any, n: int) -> LineItem:
    at = f"line_items[{n}]"
    if not isinstance(raw, dict):
        raise StripeApiError(400, f"Invalid object: {at}", param=at)
    if "price" in raw:
        raise StripeApiError(
            400, f"The local Stripe front only supports {at}[price_data], not Price ids.", param=f"{at}[price]"
        )
    price_data = raw.get("price_data")
    if not isinstance(price_data, dict):
        raise StripeApiError(
            400, f"Missing required param: {at}[price_data].", code="parameter_missing", param=f"{at}[price_data]"
        )
    product = price_data.get("product_data")
    name = product.get("name") if isinstance(product, dict) else None
    if not isinstance(name, str) or not name:
        raise StripeApiError(
            400,
            f"Missing required param: {at}[price_data][product_data][name].",
            code="parameter_missing",
            param=f"{at}[price_data][product_data][name]",
        )
    if "unit_amount" not in price_data:
        raise StripeApiError(
            400,
            f"Missing required param: {at}[price_data][unit_amount].",
            code="parameter_missing",
            param=f"{at}[price_data][unit_amount]",
        )
    if "quantity" not in raw:
        raise StripeApiError(
            400, f"Missing required param: {at}[quantity].", code="parameter_missing", param=f"{at}[quantity]"
        )
    item = LineItem(
        id=random_id("li_"),
        name=name,
        currency=currency_param(price_data.get("currency"), f"{at}[price_data][currency]", required=True) or "",
        unit_amount=integer_param(price_data["unit_amount"], f"{at}[price_data][unit_amount]", minimum=0),
        quantity=integer_param(raw["quantity"], f"{at}[quantity]", minimum=1),
    )
    check_amount(item.unit_amount, item.currency, f"{at}[price_data][unit_amount]")
    return item
