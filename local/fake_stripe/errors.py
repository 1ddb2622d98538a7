"""Errors as Stripe answers them, and the one place that turns a failure into that answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

logger = logging.getLogger("local.fake_stripe")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class StripeApiError(Exception):
    """An error Stripe would answer with; `body()` is its JSON."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.error_type, "message": self.message}
        if self.code:
            error["code"] = self.code
        if self.param:
            error["param"] = self.param
        return {"error": error}


class LocalstripeFailure(RuntimeError):
    """localstripe answered something a working payment never gets (a bug here or there)."""


def error_response(error: StripeApiError) -> web.Response:
    return web.json_response(error.body(), status=error.status)


async def answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The handler's reply, with failures turned into the Stripe-shaped errors the SDK understands."""
    try:
        return await handler(request)
    except StripeApiError as error:
        return error_response(error)
    except (LocalstripeFailure, aiohttp.ClientError) as error:
        logger.error("%s %s: localstripe failed: %s", request.method, request.path, error)
        return error_response(StripeApiError(502, "localstripe failed or is not reachable.", error_type="api_error"))


@web.middleware
async def front_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Stripe-shaped errors for /_front too, so tests read one format."""
    if request.path.startswith("/_front/"):
        return await answer(request, handler)
    return await handler(request)
