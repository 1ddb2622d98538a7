"""Reconciliation from Stripe's event list: every event payportal handles, applied through the webhook's own
exactly-once path, so what a lost or given-up webhook would have done is done now, and done once.

The list is read from a stored cursor (less an overlap, for events Stripe lists a little after it created
them) up to now, in windows of a few hours. Within a window events are applied oldest first; an event
already recorded comes back DUPLICATE_EVENT and changes nothing, which is what makes the overlap and a
rerun safe. The cursor moves to the end of each window once all of it is applied. An event that cannot be
applied (a transient error, a race that kept losing) holds the cursor at it, so the next run tries it again,
and is kept as drift with when it was first seen until it applies.

Then what is still open-ended past the time its event should have come, read from the due_work index (never
a scan), is looked up at Stripe: payments and refunds pending longer than expected, Checkout Sessions open past
their expiry, and installment charges created with no outcome. Each disagreement is kept as drift naming what
Stripe says (and so which event is missing); none is fixed by making up an event (docs/decisions.md, 46 and
48). The one thing settled from Stripe's answer alone is a session Stripe has expired: the invoice's open
session is closed, exactly as its checkout.session.expired event would close it.

Stripe is called at most `requests_per_second` times a second (its limit is 100 in live mode, 25 in test
mode), and no new page is started once `out_of_time()` says so: the cursor keeps what was done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from shared.clock import Clock
from shared.domain.declines import DEFAULT_RETRY_DAYS
from shared.domain.invoices import PaymentStatus
from shared.domain.messages import EventName, outgoing_event
from shared.domain.records import (
    FEE_LOOKUP_AFTER,
    PENDING_PAYMENT_EXPECTED,
    PENDING_REFUND_EXPECTED,
    AuditEntry,
    AuditSubject,
    Drift,
    OpenCheckout,
    Payment,
    Plan,
    ProcessorFee,
    ReconcileCursor,
    RefundStatus,
    fee_shares,
)
from shared.services.due_work import all_shards_from, walk_due
from shared.services.gateway import CheckoutSessionState, ListedEvent, PaymentGateway
from shared.services.ports import Change, ChangeRejected, Ledger, Page, SkippedItem
from shared.services.stripe_events.engine import Outcome
from shared.services.stripe_events.facts import StripeFact
from shared.services.stripe_events.router import record_stripe_event

# Reads a listed event as the webhook reads its body; None: not an event payportal can read.
ReadEvent = Callable[[dict[str, Any]], StripeFact | None]

OVERLAP: Final = timedelta(minutes=10)  # re-read before the cursor: Stripe lists an event shortly after creating it
WINDOW: Final = timedelta(hours=6)  # the span read, then applied, before the cursor moves
STRIPE_EVENT_HISTORY: Final = timedelta(days=30)  # how far back Stripe's event list reaches
HISTORY_MARGIN: Final = timedelta(minutes=5)  # not quite to its edge: Stripe would refuse created[gte] beyond it
PAGE_SIZE: Final = 100  # Stripe's largest page
# Below Stripe's limits (100 requests a second live, 25 in test mode): the webhook, the pay pages and the
# charge run share them.
LIVE_REQUESTS_PER_SECOND: Final = 50.0
TEST_REQUESTS_PER_SECOND: Final = 10.0
DRIFT_EVENT: Final = "event"  # a listed event that could not be applied
DRIFT_PAYMENT: Final = "payment"  # a payment pending longer than expected (its reason: what Stripe says)
DRIFT_REFUND: Final = "refund"  # a refund pending longer than expected (likewise)
DRIFT_CHECKOUT: Final = "checkout"  # a Checkout Session open past its expiry, no event closing it (likewise)
DRIFT_CHARGE: Final = "charge"  # an installment charge with no outcome after its grace (likewise)
PENDING_PAGE: Final = 100
JOB_ACTOR: Final = "job:reconcile"


def requests_per_second(livemode: bool) -> float:
    return LIVE_REQUESTS_PER_SECOND if livemode else TEST_REQUESTS_PER_SECOND


class Pacer:
    """Spaces calls so no more than `per_second` start in any second."""

    def __init__(
        self,
        per_second: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / per_second
        self._monotonic = monotonic
        self._sleep = sleep
        self._next: float | None = None
        self.calls = 0

    def wait(self) -> None:
        now = self._monotonic()
        if self._next is not None and now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self._interval
        self.calls += 1


@dataclass(frozen=True, slots=True)
class FailedEvent:
    event_id: str
    reason: str  # the error's type, never its message


@dataclass(slots=True)
class ReconcileReport:
    listed: int = 0  # events read from Stripe's list
    recovered: int = 0  # applied now: the webhook had not brought them
    already_recorded: int = 0  # the webhook (or an earlier run) had
    unchanged: int = 0  # moved nothing (the ledger was there already, or not an event payportal acts on)
    flagged: int = 0  # kept for review: did not match what payportal recorded
    unreadable: int = 0  # listed, but not an event payportal can read (skipped, as the webhook skips it)
    failed: list[FailedEvent] = field(default_factory=list)  # not applied: tried again next run
    pending_checked: int = 0  # payments pending longer than expected, looked up at Stripe
    pending_flagged: int = 0  # of those, kept as drift: still pending at Stripe, or settled there unrecorded
    checkouts_checked: int = 0  # open Checkout Sessions past their expiry, looked up at Stripe
    checkouts_flagged: int = 0  # of those, kept as drift: open, paid or unknown there, or expired unrecorded
    checkouts_closed: int = 0  # of those, expired at Stripe: the invoice's open session closed from its answer
    charges_checked: int = 0  # installment charges with no outcome after their grace, looked up at Stripe
    charges_flagged: int = 0  # of those, kept as drift: settled or unknown at Stripe, or processing too long
    fees_recorded: int = 0  # succeeded payments whose fee was looked up at Stripe and recorded
    fees_not_yet: int = 0  # looked up, and Stripe had none yet (asked again later, FEE_LOOKUP_AFTER)
    fees_left: int = 0  # due, but the run's time was up: the next run looks them up
    fees_failed: int = 0  # asked, and Stripe failed to answer (a fault, not "none yet"): asked again next run
    skipped: list[SkippedItem] = field(default_factory=list)  # open-ended items that could not be looked at
    drift_resolved: int = 0
    unresolved_drift: int = 0
    oldest_drift_seconds: int = 0  # how long the oldest unresolved drift has been seen
    stripe_requests: int = 0
    complete: bool = False  # read and applied up to now; False: stopped for time or held by drift (next run goes on)
    cursor: datetime | None = None
    cursor_lag_seconds: int = 0  # how far behind now the cursor is


@dataclass(frozen=True, slots=True)
class ReconcileSettings:
    livemode: bool = False  # the stack's Stripe mode (events of the other mode are flagged, as by the webhook)
    retry_days: tuple[int, ...] = DEFAULT_RETRY_DAYS
    types: tuple[str, ...] = ()  # the event types payportal handles


def reconcile(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    *,
    stripe_now: Callable[[], datetime],
    out_of_time: Callable[[], bool],
    settings: ReconcileSettings,
    pacer: Pacer,
    read: ReadEvent,
) -> ReconcileReport:
    """One run: read and apply Stripe's events from the cursor to now; report what was found and done.
    `clock` is the business clock the events are applied at; `stripe_now` the real time Stripe's `created`
    counts in."""
    report = ReconcileReport()
    now = stripe_now()
    known = ledger.list_drift()
    drift = {d.object_id: d for d in known if d.kind == DRIFT_EVENT}
    stored = ledger.get_reconcile_cursor()
    floor = now - STRIPE_EVENT_HISTORY + HISTORY_MARGIN
    start = max(stored.through - OVERLAP, floor) if stored else floor
    held: int | None = None  # Stripe's `created` of the first event this run could not apply
    window_start = _seconds(start)
    # Through the current second: an event Stripe makes later in it is read again within the next run's overlap.
    end = _seconds(now) + 1
    quiet = _quiet_span(gateway, pacer, settings.types, window_start, end, out_of_time)
    while window_start < end:
        events: list[ListedEvent] | None
        if quiet is not None:  # the whole span is one page: no windows needed
            window_end, events = end, quiet
            quiet = None
        else:
            window_end = min(window_start + int(WINDOW.total_seconds()), end)
            events = _read_window(gateway, pacer, settings.types, window_start, window_end, out_of_time)
        if events is None:
            break
        stopped_at: int | None = None  # Stripe's `created` of the first event left for the next run
        for listed in events:
            if out_of_time():
                stopped_at = listed.created
                break
            report.listed += 1
            if not _apply(ledger, clock, listed, read(listed.payload), settings, report, drift, now) and held is None:
                held = listed.created
        through = min(t for t in (held, stopped_at, window_end) if t is not None)
        ledger.advance_reconcile_cursor(ReconcileCursor(through=_instant(through), updated_at=now))
        if stopped_at is not None:
            break
        window_start = window_end
    else:
        report.complete = held is None
    # The time-bound checks first; the pending check (14-day bank debits and refunds, and fees, which may be
    # many after a busy hour) last, so a backlog of fees never keeps the others from running.
    for check, kinds in (
        (_check_open_checkouts, (DRIFT_CHECKOUT,)),
        (_check_charges_in_flight, (DRIFT_CHARGE,)),
        (_check_pending_payments, (DRIFT_PAYMENT, DRIFT_REFUND)),
    ):
        if out_of_time():
            break
        drift_of_kind = {(d.kind, d.object_id): d for d in known if d.kind in kinds}
        check(ledger, gateway, clock, pacer, out_of_time, report, drift_of_kind, now)
    report.stripe_requests = pacer.calls
    _settle_report(ledger, report, now)
    ledger.commit(Change(outbox=[outgoing_event(EventName.RECONCILE_COMPLETED, completed_detail(report), clock.now())]))
    return report


def _quiet_span(
    gateway: PaymentGateway,
    pacer: Pacer,
    types: tuple[str, ...],
    created_gte: int,
    created_lt: int,
    out_of_time: Callable[[], bool],
) -> list[ListedEvent] | None:
    """A span longer than a window (a first run, a catch-up) is asked for whole once: when it fits in one page
    (most days after an outage of a quiet account), that page is all of it, oldest first. None: read it in
    windows (one request spent to learn it)."""
    if created_lt - created_gte <= int(WINDOW.total_seconds()) or out_of_time():
        return None
    pacer.wait()
    page = gateway.list_events(types=types, created_gte=created_gte, created_lt=created_lt, limit=PAGE_SIZE)
    return None if page.has_more else page.events[::-1]


def _read_window(
    gateway: PaymentGateway,
    pacer: Pacer,
    types: tuple[str, ...],
    created_gte: int,
    created_lt: int,
    out_of_time: Callable[[], bool],
) -> list[ListedEvent] | None:
    """Every event of the window, oldest first; None when time ran out before the window was read."""
    newest_first: list[ListedEvent] = []
    after: str | None = None
    while True:
        if out_of_time():
            return None
        pacer.wait()
        page = gateway.list_events(
            types=types, created_gte=created_gte, created_lt=created_lt, starting_after=after, limit=PAGE_SIZE
        )
        newest_first += page.events
        if not page.has_more or not page.events:
            return newest_first[::-1]
        after = page.events[-1].id


def _apply(
    ledger: Ledger,
    clock: Clock,
    listed: ListedEvent,
    fact: StripeFact | None,
    settings: ReconcileSettings,
    report: ReconcileReport,
    drift: dict[str, Drift],
    now: datetime,
) -> bool:
    """Apply one listed event; False when it could not be (it stays drift, and holds the cursor)."""
    if fact is None:
        report.unreadable += 1
        return True
    try:
        outcome = record_stripe_event(ledger, clock, fact, livemode=settings.livemode, retry_days=settings.retry_days)
    except Exception as error:  # a transient fault or a race that kept losing: the next run tries again
        reason = type(error).__name__
        report.failed.append(FailedEvent(listed.id, reason))
        first_seen = drift[listed.id].first_seen if listed.id in drift else now
        ledger.record_drift(Drift(DRIFT_EVENT, listed.id, reason, first_seen=first_seen, last_seen=now))
        drift[listed.id] = Drift(DRIFT_EVENT, listed.id, reason, first_seen=first_seen, last_seen=now)
        return False
    if outcome is Outcome.RETRY_LATER:
        # About a payment whose success is not recorded (still to come, or flagged and waiting for the
        # operator): nothing was kept, so hold the cursor at it as at a failure; it applies once it can.
        reason = "payment_not_yet_recorded"
        report.failed.append(FailedEvent(listed.id, reason))
        first_seen = drift[listed.id].first_seen if listed.id in drift else now
        drift[listed.id] = Drift(DRIFT_EVENT, listed.id, reason, first_seen=first_seen, last_seen=now)
        ledger.record_drift(drift[listed.id])
        return False
    if outcome is Outcome.APPLIED:
        report.recovered += 1
    elif outcome is Outcome.DUPLICATE_EVENT:
        report.already_recorded += 1
    elif outcome is Outcome.FLAGGED:
        report.flagged += 1
    else:
        report.unchanged += 1
    if drift.pop(listed.id, None) is not None:
        ledger.resolve_drift(DRIFT_EVENT, listed.id)
        report.drift_resolved += 1
    return True


def _check_pending_payments(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    pacer: Pacer,
    out_of_time: Callable[[], bool],
    report: ReconcileReport,
    known: dict[tuple[str, str], Drift],
    now: datetime,
) -> None:
    """Each payment with something pending longer than expected (the payment, a bank debit; or a refund),
    from the due_work index, never a scan, is looked up at Stripe and kept as drift with what Stripe says:
    still pending there (the bank is slow, or it is stuck), or settled there with no event recorded (replay
    it). Drift of what is no longer overdue is cleared. A succeeded payment whose fee is due (Payment.fee_due)
    gets it from its charge's balance transaction (`_record_fee`)."""
    flagged = _DriftKeeper(ledger, known, now)

    def flag(kind: str, object_id: str, status: str | None) -> None:
        flagged.keep(kind, object_id, "unknown_at_stripe" if status is None else f"{status}_at_stripe")
        report.pending_checked += 1
        report.pending_flagged += 1

    def look_up(payment: Payment) -> None:
        if payment.status is PaymentStatus.PENDING:
            pacer.wait()
            flag(DRIFT_PAYMENT, payment.key, gateway.payment_intent_status(payment.payment_intent_id or payment.key))
        for refund in payment.refunds:
            if refund.status is RefundStatus.PENDING and refund.updated_at + PENDING_REFUND_EXPECTED <= clock.now():
                pacer.wait()
                flag(DRIFT_REFUND, refund.id, gateway.refund_status_at_stripe(refund.id))
        fee_time = payment.fee_due and payment.updated_at + FEE_LOOKUP_AFTER[payment.fee_lookups] <= clock.now()
        # Time is checked per payment, not only per page: a page of fees is a hundred Stripe calls. A fee left
        # for the next run stays due.
        if fee_time and not out_of_time():
            pacer.wait()
            try:
                _record_fee(ledger, gateway, clock, payment, report)
            except Exception:  # Stripe unreachable, throttling, failing: the fee stays due, asked next run
                report.fees_failed += 1  # (not a bad item: the payment's pending checks above were made)
        elif fee_time:
            report.fees_left += 1

    _walk(ledger.pending_payments_due, look_up, "payment", clock, out_of_time, report, flagged)


