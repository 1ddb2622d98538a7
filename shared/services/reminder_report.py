"""What reminders achieve: counters per (send day, dunning step, template), kept with the changes they count,
and the report that reads them (GET /v1/reports/reminders).

Each counter moves in the transaction of what it counts (Change.tallies), under that change's own guard, so
it counts once: a reminder sent (the dunning run's version-guarded invoice write), its pay link opened the
first time (the link's not-yet-opened guard), a payment through it that succeeded within PAID_WINDOW of the
reminder (the payment's forward-only guard, with the event's). A payment is counted under its reminder's
send day, so a day's "paid" figure can still grow for PAID_WINDOW after it.

The counters of one day, step and template are spread over SHARDS items (by invoice), so a dunning run
sending many reminders of one step at once does not make every transaction write the same item; the report
sums them. A range of days is one Query of the scope's partition: at most days x steps x templates x SHARDS
small items, never a scan.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import Final

from shared.domain.errors import InvalidDate
from shared.domain.invoices import Invoice, InvoiceStatus
from shared.domain.records import Payment, ReminderAttribution
from shared.services.ports import Ledger, Tally

SCOPE: Final = "reminders"
SHARDS: Final = 4
MAX_DAYS: Final = 400  # the longest range one report reads
PAID_WINDOW: Final = timedelta(days=7)  # a payment counts for its reminder when made this soon after it

SENT: Final = "sent"
OPENED: Final = "opened"
# Per currency: payments through the reminder's link within the window, their amount, and how many of them
# left the invoice paid in full. Field names carry the currency: "paid_count#USD".
PAID_COUNT: Final = "paid_count#"
PAID_AMOUNT: Final = "paid_amount#"
PAID_INVOICES: Final = "paid_invoices#"


def send_day(reminder: ReminderAttribution) -> date:
    """The day a reminder counts under: the UTC date the dunning run sent it."""
    return reminder.sent_at.astimezone(UTC).date()


def _bucket(reminder: ReminderAttribution, invoice_id: str) -> str:
    shard = int(hashlib.sha256(invoice_id.encode()).hexdigest()[:8], 16) % SHARDS
    return f"{send_day(reminder).isoformat()}#{reminder.step}#{reminder.template}#{shard}"


def reminder_sent(invoice_id: str, reminder: ReminderAttribution) -> Tally:
    return Tally(SCOPE, _bucket(reminder, invoice_id), {SENT: 1})


def link_opened(invoice_id: str, reminder: ReminderAttribution) -> Tally:
    return Tally(SCOPE, _bucket(reminder, invoice_id), {OPENED: 1})


def payment_succeeded(payment: Payment, invoice_after: Invoice) -> list[Tally]:
    """The counters a payment moving to succeeded moves: none unless it came through a reminder's link and
    was made (`created_at`: when the customer paid on Checkout) within PAID_WINDOW of the reminder."""
    reminder = payment.reminder
    if reminder is None or not timedelta(0) <= payment.created_at - reminder.sent_at <= PAID_WINDOW:
        return []
    currency = payment.currency
    deltas = {PAID_COUNT + currency: 1, PAID_AMOUNT + currency: payment.amount}
    if invoice_after.status is InvoiceStatus.PAID:
        deltas[PAID_INVOICES + currency] = 1
    return [Tally(SCOPE, _bucket(reminder, payment.invoice_id), deltas)]


@dataclass(frozen=True, slots=True)
class PaidWithin:
    """Payments through a reminder's links within PAID_WINDOW of it, in one currency (minor units)."""

    currency: str
    payments: int
    amount: int
    invoices_paid: int  # of those payments, the ones that left their invoice paid in full


@dataclass(frozen=True, slots=True)
class ReminderFigures:
    day: date | None  # the send day; None in the totals over the whole range
    step: str
    template: str
    sent: int
    opened: int
    paid: tuple[PaidWithin, ...]  # by currency code


@dataclass(frozen=True, slots=True)
class ReminderReport:
    first_day: date
    last_day: date
    rows: tuple[ReminderFigures, ...]  # per (send day, step, template), by day then step
    totals: tuple[ReminderFigures, ...]  # per (step, template) over the range
    buckets_read: int  # counter items read (the report's whole cost)


@dataclass(slots=True)
class _Sum:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, fields: dict[str, int]) -> None:
        for name, value in fields.items():
            self.counts[name] += value

    def figures(self, day: date | None, step: str, template: str) -> ReminderFigures:
        currencies = sorted(
            {name.split("#", 1)[1] for name in self.counts if name.startswith((PAID_COUNT, PAID_AMOUNT))}
        )
        paid = tuple(
            PaidWithin(
                currency=c,
                payments=self.counts.get(PAID_COUNT + c, 0),
                amount=self.counts.get(PAID_AMOUNT + c, 0),
                invoices_paid=self.counts.get(PAID_INVOICES + c, 0),
            )
            for c in currencies
        )
        return ReminderFigures(day, step, template, self.counts.get(SENT, 0), self.counts.get(OPENED, 0), paid)


def _in_step_order(step_template: tuple[str, str]) -> tuple[int, str, str]:
    """Steps by their offset from the due date ("-7:upcoming" before "+3:overdue"), then as written."""
    step, template = step_template
    offset = step.split(":", 1)[0]
    return (int(offset) if offset.lstrip("+-").isdigit() else 0, step, template)


def check_range(first_day: date, last_day: date) -> None:
    if first_day > last_day:
        raise InvalidDate("from must not be after to", field="from")
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise InvalidDate(f"a report covers at most {MAX_DAYS} days", field="to")


def reminder_report(ledger: Ledger, first_day: date, last_day: date) -> ReminderReport:
    """Reminders sent from `first_day` to `last_day` (UTC send days, both included): how many went out, how
    many of their links were opened, and what was paid through them within PAID_WINDOW."""
    check_range(first_day, last_day)
    # Every bucket of those days sorts between "<first day>" and "<last day>#<anything>".
    found = ledger.read_tallies(SCOPE, between=(first_day.isoformat(), f"{last_day.isoformat()}#\uffff"))
    rows: dict[tuple[date, str, str], _Sum] = defaultdict(_Sum)
    totals: dict[tuple[str, str], _Sum] = defaultdict(_Sum)
    for bucket, counters in found.items():
        day_text, step, template, _shard = bucket.split("#")
        day = date.fromisoformat(day_text)
        rows[(day, step, template)].add(counters)
        totals[(step, template)].add(counters)
    return ReminderReport(
        first_day=first_day,
        last_day=last_day,
        rows=tuple(rows[key].figures(*key) for key in sorted(rows, key=lambda k: (k[0], *_in_step_order(k[1:])))),
        totals=tuple(totals[key].figures(None, *key) for key in sorted(totals, key=_in_step_order)),
        buckets_read=len(found),
    )
