"""Running aggregates: every counter a report reads, derived in this one place from the before and after of the
invoice (and installment plan) a Change writes, and written in that change's own transaction (Change.tallies).

Counters, per currency C (minor units, or counts):

| scope              | bucket        | fields           | moved by                        |
|--------------------|---------------|------------------|---------------------------------|
| owed#C#{due year}  | D#{due date}  | amount, invoices | what is still owed, by due date |
| owed#C             | M#{due month} | amount, invoices | the same, by due month          |
| owedmoves#C#{month}| {day}#{due}   | amount, invoices | what owed moved that day        |
| flows#C            | D#{day}       | FLOW_FIELDS      | what happened that day          |
| flows#C            | M#{month}     | FLOW_FIELDS      | the same, by month              |
| quarters#C         | {UTC quarter} | QUARTER_FIELDS   | what moved in that quarter hour |

The quarter hours let the morning digest cover the operator's own day (from local midnight to local midnight,
in any zone: every UTC offset is a multiple of 15 minutes) where the flows are kept per UTC day.

An invoice written before the aggregates (Invoice.counted False) is in none of the owed counters: the change that
first writes it counted (tallied() marks it so, under its version guard) moves them by its whole state, as for
a new invoice; until then they do not move for it. `payportal reports backfill` counts the rest the same way.

"Owed" is what the open_balances index holds: the remainder of an open or partially paid invoice (void,
paid and uncollectible invoices owe nothing here). A day is a UTC calendar day of the business clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Final

from shared.domain.invoices import Invoice, InvoiceStatus
from shared.domain.local_time import local_date
from shared.domain.records import InstallmentStatus, Plan, PlanKind
from shared.services.ports import Change, Tally

PROMISE_REASON: Final = "promise to pay"  # the hold a promise to pay puts on the invoice (services.checkout)

# What flows#C counts, per day and per month.
FLOW_FIELDS: Final = (
    "invoiced",  # billed: a new invoice's amount due, a late fee, a correction of the amount (before credit notes)
    "credited",  # credit notes issued
    "voided",  # what was still owed when an invoice was voided
    "written_off",  # what was still owed when an invoice was written off as uncollectible
    "collected",  # money received (less money taken back: a bounced cheque, a lost dispute)
    "refunded",  # refunds (pending or succeeded; less those that failed)
    "invoices_created",
    "invoices_paid",  # invoices settled in full by a payment: once each, the first time (not again if reopened)
    "days_to_pay",  # for those: the sum of days from issue to payment, in the customer's calendar
    "paid_on_time",  # for those: how many were paid on or before their due date
    "promises_due",  # promises to pay falling due that day (bucketed by the promised date)
    "promises_kept",  # of those, paid in full by the end of the promised day, once (bucketed by the promised date)
    "offsession_first_attempts",  # off-session charges whose first attempt had its outcome that day
    "offsession_first_failed",  # of those, the failed ones
    "offsession_recovered",  # charges paid on a later attempt that day, after their first failed
)


CURRENCIES_SCOPE: Final = "currencies"  # one counter per currency invoiced in: the reports' list of them

# What quarters#C counts per UTC quarter hour (the digest's window in the operator's zone):
QUARTER_MINUTES: Final = 15
OWED_MOVED: Final = "owed"  # what is owed moved (every due date)
# ... of it, due on a day (field OWED_DUE + the date) from RECENT_DUE_DAYS days before the quarter's UTC day to that
# day, and due before those (OWED_DUE_OLDER): enough to tell what was overdue at the end of any local day ending
# within the three days after (a due date later than the quarter's day is not overdue at any of those ends).
OWED_DUE: Final = "owed_due#"
OWED_DUE_OLDER: Final = "owed_due_older"
RECENT_DUE_DAYS: Final = 3
QUARTER_FLOWS: Final = ("collected", "invoices_paid")  # the flows the digest shows for a local day


def quarters_scope(currency: str) -> str:
    return f"quarters#{currency}"


# How long a quarter-hour counter is kept: the digest reads the last two days of them; a month leaves room for
# a digest run late or again, and keeps the table from growing by about 35,000 items a year per currency.
QUARTER_KEPT: Final = timedelta(days=35)


def quarter_expiry(at: datetime) -> int:
    """When a counter of `at`'s UTC quarter hour may go (epoch seconds): QUARTER_KEPT after the quarter began."""
    start = datetime.strptime(quarter_bucket(at), "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
    return int((start + QUARTER_KEPT).timestamp())


def quarter_tally(currency: str, at: datetime, deltas: dict[str, int]) -> Tally:
    """The quarters#C counter of `at`'s UTC quarter hour, moved by `deltas`, expiring QUARTER_KEPT after it."""
    return Tally(quarters_scope(currency), quarter_bucket(at), deltas, expires_at=quarter_expiry(at))


def quarter_bucket(at: datetime) -> str:
    """The UTC quarter hour `at` falls in, e.g. "2026-11-01T10:45": buckets sort as the instants do."""
    utc = at.astimezone(UTC)
    return utc.replace(minute=utc.minute - utc.minute % QUARTER_MINUTES).strftime("%Y-%m-%dT%H:%M")


def owed_due_field(due: date, day: date) -> str | None:
    """The quarters#C field a move of what is owed on `due`, made on UTC `day`, is kept under besides OWED_MOVED
    (None: due after `day`, overdue at the end of none of the days that field serves)."""
    if due > day:
        return None
    return OWED_DUE_OLDER if (day - due).days > RECENT_DUE_DAYS else OWED_DUE + due.isoformat()


def owed_scope(currency: str) -> str:
    """What is owed per due month (the days are in owed_days_scope)."""
    return f"owed#{currency}"


def owed_days_scope(currency: str, year: int) -> str:
    """What is owed per due day, one partition per due year (a report reads at most two)."""
    return f"owed#{currency}#{year}"


def moves_scope(currency: str, month: date) -> str:
    """What the changes of one calendar month moved of what is owed (one partition per month of changes)."""
    return f"owedmoves#{currency}#{month.strftime('%Y-%m')}"


def moves_bucket(day: date, due: date) -> str:
    """What changes on `day` moved of what is owed on `due`: sorted by day, so the moves since a day are one
    Query of each month's partition from that day's month on."""
    return f"{day.isoformat()}#{due.isoformat()}"


def flows_scope(currency: str) -> str:
    return f"flows#{currency}"


def day_bucket(day: date) -> str:
    return f"D#{day.isoformat()}"


def month_bucket(day: date) -> str:
    return f"M#{day.strftime('%Y-%m')}"


def owed_by(invoice: Invoice) -> int:
    """What the invoice still owes, as the aging report counts it."""
    being_collected = invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)
    return invoice.amount_remaining if being_collected else 0