def _record_fee(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, payment: Payment, report: ReconcileReport
) -> None:
    """Stripe's fee on the payment's charge, recorded on the payment (a share of a combined payment gets its
    part, fee_shares); or, when Stripe has none yet, one lookup more counted, so the next comes later and the
    last gives up. Written as a change of the payment's refunds is, over the version it was read at: a refund
    recorded meanwhile wins, and the next run looks again."""
    assert payment.payment_intent_id is not None  # fee_due
    fee = gateway.payment_fee(payment.payment_intent_id)
    if fee is not None and payment.combined_ref:
        fee = _share_of_fee(ledger, payment, fee)
    now = clock.now()
    looked_up = replace(
        payment,
        fee=fee,
        fee_lookups=payment.fee_lookups + (fee is None),
        refund_version=payment.refund_version + 1,
        updated_at=now,
    )
    found: dict[str, object] = (
        {"fee": fee.amount, "fee_currency": fee.currency, "balance_transaction": fee.balance_transaction}
        if fee is not None
        else {"lookups": looked_up.fee_lookups, "last": looked_up.fee_lookups >= len(FEE_LOOKUP_AFTER)}
    )
    audit = AuditEntry(
        subject=AuditSubject.INVOICE,
        subject_id=payment.invoice_id,
        action="payment.fee_recorded" if fee is not None else "payment.fee_not_yet",
        actor=JOB_ACTOR,
        at=now,
        details={"payment": payment.key, **found, "job": "reconcile"},
    )
    try:
        ledger.commit(Change(payment_fee=looked_up, audit=[audit]))
    except ChangeRejected:
        return
    if fee is None:
        report.fees_not_yet += 1
    else:
        report.fees_recorded += 1


