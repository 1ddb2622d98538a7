"""The morning digest over the in-memory ledger: what it says is what the counters and indexes hold, it is queued
once a day, and the outbox sends it to every configured address."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.domain.digest import CurrencyBalance, CurrencyTotal, WriteOffSoon
from shared.domain.dunning import DEFAULT_POLICY
from shared.domain.invoices import Hold, InvoiceStatus
from shared.domain.messages import DigestEmail, decode, encode
from shared.domain.records import DisputeStatus
from shared.services import digest as digest_service
from shared.services.checkout import PayPage, promise_to_pay
from shared.services.digest import WRITE_OFFS_LISTED, digest_message_id, send_digest
from shared.services.invoices import InvoiceDraft, create_invoice
from shared.services.outbox import Branding, Delivery, deliver
from shared.services.ports import Change, InvoiceListing, Page
from shared.services.stripe_events.checkout_payments import record_session
from shared.services.stripe_events.disputes import record_dispute
from shared.services.stripe_events.installment_charges import record_charge
from tests.fakes import FixedClock, InMemoryLedger, RecordingMailer, RecordingPublisher
from tests.fakes.gateway import FakeGateway
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import NOW, a_checkout, a_customer, an_invoice
from tests.fakes.stripe_facts import a_dispute_fact, a_session_fact, an_installment_charge_fact, checkout_tags
from tests.unit.services.test_installment_charges import charging_plan
from tests.unit.services.test_installment_charges import ledger_with as ledger_with_a_plan

TODAY = NOW.date()  # 2026-11-02, 09:30 UTC
YESTERDAY_NOON = datetime.combine(TODAY - timedelta(days=1), datetime.min.time(), tzinfo=NOW.tzinfo) + timedelta(
    hours=12
)
OPS = "operator:acme"


def _invoice(
    ledger: InMemoryLedger, at: datetime, invoice_id: str, amount: int, due: date, currency: str = "USD"
) -> None:
    draft = InvoiceDraft(
        customer_id="cus_1", number=f"N-{invoice_id}", currency=currency, amount_due=amount, due_date=due
    )
    create_invoice(ledger, FixedClock(at), draft, actor=OPS, invoice_id=invoice_id)


def _paid_in_full(ledger: InMemoryLedger, at: datetime, invoice_id: str, amount: int) -> None:
    ledger.commit(
        Change(checkout=replace(a_checkout(f"chk_{invoice_id}", f"cs_{invoice_id}", invoice_id), amount=amount))
    )
    fact = a_session_fact(
        f"evt_{invoice_id}",
        session_id=f"cs_{invoice_id}",
        payment_intent_id=f"pi_{invoice_id}",
        amount=amount,
        tags=checkout_tags(invoice_id=invoice_id, checkout_ref=f"chk_{invoice_id}"),
    )
    record_session(ledger, FixedClock(at), fact)


def _a_history() -> InMemoryLedger:
    """Given yesterday: USD 100.00 overdue (inv_a), USD 50.00 billed and paid (inv_b), EUR 70.00 not yet due
    (inv_c); and this morning USD 30.00 billed, already overdue (inv_d)."""
    ledger = a_ledger_with(a_customer())
    _invoice(ledger, YESTERDAY_NOON, "inv_a", 10_000, date(2026, 10, 20))
    _invoice(ledger, YESTERDAY_NOON, "inv_b", 5_000, date(2026, 11, 20))
    _invoice(ledger, YESTERDAY_NOON, "inv_c", 7_000, date(2026, 12, 1), currency="EUR")
    _paid_in_full(ledger, YESTERDAY_NOON + timedelta(hours=1), "inv_b", 5_000)
    _invoice(ledger, NOW - timedelta(hours=1), "inv_d", 3_000, date(2026, 11, 1))
    return ledger


def _queued(ledger: InMemoryLedger) -> DigestEmail:
    [body] = [m.body for m in ledger.outbox_messages() if isinstance(m.body, DigestEmail)]
    return body


def test_the_digest_says_what_was_owed_and_overdue_at_the_end_of_yesterday_and_what_came_in() -> None:
    ledger = _a_history()
    # When the digest runs this morning
    run = send_digest(ledger, FixedClock(NOW), timezone="UTC", recipients=1)
    # Then one digest is queued for today, with the balances at the end of yesterday and how they moved over it
    # (inv_d, billed this morning, is today's)
    assert (run.queued, run.reason, run.day) == (True, "queued", TODAY)
    digest = _queued(ledger).digest
    assert digest.balances == (
        CurrencyBalance("EUR", outstanding=7_000, overdue=0, outstanding_change=7_000, overdue_change=0),
        CurrencyBalance("USD", outstanding=10_000, overdue=10_000, outstanding_change=10_000, overdue_change=10_000),
    )
    # And yesterday's money in: USD 50.00, one invoice paid in full; nothing else happened
    assert digest.payments_received == (CurrencyTotal("USD", 0, 5_000),)
    assert digest.invoices_paid == (CurrencyTotal("USD", 1, 0),)
    assert digest.promises_due == digest.charges_failed == digest.disputes_opened == ()
    assert (digest.events_to_review, digest.write_offs) == (0, ())


def test_the_digest_is_queued_once_a_day_however_often_the_schedule_fires() -> None:
    ledger = _a_history()
    first = send_digest(ledger, FixedClock(NOW), timezone="UTC", recipients=1)
    again = send_digest(ledger, FixedClock(NOW + timedelta(hours=1)), timezone="UTC", recipients=1)
    # Then the second firing queues nothing; the next day's digest is a new one
    assert (first.queued, again.queued, again.reason) == (True, False, "already_sent")
    assert [m.id for m in ledger.outbox_messages() if isinstance(m.body, DigestEmail)] == [digest_message_id(TODAY)]
    tomorrow = send_digest(ledger, FixedClock(NOW + timedelta(days=1)), timezone="UTC", recipients=1)
    assert tomorrow.queued and len([m for m in ledger.outbox_messages() if isinstance(m.body, DigestEmail)]) == 2


def test_without_recipients_nothing_is_read_or_queued() -> None:
    ledger = _a_history()
    run = send_digest(ledger, FixedClock(NOW), timezone="UTC", recipients=0)
    assert (run.queued, run.reason, run.digest) == (False, "no_recipients", None)
    assert not [m for m in ledger.outbox_messages() if isinstance(m.body, DigestEmail)]


def test_today_is_the_operators_local_day() -> None:
    # 09:30 UTC on 2 November is already 3 November in Auckland
    run = send_digest(_a_history(), FixedClock(NOW + timedelta(hours=5)), timezone="Pacific/Auckland", recipients=1)
    assert run.day == date(2026, 11, 3) and run.digest is not None and run.digest.timezone == "Pacific/Auckland"


def _local_midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)


# 07:00 on the digest's day in each zone: Auckland is UTC+13 in November, Los Angeles leaves daylight saving on
# 1 November 2026 (its yesterday is 25 hours long); each invoice below is due long before the window.
FAR_ZONES = [("Pacific/Auckland", date(2026, 11, 3)), ("America/Los_Angeles", date(2026, 11, 2))]


@pytest.mark.parametrize(("zone", "day"), FAR_ZONES, ids=[zone for zone, _ in FAR_ZONES])
def test_every_section_covers_the_operators_yesterday_in_their_zone(zone: str, day: date) -> None:
    # Given the operator's yesterday, from local midnight to local midnight (start, end), and invoices made and
    # paid a minute either side of each edge
    start, end = _local_midnight(day - timedelta(days=1), zone), _local_midnight(day, zone)
    minute, old_due = timedelta(minutes=1), date(2026, 10, 1)
    ledger = a_ledger_with(a_customer())
    _invoice(ledger, start - timedelta(hours=3), "inv_1", 10_000, old_due)
    _paid_in_full(ledger, start - minute, "inv_1", 10_000)  # paid the day before: not yesterday's
    _invoice(ledger, start - timedelta(hours=3), "inv_2", 10_000, old_due)
    _paid_in_full(ledger, start + minute, "inv_2", 10_000)  # yesterday
    _invoice(ledger, start + timedelta(hours=2), "inv_3", 10_000, old_due)
    _paid_in_full(ledger, end - minute, "inv_3", 10_000)  # yesterday
    _invoice(ledger, start + timedelta(hours=3), "inv_4", 30_000, old_due)  # billed yesterday, owed
    _invoice(ledger, start - timedelta(hours=3), "inv_6", 10_000, old_due)
    _paid_in_full(ledger, end + minute, "inv_6", 10_000)  # paid today: still owed at the end of yesterday
    _invoice(ledger, end + minute, "inv_5", 50_000, old_due)  # billed today
    # and two not yet due: one due the day before yesterday (overdue by the end of yesterday), one yesterday
    _invoice(ledger, start - timedelta(hours=3), "inv_8", 2_000, day - timedelta(days=2))
    _invoice(ledger, start - timedelta(hours=3), "inv_7", 1_000, day - timedelta(days=1))

    # When the digest runs at 07:00 local time
    run = send_digest(ledger, FixedClock(end + timedelta(hours=7)), timezone=zone, recipients=1)

    # Then it is today's, and every figure is of the same window: what came in yesterday (inv_2, inv_3)
    assert run.day == day
    digest = _queued(ledger).digest
    assert digest.payments_received == (CurrencyTotal("USD", 0, 20_000),)
    assert digest.invoices_paid == (CurrencyTotal("USD", 2, 0),)
    # and what was owed at the end of yesterday (inv_4, inv_6, inv_7, inv_8) against its start (inv_2, inv_6,
    # inv_7, inv_8), overdue as of each (inv_8 was due the day before yesterday: overdue at the end only)
    assert digest.balances == (
        CurrencyBalance("USD", outstanding=43_000, overdue=42_000, outstanding_change=20_000, overdue_change=22_000),
    )


@pytest.mark.parametrize(("zone", "day"), FAR_ZONES, ids=[zone for zone, _ in FAR_ZONES])
@pytest.mark.parametrize(("offset", "counted"), [(-1, 0), (1, 1), (24 * 60 - 1, 1), (24 * 60 + 1, 0)])
def test_failed_charges_count_in_the_operators_yesterday(zone: str, day: date, offset: int, counted: int) -> None:
    # Given an off-session charge declined a minute before, just inside or just after the operator's yesterday
    start = _local_midnight(day - timedelta(days=1), zone)
    at = start + timedelta(minutes=offset)
    ledger = ledger_with_a_plan(charging_plan())
    declined = an_installment_charge_fact(succeeded=False, error_code="card_declined", decline_code="generic_decline")
    record_charge(ledger, FixedClock(at), declined)

    # When the digest runs at 07:00 local time
    send_digest(ledger, FixedClock(_local_midnight(day, zone) + timedelta(hours=7)), timezone=zone, recipients=1)

    # Then the charge counts when it failed yesterday there (Los Angeles' yesterday has 25 hours: its end is
    # 25 hours after its start, so 24 hours and a minute is still in it)
    long_day = (_local_midnight(day, zone) - start) > timedelta(hours=24)
    expected = counted or (1 if long_day and offset == 24 * 60 + 1 else 0)
    failed = _queued(ledger).digest.charges_failed
    assert sum(c.count for c in failed) == expected


def test_promises_due_today_are_counted() -> None:
    # Given the customer promised yesterday to pay inv_a by today (their day in London)
    ledger = _a_history()
    customer, invoice = ledger.get_customer("cus_1"), ledger.get_invoice("inv_a")
    assert customer is not None and invoice is not None
    promise_to_pay(ledger, FixedClock(YESTERDAY_NOON), PayPage(invoice, customer), promised=TODAY, max_days=14)
    # Then today's digest counts one promise due
    send_digest(ledger, FixedClock(NOW), timezone="UTC", recipients=1)
    assert _queued(ledger).digest.promises_due == (CurrencyTotal("USD", 1, 0),)


def test_failed_charges_and_disputes_of_yesterday_are_counted_once() -> None:
    # Given an installment charge declined yesterday (its event delivered twice)
    ledger = ledger_with_a_plan(charging_plan())
    declined = an_installment_charge_fact(succeeded=False, error_code="card_declined", decline_code="generic_decline")
    record_charge(ledger, FixedClock(YESTERDAY_NOON), declined)
    record_charge(ledger, FixedClock(YESTERDAY_NOON), declined)
    # and a dispute opened yesterday on an earlier payment, then won this morning
    ledger.commit(Change(new_invoice=an_invoice("inv_p", status=InvoiceStatus.PAID, amount_paid=12_500)))
    ledger.commit(Change(checkout=a_checkout("chk_p", "cs_p", "inv_p")))
    record_session(
        ledger,
        FixedClock(YESTERDAY_NOON),
        a_session_fact(
            "evt_p",
            session_id="cs_p",
            payment_intent_id="pi_p",
            tags=checkout_tags(invoice_id="inv_p", checkout_ref="chk_p"),
        ),
    )
    record_dispute(ledger, FixedClock(YESTERDAY_NOON), a_dispute_fact(payment_intent_id="pi_p", amount=4_000))
    won = a_dispute_fact("evt_dp_2", DisputeStatus.WON, payment_intent_id="pi_p", amount=4_000)
    record_dispute(ledger, FixedClock(NOW), won)
    # When the digest runs
    send_digest(ledger, FixedClock(NOW), timezone="UTC", recipients=1)
    # Then yesterday shows one failed charge of USD 62.50 and one dispute of USD 40.00
    digest = _queued(ledger).digest
    assert digest.charges_failed == (CurrencyTotal("USD", 1, 6_250),)
    assert digest.disputes_opened == (CurrencyTotal("USD", 1, 4_000),)


def test_stripe_events_flagged_for_review_are_counted() -> None:
    # Given a Checkout event whose amount does not match what was recorded (flagged)
    ledger = a_ledger_with(a_customer(), an_invoice())
    ledger.commit(Change(checkout=a_checkout()))
    record_session(ledger, FixedClock(YESTERDAY_NOON), a_session_fact(amount=999))
    send_digest(ledger, FixedClock(NOW), timezone="UTC", recipients=1)
    digest = _queued(ledger).digest
    assert (digest.events_to_review, digest.events_to_review_more) == (1, False)


def test_invoices_written_off_within_the_week_are_listed_soonest_first() -> None:
    # Given a policy that writes invoices off 30 days after their due date
    ledger = a_ledger_with(a_customer())
    ledger.commit(Change(dunning_policy=replace(DEFAULT_POLICY, mark_uncollectible_after_days=30)))
    london_midnight = lambda day: datetime.fromisoformat(f"{day}T00:00:00+00:00")  # noqa: E731 (GMT in November)
    # inv_soon is written off on 6 November, inv_sooner on 4 November; inv_later's reminder is due, its write-off not
    for invoice_id, due, next_at in [
        ("inv_soon", date(2026, 10, 7), london_midnight("2026-11-06")),
        ("inv_sooner", date(2026, 10, 5), london_midnight("2026-11-04")),
        ("inv_later", date(2026, 10, 30), NOW + timedelta(days=1)),
        ("inv_held", date(2026, 10, 6), london_midnight("2026-11-05")),
    ]:
        fields = {"due_date": due, "next_action_at": next_at, "customer_timezone": "Europe/London"}
        ledger.commit(Change(new_invoice=an_invoice(invoice_id, **fields)))
    held = ledger.get_invoice("inv_held")
    assert held is not None
    ledger.commit(Change(invoice_update=replace(held, hold=Hold("customer asked", until=None), version=2)))
    send_digest(ledger, FixedClock(NOW), timezone="UTC", recipients=1)
    digest = _queued(ledger).digest
    assert digest.write_offs == (
        WriteOffSoon("inv_sooner", "N-inv_sooner", "USD", 12_500, date(2026, 11, 4)),
        WriteOffSoon("inv_soon", "N-inv_soon", "USD", 12_500, date(2026, 11, 6)),
    )
    assert not digest.write_offs_more


class _CountingReads(InMemoryLedger):
    """Counts the invoices the due_work index and the lists hand out (what DynamoDB would read for them)."""

    invoices_read = 0

    def due_invoices(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        page = super().due_invoices(shard, until, limit, cursor)
        self.invoices_read += len(page.items)
        return page

    def list_invoices(self, listing: InvoiceListing, limit: int, cursor: str | None) -> Page:
        page = super().list_invoices(listing, limit, cursor)
        self.invoices_read += len(page.items)
        return page


def test_the_write_offs_read_only_about_what_the_digest_shows() -> None:
    # Given 30 days to a write-off, 300 invoices in dunning whose next reminder is due this week, and 25 invoices
    # (five a day) the run will write off from 4 November on
    ledger = _CountingReads()
    ledger.commit(Change(new_customer=a_customer()))
    ledger.commit(Change(dunning_policy=replace(DEFAULT_POLICY, mark_uncollectible_after_days=30)))
    for n in range(300):
        due = date(2026, 10, 20) + timedelta(days=n % 20)
        fields = {"due_date": due, "next_action_at": NOW + timedelta(hours=n % 150), "customer_timezone": "UTC"}
        ledger.commit(Change(new_invoice=an_invoice(f"inv_r{n:03}", number=f"R-{n:03}", **fields)))
    for n in range(25):
        due = date(2026, 10, 5) + timedelta(days=n // 5)
        written_off_at = datetime.combine(due + timedelta(days=30), datetime.min.time(), tzinfo=NOW.tzinfo)
        fields = {"due_date": due, "next_action_at": written_off_at, "customer_timezone": "UTC"}
        ledger.commit(Change(new_invoice=an_invoice(f"inv_w{n:02}", number=f"W-{n:02}", **fields)))

    # When the digest runs
    send_digest(ledger, FixedClock(NOW), timezone="UTC", recipients=1)

    # Then it lists the 20 soonest, says there are more, and read about the invoices it shows, not all 325
    digest = _queued(ledger).digest
    assert [w.number for w in digest.write_offs] == [f"W-{n:02}" for n in range(20)]
    assert digest.write_offs[0].write_off_on == date(2026, 11, 4) and digest.write_offs_more
    assert ledger.invoices_read <= 2 * (WRITE_OFFS_LISTED + 1), ledger.invoices_read


def test_the_write_offs_read_is_bounded_and_the_email_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a bound of 30 invoices read, and 40 invoices due for write-off this week, all on hold but the last
    monkeypatch.setattr(digest_service, "WRITE_OFFS_READ", 30)
    ledger = _CountingReads()
    ledger.commit(Change(new_customer=a_customer()))
    ledger.commit(Change(dunning_policy=replace(DEFAULT_POLICY, mark_uncollectible_after_days=30)))
    for n in range(40):
        hold = Hold("customer asked", until=None) if n < 39 else None
        fields = {"due_date": date(2026, 10, 5), "customer_timezone": "UTC", "hold": hold}
        ledger.commit(Change(new_invoice=an_invoice(f"inv_h{n:02}", number=f"H-{n:02}", **fields)))

    # When the digest runs and is sent
    send_digest(ledger, FixedClock(NOW), timezone="UTC", recipients=1)
    digest = _queued(ledger).digest
    mailer = RecordingMailer()
    branding = Branding("Acme", "billing@acme.example", "https://pay.example.test", 30, ("ar@acme.example",))
    deliver(
        digest_message_id(TODAY), store=ledger, ledger=ledger, mailer=mailer, publisher=RecordingPublisher(),
        clock=FixedClock(NOW), branding=branding, gateway=FakeGateway(),
    )  # fmt: skip

    # Then it stopped at the bound, and says it did, in the email too
    assert ledger.invoices_read == 30
    assert (digest.write_offs, digest.write_offs_more, digest.write_offs_capped_at) == ((), True, 30)
    [sent] = mailer.sent
    assert "the digest looks at 30 invoices at most" in sent.email.text


def test_the_digest_reads_back_from_its_stored_form() -> None:
    ledger = _a_history()
    send_digest(ledger, FixedClock(NOW), timezone="UTC", recipients=1)
    body = _queued(ledger)
    assert decode(*encode(body)) == body


def test_the_outbox_sends_the_digest_to_every_configured_address() -> None:
    ledger = _a_history()
    send_digest(ledger, FixedClock(NOW), timezone="UTC", recipients=2)
    mailer = RecordingMailer()
    branding = Branding(
        "Acme Consulting",
        "billing@acme.example",
        "https://pay.example.test",
        30,
        ("cfo@acme.example", "ar@acme.example"),
    )
    delivered = deliver(
        digest_message_id(TODAY), store=ledger, ledger=ledger, mailer=mailer, publisher=RecordingPublisher(),
        clock=FixedClock(NOW), branding=branding, gateway=FakeGateway(),
    )  # fmt: skip
    assert delivered.outcome is Delivery.SENT
    [sent] = mailer.sent
    email = sent.email
    assert (email.to, email.also_to, email.customer_id) == ("cfo@acme.example", ("ar@acme.example",), "")
    assert email.subject == "Acme Consulting receivables, November 2, 2026"
    assert "What was owed at the end of yesterday" in email.text
    assert "USD: $100.00 outstanding (+$100.00 over the day), of which $100.00 overdue (+$100.00)" in email.text
    assert "EUR: €70.00 outstanding ($70.00" not in email.text and "EUR: €70.00 outstanding (+€70.00 over" in email.text
    assert "- $50.00" in email.text and "1 USD invoice paid in full" in email.text
    assert "$100.00" in email.html


def test_the_outbox_sends_no_digest_when_no_address_is_configured() -> None:
    ledger = _a_history()
    send_digest(ledger, FixedClock(NOW), timezone="UTC", recipients=1)
    mailer = RecordingMailer()
    branding = Branding("Acme Consulting", "billing@acme.example", "https://pay.example.test", 30)
    delivered = deliver(
        digest_message_id(TODAY), store=ledger, ledger=ledger, mailer=mailer, publisher=RecordingPublisher(),
        clock=FixedClock(NOW), branding=branding, gateway=FakeGateway(),
    )  # fmt: skip
    assert delivered.outcome is Delivery.SUPPRESSED and mailer.sent == []
