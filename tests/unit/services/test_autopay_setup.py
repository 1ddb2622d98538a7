"""A saved card for autopay turns autopay on, once, over the in-memory ledger."""

from __future__ import annotations

from shared.clock import FixedClock
from shared.domain.messages import Event, EventName
from shared.domain.records import Autopay
from shared.services.ports import Change
from shared.services.stripe_events.autopay_setup import record_autopay_setup
from shared.services.stripe_events.engine import Outcome
from tests.fakes import InMemoryLedger
from tests.fakes.records import NOW, a_customer
from tests.fakes.stripe_facts import a_setup_fact

CLOCK = FixedClock(NOW)


def ledger_with_customer() -> InMemoryLedger:
    ledger = InMemoryLedger()
    ledger.commit(Change(new_customer=a_customer()))
    return ledger


def autopay_events(ledger: InMemoryLedger) -> list[Event]:
    return [m.body for m in ledger.outbox_messages() if isinstance(m.body, Event)]


def test_a_completed_setup_turns_autopay_on() -> None:
    ledger = ledger_with_customer()

    outcome = record_autopay_setup(ledger, CLOCK, a_setup_fact())

    assert outcome is Outcome.APPLIED
    customer = ledger.get_customer("cus_1")
    assert customer is not None and customer.autopay == Autopay(enabled_at=NOW)
    assert autopay_events(ledger) == [Event(EventName.AUTOPAY_ENABLED, {"customer_id": "cus_1"})]
    assert ledger.audit_actions("cus_1") == ["autopay.enabled"]


def test_a_second_setup_keeps_autopay_as_it_was() -> None:
    ledger = ledger_with_customer()
    record_autopay_setup(ledger, CLOCK, a_setup_fact())
    enabled = ledger.get_customer("cus_1")
    later = FixedClock(NOW.replace(hour=12))

    outcome = record_autopay_setup(ledger, later, a_setup_fact("evt_setup_2"))

    assert outcome is Outcome.APPLIED
    assert ledger.get_customer("cus_1") == enabled
    assert len(autopay_events(ledger)) == 1 and ledger.audit_actions("cus_1") == ["autopay.enabled"]
    assert "evt_setup_2" in ledger.stripe_events


def test_the_same_setup_event_twice_is_a_duplicate() -> None:
    ledger = ledger_with_customer()
    record_autopay_setup(ledger, CLOCK, a_setup_fact())

    assert record_autopay_setup(ledger, CLOCK, a_setup_fact()) is Outcome.DUPLICATE_EVENT
    assert len(autopay_events(ledger)) == 1


def test_a_setup_for_an_unknown_customer_is_recorded_as_ignored() -> None:
    ledger = InMemoryLedger()

    outcome = record_autopay_setup(ledger, CLOCK, a_setup_fact())

    assert outcome is Outcome.IGNORED
    assert ledger.stripe_events["evt_setup_1"].outcome == "ignored" and ledger.outbox_messages() == []
