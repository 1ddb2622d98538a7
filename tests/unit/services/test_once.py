"""Creating requests made safe to repeat: one entity per (caller, Idempotency-Key), even when the record of
the first attempt is gone."""

from __future__ import annotations

import pytest

from shared.clock import FixedClock
from shared.domain.records import RecurringStatus
from shared.services.customers import CustomerDraft, create_customer_once
from shared.services.once import MissingIdempotencyKey, entity_id, scoped_key
from shared.services.ports import ChangeRejected, Rejection
from shared.services.recurring import RecurringDraft, create_recurring_once
from tests.fakes import InMemoryLedger
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import NOW, a_customer
from tests.fakes.run_once import InMemoryRunOnce

CLOCK = FixedClock(NOW)
DRAFT = CustomerDraft(email="ada@example.com", name="Ada", external_id="crm-1")


def test_the_same_key_twice_creates_one_customer() -> None:
    ledger, once = InMemoryLedger(), InMemoryRunOnce()
    first = create_customer_once(ledger, CLOCK, once, DRAFT, key="k1", fingerprint={"n": 1}, actor="op")
    again = create_customer_once(ledger, CLOCK, once, DRAFT, key="k1", fingerprint={"n": 1}, actor="op")
    assert first == again and once.runs == 1 and list(ledger.customers) == [first.id]
    assert first.id == entity_id("cust", scoped_key("op", "k1"))


def test_a_repeat_after_the_first_attempts_record_was_lost_finds_what_it_created() -> None:
    # Given a first attempt that committed, but whose idempotency record is gone (it failed afterwards)
    ledger = InMemoryLedger()
    first = create_customer_once(ledger, CLOCK, InMemoryRunOnce(), DRAFT, key="k1", fingerprint={}, actor="op")
    # When the operator retries with the same key
    again = create_customer_once(ledger, CLOCK, InMemoryRunOnce(), DRAFT, key="k1", fingerprint={}, actor="op")
    # Then it is the same customer, and nothing was created twice
    assert again == first and len(ledger.customers) == 1


def test_keys_are_the_callers_own() -> None:
    ledger = InMemoryLedger()
    mine = create_customer_once(ledger, CLOCK, InMemoryRunOnce(), DRAFT, key="k1", fingerprint={}, actor="op1")
    theirs_draft = CustomerDraft(email="bo@example.com", name="Bo")
    theirs = create_customer_once(ledger, CLOCK, InMemoryRunOnce(), theirs_draft, key="k1", fingerprint={}, actor="op2")
    assert mine.id != theirs.id


def test_an_external_id_is_held_by_one_customer() -> None:
    ledger = InMemoryLedger()
    create_customer_once(ledger, CLOCK, InMemoryRunOnce(), DRAFT, key=None, fingerprint={}, actor="op")
    with pytest.raises(ChangeRejected) as rejected:
        create_customer_once(ledger, CLOCK, InMemoryRunOnce(), DRAFT, key=None, fingerprint={}, actor="op")
    assert rejected.value.reason is Rejection.DUPLICATE_EXTERNAL_ID
    found = ledger.customer_by_external_id("crm-1")
    assert found is not None and found.email == "ada@example.com"


def test_a_recurring_charge_needs_a_key_and_is_created_once_per_key() -> None:
    ledger = a_ledger_with(a_customer())
    draft = RecurringDraft(
        customer_id="cus_1", amount=2_500, currency="USD", interval="monthly", start_date=NOW.date(), count=3
    )
    with pytest.raises(MissingIdempotencyKey):
        create_recurring_once(ledger, CLOCK, InMemoryRunOnce(), draft, key=" ", fingerprint={}, actor="op")
    first = create_recurring_once(ledger, CLOCK, InMemoryRunOnce(), draft, key="r1", fingerprint={}, actor="op")
    again = create_recurring_once(ledger, CLOCK, InMemoryRunOnce(), draft, key="r1", fingerprint={}, actor="op")
    assert first == again and first.status is RecurringStatus.ACTIVE and len(ledger.recurring) == 1