@dataclass(frozen=True, slots=True)
class _Owing:
    currency: str
    due: date
    amount: int


def _owing(invoice: Invoice | None) -> _Owing | None:
    if invoice is None:
        return None
    owed = owed_by(invoice)
    return _Owing(invoice.currency, invoice.due_date, owed) if owed > 0 else None


def _owed_tallies(before: Invoice | None, after: Invoice, at: datetime) -> list[Tally]:
    if not after.counted:
        return []  # not in the counters yet (written before them): nothing to move
    moved: list[tuple[_Owing, int]] = []
    counted_before = before if before is not None and before.counted else None
    was, now_owing = _owing(counted_before), _owing(after)
    if was is not None:
        moved.append((was, -1))
    if now_owing is not None:
        moved.append((now_owing, 1))
    tallies: list[Tally] = []
    today = at.astimezone(UTC).date()
    for owing, sign in moved:
        deltas = {"amount": sign * owing.amount, "invoices": sign}
        quarter = {OWED_MOVED: sign * owing.amount}
        due_field = owed_due_field(owing.due, today)
        if due_field is not None:
            quarter[due_field] = sign * owing.amount
        tallies += [
            Tally(owed_days_scope(owing.currency, owing.due.year), day_bucket(owing.due), deltas),
            Tally(owed_scope(owing.currency), month_bucket(owing.due), deltas),
            Tally(moves_scope(owing.currency, today), moves_bucket(today, owing.due), deltas),
            quarter_tally(owing.currency, at, quarter),
        ]
    return tallies


