"""Each Stripe fact to its use case: the first route whose kind and condition match takes it; a fact no
route takes is ignored (and not recorded). A new event type adds a parser in the adapter, a use case and
a row here.

Each route loads its use case when it first runs (lazy: a webhook's cold start then pays only for the one
use case its event needs; about 5 ms of the webhook's budget, measured with `make bench`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from shared.clock import Clock
from shared.domain.declines import DEFAULT_RETRY_DAYS
from shared.services.ports import ChangeRejected, Ledger
from shared.services.stripe_events.engine import Outcome, apply_once, failed, unchanged
from shared.services.stripe_events.facts import (
    CheckoutSessionFact,
    DisputeFact,
    PaymentIntentFact,
    RefundFact,
    SetupPurpose,
    SetupSessionFact,
    StripeFact,
)


def _autopay_setup(ledger: Ledger, clock: Clock, fact: SetupSessionFact, _: tuple[int, ...]) -> Outcome:
    from shared.services.stripe_events.autopay_setup import record_autopay_setup  # lazy: see the docstring

    return record_autopay_setup(ledger, clock, fact)


def _checkout_session(ledger: Ledger, clock: Clock, fact: CheckoutSessionFact, _: tuple[int, ...]) -> Outcome:
    from shared.services.stripe_events.checkout_payments import record_session  # lazy: see the docstring

    return record_session(ledger, clock, fact)


def _combined_session(ledger: Ledger, clock: Clock, fact: CheckoutSessionFact, _: tuple[int, ...]) -> Outcome:
    from shared.services.stripe_events.combined_payments import record_combined_session  # lazy: see the docstring

    return record_combined_session(ledger, clock, fact)


def _combined_failed_intent(ledger: Ledger, clock: Clock, fact: PaymentIntentFact, _: tuple[int, ...]) -> Outcome:
    from shared.services.stripe_events.combined_payments import record_combined_failed_intent  # lazy: as above

    return record_combined_failed_intent(ledger, clock, fact)


def _installment_charge(ledger: Ledger, clock: Clock, fact: PaymentIntentFact, retry_days: tuple[int, ...]) -> Outcome:
    from shared.services.stripe_events.installment_charges import record_charge  # lazy: see the docstring

    return record_charge(ledger, clock, fact, retry_days=retry_days)


def _failed_checkout_intent(ledger: Ledger, clock: Clock, fact: PaymentIntentFact, _: tuple[int, ...]) -> Outcome:
    from shared.services.stripe_events.checkout_payments import record_failed_intent  # lazy: see the docstring

    return record_failed_intent(ledger, clock, fact)


def _dispute(ledger: Ledger, clock: Clock, fact: DisputeFact, _: tuple[int, ...]) -> Outcome:
    from shared.services.stripe_events.disputes import record_dispute  # lazy: see the docstring

    return record_dispute(ledger, clock, fact)


def _refunds(ledger: Ledger, clock: Clock, fact: RefundFact, _: tuple[int, ...]) -> Outcome:
    from shared.services.stripe_events.refunds import record_refunds  # lazy: see the docstring

    outcome = record_refunds(ledger, clock, fact)
    if outcome is Outcome.IGNORED:  # no one invoice's: a payment of several invoices, or not payportal's
        combined_ref = ledger.combined_for_payment_intent(fact.payment_intent_id)
        if combined_ref is not None:
            from shared.services.stripe_events.combined_refunds import record_combined_refunds  # lazy: as above

            return record_combined_refunds(ledger, clock, fact, combined_ref)
    return outcome


@dataclass(frozen=True, slots=True)
class Route:
    kind: type
    record: Callable[[Ledger, Clock, Any, tuple[int, ...]], Outcome]
    when: Callable[[Any], bool] = lambda fact: True


ROUTES: tuple[Route, ...] = (
    Route(SetupSessionFact, _autopay_setup, when=lambda f: f.completed and f.tags.purpose == SetupPurpose.AUTOPAY),
    # Any other setup session saved a card (card_update, add_method): Stripe keeps it; nothing moves in the ledger.
    # A session paying several invoices: its ref names the combined payment, which names the invoices.
    Route(CheckoutSessionFact, _combined_session, when=lambda fact: bool(fact.tags.combined_ref)),
    Route(CheckoutSessionFact, _checkout_session),
    Route(PaymentIntentFact, _installment_charge, when=lambda fact: fact.tags.is_installment_charge),
    # A Checkout payment's PaymentIntent: its success is recorded by the session's events, its failure here.
    Route(PaymentIntentFact, _combined_failed_intent, when=lambda f: not f.succeeded and bool(f.tags.combined_ref)),
    Route(PaymentIntentFact, _failed_checkout_intent, when=lambda fact: not fact.succeeded),
    Route(DisputeFact, _dispute),
    Route(RefundFact, _refunds),
)


def record_stripe_event(
    ledger: Ledger,
    clock: Clock,
    fact: StripeFact,
    *,
    livemode: bool = False,
    retry_days: tuple[int, ...] = DEFAULT_RETRY_DAYS,
    replayed_by: str = "",
) -> Outcome:
    """Apply what a Stripe event says, exactly once. `livemode`: the stack's own Stripe mode; an event of the
    other mode (a test event reaching production, a live one a test stack) is kept, flagged, and moves
    nothing. `retry_days`: after a soft decline of an off-session charge, the days until each next attempt.
    `replayed_by`: who replays an event re-fetched from Stripe (an operator or a staff member), which may apply
    one kept as flagged (once its cause is fixed); an event applied already changes nothing either way."""
    if replayed_by:
        fact = replace(fact, event=replace(fact.event, replay=True, replayed_by=replayed_by))
    for route in ROUTES:
        if isinstance(fact, route.kind) and route.when(fact):
            if fact.event.livemode != livemode:
                return _other_mode(ledger, clock, fact, livemode)
            return route.record(ledger, clock, fact, retry_days)
    return Outcome.IGNORED


def _other_mode(ledger: Ledger, clock: Clock, fact: StripeFact, livemode: bool) -> Outcome:
    modes = {True: "live", False: "test"}
    problem = f"a {modes[fact.event.livemode]}-mode event on a {modes[livemode]}-mode stack"
    return apply_once(ledger, fact.event, lambda: unchanged(fact.event, Outcome.FLAGGED, clock.now(), problem))


def record_stripe_event_failure(ledger: Ledger, clock: Clock, fact: StripeFact, error: Exception) -> None:
    """Keep an event whose processing raised as failed, so it is listed and can be replayed; Stripe's own
    retry applies over it as well. One already settled (applied meanwhile, or flagged) is left as it is."""
    with contextlib.suppress(ChangeRejected):
        ledger.commit(failed(fact.event, clock.now(), error))
