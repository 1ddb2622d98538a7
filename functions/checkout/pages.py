"""HTML responses for the pay pages, with the security headers of DESIGN.md on every one."""

from __future__ import annotations

from functools import cache
from http.cookies import CookieError, SimpleCookie
from typing import Any, Final
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from shared.config import settings
from shared.domain.contact import contact_href
from shared.pdf import download_headers
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
    html = render(
        template,
        business_name=config.business_name,
        support_contact=config.support_contact,
        support_href=contact_href(config.support_contact),
        account_url=f"{config.public_base_url}/account",
        **context,
    )
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=html,
        headers=security_headers(),
    )


def pdf_document(body: bytes, name: str) -> Response[bytes]:
    """A PDF shown in the browser (bytes: Powertools sends them base64-encoded, API Gateway as binary)."""
    return Response(status_code=200, body=body, headers={**security_headers(), **download_headers(name)})


def redirect(location: str) -> Response[str]:
    return Response(status_code=303, body="", headers={**security_headers(), "Location": location})


# The pay link a browser last went to Checkout from, for the return page only (its path): HttpOnly, never in
# a URL. SameSite=Lax, because the way back from Checkout is a navigation from Stripe's site.
PAY_LINK_COOKIE: Final = "payportal_link"
PAY_LINK_COOKIE_PATH: Final = "/pay/return"
PAY_LINK_COOKIE_SECONDS: Final = 24 * 3600  # as long as a Checkout Session lives


def remember_pay_link(response: Response[str], token: str) -> None:
    response.cookies.append(
        Cookie(
            PAY_LINK_COOKIE,
            token,
            path=PAY_LINK_COOKIE_PATH,
            secure=True,
            http_only=True,
            same_site=SameSite.LAX_MODE,
            max_age=PAY_LINK_COOKIE_SECONDS,
        )
    )


def remembered_pay_link(cookie_header: str | None) -> str | None:
    """The pay link in the request's Cookie header, if any (a malformed header counts as none)."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header or "")
    except CookieError:
        return None
    morsel = jar.get(PAY_LINK_COOKIE)
    return morsel.value if morsel else None
