"""One email per customer per dunning run: every reminder due for a customer goes in one email listing them, with
each invoice's own link and one link to pay them together; a customer with one due invoice gets today's single
reminder; each reminder still goes out once, and is still credited per invoice."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from shared.clock import FixedClock
from shared.domain.errors import PayLinkInvalid
from shared.domain.invoices import Invoice, PaymentStatus
from shared.domain.messages import GroupedReminderEmail, ReminderEmail
from shared.domain.records import REMINDER_LINE_GRACE, PayLink
from shared.services import reminder_report
from shared.services.checkout import CheckoutConfig
from shared.services.outbox import Branding, compose_email
from shared.services.pay_together import open_pay_together, pay_together
from shared.services.ports import Change
from shared.services.reminders import run_reminders
from shared.services.stripe_events.facts import Tags
from shared.services.stripe_events.router import record_stripe_event
from tests.fakes import FakeGateway, InMemoryLedger
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import NOW, a_customer, an_invoice
from tests.fakes.stripe_facts import a_session_fact

LONDON = "Europe/London"
WEEK_AHEAD = date(2026, 11, 9)  # NOW is its "-7:upcoming" day
OVERDUE = date(2026, 10, 26)  # NOW is its "+7:overdue" day
BRANDING = Branding("Acme Ltd", "billing@acme.example", "https://pay.example.test", 90)
CONFIG = CheckoutConfig(base_url="https://pay.example.test", payment_method_types=("card",))


def _due(invoice_id: str, **fields: Any) -> Invoice:
    return an_invoice(invoice_id, **({"customer_timezone": LONDON, "next_action_at": NOW} | fields))


def emails(ledger: InMemoryLedger) -> list[Any]:
    return [m.body for m in ledger.outbox_messages() if isinstance(m.body, ReminderEmail | GroupedReminderEmail)]


def two_overdue_and_one_single() -> InMemoryLedger:
    """Given cus_1 with two overdue invoices (USD 125.00 and 80.00), cus_2 with one due in a week."""
    return a_ledger_with(
        a_customer(),
        a_customer("cus_2"),
        _due("inv_1", due_date=OVERDUE),
        _due("inv_2", due_date=OVERDUE, amount_due=8_000),
        _due("inv_3", customer_id="cus_2", due_date=WEEK_AHEAD),
    )


def test_a_customer_with_two_due_invoices_gets_one_email_and_one_with_one_gets_the_single_reminder() -> None:
    ledger = two_overdue_and_one_single()

    report = run_reminders(ledger, FixedClock(NOW))
    again = run_reminders(ledger, FixedClock(NOW + timedelta(hours=1)))

    # Then three reminders, in two emails; nothing the second time
    assert (report.sent, report.emails) == (3, 2) and (again.sent, again.emails) == (0, 0)
    grouped = [e for e in emails(ledger) if isinstance(e, GroupedReminderEmail)]
    singles = [e for e in emails(ledger) if isinstance(e, ReminderEmail)]
    assert singles == [ReminderEmail("inv_3", "-7:upcoming", "upcoming", sent_at=NOW)]
    [email] = grouped
    assert [(line.invoice_id, line.reminder.step) for line in email.lines] == [
        ("inv_1", "+7:overdue"),
        ("inv_2", "+7:overdue"),
    ]
    # And each invoice records its own step, and counts as one reminder sent
    for invoice_id in ("inv_1", "inv_2"):
        invoice = ledger.get_invoice(invoice_id)
        assert invoice is not None and "+7:overdue" in invoice.reminders_sent
    sent = sum(v.get(reminder_report.SENT, 0) for (scope, _), v in ledger.tallies.items() if scope == "reminders")
    assert sent == 3


def test_the_email_lists_each_invoice_with_its_own_link_and_one_to_pay_them_together() -> None:
    ledger = two_overdue_and_one_single()
    run_reminders(ledger, FixedClock(NOW))
    [email] = [e for e in emails(ledger) if isinstance(e, GroupedReminderEmail)]

    sent = compose_email(email, "msg_1", ledger, FixedClock(NOW), BRANDING, FakeGateway())

    assert sent is not None and sent.to == "cus_1@example.com" and "2 invoices" in sent.subject
    assert "N-inv_1" in sent.text and "N-inv_2" in sent.text and "$125.00" in sent.text and "$80.00" in sent.text
    assert "Pay all 2 invoices together (US$205.00)" in sent.text and "<title>" in sent.html
    # Each invoice's own link names its reminder; the pay-together link is stored as a hash only
    links = list(ledger.pay_links.values())
    assert sorted(link.invoice_id for link in links) == ["inv_1", "inv_2"]
    assert all(link.reminder is not None and link.reminder.step == "+7:overdue" for link in links)
    [together] = ledger.pay_together_links.values()
    token = sent.text.split("/pay/together/", 1)[1].split()[0]
    assert together.token_hash == PayLink.hash_token(token) and token not in str(ledger.pay_together_links)
    assert together.invoice_ids == ("inv_1", "inv_2") and together.customer_id == "cus_1"


def test_a_run_that_died_before_emailing_is_emailed_once_by_the_next_run() -> None:
    # Given a run that recorded both reminders and died before it emailed them
    ledger = two_overdue_and_one_single()
    report = run_reminders(ledger, FixedClock(NOW), work=[(shard, None) for shard in range(8)])
    assert report.sent == 3
    for message_id, entry in list(ledger.outbox.items()):  # its emails were never queued
        if isinstance(entry.message.body, ReminderEmail | GroupedReminderEmail):
            del ledger.outbox[message_id]
    ledger.reminder_lines = {k: replace(line, emailed=False) for k, line in ledger.reminder_lines.items()}

    # When the next scheduled run comes before their grace is over, and after
    early = run_reminders(ledger, FixedClock(NOW + REMINDER_LINE_GRACE - timedelta(minutes=1)))
    late = run_reminders(ledger, FixedClock(NOW + timedelta(hours=1)))
    later = run_reminders(ledger, FixedClock(NOW + timedelta(hours=2)))

    # Then they go out once, grouped as the run would have
    assert (early.emails, late.emails, later.emails) == (0, 2, 0)
    assert sorted(type(e).__name__ for e in emails(ledger)) == ["GroupedReminderEmail", "ReminderEmail"]


def pay_together_page(ledger: InMemoryLedger) -> str:
    run_reminders(ledger, FixedClock(NOW))
    [email] = [e for e in emails(ledger) if isinstance(e, GroupedReminderEmail)]
    sent = compose_email(email, "msg_1", ledger, FixedClock(NOW), BRANDING, FakeGateway())
    assert sent is not None
    return sent.text.split("/pay/together/", 1)[1].split()[0]


def test_the_pay_together_link_pays_both_in_one_session_credited_to_each_reminder() -> None:
    ledger = two_overdue_and_one_single()
    token = pay_together_page(ledger)

    page = open_pay_together(ledger, FixedClock(NOW), token)
    combined = pay_together(ledger, FakeGateway(), FixedClock(NOW), CONFIG, page)

    assert [i.id for i in page.invoices] == ["inv_1", "inv_2"] and page.total == 20_500
    assert [(a.invoice_id, a.amount) for a in combined.allocations] == [("inv_1", 12_500), ("inv_2", 8_000)]
    fact = a_session_fact(
        session_id=combined.session_id, amount=20_500, tags=Tags(customer_id="cus_1", combined_ref=combined.ref)
    )
    record_stripe_event(ledger, FixedClock(NOW + timedelta(hours=1)), fact)
    for invoice_id in ("inv_1", "inv_2"):
        [payment] = ledger.get_invoice_payments(invoice_id)
        assert payment.status is PaymentStatus.SUCCEEDED and payment.reminder is not None
        assert payment.reminder.step == "+7:overdue"
    paid = sum(v.get("paid_count#USD", 0) for (scope, _), v in ledger.tallies.items() if scope == "reminders")
    assert paid == 2  # each invoice's payment credited to its own reminder


def test_a_paid_invoice_drops_off_the_page_and_a_link_with_none_left_is_invalid() -> None:
    ledger = two_overdue_and_one_single()
    token = pay_together_page(ledger)
    inv_1 = ledger.get_invoice("inv_1")
    assert inv_1 is not None
    ledger.commit(Change(invoice_update=replace(inv_1.with_payment(12_500), version=inv_1.version + 1)))

    assert [i.id for i in open_pay_together(ledger, FixedClock(NOW), token).invoices] == ["inv_2"]

    inv_2 = ledger.get_invoice("inv_2")
    assert inv_2 is not None
    ledger.commit(Change(invoice_update=replace(inv_2, pay_link_generation=1, version=inv_2.version + 1)))
    with pytest.raises(PayLinkInvalid):
        open_pay_together(ledger, FixedClock(NOW), token)  # inv_2's links were revoked: nothing left


@pytest.mark.parametrize("token", ["", "x" * 129, "not-a-token", "A" * 43])
def test_unknown_tokens_are_invalid(token: str) -> None:
    ledger = two_overdue_and_one_single()
    pay_together_page(ledger)

    with pytest.raises(PayLinkInvalid):
        open_pay_together(ledger, FixedClock(NOW), token)


def test_an_expired_link_is_invalid() -> None:
    ledger = two_overdue_and_one_single()
    token = pay_together_page(ledger)

    with pytest.raises(PayLinkInvalid):
        open_pay_together(ledger, FixedClock(NOW + timedelta(days=91)), token)
