"""The operator's morning digest: one DigestEmail a day, built from what the ledger already keeps, never a scan.

| section                                  | read from                                                          |
|------------------------------------------|--------------------------------------------------------------------|
| outstanding and overdue, per currency    | the owed counters now, less what moved since the end of yesterday  |
| ... their change over yesterday          | ... and since its start (the quarter-hour counters, quarters#C)    |
| payments received, invoices paid         | the quarter-hour counters (`collected`, `invoices_paid`) of yesterday |
| promises to pay due today                | the daily flows (`promises_due`, by promised date) of today        |
| charges failed, disputes opened          | the digest's own counters (services.digest_tallies) of yesterday   |
| Stripe events flagged for review         | the stripe events to review (due_work partitions), up to REVIEW_CAP |
| invoices about to become uncollectible   | the owed list (lists index), due dates a write-off period ago       |

"Today" is the operator's local day (payportal:digestTimezone) and "yesterday" the local day before it, from
local midnight to local midnight (23 or 25 hours on a daylight-saving day): every windowed section covers that
same window, read from counters kept per UTC quarter hour (every UTC offset is a multiple of 15 minutes). What
is owed is shown as at the end of yesterday, its change as over yesterday, so the balances, the money in and
the charges failed all speak of the same hours. Promises due today are by promised date (the customers' own
calendar dates); events to review and write-offs coming are as of the run. The digest goes out once per day:
its outbox message id is the day's, so a second firing (or a retry) meets the first message and queues nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from shared.clock import Clock
from shared.domain.digest import CurrencyBalance, CurrencyTotal, Digest, WriteOffSoon
from shared.domain.dunning import DEFAULT_POLICY, DunningPolicy, uncollectible_at
from shared.domain.invoices import Invoice
from shared.domain.local_time import local_date
from shared.domain.messages import DigestEmail, OutboxMessage
from shared.domain.records import EVENT_FAILED, EVENT_FLAGGED
from shared.services import aggregates, digest_tallies, reports
from shared.services.dunning_policy import current_policy
from shared.services.ports import (
    Change,
    ChangeRejected,
    InvoiceListing,
    Ledger,
    Rejection,
    SkippedItem,
    UnreadableRecord,
)

REVIEW_CAP: Final = 100  # Stripe events to review counted per outcome (beyond: "more than")
WRITE_OFF_HORIZON: Final = timedelta(days=7)
WRITE_OFFS_LISTED: Final = 20
# The owed list is read a page of WRITE_OFFS_LISTED + 1 at a time (the listed ones and one to say "more"),
# and never more than WRITE_OFFS_READ invoices (the digest then says it stopped there).
WRITE_OFFS_PAGE: Final = WRITE_OFFS_LISTED + 1
WRITE_OFFS_READ: Final = 500
# Local days run from UTC-12 to UTC+14: a due day's write-off instant lies in this span around its UTC midnight.
_EARLIEST_OFFSET, _LATEST_OFFSET = timedelta(hours=14), timedelta(hours=12)


def digest_message_id(day: date) -> str:
    """The one outbox message of a day's digest."""
    return f"msg_digest_{day.isoformat()}"


@dataclass(slots=True)
class DigestRun:
    day: date
    queued: bool  # the digest is on its way (False: already queued today, or no one to send it to)
    reason: str  # queued | already_sent | no_recipients
    digest: Digest | None = None
    skipped: list[SkippedItem] = field(default_factory=list)


def send_digest(ledger: Ledger, clock: Clock, *, timezone: str, recipients: int) -> DigestRun:
    """Queue today's digest, once. With no recipients configured nothing is read or queued."""
    now = clock.now()
    day = local_date(now, timezone)
    if recipients == 0:
        return DigestRun(day, queued=False, reason="no_recipients")
    if ledger.counters_ready() is None:  # its balances and flows would be wrong (services.reports)
        return DigestRun(day, queued=False, reason=reports.CountersNotReady.code)
    run = DigestRun(day, queued=False, reason="queued")
    run.digest = build_digest(ledger, now, timezone, run.skipped)
    message = OutboxMessage(DigestEmail(run.digest), now, id=digest_message_id(day))
    try:
        ledger.commit(Change(outbox=[message]))
    except ChangeRejected as rejected:
        if rejected.reason is not Rejection.EXISTS:
            raise
        run.reason = "already_sent"
        return run
    run.queued = True
    return run


