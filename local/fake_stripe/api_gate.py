"""What every `/v1/` call goes through before its handler, as on Stripe: the API key check (Bearer, or HTTP
basic with the key as user, as the SDK sends it) and `Idempotency-Key` on every POST. localstripe does
neither."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl

from aiohttp import web

from local.fake_stripe.errors import Handler, StripeApiError, answer, error_response
from local.fake_stripe.ids import random_id

_KEY_MESSAGE = (
    "Invalid API Key provided, or none. Use the local key with Bearer auth "
    "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY') or HTTP basic auth with the key as the username."
)


@dataclass(frozen=True, slots=True)
class _Replay:
    """The first answer to an idempotent request, replayed for the same key."""

    fingerprint: str
    status: int
    body: bytes
    content_type: str

    def response(self) -> web.Response:
        headers = {"Content-Type": self.content_type, "Idempotent-Replayed": "true"}
        return web.Response(status=self.status, body=self.body, headers=headers)


class ApiGate:
    def __init__(self, api_key: str) -> None:
        self._api_key = api_key
        self._replays: dict[str, _Replay] = {}
        self._key_locks: dict[str, asyncio.Lock] = {}

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/v1/"):
            return await handler(request)
        if not self._authorized(request.headers.get("Authorization", "")):
            refusal = error_response(StripeApiError(401, _KEY_MESSAGE))
            refusal.headers["WWW-Authenticate"] = 'Basic realm="Stripe"'
            return refusal
        key = request.headers.get("Idempotency-Key")
        response: web.StreamResponse
        if request.method == "POST" and key:
            response = await self._idempotently(request, key, handler)
        else:
            response = await answer(request, handler)
        response.headers["Request-Id"] = random_id("req_", 14)
        return response

    def _authorized(self, header: str) -> bool:
        presented = _presented_key(header)
        return presented is not None and hmac.compare_digest(presented.encode(), self._api_key.encode())

    async def _idempotently(self, request: web.Request, key: str, handler: Handler) -> web.StreamResponse:
        fingerprint = _fingerprint(request.method, request.path, await request.read())
        async with self._key_locks.setdefault(key, asyncio.Lock()):
            replay = self._replays.get(key)
            if replay is not None:
                if replay.fingerprint != fingerprint:
                    mismatch = StripeApiError(400, _idempotency_message(key), error_type="idempotency_error")
                    return error_response(mismatch)
                return replay.response()
            response = await answer(request, handler)
            # Like Stripe: keep results of requests that ran (card errors included), not rejected input.
            ran = response.status < 400 or response.status == 402
            if ran and isinstance(response, web.Response) and isinstance(response.body, bytes):
                content_type = response.headers.get("Content-Type", "application/json")
                self._replays[key] = _Replay(fingerprint, response.status, response.body, content_type)
            return response


def _idempotency_message(key: str) -> str:
    return (
        "Keys for idempotent requests can only be used with the same parameters they were first used with. "
        f"Try using a key other than '{key}' if you meant to execute a different request."
    )


def _presented_key(header: str) -> str | None:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


def _fingerprint(method: str, path: str, body: bytes) -> str:
    try:
        # Same parameters in another order are the same request.
        canonical = json.dumps(sorted(parse_qsl(body.decode(), keep_blank_values=True)))
    except UnicodeDecodeError:
        canonical = body.hex()
    return hashlib.sha256(f"{method} {path} {canonical}".encode()).hexdigest()
