"""Kept Stripe events for the operator: list them (all, failed or flagged), and replay one.

A replay re-fetches the event from Stripe (never from what we kept: we keep no payload) and applies it
through the path the webhook takes, `record_stripe_event`, with `replay` set: an event kept as flagged is
applied once its cause is fixed (or flagged again, if it still does not match); an event applied already
meets its final record and changes nothing; a failed one, or one that never reached us, is applied as the
webhook would have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Protocol

from shared.clock import Clock
from shared.domain.declines import DEFAULT_RETRY_DAYS
from shared.domain.errors import NotFound, StripeEventUnreadable
from shared.domain.records import EVENT_FAILED, EVENT_FLAGGED, StripeEventRecord
from shared.services.ports import Ledger, Page
from shared.services.stripe_events.engine import Outcome
from shared.services.stripe_events.facts import StripeFact
from shared.services.stripe_events.router import record_stripe_event

# Stripe's event ids: `evt_` and letters, digits or underscores. Anything else is never sent to Stripe.
EVENT_ID: Final = re.compile(r"evt_[A-Za-z0-9_]{1,250}")
ATTENTION: Final = (EVENT_FAILED, EVENT_FLAGGED)  # the outcomes a listing may be narrowed to


class StripeEvents(Protocol):
    """Stripe's events, as the gateway reads them (StripeGateway and the fake implement it beside the
    PaymentGateway port; it lives here, with its facts, because shared/services/ports.py must not import
    the stripe_events package that imports it)."""

    def retrieve_event(self, event_id: str) -> StripeFact | None:
        """The event as Stripe holds it now (its list reaches back 30 days), read as the webhook reads one;
        None when Stripe has no such event; StripeEventUnreadable when it does not read as one."""
        ...


@dataclass(frozen=True, slots=True)
class Replayed:
    event_id: str
    type: str
    outcome: Outcome  # what the replay did: duplicate_event means it was applied before, and nothing moved
    previous: StripeEventRecord | None  # what was kept of it before the replay (None: it never reached us)


def list_events(ledger: Ledger, *, outcome: str | None, limit: int, cursor: str | None) -> Page:
    """Kept events, newest first; `outcome` failed or flagged narrows to those waiting on someone."""
    if outcome is not None and outcome not in ATTENTION:
        raise ValueError(f"events are listed by outcome only for {', '.join(ATTENTION)}")
    return ledger.list_stripe_events(limit, cursor, outcome=outcome)


def get_event(ledger: Ledger, event_id: str) -> StripeEventRecord:
    found = ledger.get_stripe_event(event_id) if EVENT_ID.fullmatch(event_id) else None
    if found is None:
        raise NotFound(f"no Stripe event {event_id!r} is kept")
    return found


def replay_event(
    ledger: Ledger,
    gateway: StripeEvents,
    clock: Clock,
    event_id: str,
    *,
    livemode: bool,
    actor: str,
    retry_days: tuple[int, ...] = DEFAULT_RETRY_DAYS,
) -> Replayed:
    """Apply the event as Stripe holds it now, exactly once (see the module docstring). `actor` (the operator's
    IAM identity, or a staff member's) is named on every audit entry the replay writes."""
    if not EVENT_ID.fullmatch(event_id):
        raise NotFound(f"{event_id!r} is not a Stripe event id")
    previous = ledger.get_stripe_event(event_id)
    fact = gateway.retrieve_event(event_id)
    if fact is None:
        raise NotFound(f"Stripe has no event {event_id} (its events are kept for 30 days)")
    if fact.event.id != event_id:
        raise StripeEventUnreadable(f"Stripe answered {event_id} with another event")
    outcome = record_stripe_event(ledger, clock, fact, livemode=livemode, retry_days=retry_days, replayed_by=actor)
    return Replayed(event_id=event_id, type=fact.event.type, outcome=outcome, previous=previous)
