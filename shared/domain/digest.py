"""The operator's morning digest: what the figures are, as plain values (minor units and ISO codes).

The digest service (shared/services/digest.py) fills them from the ledger; the outbox renders them into the
email (shared/templates/emails/digest.*). `to_data` and `from_data` are the stored form (JSON values), the
one the outbox item keeps between the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True, slots=True)
class CurrencyBalance:
    """What was owed in one currency at the end of yesterday (the operator's local day), and how that moved over
    yesterday (from its start to its end)."""

    currency: str
    outstanding: int
    overdue: int
    outstanding_change: int
    overdue_change: int


@dataclass(frozen=True, slots=True)
class CurrencyTotal:
    """A count and an amount in one currency (payments received, charges failed, disputes opened...)."""

    currency: str
    count: int
    amount: int


@dataclass(frozen=True, slots=True)
class WriteOffSoon:
    """An invoice the dunning run will mark uncollectible within the coming week, unless it is paid."""

    invoice_id: str
    number: str
    currency: str
    amount_remaining: int
    write_off_on: date  # the customer's local day it is written off


@dataclass(frozen=True, slots=True)
class Digest:
    """One day's digest. `day` is the operator's local day it is for; "yesterday" is the day before it, from local
    midnight to local midnight, and every figure "of yesterday" covers exactly that window."""

    day: date
    timezone: str  # the operator's, as configured (payportal:digestTimezone)
    balances: tuple[CurrencyBalance, ...]
    payments_received: tuple[CurrencyTotal, ...]  # yesterday, net of money taken back
    invoices_paid: tuple[CurrencyTotal, ...]  # yesterday, settled in full (count; amount 0: not summed)
    promises_due: tuple[CurrencyTotal, ...]  # promised for today (count; amount 0)
    charges_failed: tuple[CurrencyTotal, ...]  # yesterday, off-session charge attempts declined
    disputes_opened: tuple[CurrencyTotal, ...]  # yesterday
    events_to_review: int  # Stripe events flagged or failed, waiting for someone (at most REVIEW_CAP read)
    events_to_review_more: bool  # more than were counted
    write_offs: tuple[WriteOffSoon, ...]  # soonest first
    write_offs_more: bool  # more than are listed
    write_offs_capped_at: int = 0  # 0: every candidate read; else it stopped at this many invoices (and says so)


def _plain(items: tuple[Any, ...], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {
            name: (value.isoformat() if isinstance(value, date) else value)
            for name in fields
            for value in [getattr(i, name)]
        }
        for i in items
    ]


_BALANCE = ("currency", "outstanding", "overdue", "outstanding_change", "overdue_change")
_TOTAL = ("currency", "count", "amount")
_WRITE_OFF = ("invoice_id", "number", "currency", "amount_remaining", "write_off_on")


def to_data(d: Digest) -> dict[str, Any]:
    return {
        "day": d.day.isoformat(),
        "timezone": d.timezone,
        "balances": _plain(d.balances, _BALANCE),
        "payments_received": _plain(d.payments_received, _TOTAL),
        "invoices_paid": _plain(d.invoices_paid, _TOTAL),
        "promises_due": _plain(d.promises_due, _TOTAL),
        "charges_failed": _plain(d.charges_failed, _TOTAL),
        "disputes_opened": _plain(d.disputes_opened, _TOTAL),
        "events_to_review": d.events_to_review,
        "events_to_review_more": d.events_to_review_more,
        "write_offs": _plain(d.write_offs, _WRITE_OFF),
        "write_offs_more": d.write_offs_more,
        "write_offs_capped_at": d.write_offs_capped_at,
    }


def _totals(raw: Any) -> tuple[CurrencyTotal, ...]:
    return tuple(CurrencyTotal(str(t["currency"]), int(t["count"]), int(t["amount"])) for t in raw or ())


def from_data(data: Mapping[str, Any]) -> Digest:
    return Digest(
        day=date.fromisoformat(str(data["day"])),
        timezone=str(data["timezone"]),
        balances=tuple(
            CurrencyBalance(
                str(b["currency"]),
                int(b["outstanding"]),
                int(b["overdue"]),
                int(b["outstanding_change"]),
                int(b["overdue_change"]),
            )
            for b in data.get("balances") or ()
        ),
        payments_received=_totals(data.get("payments_received")),
        invoices_paid=_totals(data.get("invoices_paid")),
        promises_due=_totals(data.get("promises_due")),
        charges_failed=_totals(data.get("charges_failed")),
        disputes_opened=_totals(data.get("disputes_opened")),
        events_to_review=int(data.get("events_to_review") or 0),
        events_to_review_more=bool(data.get("events_to_review_more")),
        write_offs=tuple(
            WriteOffSoon(
                str(w["invoice_id"]),
                str(w["number"]),
                str(w["currency"]),
                int(w["amount_remaining"]),
                date.fromisoformat(str(w["write_off_on"])),
            )
            for w in data.get("write_offs") or ()
        ),
        write_offs_more=bool(data.get("write_offs_more")),
        write_offs_capped_at=int(data.get("write_offs_capped_at") or 0),
    )