def _share_of_fee(ledger: Ledger, share: Payment, fee: ProcessorFee) -> ProcessorFee | None:
    """One invoice's part of a combined payment's fee, in proportion to what it got of the payment."""
    combined = ledger.get_combined_checkout(share.combined_ref)
    if combined is None or combined.allocation(share.invoice_id) is None:
        return None
    parts = fee_shares(fee.amount, {a.invoice_id: a.amount for a in combined.allocations})
    return replace(fee, amount=parts[share.invoice_id])


def _check_open_checkouts(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    pacer: Pacer,
    out_of_time: Callable[[], bool],
    report: ReconcileReport,
    known: dict[tuple[str, str], Drift],
    now: datetime,
) -> None:
    """Each invoice's open Checkout Session still open in the ledger past its expiry (and a grace: Stripe
    expires it within minutes, then sends checkout.session.expired) is looked up at Stripe. Expired there:
    the open session is closed as its expired event would close it (a session Stripe expired can never be
    paid, and the write is guarded by the item's version, so it happens once and never over a newer
    session). Anything else is drift naming the event missing: paid at Stripe (money received, ledger not
    updated: replay checkout.session.completed), complete and unpaid (a bank debit processing), still open
    past its expiry, or unknown to Stripe."""
    flagged = _DriftKeeper(ledger, known, now)

    def look_up(slot: OpenCheckout) -> None:
        attempt = slot.current
        if attempt is None:
            return
        pacer.wait()
        state = gateway.checkout_session_status(attempt.session_id)
        report.checkouts_checked += 1
        if state is not None and state.status == "expired" and _close_expired(ledger, slot, clock):
            report.checkouts_closed += 1
            return
        # Not expired, or the item moved on meanwhile (a newer session, or its event): drift until settled.
        flagged.keep(DRIFT_CHECKOUT, attempt.session_id, _session_reason(state))
        report.checkouts_flagged += 1

    _walk(ledger.open_checkouts_due, look_up, "open_checkout", clock, out_of_time, report, flagged)


