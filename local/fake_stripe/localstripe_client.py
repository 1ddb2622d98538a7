"""Talking to localstripe from the front: with the front's own key, and failing loudly on what a working
payment never gets back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from local.fake_stripe.errors import LocalstripeFailure
from local.fake_stripe.localstripe import INTERNAL_API_KEY

Params = list[tuple[str, str]]


class LocalstripeClient:
    def __init__(self, base_url: str, http: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self._http = http
        self._auth = {"Authorization": f"Bearer {INTERNAL_API_KEY}"}

    async def call(self, method: str, path: str, params: Params | None = None) -> tuple[int, dict[str, Any]]:
        async with self._http.request(method, self.base_url + path, data=params, headers=self._auth) as reply:
            return reply.status, await reply.json(content_type=None)

    async def ok(self, method: str, path: str, params: Params | None = None) -> dict[str, Any]:
        status, body = await self.call(method, path, params)
        if status != 200:
            # Only the error's type and message: the request may have carried card details.
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise LocalstripeFailure(f"{method} {path.split('?')[0]}: HTTP {status} {error.get('message')}")
        return body

    async def forward(
        self, method: str, raw_path: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, bytes, str]:
        """An API call passed through as it came (the front already checked the caller's key)."""
        async with self._http.request(
            method, self.base_url + raw_path, data=body or None, headers={**headers, **self._auth}
        ) as reply:
            return reply.status, await reply.read(), reply.headers.get("Content-Type", "")


def nested(prefix: str, values: Mapping[str, str]) -> Params:
    return [(f"{prefix}[{key}]", value) for key, value in values.items()]


def path_id(object_id: str) -> str:
    """An id from a caller, safe to put in a localstripe path."""
    return quote(object_id, safe="")
