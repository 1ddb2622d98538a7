"""SigV4 signing for the generated operator API client (`payportal_client`), which this package does not edit.

    from payportal_signing import signed_client
    from payportal_client.api.invoices import list_invoices

    client = signed_client("https://abc123.execute-api.eu-west-1.amazonaws.com/prod", region="eu-west-1")
    page = list_invoices.sync(client=client, overdue=True, currency="USD")

Credentials come from botocore's usual chain (environment, profile, instance or task role), or are given.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any
from urllib.parse import quote, unquote

import httpx
from botocore.auth import SigV4Auth as _BotocoreSigV4
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.session import get_session
from payportal_client import Client

__all__ = ["SigV4", "signed_client"]

SERVICE = "execute-api"
# The headers signed besides host and the x-amz-* ones botocore adds: what the operator API reads. Headers a
# proxy may rewrite on the way (connection, user-agent, accept-encoding) are left out of the signature.
SIGNED_HEADERS = ("content-type", "idempotency-key", "accept")


class SigV4(httpx.Auth):
    """Signs every request with AWS Signature Version 4 for API Gateway (service `execute-api`)."""

    requires_request_body = True

    def __init__(self, region: str, credentials: Credentials | None = None) -> None:
        found = credentials or get_session().get_credentials()
        if found is None:
            raise ValueError("no AWS credentials: give them, or configure botocore's chain (e.g. AWS_PROFILE)")
        self._credentials = found
        self._region = region

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # SigV4 signs the query as RFC 3986 encodes it; httpx leaves some characters (/ : +) as they are.
        # The request goes out with the query in that encoding, so what is signed is what is sent.
        request.url = request.url.copy_with(query=_rfc3986_query(request.url.query).encode() or None)
        headers = {name: value for name, value in request.headers.items() if name.lower() in SIGNED_HEADERS}
        aws = AWSRequest(method=request.method, url=str(request.url), data=request.content, headers=headers)
        # Refreshable credentials (a role's) are frozen once per request, so key and token always match.
        _BotocoreSigV4(self._credentials.get_frozen_credentials(), SERVICE, self._region).add_auth(aws)
        for name, value in aws.headers.items():
            request.headers[name] = value
        yield request


def _rfc3986_query(query: bytes) -> str:
    pairs = (part.partition("=") for part in query.decode().split("&") if part)
    return "&".join(f"{_encoded(name)}={_encoded(value)}" for name, _, value in pairs)


def _encoded(text: str) -> str:
    return quote(unquote(text.replace("+", " ")), safe="-_.~")


def signed_client(base_url: str, *, region: str, credentials: Credentials | None = None, **kwargs: Any) -> Client:
    """A client of the operator API at `base_url` (the stage's URL) whose every request is signed.

    Undocumented statuses raise `payportal_client.errors.UnexpectedStatus`; other keyword arguments go to
    `payportal_client.Client` (timeout, headers, ...)."""
    httpx_args = dict(kwargs.pop("httpx_args", {}))
    httpx_args["auth"] = SigV4(region, credentials)
    kwargs.setdefault("raise_on_unexpected_status", True)
    return Client(base_url=base_url.rstrip("/"), httpx_args=httpx_args, **kwargs)