def local_day_window(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants of the start and the end of `day` in `timezone` (local midnight to local midnight)."""
    zone = ZoneInfo(timezone)
    start, end = (datetime.combine(d, time(0), tzinfo=zone).astimezone(UTC) for d in (day, day + timedelta(days=1)))
    return start, end


def build_digest(ledger: Ledger, now: datetime, timezone: str, skipped: list[SkippedItem]) -> Digest:
    """The digest as of `now`; what could not be read (an invoice, the stored policy) goes to `skipped`."""
    day = local_date(now, timezone)
    window = local_day_window(day - timedelta(days=1), timezone)
    codes = reports.currencies(ledger)
    quarters = {code: _quarters_since(ledger, code, window[0]) for code in codes}
    in_window = {code: _summed(q, window) for code, q in quarters.items()}
    own = _own_counters(ledger, window)
    flagged, flagged_more = _events_to_review(ledger)
    write_offs = _write_offs_soon(ledger, now, skipped)
    return Digest(
        day=day,
        timezone=timezone,
        balances=_balances(ledger, codes, quarters, window, day, now),
        payments_received=_totals(in_window, "collected", None),
        invoices_paid=_totals(in_window, None, "invoices_paid"),
        promises_due=_totals(_flows(ledger, codes, day), None, "promises_due"),
        charges_failed=_totals(own, digest_tallies.CHARGES_FAILED_AMOUNT, digest_tallies.CHARGES_FAILED),
        disputes_opened=_totals(own, digest_tallies.DISPUTES_OPENED_AMOUNT, digest_tallies.DISPUTES_OPENED),
        events_to_review=flagged,
        events_to_review_more=flagged_more,
        write_offs=write_offs.listed,
        write_offs_more=write_offs.more,
        write_offs_capped_at=write_offs.capped_at,
    )


Quarters = dict[str, dict[str, int]]  # quarter bucket -> the quarters#C fields moved in it


def _quarters_since(ledger: Ledger, code: str, start: datetime) -> Quarters:
    """Every quarter-hour counter of `code` from `start` on (up to now: at most about two days of them)."""
    return ledger.read_tallies(aggregates.quarters_scope(code), between=(aggregates.quarter_bucket(start), "~"))


def _summed(quarters: Quarters, window: tuple[datetime, datetime]) -> dict[str, int]:
    """The quarter-hour flows of the window's quarters (from its start to before its end), summed."""
    first, end = (aggregates.quarter_bucket(at) for at in window)
    summed: dict[str, int] = {}
    for bucket, counts in quarters.items():
        if first <= bucket < end:
            for name in aggregates.QUARTER_FLOWS:
                summed[name] = summed.get(name, 0) + counts.get(name, 0)
    return summed


def _moved_since(quarters: Quarters, at: datetime, as_of: date) -> tuple[int, int]:
    """What the changes from `at` on moved of what is owed: in all, and of what was overdue at the end of `as_of`
    (due before it). A quarter of UTC day u keeps the dues from u - RECENT_DUE_DAYS to u by date and the older
    ones together, which tells overdue at the end of `as_of` exactly when u - as_of is 0 to RECENT_DUE_DAYS: a
    change after the end of `as_of` in any zone is on its UTC day or later, and the digest looks back two days.
    (Only a business clock moved back by hand, locally, could leave quarters later than that.)"""
    first = aggregates.quarter_bucket(at)
    total = overdue = 0
    for bucket, counts in quarters.items():
        if bucket < first:
            continue
        total += counts.get(aggregates.OWED_MOVED, 0)
        overdue += counts.get(aggregates.OWED_DUE_OLDER, 0)
        for name, value in counts.items():
            if name.startswith(aggregates.OWED_DUE) and name[len(aggregates.OWED_DUE) :] < as_of.isoformat():
                overdue += value
    return total, overdue


def _balances(
    ledger: Ledger, codes: list[str], quarters: dict[str, Quarters], window: tuple[datetime, datetime], day: date,
    now: datetime,
) -> tuple[CurrencyBalance, ...]:  # fmt: skip
    """What was owed and overdue at the end of yesterday (local), and how that moved over yesterday: what is owed
    now less what the changes since each end moved (the quarter-hour counters), to the cent. Read between two
    reads of those counters: a change landing meanwhile makes it read again."""
    start, end = window
    yesterday, day_before = day - timedelta(days=1), day - timedelta(days=2)
    since = ledger.counters_ready()
    whole_from = datetime.combine(since + timedelta(days=1), time(0), tzinfo=UTC) if since else None  # see 69
    lines = []
    for code in codes:
        moves = quarters[code]
        for _ in range(reports.SNAPSHOT_TRIES):
            live = reports.live_line(ledger, code, yesterday)  # owed now, bucketed as of the end of yesterday
            again = _quarters_since(ledger, code, start)
            if again == moves:
                break
            moves = again
        else:
            raise reports.SnapshotRaced(f"{code}: changes kept landing while the digest read its balances")
        owed_now = live.total
        overdue_now = live.total - live.current  # due before yesterday ended
        due_day_before = live.due_on.get(day_before, 0)  # overdue at the end of yesterday, not the day before
        moved_end, moved_end_overdue = _moved_since(moves, end, yesterday)
        moved_start, moved_start_overdue = _moved_since(moves, start, day_before)
        owed_end, overdue_end = owed_now - moved_end, overdue_now - moved_end_overdue
        owed_start = owed_now - moved_start
        overdue_start = overdue_now - due_day_before - moved_start_overdue
        if whole_from is None or end < whole_from:  # the counters did not hold every invoice then: as they are now
            owed_end, overdue_end = owed_now, overdue_now
        if whole_from is None or start < whole_from:  # ... nor at its start: no change shown
            owed_start, overdue_start = owed_end, overdue_end
        if owed_end or owed_start:
            change, overdue_change = owed_end - owed_start, overdue_end - overdue_start
            lines.append(CurrencyBalance(code, owed_end, overdue_end, change, overdue_change))
    return tuple(lines)


def _flows(ledger: Ledger, codes: list[str], day: date) -> dict[str, dict[str, int]]:
    """Currency -> that day's flows (services.reports.day_flows: one counter item each)."""
    return {code: reports.day_flows(ledger, code, day) for code in codes}


def _own_counters(ledger: Ledger, window: tuple[datetime, datetime]) -> dict[str, dict[str, int]]:
    """Currency -> field -> value of the digest's own counters within `window`, its quarters and shards summed."""
    summed: dict[str, dict[str, int]] = {}
    for counts in ledger.read_tallies(digest_tallies.SCOPE, between=digest_tallies.window_range(*window)).values():
        for name, value in counts.items():
            prefix, _, code = name.partition("#")
            into = summed.setdefault(code, {})
            into[prefix + "#"] = into.get(prefix + "#", 0) + value
    return summed


def _totals(
    by_currency: dict[str, dict[str, int]], amount_field: str | None, count_field: str | None
) -> tuple[CurrencyTotal, ...]:
    lines = []
    for code, counts in sorted(by_currency.items()):
        amount = counts.get(amount_field, 0) if amount_field else 0
        count = counts.get(count_field, 0) if count_field else 0
        if amount or count:
            lines.append(CurrencyTotal(code, count, amount))
    return tuple(lines)


def _events_to_review(ledger: Ledger) -> tuple[int, bool]:
    """Stripe events flagged (did not match what we recorded) or failed, waiting for a replay."""
    count, more = 0, False
    for outcome in (EVENT_FLAGGED, EVENT_FAILED):
        page = ledger.list_stripe_events(REVIEW_CAP, None, outcome=outcome)
        count += len(page.items)
        more = more or page.next_cursor is not None
    return count, more


def _policy(ledger: Ledger, skipped: list[SkippedItem]) -> DunningPolicy:
    try:
        return current_policy(ledger)
    except UnreadableRecord as unreadable:  # as the dunning run does: the built-in policy meanwhile
        skipped.append(unreadable.skipped)
        return DEFAULT_POLICY


@dataclass(frozen=True, slots=True)
class WriteOffs:
    listed: tuple[WriteOffSoon, ...]  # the soonest WRITE_OFFS_LISTED, by write-off day then number
    more: bool  # more are written off within the horizon
    capped_at: int  # 0, or WRITE_OFFS_READ when the read stopped there: the list is the soonest of those read
    read: int  # invoices read


def _write_offs_soon(ledger: Ledger, now: datetime, skipped: list[SkippedItem]) -> WriteOffs:
    """Invoices the dunning run will write off within WRITE_OFF_HORIZON. An invoice is written off at the start
    of the local day `mark_uncollectible_after_days` after its due date, so those are the invoices still owed
    (the owed list, across currencies, oldest due first) due about that many days before today, and their
    write-off day is their due date plus those days, whatever their time zone. The list is read in due order
    and stops as soon as the soonest WRITE_OFFS_LISTED are known and one more is (an unread invoice is due on
    or after the last one read, so written off no sooner): about the invoices shown, however many are in
    dunning. Nothing is read when the policy never writes off."""
    policy = _policy(ledger, skipped)
    after_days = policy.mark_uncollectible_after_days
    if after_days is None:
        return WriteOffs((), more=False, capped_at=0, read=0)
    horizon = now + WRITE_OFF_HORIZON
    span = timedelta(days=after_days)
    listing = InvoiceListing(
        by="owed",
        due_from=(now - _LATEST_OFFSET).astimezone(UTC).date() - span,
        due_until=(horizon + _EARLIEST_OFFSET).astimezone(UTC).date() - span + timedelta(days=1),
    )
    found: list[WriteOffSoon] = []
    cursor: str | None = None
    read = 0
    while True:
        page = ledger.list_invoices(listing, min(WRITE_OFFS_PAGE, WRITE_OFFS_READ - read), cursor)
        last_due: date | None = None
        for invoice in page.items:
            read += 1
            last_due = invoice.due_date
            soon = _written_off_by(invoice, policy, now, horizon)
            if soon is not None:
                found.append(soon)
        found.sort(key=lambda w: (w.write_off_on, w.number))
        cursor = page.next_cursor
        # Known: more than the listed are found, and nothing unread (due on or after last_due) comes before them.
        known = (
            len(found) > WRITE_OFFS_LISTED
            and last_due is not None
            and last_due + span > found[WRITE_OFFS_LISTED - 1].write_off_on
        )
        if cursor is None or known:
            return WriteOffs(tuple(found[:WRITE_OFFS_LISTED]), len(found) > WRITE_OFFS_LISTED, 0, read)
        if read >= WRITE_OFFS_READ:
            return WriteOffs(tuple(found[:WRITE_OFFS_LISTED]), more=True, capped_at=WRITE_OFFS_READ, read=read)


def _written_off_by(invoice: Invoice, policy: DunningPolicy, now: datetime, horizon: datetime) -> WriteOffSoon | None:
    if not invoice.in_dunning:
        return None
    at = uncollectible_at(policy, invoice.due_date, invoice.customer_timezone)
    if at is None or not now <= at < horizon:
        return None
    if invoice.hold is not None and invoice.hold.active_at(at):
        return None  # paused: the run looks again when the hold ends
    return WriteOffSoon(
        invoice_id=invoice.id,
        number=invoice.number,
        currency=invoice.currency,
        amount_remaining=invoice.amount_remaining,
        write_off_on=local_date(at, invoice.customer_timezone),
    )
