"""The console's Review page: the Stripe events kept as flagged (they did not match what we recorded) or as
failed (their processing raised), and the replay of one once its cause is fixed.

A replay goes through the operator API's own service (shared.services.stripe_events.replay, which
`bin/payportal webhooks replay` reaches): the event is fetched from Stripe again and applied by the apply-once
engine, so a second replay changes nothing, and every entry it writes names the staff member.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from shared.clock import Clock
from shared.domain.console_roles import Action, allowed_actions, require
from shared.domain.console_session import ConsoleSession
from shared.domain.declines import DEFAULT_RETRY_DAYS
from shared.domain.errors import NotFound
from shared.domain.records import EVENT_FAILED, EVENT_FLAGGED, AuditEntry, AuditSubject, StripeEventRecord
from shared.services.ports import Ledger
from shared.services.stripe_events import replay
from shared.services.stripe_events.engine import Outcome
from shared.services.stripe_events.replay import Replayed, StripeEvents

REVIEW_LIMIT = 25  # events per list on the page; each list pages on with its own cursor
HISTORY_LIMIT = 10  # the replays shown for the event just replayed


# What a replay did, as the page says it (the CLI says the same, cli/webhooks.py); settled ones wait on nobody.
REPLAY_SAYS: Final[Mapping[Outcome, str]] = {
    Outcome.APPLIED: "applied",
    Outcome.NO_CHANGE: "applied: the ledger was already at that state",
    Outcome.DUPLICATE_EVENT: "it was applied before, so nothing changed",
    Outcome.IGNORED: "not an event payportal acts on: nothing changed",
    Outcome.FLAGGED: "flagged again: it still does not match what payportal recorded, and nothing moved",
    Outcome.RETRY_LATER: "not applied: its payment's success is not recorded yet; replay that event first",
    Outcome.FAILED: "not applied: its processing failed",
}
UNSETTLED: Final = frozenset({Outcome.FLAGGED, Outcome.RETRY_LATER, Outcome.FAILED})


@dataclass(frozen=True, slots=True)
class ReplayNotice:
    """The event just replayed: what the replay did, what is kept of it now, and who replayed it when."""

    outcome: Outcome
    event: StripeEventRecord
    history: list[AuditEntry]  # its `stripe_event.replayed` entries, newest first

    @property
    def says(self) -> str:
        return REPLAY_SAYS[self.outcome]

    @property
    def settled(self) -> bool:
        return self.outcome not in UNSETTLED


@dataclass(frozen=True, slots=True)
class ReviewView:
    flagged: list[StripeEventRecord]  # newest first, each with what did not match (its detail)
    flagged_next: str | None
    failed: list[StripeEventRecord]  # newest first, with the error's type
    failed_next: str | None
    actions: frozenset[Action]
    replayed: ReplayNotice | None


def review_page(
    ledger: Ledger,
    session: ConsoleSession,
    *,
    flagged_cursor: str | None = None,
    failed_cursor: str | None = None,
    replayed: str | None = None,
    outcome: str | None = None,
) -> ReviewView:
    """Both lists from their own sparse partition (no scan); `replayed` and `outcome` (after a replay) add the
    notice of that event. A cursor not handed out for its list is an InvalidCursor (a 400 page)."""
    require(session.roles, Action.VIEW)
    flagged = replay.list_events(ledger, outcome=EVENT_FLAGGED, limit=REVIEW_LIMIT, cursor=flagged_cursor)
    failed = replay.list_events(ledger, outcome=EVENT_FAILED, limit=REVIEW_LIMIT, cursor=failed_cursor)
    return ReviewView(
        flagged=[e for e in flagged.items if isinstance(e, StripeEventRecord)],
        flagged_next=flagged.next_cursor,
        failed=[e for e in failed.items if isinstance(e, StripeEventRecord)],
        failed_next=failed.next_cursor,
        actions=allowed_actions(session.roles),
        replayed=_notice(ledger, replayed, outcome),
    )


def _notice(ledger: Ledger, event_id: str | None, outcome: str | None) -> ReplayNotice | None:
    """Only for an event we keep and an outcome the engine gives: anything else in the URL shows nothing."""
    if not event_id or outcome not in {known.value for known in Outcome}:
        return None
    try:
        event = replay.get_event(ledger, event_id)
    except NotFound:
        return None
    trail = ledger.list_audit(AuditSubject.STRIPE_EVENT, event.event_id, HISTORY_LIMIT, None)
    history = [e for e in trail.items if isinstance(e, AuditEntry) and e.action == "stripe_event.replayed"]
    return ReplayNotice(outcome=Outcome(outcome), event=event, history=history)


def replay_event(
    ledger: Ledger,
    stripe_events: StripeEvents,
    clock: Clock,
    session: ConsoleSession,
    event_id: str,
    *,
    livemode: Callable[[], bool],
    retry_days: tuple[int, ...] = DEFAULT_RETRY_DAYS,
) -> Replayed:
    """Replay a kept event (the page lists only those; one we never kept is not found, and Stripe is not asked
    about it), exactly once, audited as the staff member. `livemode` (the stack's Stripe mode, from its secret)
    is read only once the role allows the replay."""
    require(session.roles, Action.REPLAY_STRIPE_EVENT)
    kept = replay.get_event(ledger, event_id)
    return replay.replay_event(
        ledger, stripe_events, clock, kept.event_id, livemode=livemode(), actor=session.actor, retry_days=retry_days
    )
