"""AWS Signature Version 4 for the operator API, checked the way API Gateway checks IAM-authorised routes.

The verifier rebuilds the canonical request from what was received (method, raw path, query, the headers
the client says it signed, the body hash) and lets botocore's own `SigV4Auth` compute the string to sign
and the signature, at the time the client signed (`X-Amz-Date`), never "now". The date is then checked
against the real wall clock (5 minutes either way), never the business clock, which a developer may have
moved a month ahead.

Not supported (API Gateway accepts them, nothing here needs them): query-string (presigned) signatures,
the `Date` header instead of `X-Amz-Date`, session tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import requests
from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials
from requests.utils import requote_uri

from local.config import (
    ACCESS_KEY_ID,
    ACCOUNT_ID,
    OPERATOR_USER_ARN,
    OPERATOR_USER_ID,
    REGION,
    SECRET_ACCESS_KEY,
)
from shared.clock import wall_clock_now

SERVICE: Final = "execute-api"
ALGORITHM: Final = "AWS4-HMAC-SHA256"
MAX_CLOCK_SKEW: Final = timedelta(minutes=5)

# access key id -> secret access key; the local stack knows one operator.
LOCAL_CREDENTIALS: Final[Mapping[str, str]] = {ACCESS_KEY_ID: SECRET_ACCESS_KEY}

_CREDENTIAL_PARTS: Final = 5  # key/date/region/service/aws4_request
_AUTH_FIELD = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]*)")


class SignatureRejected(Exception):
    """The request is not signed, or not signed right. API Gateway answers 403 with `message`."""

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type  # API Gateway's x-amzn-ErrorType header


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    method: str
    path: str  # raw, as on the request line (still percent-encoded), without the query
    query: str  # raw query string, without "?"
    headers: list[tuple[str, str]]  # as received, repeated names kept
    body: bytes


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    access_key: str
    account_id: str
    caller: str
    user: str
    user_arn: str


def canonical_query(query: str) -> str:
    """The query as SigV4 wants it: each name and value decoded once, then RFC 3986 encoded, sorted."""
    pairs: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _header_values(headers: Iterable[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name]


def _parse_authorization(value: str) -> tuple[list[str], list[str], str]:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureRejected(
            f"Authorization header requires the {ALGORITHM} algorithm.", "IncompleteSignatureException"
        )
    fields = dict(_AUTH_FIELD.findall(rest))
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)]
    if missing:
        raise SignatureRejected(
            f"Authorization header requires '{missing[0]}' parameter. Authorization={ALGORITHM} ...",
            "IncompleteSignatureException",
        )
    credential = fields["Credential"].split("/")
    if len(credential) != _CREDENTIAL_PARTS or credential[4] != "aws4_request":
        raise SignatureRejected(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term.",
            "IncompleteSignatureException",
        )
    signed_headers = fields["SignedHeaders"].lower().split(";")
    return credential, signed_headers, fields["Signature"]


def _parse_amz_date(value: str) -> datetime:
    try:
        return datetime.strptime(value, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureRejected(
            f"X-Amz-Date must be in ISO 8601 basic format (YYYYMMDD'T'HHMMSS'Z'), got '{value}'.",
            "IncompleteSignatureException",
        ) from None


def _check_freshness(signed_at: datetime, now: datetime) -> None:
    stamp = signed_at.strftime(SIGV4_TIMESTAMP)
    if signed_at < now - MAX_CLOCK_SKEW:
        earliest = (now - MAX_CLOCK_SKEW).strftime(SIGV4_TIMESTAMP)
        raise SignatureRejected(
            f"Signature expired: {stamp} is now earlier than {earliest} ({now.strftime(SIGV4_TIMESTAMP)} - 5 min.)",
            "InvalidSignatureException",
        )
    if signed_at > now + MAX_CLOCK_SKEW:
        latest = (now + MAX_CLOCK_SKEW).strftime(SIGV4_TIMESTAMP)
        raise SignatureRejected(
            f"Signature not yet current: {stamp} is still later than {latest} "
            f"({now.strftime(SIGV4_TIMESTAMP)} + 5 min.)",
            "InvalidSignatureException",
        )


def verify_request(
    request: ReceivedRequest,
    *,
    now: datetime | None = None,
    credentials: Mapping[str, str] = LOCAL_CREDENTIALS,
    region: str = REGION,
    service: str = SERVICE,
) -> CallerIdentity:
    """The verified caller, or `SignatureRejected` saying why not (never the expected signature)."""
    authorization = _header_values(request.headers, "authorization")
    if not authorization:
        raise SignatureRejected("Missing Authentication Token", "MissingAuthenticationTokenException")
    if len(authorization) > 1:
        raise SignatureRejected("Only one Authorization header is allowed.", "IncompleteSignatureException")
    (access_key, scope_date, scope_region, scope_service, _), signed_headers, signature = _parse_authorization(
        authorization[0]
    )

    secret_key = credentials.get(access_key)
    if secret_key is None:
        raise SignatureRejected("The security token included in the request is invalid.", "UnrecognizedClientException")
    if scope_region != region:
        raise SignatureRejected(
            f"Credential should be scoped to a valid region, not '{scope_region}'.",
            "InvalidSignatureException",
        )
    if scope_service != service:
        raise SignatureRejected(
            f"Credential should be scoped to correct service: '{service}'.", "InvalidSignatureException"
        )
    for required in ("host", "x-amz-date"):
        if required not in signed_headers:
            raise SignatureRejected(f"'{required}' must be a signed header.", "IncompleteSignatureException")

    amz_dates = _header_values(request.headers, "x-amz-date")
    if len(amz_dates) != 1:
        raise SignatureRejected(
            "Authorization header requires existence of a single X-Amz-Date header.",
            "IncompleteSignatureException",
        )
    signed_at = _parse_amz_date(amz_dates[0])
    timestamp = signed_at.strftime(SIGV4_TIMESTAMP)
    if scope_date != timestamp[:8]:
        raise SignatureRejected(
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{scope_date}' != '{timestamp[:8]}', from '{timestamp}'.",
            "InvalidSignatureException",
        )

    # Rebuild the request botocore signed: only the headers the client listed, as received.
    to_verify = AWSRequest(
        method=request.method,
        url=urlunsplit(("http", "signed.invalid", request.path or "/", canonical_query(request.query), "")),
        data=request.body,
    )
    to_verify.headers = HTTPHeaders()
    for name in signed_headers:
        values = _header_values(request.headers, name)
        if not values:
            raise SignatureRejected(
                f"Header '{name}' is listed in SignedHeaders but missing from the request.",
                "IncompleteSignatureException",
            )
        for value in values:
            to_verify.headers[name] = value
    content_sha256 = to_verify.headers.get("x-amz-content-sha256")
    if content_sha256 is not None and content_sha256 != hashlib.sha256(request.body).hexdigest():
        raise SignatureRejected(
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            "InvalidSignatureException",
        )
    to_verify.context["timestamp"] = timestamp

    signer = SigV4Auth(Credentials(access_key, secret_key), service, region)
    string_to_sign = signer.string_to_sign(to_verify, signer.canonical_request(to_verify))
    expected = signer.signature(string_to_sign, to_verify)
    if not hmac.compare_digest(expected, signature):
        raise SignatureRejected(
            "The request signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details.",
            "InvalidSignatureException",
        )

    _check_freshness(signed_at, wall_clock_now() if now is None else now)
    return CallerIdentity(
        access_key=access_key,
        account_id=ACCOUNT_ID,
        caller=OPERATOR_USER_ID,
        user=OPERATOR_USER_ID,
        user_arn=OPERATOR_USER_ARN,
    )


def normalise_url(url: str) -> str:
    """The URL exactly as it goes on the wire: path percent-encoded once, query in canonical form."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, requote_uri(parts.path) or "/", canonical_query(parts.query), ""))


