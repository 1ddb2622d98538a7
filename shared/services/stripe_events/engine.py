"""Apply once: read, decide the change, commit; when a guard fails because something else moved first,
read again and decide again. A repeated event id is reported, never applied twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from shared.domain.records import AuditEntry, AuditSubject, StripeEventRecord
from shared.services.ports import Change, ChangeRejected, Ledger, Rejection
from shared.services.stripe_events.facts import EventMeta

MAX_ATTEMPTS = 5


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE_EVENT = "duplicate_event"
    NO_CHANGE = "no_change"  # the payment was already at this state or beyond
    FLAGGED = "flagged"  # did not match what we recorded: kept for review, balances untouched
    IGNORED = "ignored"  # not an event payportal acts on (not kept)
    # About a payment whose own success is still on its way (events arrive in any order): nothing is kept,
    # so Stripe's next delivery (the webhook answers 503) or reconciliation applies it once it can be.
    RETRY_LATER = "retry_later"
    FAILED = "failed"  # processing raised; kept so it can be listed and replayed (never returned by apply_once)


Decision = tuple[Change, Outcome]


def apply_once(ledger: Ledger, event: EventMeta, decide: Callable[[], Decision]) -> Outcome:
    """Commit what `decide` makes of the event, exactly once. `decide` reads the ledger afresh each call."""
    for _ in range(MAX_ATTEMPTS):
        change, outcome = decide()
        if outcome is Outcome.RETRY_LATER:
            return outcome
        _stamp(change, event, outcome)
        try:
            ledger.commit(change)
        except ChangeRejected as rejected:
            if rejected.reason == Rejection.DUPLICATE_EVENT:
                return Outcome.DUPLICATE_EVENT
            continue  # another event for this invoice, payment, plan or customer won the race
        return outcome
    raise RuntimeError(f"event {event.id} kept conflicting; Stripe will retry it")


def apply_part(ledger: Ledger, event: EventMeta, decide: Callable[[], Decision]) -> Outcome:
    """Commit one part of an event that moves several invoices (a combined payment's share of each), guarded
    by its own writes (the payment's status moves only forward, the invoice's version) rather than the event
    id, which the event's last part records (`apply_once`). A part applied before, by this event or another,
    decides no change; a flagged part writes nothing and says so."""
    for _ in range(MAX_ATTEMPTS):
        change, outcome = decide()
        if outcome in (Outcome.RETRY_LATER, Outcome.FLAGGED):
            return outcome
        change.stripe_event = None
        _stamp(change, event, outcome)
        try:
            ledger.commit(change)
        except ChangeRejected:
            continue  # another event moved this invoice or payment first: decide again
        return outcome
    raise RuntimeError(f"event {event.id} kept conflicting; Stripe will retry it")


def _stamp(change: Change, event: EventMeta, outcome: Outcome) -> None:
    """Every audit entry names the event that caused it; a replay's record may replace a flagged one. A replay
    also names who replayed it, on each entry and on the event's own trail (`stripe_event.replayed`), in the
    same transaction: a replay that commits nothing (the event was applied before) leaves no entry."""
    cause = f"stripe_event:{event.id}"
    change.audit = [entry if entry.cause else replace(entry, cause=cause) for entry in change.audit]
    if event.replay and change.stripe_event is not None:
        change.stripe_event = replace(change.stripe_event, replay=True)
    if event.replayed_by and change.stripe_event is not None:
        who = {"replayed_by": event.replayed_by}
        change.audit = [replace(entry, details=entry.details | who) for entry in change.audit]
        change.audit.append(
            AuditEntry(
                subject=AuditSubject.STRIPE_EVENT,
                subject_id=event.id,
                action="stripe_event.replayed",
                actor=event.replayed_by,
                at=change.stripe_event.received_at,
                details={"type": event.type, "outcome": outcome.value, "detail": change.stripe_event.detail},
                cause=cause,
            )
        )


def failed(event: EventMeta, now: datetime, error: Exception) -> Change:
    """What is kept of an event whose processing raised: it stays listed (and replayable) until Stripe's
    retry or an operator's replay applies it. The error's type only: its message could carry data."""
    return Change(stripe_event=event_record(event, Outcome.FAILED, now, type(error).__name__))


def event_record(event: EventMeta, outcome: Outcome, now: datetime, detail: str = "") -> StripeEventRecord:
    """What is kept of every event acted on: its id (the duplicate guard), what became of it, and why."""
    return StripeEventRecord(
        event_id=event.id,
        type=event.type,
        object_id=event.object_id,
        outcome=outcome.value,
        received_at=now,
        detail=detail,
    )


def not_yet() -> Decision:
    """Nothing is written, not even the event: it can be applied only after an event still on its way."""
    return Change(), Outcome.RETRY_LATER


def unchanged(event: EventMeta, outcome: Outcome, now: datetime, detail: str = "") -> Decision:
    """Only the event is kept: it moves nothing (already applied, or moves nothing by nature)."""
    return Change(stripe_event=event_record(event, outcome, now, detail)), outcome


def flagged(event: EventMeta, invoice_id: str, problem: str, now: datetime) -> Decision:
    """An event that does not match what we recorded: kept, with an audit entry for review; nothing moves."""
    audit = AuditEntry(
        subject=AuditSubject.INVOICE,
        subject_id=invoice_id,
        action="stripe_event.flagged",
        actor="stripe",
        at=now,
        details={"event_id": event.id, "type": event.type, "reason": problem},
    )
    return Change(stripe_event=event_record(event, Outcome.FLAGGED, now, problem), audit=[audit]), Outcome.FLAGGED
