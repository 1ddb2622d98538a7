"""`GET /v1/events` as Stripe serves it: the events of the last 30 days, newest first, filtered by `type` or
`types[]` and by `created` (`gte`, `gt`, `lte`, `lt`, or an exact second), paged with `limit`,
`starting_after` and `ending_before`. Events kept while webhook delivery was off are listed like any other:
Stripe lists what it made, whether or not its endpoint got it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from local.fake_stripe.errors import StripeApiError
from local.fake_stripe.pagination import list_limit, page_of

HISTORY_SECONDS: Final = 30 * 86_400  # Stripe lists events of the last 30 days only
MAX_TYPES: Final = 20  # Stripe's limit on `types[]`
_BOUNDS: Final = ("gte", "gt", "lte", "lt")


def events_page(events: Iterable[dict[str, Any]], query: Mapping[str, Any], *, now: int) -> dict[str, Any]:
    """The list object Stripe answers; `events` oldest first (as they were made), `query` unflattened."""
    wanted = _types(query)
    low, high = _created(query.get("created"))
    newest_first = [
        event
        for event in reversed(list(events))
        if event["created"] >= now - HISTORY_SECONDS
        and low <= event["created"] <= high
        and (wanted is None or any(_matches(event["type"], pattern) for pattern in wanted))
    ]
    data, has_more = page_of(
        newest_first,
        limit=list_limit(query.get("limit")),
        starting_after=_optional_id(query, "starting_after"),
        ending_before=_optional_id(query, "ending_before"),
    )
    return {"object": "list", "data": data, "has_more": has_more, "url": "/v1/events"}


def _types(query: Mapping[str, Any]) -> set[str] | None:
    one, many = query.get("type"), query.get("types")
    if one is not None and many is not None:
        raise StripeApiError(400, "You may pass either `type` or `types`, but not both.", param="types")
    if many is not None:
        if not isinstance(many, list) or not many or not all(isinstance(t, str) and t for t in many):
            raise StripeApiError(400, "Invalid array", param="types")
        if len(many) > MAX_TYPES:
            raise StripeApiError(400, f"You may pass at most {MAX_TYPES} types.", param="types")
        return set(many)
    if one is not None:
        if not isinstance(one, str) or not one:
            raise StripeApiError(400, "Invalid string", param="type")
        return {one}
    return None


def _matches(event_type: str, pattern: str) -> bool:
    """Stripe's types take a trailing wildcard: `charge.*` is every charge event."""
    return event_type.startswith(pattern[:-1]) if pattern.endswith(".*") else event_type == pattern


def _created(raw: Any) -> tuple[int, int]:
    """The inclusive [low, high] range of `created` asked for."""
    if raw is None:
        return 0, 2**63
    if isinstance(raw, str):
        second = _integer(raw, "created")
        return second, second
    if not isinstance(raw, dict) or not raw or set(raw) - set(_BOUNDS):
        raise StripeApiError(400, "Invalid created: use an integer or gte, gt, lte, lt.", param="created")
    low, high = 0, 2**63
    for bound, value in raw.items():
        second = _integer(value, f"created[{bound}]")
        if bound == "gte":
            low = max(low, second)
        elif bound == "gt":
            low = max(low, second + 1)
        elif bound == "lte":
            high = min(high, second)
        else:
            high = min(high, second - 1)
    return low, high


def _integer(value: Any, param: str) -> int:
    if not isinstance(value, str) or not value.isdigit():
        raise StripeApiError(400, "Invalid integer", param=param)
    return int(value)


def _optional_id(query: Mapping[str, Any], name: str) -> str | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise StripeApiError(400, "Invalid string", param=name)
    return value
