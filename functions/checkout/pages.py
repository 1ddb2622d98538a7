"""HTML responses for the pay pages, with the security headers of DESIGN.md on every one."""

from __future__ import annotations

from typing import Any, Final

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from shared.config import settings
from shared.domain.contact import contact_href
from shared.pdf import download_headers
from shared.rendering import render
from shared.web_pages import cookie_value
from shared.web_pages import payer_security_headers as security_headers


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
    return cookie_value(cookie_header, PAY_LINK_COOKIE)
