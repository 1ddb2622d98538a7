"""Stripe's list pagination: `limit`, `starting_after` and `ending_before` over a newest-first list."""

from __future__ import annotations

from typing import Any

from local.fake_stripe.errors import StripeApiError


def list_limit(raw: Any) -> int:
    if raw is None or raw == "":
        return 10
    if not isinstance(raw, str) or not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise StripeApiError(400, "Invalid limit: must be an integer between 1 and 100", param="limit")
    return int(raw)


def page_of(
    items: list[dict[str, Any]], *, limit: int, starting_after: str | None, ending_before: str | None
) -> tuple[list[dict[str, Any]], bool]:
    """One page of a newest-first list, and whether more lie beyond it in the direction of travel."""
    ids = [item["id"] for item in items]
    if starting_after:
        rest = items[ids.index(starting_after) + 1 :] if starting_after in ids else []
        return rest[:limit], len(rest) > limit
    if ending_before:
        before = items[: ids.index(ending_before)] if ending_before in ids else []
        return before[-limit:], len(before) > limit
    return items[:limit], len(items) > limit
