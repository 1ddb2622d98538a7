"""What the pages of every function share: the payer pages' security headers (the pay pages and the account: no
script, one hashed stylesheet, forms only to us and to Checkout), and reading and writing strict cookies.

Each function ships `shared/` and its own folder only (infra/bundling.py), so what two functions' pages need
lives here rather than in either of them.
"""

from __future__ import annotations

from functools import cache
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from shared.config import settings
from shared.rendering import stylesheet_hash


@cache
def checkout_origin(base: str | None) -> str:
    """Where a Pay form may lead: Stripe's hosted Checkout, or the local stand-in."""
    if base:
        parts = urlsplit(base)
        return f"{parts.scheme}://{parts.netloc}"
    return "https://checkout.stripe.com"


def payer_security_headers() -> dict[str, str]:
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
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Cache-Control": "no-store",
    }


def cookie_value(cookie_header: str | None, name: str) -> str | None:
    """The cookie's value in a request's Cookie header, if any (a malformed header counts as none)."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header or "")
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def strict_cookie(name: str, value: str, *, path: str, expire: bool = False) -> Cookie:
    """HttpOnly, Secure, SameSite=Strict, for `path`; no Max-Age (the server ends sessions), or 0 to expire it."""
    return Cookie(
        name, value, path=path, secure=True, http_only=True, same_site=SameSite.STRICT_MODE,
        max_age=0 if expire else None,
    )  # fmt: skip