def _session_reason(state: CheckoutSessionState | None) -> str:
    if state is None:
        return "unknown_at_stripe"
    if state.status == "open":
        return "open_at_stripe_past_expiry"
    if state.status == "expired":
        return "expired_at_stripe_missing_checkout.session.expired"
    if state.status == "complete":
        paid = state.payment_status in ("paid", "no_payment_required")
        return f"{'paid' if paid else 'unpaid'}_at_stripe_missing_checkout.session.completed"
    return f"{state.status}_at_stripe"


def _close_expired(ledger: Ledger, slot: OpenCheckout, clock: Clock) -> bool:
    """Close the invoice's open session Stripe has expired: the write its checkout.session.expired event
    makes (the event, applied later, finds it closed and changes nothing). False: the item moved on."""
    attempt = slot.current
    assert attempt is not None
    closed = replace(slot, version=slot.version + 1, current=None, identity="")
    audit = AuditEntry(
        subject=AuditSubject.INVOICE,
        subject_id=slot.invoice_id,
        action="checkout.closed",
        actor=JOB_ACTOR,
        at=clock.now(),
        details={"session": attempt.session_id, "reason": "expired_at_stripe", "job": "reconcile"},
    )
    try:
        ledger.commit(Change(open_checkout=closed, audit=[audit]))
    except ChangeRejected:
        return False
    return True


