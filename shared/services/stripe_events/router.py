"""Each Stripe fact to its use case: the first route whose kind and condition match takes it; a fact no
route takes is ignored (and not recorded). A new event type adds a parser in the adapter, a use case and
a row here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.clock import Clock
from shared.domain.plans import DEFAULT_RETRY_DAYS
from shared.services.ports import Ledger
from shared.services.stripe_events import autopay_setup, checkout_payments, disputes, installment_charges
from shared.services.stripe_events.engine import Outcome
from shared.services.stripe_events.facts import (
    CheckoutSessionFact,
    DisputeFact,
    PaymentIntentFact,
    SetupPurpose,
    SetupSessionFact,
    StripeFact,
)


@dataclass(frozen=True, slots=True)
class Route:
    kind: type
    record: Callable[[Ledger, Clock, Any, tuple[int, ...]], Outcome]
    when: Callable[[Any], bool] = lambda fact: True


ROUTES: tuple[Route, ...] = (
    Route(
        SetupSessionFact,
        lambda ledger, clock, fact, _: autopay_setup.record_autopay_setup(ledger, clock, fact),
        when=lambda fact: fact.completed and fact.tags.purpose == SetupPurpose.AUTOPAY,
    ),
    # Any other setup session saved a card (card_update): Stripe keeps it; nothing moves in the ledger.
    Route(CheckoutSessionFact, lambda ledger, clock, fact, _: checkout_payments.record_session(ledger, clock, fact)),
    Route(
        PaymentIntentFact,
        lambda ledger, clock, fact, retry_days: installment_charges.record_charge(
            ledger, clock, fact, retry_days=retry_days
        ),
        when=lambda fact: fact.tags.is_installment_charge,
    ),
    # A Checkout payment's PaymentIntent: its success is recorded by the session's events, its failure here.
    Route(
        PaymentIntentFact,
        lambda ledger, clock, fact, _: checkout_payments.record_failed_intent(ledger, clock, fact),
        when=lambda fact: not fact.succeeded,
    ),
    Route(DisputeFact, lambda ledger, clock, fact, _: disputes.record_dispute(ledger, clock, fact)),
)


def record_stripe_event(
    ledger: Ledger, clock: Clock, fact: StripeFact, *, retry_days: tuple[int, ...] = DEFAULT_RETRY_DAYS
) -> Outcome:
    """Apply what a Stripe event says, exactly once. `retry_days`: after a soft decline of an off-session
    charge, the days until each next attempt."""
    for route in ROUTES:
        if isinstance(fact, route.kind) and route.when(fact):
            return route.record(ledger, clock, fact, retry_days)
    return Outcome.IGNORED