def sign(
    method: str,
    url: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    *,
    access_key: str = ACCESS_KEY_ID,
    secret_key: str = SECRET_ACCESS_KEY,
    region: str = REGION,
) -> dict[str, str]:
    """The headers to send with `url` (already normalised) so the request carries a valid signature."""
    request = AWSRequest(method=method.upper(), url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials(access_key, secret_key), SERVICE, region).add_auth(request)
    return dict(request.headers.items())


def signed_request(
    method: str,
    url: str,
    body: bytes | str | Mapping[str, Any] | list[Any] | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    access_key: str = ACCESS_KEY_ID,
    secret_key: str = SECRET_ACCESS_KEY,
    region: str = REGION,
    timeout: float = 30.0,
) -> requests.Response:
    """Send an operator API request signed as the local operator; a dict or list body is sent as JSON."""
    request_headers = dict(headers or {})
    if isinstance(body, Mapping | list):
        data = json.dumps(body).encode()
        if not any(name.lower() == "content-type" for name in request_headers):
            request_headers["Content-Type"] = "application/json"
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = body or b""
    wire_url = normalise_url(url)
    signed_headers = sign(
        method,
        wire_url,
        data,
        request_headers,
        access_key=access_key,
        secret_key=secret_key,
        region=region,
    )
    return requests.request(method.upper(), wire_url, data=data or None, headers=signed_headers, timeout=timeout)