def _check_charges_in_flight(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    pacer: Pacer,
    out_of_time: Callable[[], bool],
    report: ReconcileReport,
    known: dict[tuple[str, str], Drift],
    now: datetime,
) -> None:
    """Each installment charge created at Stripe with no outcome recorded an hour on is looked up there.
    Settled there (succeeded, failed: `requires_payment_method`, canceled) or unknown to Stripe: drift
    naming what Stripe says (replay its payment_intent event). Still processing (a bank debit): nothing
    until the bank-debit window has passed too. The charge run does not look at such a plan meanwhile."""
    flagged = _DriftKeeper(ledger, known, now)

    def look_up(plan: Plan) -> None:
        installment, check_at = plan.charge_in_flight, plan.outcome_check_at
        if installment is None or installment.payment_intent_id is None or check_at is None:
            return
        pacer.wait()
        status = gateway.payment_intent_status(installment.payment_intent_id)
        report.charges_checked += 1
        if status == "processing" and clock.now() < check_at + PENDING_PAYMENT_EXPECTED:
            return  # a bank debit takes days; its event is not late yet
        flagged.keep(DRIFT_CHARGE, installment.payment_intent_id, _charge_reason(status))
        report.charges_flagged += 1

    _walk(ledger.charges_in_flight_due, look_up, "plan", clock, out_of_time, report, flagged)


