"""HTML responses for the console: its security headers, its cookies, and the CSRF checks of its forms."""

from __future__ import annotations

import hmac
import re
from typing import Any, Final
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie

from shared.config import settings
from shared.csv_text import csv_text
from shared.domain.console_session import new_csrf_token
from shared.rendering import console_stylesheet, console_stylesheet_hash, render
from shared.services.console_lists import CsvExport
from shared.web_pages import strict_cookie

# __Host-: only ever set by this origin over HTTPS, for the whole origin (no Domain), so neither a sibling
# subdomain nor plain HTTP can plant or overwrite it. No Max-Age: the server decides when it lapses.
SESSION_COOKIE: Final = "__Host-payportal-console"
# The sign-in form's own token (double-submit: the form's field must equal this cookie), before any session.
SIGN_IN_CSRF_COOKIE: Final = "__Host-payportal-console-csrf"


class CsrfRefused(Exception):
    """A form post without its token, with a wrong one, or from another site."""


def base_path() -> str:
    """Where the console lives under the API's base URL (in AWS without a custom domain, after the stage)."""
    return urlsplit(settings().public_base_url).path.rstrip("/") + "/console"


def own_origin() -> str:
    parts = urlsplit(settings().public_base_url)
    return f"{parts.scheme}://{parts.netloc}"


def security_headers() -> dict[str, str]:
    csp = "; ".join(
        [
            "default-src 'none'",
            f"style-src {console_stylesheet_hash()}",
            "img-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": csp,
        # same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on our own forms, and
        # the Origin check below needs the real one; other sites still get no referrer at all.
        "Referrer-Policy": "same-origin",
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Cache-Control": "no-store",
    }


def page(status: int, template: str, /, **context: Any) -> Response[str]:
    html = render(
        f"console/{template}",
        business_name=settings().business_name,
        base=base_path(),
        console_css=console_stylesheet(),
        **context,
    )
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=html, headers=security_headers())


def download(export: CsvExport, path: str) -> Response[str]:
    """A CSV file to save; when the rows go on past one file, `Link: <path?next query>; rel="next"`."""
    headers = {**security_headers(), "Content-Disposition": f'attachment; filename="{export.filename}.csv"'}
    if export.next_query and path:
        headers["Link"] = f'<{path}?{export.next_query}>; rel="next"'
    body = csv_text(export.columns, export.rows)
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=body, headers=headers)


def zip_file(body: bytes, name: str) -> Response[bytes]:
    """A zip to save (a customer's export), with the console's headers; the name keeps only safe characters."""
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100] or "export"
    headers = {**security_headers(), "Content-Type": "application/zip",
               "Content-Disposition": f'attachment; filename="{filename}.zip"'}  # fmt: skip
    return Response(status_code=200, body=body, headers=headers)


def redirect(location: str) -> Response[str]:
    return Response(status_code=303, body="", headers={**security_headers(), "Location": location})


def _cookie(name: str, value: str, *, expire: bool = False) -> Cookie:
    return strict_cookie(name, value, path="/", expire=expire)


def set_session(response: Response[str], session_id: str) -> Response[str]:
    response.cookies.append(_cookie(SESSION_COOKIE, session_id))
    response.cookies.append(_cookie(SIGN_IN_CSRF_COOKIE, "", expire=True))
    return response


def end_session(response: Response[str]) -> Response[str]:
    response.cookies.append(_cookie(SESSION_COOKIE, "", expire=True))
    return response


def sign_in_form(status: int, problem: str | None = None) -> Response[str]:
    """The sign-in form with a fresh double-submit token, in its cookie and in the form."""
    token = new_csrf_token()
    response = page(status, "sign_in.html", csrf=token, problem=problem)
    response.cookies.append(_cookie(SIGN_IN_CSRF_COOKIE, token))
    return response


def check_origin(origin: str | None, fetch_site: str | None) -> None:
    """Browsers say where a post comes from; one from another site is refused whatever token it carries."""
    if origin is not None and origin != own_origin():
        raise CsrfRefused("origin")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise CsrfRefused("fetch site")


def check_token(expected: str | None, given: str | None) -> None:
    if not expected or not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise CsrfRefused("token")