def _promised_date(invoice: Invoice) -> date | None:
    """The day the customer promised to pay by: the promise's hold ends at the start of the next local day."""
    hold = invoice.hold
    if hold is None or hold.reason != PROMISE_REASON or hold.until is None:
        return None
    return date.fromordinal(local_date(hold.until, invoice.customer_timezone).toordinal() - 1)


def _invoice_flows(before: Invoice | None, after: Invoice, at: datetime) -> list[Tally]:
    """Flows of the day `at` falls on, and promises on their promised day."""
    zero = before is None
    billed = lambda i: i.amount_due + i.amount_credited  # noqa: E731 - what was billed, before credit notes
    flows = {
        "invoiced": billed(after) - (0 if before is None else billed(before)),
        "credited": after.amount_credited - (0 if before is None else before.amount_credited),
        "collected": after.amount_paid - (0 if before is None else before.amount_paid),
        "refunded": after.amount_refunded - (0 if before is None else before.amount_refunded),
        "invoices_created": 1 if zero else 0,
    }
    if before is not None and before.status is not after.status:
        if after.status is InvoiceStatus.VOID:
            flows["voided"] = owed_by(before)
        if after.status is InvoiceStatus.UNCOLLECTIBLE:
            flows["written_off"] = owed_by(before)
    tallies = _both_buckets(after.currency, at.date(), flows) + _quarter(after.currency, at, flows)
    moved = before is None or before.hold != after.hold
    if after.hold is not None and after.hold.reason == PROMISE_REASON and moved and not _promise_settled(before):
        # A promise made, or its date moved by the customer (services.checkout.promise_to_pay). A promise
        # already counted kept stays due and kept on its day: paid, then reversed or refunded and promised
        # again, it is still the invoice's one promise, and its new date only pauses reminders.
        earlier = _promised_date(before) if before is not None else None
        if earlier is not None:
            tallies += _both_buckets(after.currency, earlier, {"promises_due": -1})
        promised = _promised_date(after)
        if promised is not None:
            tallies += _both_buckets(after.currency, promised, {"promises_due": 1})
    if before is not None and _settled_by_payment(before, after) and not _held_paid(before):
        paid_on = local_date(at, after.customer_timezone)
        issued_on = local_date(after.created_at, after.customer_timezone)
        paid = {
            "invoices_paid": 1,
            "days_to_pay": max(0, (paid_on - issued_on).days),
            "paid_on_time": 1 if paid_on <= after.due_date else 0,
        }
        tallies += _both_buckets(after.currency, at.date(), paid) + _quarter(after.currency, at, paid)
    if before is not None and _keeps_promise(before, after, at):
        promised = _promised_date(before)
        assert promised is not None
        tallies += _both_buckets(after.currency, promised, {"promises_kept": 1})
    return tallies


def _settled_by_payment(before: Invoice, after: Invoice) -> bool:
    """A payment settled it in full (the first time, or again after a refund or a lost dispute reopened it)."""
    return (
        before.status is not InvoiceStatus.PAID
        and after.status is InvoiceStatus.PAID
        and after.amount_paid > before.amount_paid
    )


def _held_paid(invoice: Invoice) -> bool:
    """Whether invoices_paid holds it already, or never will: a payment settled it in full before, counted then
    (counted_paid), or before the counters (an uncounted invoice whose payments once covered what it owes)."""
    if invoice.counted:
        return invoice.counted_paid
    return invoice.amount_paid > 0 and invoice.amount_paid >= invoice.amount_due


def _held_promise(invoice: Invoice) -> bool:
    """Whether its one promise's keeping is counted already, or never will be: kept and counted
    (counted_promise_kept), or made before the counters (never counted in promises_due)."""
    if invoice.counted:
        return invoice.counted_promise_kept
    return invoice.promised_at is not None


def _promise_settled(invoice: Invoice | None) -> bool:
    """Its promise was kept and counted so: the promise's day is final."""
    return invoice is not None and invoice.counted and invoice.counted_promise_kept


