"""Recurring charges: each period billed once as an invoice of its own, paused, resumed, ended."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.errors import InvalidStateTransition, NotFound
from shared.domain.invoices import InvoiceStatus
from shared.domain.messages import Event, EventName, InvoiceIssuedEmail
from shared.domain.records import RecurringCharge, RecurringStatus
from shared.services.ports import Change
from shared.services.recurring import (
    RecurringCorrection,
    RecurringDraft,
    bill_period,
    create_recurring,
    end_recurring,
    get_recurring,
    period_date,
    update_recurring,
)
from tests.fakes import FixedClock, InMemoryLedger
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import NOW, a_customer, a_recurring


def _with_charge(charge: RecurringCharge) -> InMemoryLedger:
    ledger = a_ledger_with(a_customer())
    ledger.commit(Change(new_recurring=charge))
    return ledger


def test_a_new_recurring_charge_first_bills_a_week_before_its_start_at_nine_local() -> None:
    ledger = a_ledger_with(a_customer())
    draft = RecurringDraft(
        customer_id="cus_1", amount=9_900, currency="EUR", interval="monthly", start_date=date(2027, 1, 15)
    )
    charge = create_recurring(ledger, FixedClock(NOW), draft, actor="operator:acme")
    assert get_recurring(ledger, charge.id) == charge
    assert charge.next_action_at == datetime(2027, 1, 8, 9, 0, tzinfo=UTC)
    assert [(a.subject.value, a.subject_id, a.action) for a in ledger.audit] == [
        ("recurring_charge", charge.id, "recurring.created")
    ]


def test_a_recurring_charge_for_an_unknown_customer_is_not_found() -> None:
    draft = RecurringDraft(
        customer_id="cus_x", amount=1, currency="EUR", interval="weekly", start_date=date(2027, 1, 1)
    )
    with pytest.raises(NotFound):
        create_recurring(a_ledger_with(), FixedClock(NOW), draft, actor="operator:acme")


def test_a_period_is_billed_once_even_when_the_run_fires_twice() -> None:
    # Given a monthly charge whose second period (1 December) is due to be invoiced
    charge = a_recurring()
    ledger = _with_charge(charge)
    clock = FixedClock(datetime(2026, 11, 24, 9, tzinfo=UTC))
    # When two runs bill it from the same read
    first = bill_period(ledger, clock, charge, autopay_notice_days=3)
    second = bill_period(ledger, clock, charge, autopay_notice_days=3)
    # Then one invoice exists for it, emailed to the customer, and the charge moved on to the next period
    assert (first, second) == (True, False)
    [invoice] = ledger.invoices.values()
    assert (invoice.number, invoice.amount_due, invoice.currency, invoice.due_date) == (
        "1-2",
        9_900,
        "EUR",
        date(2026, 12, 1),
    )
    assert invoice.status is InvoiceStatus.OPEN and invoice.description == "Support plan"
    stored = get_recurring(ledger, "rec_1")
    assert stored.periods_created == 2 and stored.next_action_at == datetime(2026, 12, 25, 9, tzinfo=UTC)
    bodies = [m.body for m in ledger.outbox_messages()]
    assert InvoiceIssuedEmail(invoice.id) in bodies
    [recurring_event] = [b for b in bodies if isinstance(b, Event) and b.name is EventName.RECURRING_INVOICED]
    assert dict(recurring_event.detail) == {
        "recurring_id": "rec_1",
        "invoice_id": invoice.id,
        "period": 2,
        "due_date": "2026-12-01",
    }
    assert ledger.audit_actions(invoice.id) == ["invoice.created"]


def test_no_period_is_billed_once_the_count_is_reached() -> None:
    charge = a_recurring(periods_created=12)
    ledger = _with_charge(charge)
    assert not bill_period(ledger, FixedClock(NOW), charge, autopay_notice_days=3)
    assert ledger.invoices == {} and get_recurring(ledger, "rec_1").next_action_at is None


def test_no_period_is_billed_after_the_end_date() -> None:
    charge = a_recurring(end_date=date(2026, 11, 30))
    ledger = _with_charge(charge)
    assert not bill_period(ledger, FixedClock(NOW), charge, autopay_notice_days=3)
    assert ledger.invoices == {}


def test_resuming_skips_the_periods_that_passed_while_paused() -> None:
    # Given a charge paused before its December period
    ledger = _with_charge(a_recurring())
    paused = update_recurring(ledger, FixedClock(NOW), "rec_1", RecurringCorrection(paused=True), actor="operator:acme")
    assert paused.status is RecurringStatus.PAUSED and paused.next_action_at is None
    # When it is resumed on 15 January
    clock = FixedClock(datetime(2027, 1, 15, 12, tzinfo=UTC))
    resumed = update_recurring(ledger, clock, "rec_1", RecurringCorrection(paused=False), actor="operator:acme")
    # Then December and January are not billed; February's invoice comes a week before 1 February
    assert resumed.status is RecurringStatus.ACTIVE and resumed.periods_created == 3
    assert resumed.next_action_at == datetime(2027, 1, 25, 9, tzinfo=UTC)
    assert [a.details for a in ledger.audit] == [
        {"paused": True, "changes": {"status": {"from": "active", "to": "paused"}}},
        {
            "paused": False,
            "changes": {"status": {"from": "paused", "to": "active"}, "periods_created": {"from": 1, "to": 3}},
        },
    ]


def test_a_new_amount_applies_from_the_next_period() -> None:
    ledger = _with_charge(a_recurring())
    update_recurring(ledger, FixedClock(NOW), "rec_1", RecurringCorrection(amount=12_000), actor="operator:acme")
    charge = get_recurring(ledger, "rec_1")
    bill_period(ledger, FixedClock(NOW), charge, autopay_notice_days=3)
    assert [i.amount_due for i in ledger.invoices.values()] == [12_000]


def test_an_ended_charge_bills_nothing_more_and_cannot_be_changed() -> None:
    ledger = _with_charge(a_recurring())
    ended = end_recurring(ledger, FixedClock(NOW), "rec_1", actor="operator:acme")
    assert end_recurring(ledger, FixedClock(NOW), "rec_1", actor="operator:acme") == ended
    assert ended.status is RecurringStatus.ENDED and ended.next_action_at is None
    assert ledger.audit_actions("rec_1") == ["recurring.ended"]
    with pytest.raises(InvalidStateTransition):
        update_recurring(ledger, FixedClock(NOW), "rec_1", RecurringCorrection(amount=1), actor="operator:acme")
    assert not bill_period(ledger, FixedClock(NOW), ended, autopay_notice_days=3)


def test_monthly_periods_keep_the_start_day_clamped_to_short_months() -> None:
    start = date(2026, 1, 31)
    assert [period_date(start, "monthly", i) for i in range(4)] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    assert period_date(date(2028, 2, 29), "yearly", 1) == date(2029, 2, 28)
    assert period_date(start, "weekly", 2) == start + timedelta(days=14)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 240))
def test_monthly_periods_never_drift(start: date, index: int) -> None:
    day = period_date(start, "monthly", index)
    months = start.year * 12 + start.month - 1 + index
    year, month_index = divmod(months, 12)
    assert (day.year, day.month) == (year, month_index + 1)
    assert day.day == min(start.day, calendar.monthrange(day.year, day.month)[1])


@given(st.lists(st.sampled_from(["bill", "bill_stale"]), min_size=1, max_size=15))
def test_each_period_is_billed_once_whatever_the_runs_read(runs: list[str]) -> None:
    ledger = _with_charge(a_recurring(count=6))
    clock = FixedClock(NOW)
    stale = get_recurring(ledger, "rec_1")
    created = 0
    for run in runs:
        charge = stale if run == "bill_stale" else get_recurring(ledger, "rec_1")
        created += bill_period(ledger, clock, charge, autopay_notice_days=3)
    due_dates = [i.due_date for i in ledger.invoices.values()]
    assert created == len(due_dates) == len(set(due_dates)) <= 5
    assert get_recurring(ledger, "rec_1").periods_created == 1 + created