def _charge_reason(status: str | None) -> str:
    if status is None:
        return "unknown_at_stripe"
    missing = {
        "succeeded": "succeeded_at_stripe_missing_payment_intent.succeeded",
        # Stripe puts a PaymentIntent whose attempt failed back to waiting for a payment method
        "requires_payment_method": "failed_at_stripe_missing_payment_intent.payment_failed",
    }
    return missing.get(status, f"{status}_at_stripe")


class _DriftKeeper:
    """Drift of one check: kept with its first sighting; what it did not see again is settled at the end."""

    def __init__(self, ledger: Ledger, known: dict[tuple[str, str], Drift], now: datetime) -> None:
        self.ledger, self.known, self.now = ledger, known, now
        self.seen: set[tuple[str, str]] = set()

    def keep(self, kind: str, object_id: str, reason: str) -> None:
        earlier = self.known.get((kind, object_id))
        first_seen = earlier.first_seen if earlier else self.now
        self.ledger.record_drift(Drift(kind, object_id, reason, first_seen=first_seen, last_seen=self.now))
        self.seen.add((kind, object_id))

    def settle_the_rest(self, report: ReconcileReport) -> None:
        for kind, object_id in set(self.known) - self.seen:
            self.ledger.resolve_drift(kind, object_id)
            report.drift_resolved += 1


def _walk(
    read: Callable[[int, datetime, int, str | None], Page],
    look_up: Callable[[Any], None],
    kind: str,
    clock: Clock,
    out_of_time: Callable[[], bool],
    report: ReconcileReport,
    flagged: _DriftKeeper,
) -> None:
    skipped_before = len(report.skipped)
    # Each hour's run starts at another shard: when time runs short, a different one is left for the next run.
    left = walk_due(
        all_shards_from(clock.now().hour),
        lambda shard, cursor: read(shard, clock.now(), PENDING_PAGE, cursor),
        look_up,
        out_of_time,
        kind=kind,
        skip=report.skipped.append,
    )
    if not left and len(report.skipped) == skipped_before:  # every overdue item was seen: the rest is settled
        flagged.settle_the_rest(report)


def _settle_report(ledger: Ledger, report: ReconcileReport, now: datetime) -> None:
    cursor = ledger.get_reconcile_cursor()
    report.cursor = cursor.through if cursor else None
    lag = now - cursor.through if cursor else STRIPE_EVENT_HISTORY
    report.cursor_lag_seconds = max(0, int(lag.total_seconds()))
    unresolved = ledger.list_drift()
    report.unresolved_drift = len(unresolved)
    if unresolved:
        report.oldest_drift_seconds = max(0, int((now - unresolved[0].first_seen).total_seconds()))


def completed_detail(report: ReconcileReport) -> dict[str, object]:
    """The `reconcile.completed` event's detail (docs/events.md): counts and the cursor, no payloads."""
    return {
        "complete": report.complete,
        "events_listed": report.listed,
        "recovered": report.recovered,
        "already_recorded": report.already_recorded,
        "flagged": report.flagged,
        "unreadable": report.unreadable,
        "failed": len(report.failed),
        "pending_payments_checked": report.pending_checked,
        "pending_payments_flagged": report.pending_flagged,
        "open_checkouts_checked": report.checkouts_checked,
        "open_checkouts_flagged": report.checkouts_flagged,
        "open_checkouts_closed": report.checkouts_closed,
        "charges_in_flight_checked": report.charges_checked,
        "charges_in_flight_flagged": report.charges_flagged,
        "fees_recorded": report.fees_recorded,
        "fees_not_yet": report.fees_not_yet,
        "fees_left": report.fees_left,
        "fees_failed": report.fees_failed,
        "drift_resolved": report.drift_resolved,
        "unresolved_drift": report.unresolved_drift,
        "cursor": report.cursor.isoformat() if report.cursor else None,
        "cursor_lag_seconds": report.cursor_lag_seconds,
        "stripe_requests": report.stripe_requests,
    }


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
