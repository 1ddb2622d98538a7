"""The dunning run over the in-memory ledger: each due step sent once, in the customer's hours, never to a
customer on hold; late fees once per step; write-offs; only due work read, within a time budget."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.dunning import DEFAULT_POLICY, DunningPolicy, DunningStep, LateFee
from shared.domain.invoices import Hold, Invoice, InvoiceStatus, LateFeeLine
from shared.domain.messages import Event, EventName, GroupedReminderEmail, ReminderEmail
from shared.domain.records import EmailUndeliverable
from shared.services.customers import release_customer_hold
from shared.services.ports import Change
from shared.services.reminders import RunReport, remind_invoice, run_reminders
from tests.fakes import FixedClock, InMemoryLedger
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import NOW, a_customer, an_invoice

LONDON = "Europe/London"
WEEK_AHEAD = date(2026, 11, 9)  # NOW is its "-7:upcoming" day


def _due(invoice_id: str = "inv_1", **fields: Any) -> Invoice:
    return an_invoice(invoice_id, **({"customer_timezone": LONDON, "next_action_at": NOW} | fields))


def _emails(ledger: InMemoryLedger) -> list[ReminderEmail]:
    return [m.body for m in ledger.outbox_messages() if isinstance(m.body, ReminderEmail)]


def _events(ledger: InMemoryLedger) -> list[EventName]:
    return [m.body.name for m in ledger.outbox_messages() if isinstance(m.body, Event)]


def _stored(ledger: InMemoryLedger, invoice_id: str = "inv_1") -> Invoice:
    invoice = ledger.get_invoice(invoice_id)
    assert invoice is not None
    return invoice


def test_the_due_step_is_sent_once_and_the_next_one_scheduled() -> None:
    # Given an invoice due in a week, whose reminder work is due now (09:30 in London)
    ledger = a_ledger_with(a_customer(), _due(due_date=WEEK_AHEAD))
    # When the dunning run fires, and fires again (a double firing)
    report = run_reminders(ledger, FixedClock(NOW))
    again = run_reminders(ledger, FixedClock(NOW))
    # Then one "upcoming" reminder is queued with its event and audit entry, and the due-date step is next
    assert (report.examined, report.sent, report.complete) == (1, 1, True)
    assert (again.examined, again.sent) == (0, 0)
    assert _emails(ledger) == [ReminderEmail("inv_1", "-7:upcoming", "upcoming", sent_at=NOW)]
    assert _events(ledger) == [EventName.INVOICE_REMINDER_SENT]
    invoice = _stored(ledger)
    assert invoice.reminders_sent == frozenset({"-7:upcoming"})
    assert invoice.next_action_at == datetime(2026, 11, 9, 9, 0, tzinfo=UTC)
    assert [(a.subject_id, a.action, a.details) for a in ledger.audit] == [
        ("inv_1", "invoice.reminder_sent", {"step": "-7:upcoming", "skipped": []})
    ]


def test_a_reminder_waits_for_the_customers_morning() -> None:
    # Given a customer in Los Angeles, where it is 01:30 when the run fires
    ledger = a_ledger_with(a_customer(), _due(due_date=WEEK_AHEAD, customer_timezone="America/Los_Angeles"))
    # When the run fires
    report = run_reminders(ledger, FixedClock(NOW))
    # Then nothing is sent yet; the invoice waits for 09:00 Pacific time
    assert (report.sent, report.rescheduled) == (0, 1) and _emails(ledger) == []
    assert _stored(ledger).next_action_at == datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
    # When the run fires then, Then the reminder goes out
    assert run_reminders(ledger, FixedClock(datetime(2026, 11, 2, 17, 0, tzinfo=UTC))).sent == 1


def test_the_next_step_is_scheduled_at_local_nine_across_the_end_of_summer_time() -> None:
    # Given a New York customer whose invoice is due on 5 November; summer time ends on 1 November
    first_send = datetime(2026, 10, 29, 13, 0, tzinfo=UTC)  # 09:00 EDT
    ledger = a_ledger_with(
        a_customer(),
        _due(due_date=date(2026, 11, 5), customer_timezone="America/New_York", next_action_at=first_send),
    )
    # When the week-before reminder goes out
    assert run_reminders(ledger, FixedClock(first_send)).sent == 1
    # Then the due-date reminder is scheduled for 09:00 EST, an hour later in UTC
    assert _stored(ledger).next_action_at == datetime(2026, 11, 5, 14, 0, tzinfo=UTC)


def test_a_run_after_an_outage_sends_only_the_latest_step_and_says_overdue_once() -> None:
    # Given an invoice a month past due, never reminded (the run was down)
    ledger = a_ledger_with(a_customer(), _due(due_date=date(2026, 10, 1)))
    # When the run fires
    run_reminders(ledger, FixedClock(NOW))
    # Then only the final notice goes out, the earlier steps are skipped for good, and "overdue" is told once
    assert [e.step for e in _emails(ledger)] == ["+30:final_notice"]
    assert _events(ledger) == [EventName.INVOICE_REMINDER_SENT, EventName.INVOICE_OVERDUE]
    keys = {s.key for s in DEFAULT_POLICY.steps}
    assert _stored(ledger).reminders_sent == keys and _stored(ledger).next_action_at is None
    [audit] = ledger.audit
    assert audit.details["skipped"] == ["-7:upcoming", "+0:due_today", "+3:overdue", "+7:overdue", "+14:overdue"]


def test_a_customer_on_hold_gets_no_reminder_until_the_hold_ends() -> None:
    # Given a customer on hold for ten more days
    until = NOW + timedelta(days=10)
    ledger = a_ledger_with(a_customer(hold=Hold("bankruptcy", until)), _due(due_date=WEEK_AHEAD))
    # When the run fires
    report = run_reminders(ledger, FixedClock(NOW))
    # Then nothing is sent, and the invoice is looked at again when the hold ends
    assert (report.sent, report.withheld) == (0, 1) and _emails(ledger) == []
    assert _stored(ledger).next_action_at == until and _stored(ledger).reminders_sent == frozenset()
    [audit] = ledger.audit
    assert (audit.action, audit.details) == (
        "invoice.reminder_withheld",
        {"reason": "customer_hold", "until": until.isoformat()},
    )


def test_an_undeliverable_address_takes_the_invoice_out_of_the_index() -> None:
    bounced = EmailUndeliverable("bounce", NOW - timedelta(days=1))
    ledger = a_ledger_with(a_customer(email_undeliverable=bounced), _due(due_date=WEEK_AHEAD))
    report = run_reminders(ledger, FixedClock(NOW))
    assert report.withheld == 1 and _emails(ledger) == [] and _stored(ledger).next_action_at is None
    assert ledger.audit[0].details == {"reason": "email_undeliverable"}


def test_an_invoice_on_hold_is_rescheduled_to_the_end_of_its_hold() -> None:
    until = NOW + timedelta(days=3)
    ledger = a_ledger_with(a_customer(), _due(due_date=WEEK_AHEAD, hold=Hold("by phone", until)))
    report = run_reminders(ledger, FixedClock(NOW))
    assert (report.sent, report.rescheduled) == (0, 1) and _stored(ledger).next_action_at == until


def test_a_lapsed_hold_resumes_dunning_with_the_latest_step() -> None:
    ledger = a_ledger_with(a_customer(), _due(due_date=date(2026, 10, 30), hold=Hold("promise", NOW)))
    run_reminders(ledger, FixedClock(NOW))
    assert [e.step for e in _emails(ledger)] == ["+3:overdue"]
    assert _stored(ledger).hold is None


def test_paid_or_void_invoices_found_due_are_taken_out_without_a_reminder() -> None:
    ledger = a_ledger_with(
        a_customer(),
        _due("inv_paid", due_date=WEEK_AHEAD, status=InvoiceStatus.PAID, amount_paid=12_500),
        _due("inv_void", due_date=WEEK_AHEAD, status=InvoiceStatus.VOID),
    )
    report = run_reminders(ledger, FixedClock(NOW))
    assert (report.finished, report.sent) == (2, 0) and _emails(ledger) == []
    assert {i.next_action_at for i in ledger.invoices.values()} == {None}


FEE_POLICY = DunningPolicy(
    steps=(DunningStep(0, "due_today"), DunningStep(3, "overdue", LateFee(fixed=500)), DunningStep(10, "final_notice")),
)


def test_a_late_fee_is_added_once_with_its_step() -> None:
    # Given an invoice three days overdue, under a policy with a USD 5.00 fee on that step
    ledger = a_ledger_with(a_customer(), _due(due_date=date(2026, 10, 30), reminders_sent=frozenset({"+0:due_today"})))
    # When the run fires, and a copy of the invoice read before it is handled again (a concurrent run)
    stale = _stored(ledger)
    run_reminders(ledger, FixedClock(NOW), policy=FEE_POLICY)
    report = RunReport()
    remind_invoice(ledger, FEE_POLICY, stale, NOW, report)
    # Then the fee is added once, on its own line, and the second run loses its race instead of charging again
    invoice = _stored(ledger)
    assert (invoice.amount_due, invoice.amount_original, invoice.late_fees) == (
        13_000,
        12_500,
        (LateFeeLine("+3:overdue", 500),),
    )
    assert report.conflicts == 1 and len(_emails(ledger)) == 1
    assert ledger.audit_actions("inv_1") == ["invoice.late_fee_added", "invoice.reminder_sent"]
    assert ledger.audit[0].details == {"step": "+3:overdue", "amount": 500, "currency": "USD"}


def test_a_percentage_late_fee_on_a_three_decimal_currency_keeps_the_invoice_chargeable() -> None:
    # Given a BHD 12.340 invoice three days overdue, under a 1.5% fee (0.1851 BHD, not chargeable at Stripe)
    policy = DunningPolicy(steps=(DunningStep(0, "due_today"), DunningStep(3, "overdue", LateFee(percent="1.5"))))
    overdue = _due(
        due_date=date(2026, 10, 30), currency="BHD", amount_due=12_340, reminders_sent=frozenset({"+0:due_today"})
    )
    ledger = a_ledger_with(a_customer(), overdue)
    # When the run adds the fee
    run_reminders(ledger, FixedClock(NOW), policy=policy)
    # Then the fee is rounded to Stripe's step for BHD (0.010), so what is owed can still be charged
    invoice = _stored(ledger)
    assert invoice.late_fees == (LateFeeLine("+3:overdue", 190),)
    assert invoice.amount_due == 12_530 and invoice.amount_due % 10 == 0


@given(st.integers(min_value=0, max_value=40), st.integers(min_value=1, max_value=6))
def test_late_fees_are_charged_at_most_once_per_step_however_often_the_run_fires(start: int, runs_a_day: int) -> None:
    # Given an invoice due on 30 October, and a run firing a few times a day for the weeks after
    ledger = a_ledger_with(
        a_customer(), _due(due_date=date(2026, 10, 30), next_action_at=datetime(2026, 10, 1, tzinfo=UTC))
    )
    for day in range(start, start + 20):
        for run in range(runs_a_day):
            at = datetime(2026, 10, 28, 9, tzinfo=UTC) + timedelta(days=day, hours=run * 2)
            run_reminders(ledger, FixedClock(at), policy=FEE_POLICY)
    # Then each step is sent at most once, and the fee at most once
    invoice = _stored(ledger)
    steps = [e.step for e in _emails(ledger)]
    assert len(steps) == len(set(steps))
    assert invoice.amount_due - invoice.amount_original == 500 * len(invoice.late_fees) <= 500
    assert ledger.audit_actions().count("invoice.late_fee_added") == len(invoice.late_fees)


def test_an_unpaid_invoice_is_written_off_on_the_policys_day() -> None:
    # Given a policy writing off after 30 days, and an invoice due 32 days ago
    policy = DunningPolicy(steps=(DunningStep(0, "due_today"),), mark_uncollectible_after_days=30)
    ledger = a_ledger_with(a_customer(), _due(due_date=date(2026, 10, 1), reminders_sent=frozenset({"+0:due_today"})))
    # When the run fires
    report = run_reminders(ledger, FixedClock(NOW), policy=policy)
    # Then the invoice is uncollectible, out of the index, with its event and audit entry, and no reminder
    invoice = _stored(ledger)
    assert report.finished == 1 and (invoice.status, invoice.next_action_at) == (InvoiceStatus.UNCOLLECTIBLE, None)
    assert _events(ledger) == [EventName.INVOICE_UNCOLLECTIBLE] and _emails(ledger) == []
    assert ledger.audit_actions("inv_1") == ["invoice.uncollectible"]


def test_the_last_reminder_leaves_the_write_off_scheduled() -> None:
    policy = DunningPolicy(steps=(DunningStep(0, "due_today"),), mark_uncollectible_after_days=30)
    ledger = a_ledger_with(a_customer(), _due(due_date=date(2026, 11, 2)))
    run_reminders(ledger, FixedClock(NOW), policy=policy)
    assert _stored(ledger).next_action_at == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


def test_the_run_reads_only_invoices_whose_work_is_due() -> None:
    # Given one invoice due now, one due tomorrow and one with nothing scheduled
    ledger = a_ledger_with(
        a_customer(),
        _due("inv_now", due_date=WEEK_AHEAD),
        _due("inv_later", due_date=WEEK_AHEAD, next_action_at=NOW + timedelta(days=1)),
        _due("inv_none", due_date=WEEK_AHEAD, next_action_at=None),
    )
    # When the run fires, Then it looks only at the one that is due
    report = run_reminders(ledger, FixedClock(NOW))
    assert (report.examined, report.sent) == (1, 1) and [e.invoice_id for e in _emails(ledger)] == ["inv_now"]


def test_out_of_time_the_run_stops_after_a_page_and_a_continuation_finishes() -> None:
    # Given more due invoices than fit in one page of one shard
    invoices = [_due(f"inv_{n:03}", number=f"N-{n}", due_date=WEEK_AHEAD) for n in range(400)]
    ledger = a_ledger_with(a_customer(), *invoices)
    # When the run is out of time from the start
    first = run_reminders(ledger, FixedClock(NOW), out_of_time=lambda: True)
    # Then it handles one page and says where to go on
    assert not first.complete and first.remaining and 0 < first.sent <= 100
    # When continuations pick up where each left off
    sent, report = first.sent, first
    while not report.complete:
        report = run_reminders(ledger, FixedClock(NOW), out_of_time=lambda: True, work=report.remaining)
        sent += report.sent
    # Then every invoice got its reminder exactly once, in the customer's grouped emails: each invocation emails
    # what it sent (at most 40 invoices an email, as many as one pay-together link holds)
    grouped = [m.body for m in ledger.outbox_messages() if isinstance(m.body, GroupedReminderEmail)]
    reminded = [line.invoice_id for email in grouped for line in email.lines]
    assert sent == 400 and len(reminded) == len(set(reminded)) == 400 and 10 <= len(grouped) <= 20


def test_an_invoice_changed_since_it_was_read_is_left_for_the_next_run() -> None:
    ledger = a_ledger_with(a_customer(), _due(due_date=WEEK_AHEAD))
    stale = _stored(ledger)
    ledger.commit(Change(invoice_update=replace(stale, description="corrected", version=stale.version + 1)))
    report = RunReport()
    remind_invoice(ledger, DEFAULT_POLICY, stale, NOW, report)
    assert (report.conflicts, report.sent) == (1, 0) and _emails(ledger) == []


def test_reminders_withheld_by_an_open_ended_customer_hold_go_out_once_it_is_released() -> None:
    # Given a customer on hold until further notice, with a reminder due
    ledger = a_ledger_with(a_customer(hold=Hold("bankruptcy")), _due(due_date=WEEK_AHEAD))
    clock = FixedClock(NOW)
    # When the run fires, Then nothing is sent and the invoice leaves the due index
    assert run_reminders(ledger, clock).withheld == 1 and _stored(ledger).next_action_at is None
    assert run_reminders(ledger, clock).examined == 0
    # When the operator releases the hold an hour later and the run fires again
    clock.instant = NOW + timedelta(hours=1)
    release_customer_hold(ledger, clock, "cus_1", actor="operator:acme")
    report = run_reminders(ledger, clock)
    # Then the reminder goes out, once
    assert report.sent == 1 and [e.step for e in _emails(ledger)] == ["-7:upcoming"]


def test_a_reminder_on_the_day_summer_time_starts_goes_out_at_local_nine() -> None:
    # Given a London customer whose invoice is due on 28 March 2027, the day the clocks go forward
    ledger = a_ledger_with(
        a_customer(), _due(due_date=date(2027, 3, 28), next_action_at=datetime(2027, 3, 28, 8, 30, tzinfo=UTC))
    )
    # When the run fires at 08:30 UTC (09:30 BST) on the due date
    report = run_reminders(ledger, FixedClock(datetime(2027, 3, 28, 8, 30, tzinfo=UTC)))
    # Then the due-today reminder is sent, and the +3 step is scheduled for 09:00 BST, 08:00 UTC
    assert report.sent == 1 and [e.step for e in _emails(ledger)] == ["+0:due_today"]
    assert _stored(ledger).next_action_at == datetime(2027, 3, 31, 8, 0, tzinfo=UTC)
