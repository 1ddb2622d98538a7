"""HTML responses for the customer's account: the pay pages' security headers, the account's cookies (scoped to
/account), the language a page is served in, and the CSRF checks of its forms."""

from __future__ import annotations

import hmac
from typing import Any, Final

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie

from shared.config import settings
from shared.domain.account import new_csrf_token
from shared.domain.languages import LANGUAGES  # what Accept-Language may pick before sign-in
from shared.pdf import download_headers
from shared.rendering import render
from shared.web_pages import payer_security_headers as security_headers
from shared.web_pages import strict_cookie

# HttpOnly, Secure, SameSite=Strict, only ever sent to /account (never to the pay pages or the console). No
# Max-Age: the server decides when a session lapses (idle timeout, lifetime), and sign-out ends it there.
SESSION_COOKIE: Final = "payportal_account"
# The sign-in forms' own token before any session (double submit: the form's field must equal this cookie).
FORM_COOKIE: Final = "payportal_account_form"
COOKIE_PATH: Final = "/account"


class CsrfRefused(Exception):
    """A form post without its token, with a wrong one, or from another site."""


def page(status: int, template: str, /, **context: Any) -> Response[str]:
    config = settings()
    context.setdefault("lang", "en")
    html = render(
        f"account/{template}", business_name=config.business_name, support_contact=config.support_contact, **context
    )
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=html, headers=security_headers())


def pdf_document(body: bytes, name: str) -> Response[bytes]:
    """One of the customer's documents as a PDF, with the account pages' headers (never cached)."""
    return Response(status_code=200, body=body, headers={**security_headers(), **download_headers(name)})


def zip_download(body: bytes, name: str) -> Response[bytes]:
    """The customer's export as a zip attachment, with the account pages' headers (never cached)."""
    headers = {**security_headers(), "Content-Type": "application/zip",
               "Content-Disposition": f'attachment; filename="{name}.zip"'}  # fmt: skip
    return Response(status_code=200, body=body, headers=headers)


def redirect(location: str) -> Response[str]:
    return Response(status_code=303, body="", headers={**security_headers(), "Location": location})


def language(accept_language: str | None) -> str:
    """The first of LANGUAGES the browser asks for, by its q-values; English otherwise."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "")[:500].split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().split("-")[0].lower()
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else "en"


def _cookie(name: str, value: str, *, expire: bool = False) -> Cookie:
    return strict_cookie(name, value, path=COOKIE_PATH, expire=expire)


def set_session(response: Response[str], session_id: str) -> Response[str]:
    response.cookies.append(_cookie(SESSION_COOKIE, session_id))
    response.cookies.append(_cookie(FORM_COOKIE, "", expire=True))
    return response


def end_session(response: Response[str]) -> Response[str]:
    response.cookies.append(_cookie(SESSION_COOKIE, "", expire=True))
    return response


def with_form_token(status: int, template: str, /, **context: Any) -> Response[str]:
    """A sign-in page whose forms carry a fresh double-submit token, set in its cookie too."""
    token = new_csrf_token()
    response = page(status, template, csrf=token, **context)
    response.cookies.append(_cookie(FORM_COOKIE, token))
    return response


def check_fetch_site(fetch_site: str | None) -> None:
    """Browsers say where a post comes from (Sec-Fetch-Site; the pay pages' no-referrer policy makes Origin
    `null` on our own forms, so it is not compared): one from another site is refused whatever it carries."""
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise CsrfRefused("fetch site")


def check_token(expected: str | None, given: str | None) -> None:
    if not expected or not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise CsrfRefused("token")
