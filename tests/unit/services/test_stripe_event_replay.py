"""Replaying a Stripe event: re-fetched from Stripe, applied through the webhook's path, exactly once. A
flagged event applies once its cause is fixed; an applied one changes nothing; a failed one is kept for
Stripe's retry or a replay."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.clock import FixedClock
from shared.domain.errors import NotFound, StripeEventUnreadable
from shared.domain.invoices import InvoiceStatus
from shared.domain.records import AuditSubject
from shared.services.ports import Change, InvalidCursor
from shared.services.stripe_events.engine import Outcome
from shared.services.stripe_events.facts import StripeFact
from shared.services.stripe_events.replay import get_event, list_events, replay_event
from shared.services.stripe_events.router import record_stripe_event, record_stripe_event_failure
from tests.fakes import InMemoryLedger
from tests.fakes.gateway import FakeGateway
from tests.fakes.records import NOW, a_checkout, a_customer, an_invoice
from tests.fakes.stripe_facts import a_session_fact

CLOCK = FixedClock(NOW)
OPERATOR = "arn:aws:iam::123456789012:user/ops"
LIVE_PAYMENT = replace(a_session_fact(), event=replace(a_session_fact().event, livemode=True))


def ledger_with_checkout() -> InMemoryLedger:
    """Given customer cus_1 owes inv_1 (USD 125.00) and was sent to Checkout session cs_1 for all of it."""
    ledger = InMemoryLedger()
    ledger.commit(Change(new_customer=a_customer(), new_invoice=an_invoice(), checkout=a_checkout()))
    return ledger


def stripe_holding(*facts: StripeFact) -> FakeGateway:
    gateway = FakeGateway()
    gateway.held_events = {fact.event.id: fact for fact in facts}
    return gateway


def test_a_flagged_event_applies_once_its_cause_is_fixed_and_a_second_replay_changes_nothing() -> None:
    # Given a live-mode payment flagged on a stack that was set up in test mode: nothing moved
    ledger = ledger_with_checkout()
    assert record_stripe_event(ledger, CLOCK, LIVE_PAYMENT, livemode=False) is Outcome.FLAGGED
    assert ledger.get_invoice("inv_1").status is InvoiceStatus.OPEN  # type: ignore[union-attr]
    gateway = stripe_holding(LIVE_PAYMENT)

    # When Stripe delivers it again before the fix, nothing happens (a flagged event is not reapplied by itself)
    assert record_stripe_event(ledger, CLOCK, LIVE_PAYMENT, livemode=True) is Outcome.DUPLICATE_EVENT
    # When the operator fixes the stack's mode and replays it
    replayed = replay_event(ledger, gateway, CLOCK, "evt_1", livemode=True, actor=OPERATOR)

    # Then it was applied, once: the invoice is paid, its receipt queued, the trail names the event
    assert (replayed.outcome, replayed.previous.outcome if replayed.previous else None) == (Outcome.APPLIED, "flagged")
    assert gateway.event_requests == ["evt_1"]
    assert ledger.get_invoice("inv_1").status is InvoiceStatus.PAID  # type: ignore[union-attr]
    assert ledger.stripe_events["evt_1"].outcome == "applied"
    assert ledger.audit_actions("inv_1") == ["payment.succeeded"]  # the flag is on the event (no invoice is sure)
    assert {a.cause for a in ledger.audit} == {"stripe_event:evt_1"}
    # And who replayed it is on the invoice's entry and on the event's own trail, written with the change
    assert [a.details["replayed_by"] for a in ledger.audit if a.subject is AuditSubject.INVOICE] == [OPERATOR]
    [replay_entry] = ledger.list_audit(AuditSubject.STRIPE_EVENT, "evt_1", 10, None).items
    assert (replay_entry.action, replay_entry.actor, replay_entry.details["outcome"]) == (
        "stripe_event.replayed", OPERATOR, "applied",
    )  # fmt: skip
    state = (ledger.commits, len(ledger.outbox), len(ledger.audit), dict(ledger.invoices))

    # And replaying it again changes nothing
    again = replay_event(ledger, gateway, CLOCK, "evt_1", livemode=True, actor=OPERATOR)
    assert again.outcome is Outcome.DUPLICATE_EVENT
    assert (ledger.commits, len(ledger.outbox), len(ledger.audit), dict(ledger.invoices)) == state


def test_a_replay_of_a_flagged_event_whose_cause_is_not_fixed_flags_it_again_and_moves_nothing() -> None:
    ledger = ledger_with_checkout()
    record_stripe_event(ledger, CLOCK, LIVE_PAYMENT, livemode=False)

    replayed = replay_event(ledger, stripe_holding(LIVE_PAYMENT), CLOCK, "evt_1", livemode=False, actor=OPERATOR)

    assert replayed.outcome is Outcome.FLAGGED
    assert ledger.get_invoice("inv_1").status is InvoiceStatus.OPEN  # type: ignore[union-attr]
    assert ledger.outbox_messages() == []
    assert ledger.stripe_events["evt_1"].outcome == "flagged"
    assert ledger.audit_actions("inv_1") == []
    [replay_entry] = ledger.list_audit(AuditSubject.STRIPE_EVENT, "evt_1", 10, None).items
    assert (replay_entry.actor, replay_entry.details) == (
        OPERATOR, {"type": "checkout.session.completed", "outcome": "flagged",
                   "detail": "a live-mode event on a test-mode stack"},
    )  # fmt: skip


def test_an_event_that_never_reached_us_is_applied_by_a_replay() -> None:
    ledger = ledger_with_checkout()

    replayed = replay_event(ledger, stripe_holding(a_session_fact()), CLOCK, "evt_1", livemode=False, actor=OPERATOR)

    assert (replayed.outcome, replayed.previous, replayed.type) == (
        Outcome.APPLIED, None, "checkout.session.completed",
    )  # fmt: skip
    assert ledger.get_invoice("inv_1").status is InvoiceStatus.PAID  # type: ignore[union-attr]


def test_a_failed_event_is_kept_and_listed_until_stripes_retry_applies_it() -> None:
    # Given the processing of an event raised (the table throttled, say)
    ledger = ledger_with_checkout()
    record_stripe_event_failure(ledger, CLOCK, a_session_fact(), TimeoutError("secret detail"))

    # Then it is kept as failed, with the error's type only, and listed as failed
    assert [
        (e.event_id, e.outcome, e.detail) for e in list_events(ledger, outcome="failed", limit=10, cursor=None).items
    ] == [("evt_1", "failed", "TimeoutError")]
    # When Stripe delivers it again; Then it applies, and is no longer waiting on anyone
    assert record_stripe_event(ledger, CLOCK, a_session_fact()) is Outcome.APPLIED
    assert list_events(ledger, outcome="failed", limit=10, cursor=None).items == []
    # And a failure reported after it applied (a lost reply) leaves the applied record alone
    record_stripe_event_failure(ledger, CLOCK, a_session_fact(), TimeoutError())
    assert get_event(ledger, "evt_1").outcome == "applied"


@pytest.mark.parametrize("event_id", ["", "evt_", "cs_1", "evt_1/../x", "evt_1 ", "evt_" + "a" * 300, "EVT_1"])
def test_what_is_not_a_stripe_event_id_is_not_found_and_never_sent_to_stripe(event_id: str) -> None:
    gateway = stripe_holding(a_session_fact())

    with pytest.raises(NotFound):
        replay_event(ledger_with_checkout(), gateway, CLOCK, event_id, livemode=False, actor=OPERATOR)
    with pytest.raises(NotFound):
        get_event(ledger_with_checkout(), event_id)
    assert gateway.event_requests == []


def test_an_event_stripe_does_not_have_is_not_found_and_changes_nothing() -> None:
    ledger = ledger_with_checkout()
    commits = ledger.commits

    with pytest.raises(NotFound):
        replay_event(ledger, FakeGateway(), CLOCK, "evt_gone", livemode=False, actor=OPERATOR)
    assert ledger.commits == commits


def test_stripe_answering_with_another_event_is_refused() -> None:
    gateway = FakeGateway()
    gateway.held_events = {"evt_asked": a_session_fact("evt_other")}

    with pytest.raises(StripeEventUnreadable):
        replay_event(ledger_with_checkout(), gateway, CLOCK, "evt_asked", livemode=False, actor=OPERATOR)


def test_events_are_listed_by_outcome_only_for_what_waits_on_an_operator() -> None:
    ledger = ledger_with_checkout()
    with pytest.raises(ValueError, match="failed, flagged"):
        list_events(ledger, outcome="applied", limit=10, cursor=None)
    with pytest.raises(InvalidCursor):
        list_events(ledger, outcome=None, limit=10, cursor="bm9wZQ")
