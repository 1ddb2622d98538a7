"""The hosted test checkout page: reading the card form and rendering `templates/checkout.html`.

No script runs on the page: a plain form keeps it testable with any HTTP client and accessible
without JavaScript. The page never echoes card details back, even after an error.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from babel.numbers import format_currency

from local.fake_stripe import currencies
from local.fake_stripe.checkout import CheckoutSession
from local.fake_stripe.payments import Card

_TEMPLATE = "checkout.html"


class CardProblem(Exception):
    """What is wrong with the typed card details, in Stripe's words, and which field to flag."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# -- reading the form --------------------------------------------------------------------------------------


def read_card(form: dict[str, str], *, today: datetime | None = None) -> Card:
    today = today or datetime.now(UTC)
    number = _card_number(form.get("card_number", ""))
    month, year = _expiry(form.get("expiry", ""), today)
    cvc = form.get("cvc", "").strip()
    if not re.fullmatch(r"\d{3}", cvc):
        # localstripe takes three digits only (no four-digit American Express codes).
        raise CardProblem("Your card's security code is incomplete.", "cvc")
    return Card(number=number, exp_month=month, exp_year=year, cvc=cvc)


def _card_number(raw: str) -> str:
    number = re.sub(r"[\s-]", "", raw)
    if not number.isdigit():
        raise CardProblem(
            "Your card number is invalid." if number else "Your card number is incomplete.", "card_number"
        )
    if len(number) < 16:
        raise CardProblem("Your card number is incomplete.", "card_number")
    if len(number) > 16 or not _passes_luhn(number):
        raise CardProblem("Your card number is invalid.", "card_number")
    return number


def _passes_luhn(number: str) -> bool:
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(number)):
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _expiry(raw: str, today: datetime) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,2})\s*/?\s*(\d{2}|\d{4})\s*", raw)
    if not match:
        raise CardProblem("Your card's expiration date is incomplete.", "expiry")
    month, year = int(match.group(1)), int(match.group(2))
    year = year + 2000 if year < 100 else year
    if not 1 <= month <= 12:
        raise CardProblem("Your card's expiration month is invalid.", "expiry")
    if (year, month) < (today.year, today.month):
        raise CardProblem("Your card's expiration date is in the past.", "expiry")
    if year >= 2100:
        raise CardProblem("Your card's expiration year is invalid.", "expiry")
    return month, year


# -- rendering ---------------------------------------------------------------------------------------------


@cache
def _templates() -> jinja2.Environment:
    loader = jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates")
    return jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)


def money(amount: int, currency: str) -> str:
    """Stripe's `amount` to a display string, read with Stripe's decimals (ISK 500000 is ISK 5,000)."""
    code = currency.upper()
    return format_currency(Decimal(amount).scaleb(-currencies.exponent(code)), code, locale="en_US")


def checkout_page(session: CheckoutSession, *, error: CardProblem | None = None, status: int = 200) -> web.Response:
    currency = session.currency or "usd"
    items = [
        {"name": item.name, "quantity": item.quantity, "amount": money(item.amount, currency)}
        for item in session.line_items
    ]
    context: dict[str, Any] = {
        "state": "open",
        "title": items[0]["name"] if len(items) == 1 else "Checkout",
        "amount": money(session.amount_total, currency) if session.amount_total is not None else "Save a card",
        "items": items,
        "pay_action": f"/checkout/{session.id}/pay",
        "button": "Pay" if session.mode == "payment" else "Save card",
        "cancel_url": session.cancel_url,
        "error": error.message if error else None,
        "error_field": error.field if error else None,
    }
    return _render(context, status)


def closed_page(session: CheckoutSession | None, *, status: int) -> web.Response:
    if session is None:
        heading, message, link = "Checkout not found", "This checkout session does not exist.", None
    elif session.status == "complete":
        heading, message = "Payment complete", "This checkout session is already complete. Nothing more was charged."
        link = session.success_redirect()
    else:
        heading, message = "Checkout expired", "This checkout session has expired. Nothing was charged."
        link = session.cancel_url
    context = {
        "state": "closed",
        "title": heading,
        "heading": heading,
        "message": message,
        "return_url": link,
        "return_label": "Return to the merchant",
    }
    return _render(context, status)


def _render(context: dict[str, Any], status: int) -> web.Response:
    nonce = secrets.token_urlsafe(16)
    html = _templates().get_template(_TEMPLATE).render(nonce=nonce, **context)
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    # No form-action directive: Chromium applies it to the 303 to the merchant's success URL too.
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
