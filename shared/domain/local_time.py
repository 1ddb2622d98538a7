"""Dates as the customer lives them: "today" and a day's bounds in their IANA time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar date of `moment` in `timezone`, e.g. the customer's today for `now`."""
    return moment.astimezone(ZoneInfo(timezone)).date()
