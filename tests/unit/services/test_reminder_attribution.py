"""Reminder attribution over the in-memory ledger: a reminder's pay link names the reminder, its first opening
is recorded once, and the Checkout Session opened through it and the payment it takes carry the reminder."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from shared.domain.dunning import DEFAULT_POLICY
from shared.domain.errors import InvalidDate
from shared.domain.messages import Event, InvoiceIssuedEmail, ReminderEmail, outgoing_email
from shared.domain.records import REMINDER_CHANNEL_EMAIL, PayLink, ReminderAttribution
from shared.services.checkout import CheckoutConfig
from shared.services.outbox import Branding, deliver
from shared.services.pay_page import Notices, PayPageConfig, Redirect, pay, show_pay_page
from shared.services.ports import Change
from shared.services.reminder_report import (
    SHARDS,
    PaidWithin,
    ReminderFigures,
    ReminderReport,
    reminder_report,
)
from shared.services.reminders import RunReport, remind_invoice, run_reminders
from shared.services.stripe_events.checkout_payments import record_session
from shared.services.stripe_events.engine import Outcome
from tests.fakes import FakeGateway, FixedClock, InMemoryLedger, RecordingMailer, RecordingPublisher
from tests.fakes.ledger import CLAIMED, DELIVERED, PENDING
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import NOW, a_customer, an_invoice
from tests.fakes.stripe_facts import a_session_fact, checkout_tags

BRANDING = Branding("Acme Consulting", "billing@acme.example", "https://pay.example.test", pay_link_ttl_days=30)
CONFIG = PayPageConfig(
    checkout=CheckoutConfig(base_url="https://pay.example.test", payment_method_types=("card",)), promise_max_days=14
)
PAY_URL = re.compile(r"https://pay\.example\.test/pay/([A-Za-z0-9_-]+)")
WEEK_AHEAD = date(2026, 11, 9)  # NOW is its "-7:upcoming" day in London
SENT = ReminderAttribution("-7:upcoming", "upcoming", REMINDER_CHANNEL_EMAIL, NOW)
DELIVERED_AT, OPENED_AT, PAID_AT = NOW + timedelta(minutes=1), NOW + timedelta(hours=2), NOW + timedelta(hours=3)


def _a_reminded_invoice() -> InMemoryLedger:
    """Given invoice inv_1, due in a week, whose "-7:upcoming" reminder the dunning run sent at NOW."""
    ledger = a_ledger_with(
        a_customer(), an_invoice(due_date=WEEK_AHEAD, customer_timezone="Europe/London", next_action_at=NOW)
    )
    assert run_reminders(ledger, FixedClock(NOW)).sent == 1
    return ledger


def _delivered(ledger: InMemoryLedger, body_type: type = ReminderEmail, status: str = PENDING) -> str:
    """Deliver the queued email of that type; the token of the pay link in it."""
    [message] = [m for m in ledger.outbox_messages(status) if isinstance(m.body, body_type)]
    mailer = RecordingMailer()
    deliver(
        message.id,
        store=ledger,
        ledger=ledger,
        mailer=mailer,
        publisher=RecordingPublisher(),
        clock=FixedClock(DELIVERED_AT),
        branding=BRANDING,
        gateway=FakeGateway(),
    )
    [sent] = mailer.sent
    found = PAY_URL.search(sent.email.text)
    assert found is not None
    return found.group(1)


def _link(ledger: InMemoryLedger, token: str) -> PayLink:
    link = ledger.get_pay_link(PayLink.hash_token(token))
    assert link is not None
    return link


def _opened_entries(ledger: InMemoryLedger) -> list[dict[str, object]]:
    return [a.details for a in ledger.audit if a.action == "invoice.pay_link_opened"]


def test_the_reminder_emails_link_names_the_reminder_it_was_sent_for() -> None:
    ledger = _a_reminded_invoice()
    # When its email is delivered
    token = _delivered(ledger)
    # Then its link names the step, the copy, the channel and when the run sent it (not when it was delivered)
    link = _link(ledger, token)
    assert link.reminder == SENT and link.opened_at is None


def test_the_first_opening_is_recorded_once_however_often_the_link_is_opened() -> None:
    ledger = _a_reminded_invoice()
    token = _delivered(ledger)
    # When the customer opens the page, then opens it again the next day
    show_pay_page(ledger, FixedClock(OPENED_AT), CONFIG, token=token, notices=Notices())
    show_pay_page(ledger, FixedClock(OPENED_AT + timedelta(days=1)), CONFIG, token=token, notices=Notices())
    # Then the first opening is on the link and in the invoice's audit trail, once
    assert _link(ledger, token).opened_at == OPENED_AT
    assert _opened_entries(ledger) == [{"reminder": SENT.details()}]


class _StaleLinks(InMemoryLedger):
    """Hands out each pay link as it was before any opening: every reader sees it unopened (a race)."""

    def get_pay_link(self, token_hash: str) -> PayLink | None:
        link = super().get_pay_link(token_hash)
        return replace(link, opened_at=None) if link else None


def test_two_openings_at_once_are_recorded_once() -> None:
    # Given the reminder's link, read unopened by two requests at the same moment
    stale = _StaleLinks()
    source = _a_reminded_invoice()
    token = _delivered(source)
    for customer in source.customers.values():
        stale.commit(Change(new_customer=customer))
    for invoice in source.invoices.values():
        stale.commit(Change(new_invoice=invoice))
    stale.commit(Change(pay_link=_link(source, token)))
    # When both record the opening
    first = show_pay_page(stale, FixedClock(OPENED_AT), CONFIG, token=token, notices=Notices())
    second = show_pay_page(stale, FixedClock(OPENED_AT + timedelta(seconds=1)), CONFIG, token=token, notices=Notices())
    # Then both pages show, and the guarded write let only the first count
    assert first.payable and second.payable
    assert stale.pay_links[PayLink.hash_token(token)].opened_at == OPENED_AT
    assert len(_opened_entries(stale)) == 1


def test_the_payment_through_the_reminders_link_is_attributed_to_it() -> None:
    ledger = _a_reminded_invoice()
    token = _delivered(ledger)
    gateway = FakeGateway()
    # When the customer opens the link, pays in full on Checkout, and Stripe says the session was paid
    outcome = pay(ledger, gateway, FixedClock(OPENED_AT), CONFIG, token=token, amount_text="", notices=Notices())
    assert isinstance(outcome, Redirect) and outcome.checkout_ref is not None
    attempt = ledger.checkouts[("inv_1", outcome.checkout_ref)]
    fact = a_session_fact(session_id=attempt.session_id, tags=checkout_tags(checkout_ref=attempt.ref))
    record_session(ledger, FixedClock(PAID_AT), fact)
    # Then the session and the payment carry the reminder, and the payment's audit entry names it
    assert attempt.reminder == SENT
    [payment] = ledger.get_invoice_payments("inv_1")
    assert payment.reminder == SENT
    [entry] = [a for a in ledger.audit if a.action == "payment.succeeded"]
    assert entry.details["reminder"] == SENT.details()
    # And so does the payment.succeeded event other systems get
    [succeeded] = [
        m.body for m in ledger.outbox_messages() if isinstance(m.body, Event) and m.name == "payment.succeeded"
    ]
    assert succeeded.detail["reminder"] == SENT.details()


def test_a_link_from_any_other_email_is_attributed_to_no_reminder() -> None:
    # Given the invoice's own email (not a reminder), with its link
    ledger = a_ledger_with(a_customer(), an_invoice())
    ledger.commit(Change(outbox=[outgoing_email(InvoiceIssuedEmail("inv_1"), NOW)]))
    token = _delivered(ledger, InvoiceIssuedEmail)
    gateway = FakeGateway()
    # When the customer opens it and pays through it
    outcome = pay(ledger, gateway, FixedClock(OPENED_AT), CONFIG, token=token, amount_text="", notices=Notices())
    assert isinstance(outcome, Redirect) and outcome.checkout_ref is not None
    attempt = ledger.checkouts[("inv_1", outcome.checkout_ref)]
    record_session(
        ledger,
        FixedClock(PAID_AT),
        a_session_fact(session_id=attempt.session_id, tags=checkout_tags(checkout_ref=attempt.ref)),
    )
    # Then nothing is recorded of the opening and the payment belongs to no reminder
    assert _link(ledger, token).opened_at is None and _opened_entries(ledger) == []
    [payment] = ledger.get_invoice_payments("inv_1")
    assert payment.reminder is None


def test_a_session_handed_out_again_through_a_later_reminders_link_keeps_its_own_reminder() -> None:
    # Given the "-7:upcoming" reminder's link opened a Checkout Session for the whole invoice
    ledger = _a_reminded_invoice()
    first_token = _delivered(ledger)
    gateway = FakeGateway()
    first = pay(ledger, gateway, FixedClock(OPENED_AT), CONFIG, token=first_token, amount_text="", notices=Notices())
    assert isinstance(first, Redirect)
    # and a later reminder's email carries a link of its own
    later = ReminderAttribution("0:due", "due", REMINDER_CHANNEL_EMAIL, NOW + timedelta(days=7))
    ledger.commit(
        Change(outbox=[outgoing_email(ReminderEmail("inv_1", later.step, later.template, later.sent_at), NOW)])
    )
    [message] = [m for m in ledger.outbox_messages() if isinstance(m.body, ReminderEmail) and m.body.step == "0:due"]
    mailer = RecordingMailer()
    deliver(
        message.id, store=ledger, ledger=ledger, mailer=mailer, publisher=RecordingPublisher(),
        clock=FixedClock(DELIVERED_AT), branding=BRANDING, gateway=FakeGateway(),
    )  # fmt: skip
    found = PAY_URL.search(mailer.sent[0].email.text)
    assert found is not None
    # When the customer pays the same amount through the later link (the open session is handed out again)
    again = pay(ledger, gateway, FixedClock(OPENED_AT), CONFIG, token=found.group(1), amount_text="", notices=Notices())
    # Then it is the same session, attributed to the reminder that opened it, once
    assert isinstance(again, Redirect) and again.checkout_ref == first.checkout_ref
    assert again.checkout_ref is not None and ledger.checkouts[("inv_1", again.checkout_ref)].reminder == SENT
    assert _link(ledger, found.group(1)).reminder == later


# ----- the counters and the report ------------------------------------------------------------------------


def _pay_through(ledger: InMemoryLedger, token: str, at: datetime, amount_text: str = "") -> None:
    """The customer pays through the link at `at` and Stripe says the session was paid."""
    gateway = FakeGateway()
    outcome = pay(ledger, gateway, FixedClock(at), CONFIG, token=token, amount_text=amount_text, notices=Notices())
    assert isinstance(outcome, Redirect) and outcome.checkout_ref is not None
    attempt = ledger.checkouts[("inv_1", outcome.checkout_ref)]
    fact = a_session_fact(
        f"evt_{outcome.checkout_ref}",
        session_id=attempt.session_id,
        amount=attempt.amount,
        payment_intent_id=f"pi_{outcome.checkout_ref[4:12]}",
        tags=checkout_tags(checkout_ref=attempt.ref),
    )
    assert record_session(ledger, FixedClock(at), fact) is Outcome.APPLIED


SENT_DAY = NOW.date()


def _report(ledger: InMemoryLedger, first: date = SENT_DAY, last: date = SENT_DAY) -> ReminderReport:
    return reminder_report(ledger, first, last)


def test_a_reminder_sent_opened_and_paid_within_the_week_is_counted_once_each() -> None:
    ledger = _a_reminded_invoice()
    token = _delivered(ledger)
    # When its link is opened twice, and the invoice is paid in full through it two days later
    show_pay_page(ledger, FixedClock(OPENED_AT), CONFIG, token=token, notices=Notices())
    show_pay_page(ledger, FixedClock(OPENED_AT), CONFIG, token=token, notices=Notices())
    _pay_through(ledger, token, NOW + timedelta(days=2))
    # Then the report for its send day counts it sent, opened and paid once, in its currency
    report = _report(ledger)
    paid = (PaidWithin("USD", payments=1, amount=12_500, invoices_paid=1),)
    assert report.rows == (ReminderFigures(SENT_DAY, "-7:upcoming", "upcoming", 1, 1, paid),)
    assert report.totals == (ReminderFigures(None, "-7:upcoming", "upcoming", 1, 1, paid),)


def _delivered_again(ledger: InMemoryLedger) -> str:
    """The reminder's email sent a second time: the first delivery died after SES accepted it, before it was
    recorded, so the next lease sends it again (Delivered.taken_over) with a fresh link of the same reminder."""
    [message] = [m for m in ledger.outbox_messages(DELIVERED) if isinstance(m.body, ReminderEmail)]
    entry = ledger.outbox[message.id]
    entry.status, entry.claim_token, entry.claim_expires = CLAIMED, "dead-delivery", 0
    return _delivered(ledger, status=CLAIMED)


def test_a_reminder_delivered_twice_and_both_links_opened_counts_one_opening() -> None:
    # Given the reminder's email delivered twice (two links minted for the one reminder)
    ledger = _a_reminded_invoice()
    first, second = _delivered(ledger), _delivered_again(ledger)
    assert first != second and _link(ledger, first).reminder == _link(ledger, second).reminder == SENT

    # When the customer opens one, then the other
    show_pay_page(ledger, FixedClock(OPENED_AT), CONFIG, token=first, notices=Notices())
    show_pay_page(ledger, FixedClock(OPENED_AT + timedelta(hours=1)), CONFIG, token=second, notices=Notices())

    # Then each link knows it was opened, but the reminder sent once counts one opening (never more than sent)
    assert _link(ledger, first).opened_at == OPENED_AT
    assert _link(ledger, second).opened_at == OPENED_AT + timedelta(hours=1)
    [row] = _report(ledger).rows
    assert (row.sent, row.opened) == (1, 1)


def test_a_payment_more_than_a_week_after_the_reminder_is_not_counted() -> None:
    ledger = _a_reminded_invoice()
    token = _delivered(ledger)
    # When the customer pays through the link eight days after the reminder
    _pay_through(ledger, token, NOW + timedelta(days=8))
    # Then the reminder counts as sent and opened, with nothing paid within the week
    [row] = _report(ledger).rows
    assert (row.sent, row.opened, row.paid) == (1, 1, ())
    # And the payment still names the reminder it was paid through
    [payment] = ledger.get_invoice_payments("inv_1")
    assert payment.reminder == SENT


def test_a_part_payment_counts_as_paid_but_not_as_an_invoice_paid_in_full() -> None:
    ledger = a_ledger_with(
        a_customer(),
        an_invoice(
            due_date=WEEK_AHEAD,
            customer_timezone="Europe/London",
            next_action_at=NOW,
            allow_partial=True,
            min_partial_amount=1_000,
        ),
    )
    run_reminders(ledger, FixedClock(NOW))
    token = _delivered(ledger)
    # When the customer pays 50.00 of 125.00 through the reminder's link, then the rest the next day
    _pay_through(ledger, token, NOW + timedelta(days=1), amount_text="50.00")
    first = _report(ledger).rows[0].paid
    _pay_through(ledger, token, NOW + timedelta(days=2))
    # Then the first counts as a payment of 50.00 that paid no invoice, and both together paid it once
    assert first == (PaidWithin("USD", payments=1, amount=5_000, invoices_paid=0),)
    assert _report(ledger).rows[0].paid == (PaidWithin("USD", payments=2, amount=12_500, invoices_paid=1),)


def test_the_report_reads_only_the_days_asked_for_and_sums_their_shards() -> None:
    # Given reminders of the same step sent to twenty invoices on one day, and another on the next day
    ledger = a_ledger_with(a_customer())
    for n in range(20):
        invoice = an_invoice(f"inv_{n}", due_date=WEEK_AHEAD, customer_timezone="Europe/London", next_action_at=NOW)
        ledger.commit(Change(new_invoice=invoice))
    run_reminders(ledger, FixedClock(NOW))
    ledger.commit(
        Change(new_invoice=an_invoice("inv_late", due_date=WEEK_AHEAD + timedelta(days=1), next_action_at=NOW))
    )
    run_reminders(ledger, FixedClock(NOW + timedelta(days=1)))
    # When the first day is reported
    report = _report(ledger)
    # Then its one row counts all twenty, read from at most one counter per shard; the next day is not in it
    assert [(r.day, r.step, r.sent) for r in report.rows] == [(SENT_DAY, "-7:upcoming", 20)]
    assert 1 < report.buckets_read <= SHARDS
    # And the two days together hold both, day by day, with their totals
    both = _report(ledger, SENT_DAY, SENT_DAY + timedelta(days=1))
    assert [(r.day, r.sent) for r in both.rows] == [(SENT_DAY, 20), (SENT_DAY + timedelta(days=1), 1)]
    assert [(t.step, t.sent) for t in both.totals] == [("-7:upcoming", 21)]


def test_a_run_that_loses_its_race_counts_nothing() -> None:
    # Given a reminder the run sent
    ledger = _a_reminded_invoice()
    # When the run fires again (a double firing) and a stale copy of the invoice is reminded again
    run_reminders(ledger, FixedClock(NOW))
    stale = replace(ledger.invoices["inv_1"], version=1, reminders_sent=frozenset(), next_action_at=NOW)
    report = RunReport()
    remind_invoice(ledger, DEFAULT_POLICY, stale, NOW, report)
    # Then the conflict sends and counts nothing more
    assert report.conflicts == 1
    assert _report(ledger).rows[0].sent == 1


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [(date(2027, 1, 2), date(2027, 1, 1), "from"), (date(2026, 1, 1), date(2027, 2, 5), "to")],
    ids=["from after to", "over 400 days"],
)
def test_a_range_backwards_or_over_400_days_is_refused(first: date, last: date, field: str) -> None:
    with pytest.raises(InvalidDate) as refused:
        reminder_report(InMemoryLedger(), first, last)
    assert refused.value.field == field


def test_400_days_is_the_longest_range() -> None:
    # 2026-01-01 to 2027-02-04, both included, is 400 days
    assert reminder_report(InMemoryLedger(), date(2026, 1, 1), date(2027, 2, 4)).rows == ()
