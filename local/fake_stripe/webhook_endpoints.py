"""Webhook endpoints (`/v1/webhook_endpoints`), which localstripe lacks: kept in memory in Stripe's shapes,
so `payportal stripe setup` and its secret rotation run against the local stack and the tests.

They are records only: the front still delivers its events to its one configured URL, signed with its one
secret. As on Stripe, an endpoint's signing secret appears in the create response and never again.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web

from local.fake_stripe.errors import StripeApiError
from local.fake_stripe.ids import random_id
from local.fake_stripe.pagination import page_of
from local.fake_stripe.params import integer_param, metadata_param, optional_str, required_str, unflatten

_CREATE_PARAMS = {"url", "enabled_events", "description", "metadata", "api_version", "connect", "expand"}
_UPDATE_PARAMS = {"url", "enabled_events", "description", "metadata", "disabled", "expand"}
_LIST_PARAMS = {"limit", "starting_after", "ending_before", "expand"}
_EVENT_TYPE = re.compile(r"\*|[a-z_]+(\.[a-z_]+)+")
_BOOLEANS = {"true": True, "false": False}


@dataclass(slots=True)
class WebhookEndpoint:
    id: str
    url: str
    enabled_events: list[str]
    created: int
    signing_secret: str
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    api_version: str | None = None
    status: str = "enabled"

    def to_stripe(self, *, with_secret: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "object": "webhook_endpoint",
            "api_version": self.api_version,
            "application": None,
            "created": self.created,
            "description": self.description,
            "enabled_events": list(self.enabled_events),
            "livemode": False,
            "metadata": dict(self.metadata),
            "status": self.status,
            "url": self.url,
        }
        if with_secret:
            body["secret"] = self.signing_secret
        return body


class WebhookEndpoints:
    def __init__(self) -> None:
        self._endpoints: dict[str, WebhookEndpoint] = {}

    async def create(self, request: web.Request) -> web.Response:
        params = await _form(request, _CREATE_PARAMS)
        endpoint = WebhookEndpoint(
            id=random_id("we_"),
            url=_url(required_str(params, "url")),
            enabled_events=_enabled_events(params.get("enabled_events")),
            created=int(time.time()),
            signing_secret="whsec_" + secrets.token_urlsafe(24),
            description=optional_str(params, "description"),
            metadata=metadata_param(params.get("metadata"), "metadata"),
            api_version=optional_str(params, "api_version"),
        )
        self._endpoints[endpoint.id] = endpoint
        return web.json_response(endpoint.to_stripe(with_secret=True))

    async def list(self, request: web.Request) -> web.Response:
        query = unflatten(request.query.items())
        _reject_unknown(query, _LIST_PARAMS)
        raw_limit = query.get("limit")
        limit = 10 if raw_limit in (None, "") else integer_param(raw_limit, "limit", minimum=1)
        if limit > 100:
            raise StripeApiError(400, "Invalid limit: must be an integer between 1 and 100", param="limit")
        newest_first = [e.to_stripe() for e in reversed(self._endpoints.values())]
        data, has_more = page_of(
            newest_first,
            limit=limit,
            starting_after=optional_str(query, "starting_after"),
            ending_before=optional_str(query, "ending_before"),
        )
        return web.json_response({"object": "list", "data": data, "has_more": has_more, "url": "/v1/webhook_endpoints"})

    async def retrieve(self, request: web.Request) -> web.Response:
        return web.json_response(self._endpoint_or_404(request).to_stripe())

    async def update(self, request: web.Request) -> web.Response:
        params = await _form(request, _UPDATE_PARAMS)
        # Changed on a copy, swapped in once every parameter passed: a refused update changes nothing.
        endpoint = replace(self._endpoint_or_404(request))
        if "url" in params:
            endpoint.url = _url(required_str(params, "url"))
        if "enabled_events" in params:
            endpoint.enabled_events = _enabled_events(params["enabled_events"])
        if "description" in params:
            endpoint.description = optional_str(params, "description")
        if "metadata" in params:
            endpoint.metadata = _merged_metadata(endpoint.metadata, params["metadata"])
        if "disabled" in params:
            endpoint.status = "disabled" if _boolean(params["disabled"], "disabled") else "enabled"
        self._endpoints[endpoint.id] = endpoint
        return web.json_response(endpoint.to_stripe())

    async def delete(self, request: web.Request) -> web.Response:
        endpoint = self._endpoint_or_404(request)
        del self._endpoints[endpoint.id]
        return web.json_response({"id": endpoint.id, "object": "webhook_endpoint", "deleted": True})

    def _endpoint_or_404(self, request: web.Request) -> WebhookEndpoint:
        endpoint_id = request.match_info["id"]
        endpoint = self._endpoints.get(endpoint_id)
        if endpoint is None:
            raise StripeApiError(404, f"No such webhook endpoint: '{endpoint_id}'", code="resource_missing", param="id")
        return endpoint


def add_webhook_endpoint_routes(app: web.Application) -> None:
    """Register before the front's catch-all `/v1/{tail}` proxy, which would send these to localstripe."""
    endpoints = WebhookEndpoints()
    app.router.add_post("/v1/webhook_endpoints", endpoints.create)
    app.router.add_get("/v1/webhook_endpoints", endpoints.list)
    app.router.add_get("/v1/webhook_endpoints/{id}", endpoints.retrieve)
    app.router.add_post("/v1/webhook_endpoints/{id}", endpoints.update)
    app.router.add_delete("/v1/webhook_endpoints/{id}", endpoints.delete)


async def _form(request: web.Request, allowed: set[str]) -> dict[str, Any]:
    """The SDK's form body (`enabled_events[0]=…`, `enabled_events[]=…`, `metadata[k]=…`), checked like Stripe."""
    params = unflatten(parse_qsl(await request.text(), keep_blank_values=True))
    _reject_unknown(params, allowed)
    return params


def _reject_unknown(params: Mapping[str, Any], allowed: set[str]) -> None:
    for name in params:
        if name not in allowed:
            raise StripeApiError(400, f"Received unknown parameter: {name}", param=name)


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise StripeApiError(400, "Invalid URL: must be an http or https URL", code="url_invalid", param="url")
    return value


def _enabled_events(value: Any) -> list[str]:
    if value is None or value == "":
        raise StripeApiError(
            400, "Missing required param: enabled_events.", code="parameter_missing", param="enabled_events"
        )
    events = [value] if isinstance(value, str) else value
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise StripeApiError(400, "Invalid array: enabled_events", param="enabled_events")
    for event in events:
        if not _EVENT_TYPE.fullmatch(event):
            raise StripeApiError(400, f"Invalid enabled_events: '{event}' is not an event type", param="enabled_events")
    return list(events)


def _merged_metadata(current: Mapping[str, str], changes: Any) -> dict[str, str]:
    """Stripe merges metadata on update: an empty value unsets its key, an empty `metadata` unsets them all."""
    if changes == "":
        return {}
    if not isinstance(changes, dict) or not all(isinstance(v, str) for v in changes.values()):
        raise StripeApiError(400, "Invalid object: metadata", param="metadata")
    return {k: v for k, v in {**current, **changes}.items() if v != ""}


def _boolean(value: Any, param: str) -> bool:
    if not isinstance(value, str) or value not in _BOOLEANS:
        raise StripeApiError(400, f"Invalid boolean: {value}", param=param)
    return _BOOLEANS[value]
