"""Repeated clicks on the pay page: the same action within one window reuses one Stripe session."""

from __future__ import annotations

from datetime import datetime

# Clicks on the same button (same amount, same plan) within this window reuse one Checkout Session.
DOUBLE_CLICK_WINDOW_SECONDS = 600


def click_window(now: datetime) -> int:
    """The number of the window `now` falls in; part of every session's idempotency identity."""
    return int(now.timestamp()) // DOUBLE_CLICK_WINDOW_SECONDS
