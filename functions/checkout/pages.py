"""HTML responses for the pay pages, with the security headers of DESIGN.md on every one."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response

from shared.config import settings
from shared.rendering import render, stylesheet_hash


@cache
def checkout_origin(base: str | None) -> str:
    """Where the Pay form may lead: Stripe's hosted Checkout, or the local stand-in."""
    if base:
        parts = urlsplit(base)
        return f"{parts.scheme}://{parts.netloc}"
    return "https://checkout.stripe.com"


def security_headers() -> dict[str, str]:
    csp = "; ".join(
        [
            "default-src 'none'",
            f"style-src {stylesheet_hash()}",
            "img-src 'self' data:",
            f"form-action 'self' {checkout_origin(settings().stripe_api_base)}",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": csp,
        "Referrer-Policy": "no-referrer",
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Cache-Control": "no-store",
    }


def page(status: int, template: str, /, **context: Any) -> Response[str]:
    config = settings()
    context.setdefault("lang", "en")
    html = render(template, business_name=config.business_name, support_contact=config.support_contact, **context)
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=html,
        headers=security_headers(),
    )


def redirect(location: str) -> Response[str]:
    return Response(status_code=303, body="", headers={**security_headers(), "Location": location})