def _keeps_promise(before: Invoice, after: Invoice, at: datetime) -> bool:
    """A payment settled it in full while its promise ran, and that promise is not counted kept yet."""
    until = before.hold.until if before.hold is not None else None
    return (
        _settled_by_payment(before, after)
        and _promised_date(before) is not None
        and until is not None
        and at < until
        and not _held_promise(before)
    )


def _plan_flows(before: Plan | None, after: Plan, at: datetime) -> list[Tally]:
    """Off-session charges' outcomes: an installment charged off-session that failed or was paid."""
    flows = {"offsession_first_attempts": 0, "offsession_first_failed": 0, "offsession_recovered": 0}
    earlier = {i.number: i for i in before.installments} if before is not None else {}
    for installment in after.installments:
        off_session = after.kind is PlanKind.AUTOPAY or installment.number > 1
        was = earlier.get(installment.number)
        if not off_session or was is None or was.status is installment.status or installment.attempts == 0:
            continue
        failed_first = installment.status is InstallmentStatus.FAILED and installment.attempts == 1
        paid = installment.status is InstallmentStatus.PAID
        if failed_first:
            flows["offsession_first_attempts"] += 1
            flows["offsession_first_failed"] += 1
        elif paid and was.status is InstallmentStatus.CHARGING and installment.attempts == 1:
            flows["offsession_first_attempts"] += 1
        elif paid and (was.status is InstallmentStatus.FAILED or installment.attempts > 1):
            flows["offsession_recovered"] += 1  # on a later attempt, or by the customer on Checkout
    return _both_buckets(after.currency, at.date(), flows)


def _quarter(currency: str, at: datetime, deltas: dict[str, int]) -> list[Tally]:
    moving = {name: delta for name, delta in deltas.items() if delta and name in QUARTER_FLOWS}
    return [quarter_tally(currency, at, moving)] if moving else []


def _both_buckets(currency: str, day: date, deltas: dict[str, int]) -> list[Tally]:
    moving = {name: delta for name, delta in deltas.items() if delta}
    if not moving:
        return []
    return [
        Tally(flows_scope(currency), day_bucket(day), moving),
        Tally(flows_scope(currency), month_bucket(day), moving),
    ]


def tallies_for(
    before: Invoice | None, after: Invoice | None, at: datetime, *, plan_before: Plan | None = None,
    plan_after: Plan | None = None,
) -> list[Tally]:  # fmt: skip
    """Every counter the move from `before` to `after` changes, at the instant `at` (the business clock)."""
    tallies: list[Tally] = []
    if after is not None:
        if after.counted and (before is None or not before.counted):  # new, or counted for the first time
            tallies.append(Tally(CURRENCIES_SCOPE, after.currency, {"invoices": 1}))
        tallies += _owed_tallies(before, after, at)
        tallies += _invoice_flows(before, after, at)
    if plan_after is not None:
        tallies += _plan_flows(plan_before, plan_after, at)
    return tallies


def tallied(
    change: Change, at: datetime, *, invoice_before: Invoice | None = None, plan_before: Plan | None = None
) -> Change:
    """The change with the tallies of what it does to its invoice (new_invoice, or invoice_update over
    `invoice_before`) and plan (plan_update over `plan_before`) appended. Every use case that writes an invoice
    or a plan calls this once, just before commit, with the records it read. An invoice update over one not yet
    counted is written counted, with the counters of its whole state (its version guard makes that happen once)."""
    before = None if change.new_invoice is not None else invoice_before
    if change.invoice_update is not None and before is None:
        raise ValueError("an invoice update's tallies need the invoice it was made from")
    if change.invoice_update is not None and before is not None:
        # Counted from now on (once, under the update's version guard), and what the KPIs hold of it: paid and
        # its promise kept, once each, however often it is reopened and settled again.
        update = change.invoice_update
        change.invoice_update = replace(
            update,
            counted=True,
            counted_paid=_held_paid(before) or _settled_by_payment(before, update),
            counted_promise_kept=_held_promise(before) or _keeps_promise(before, update, at),
        )
    after = change.new_invoice or change.invoice_update
    plan_after = change.plan_update
    change.tallies += tallies_for(
        before, after, at, plan_before=plan_before if plan_after is not None else None, plan_after=plan_after
    )
    return change
