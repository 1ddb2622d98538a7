"""Delivering the outbox: claimed under a lease, sent once, emails composed now with a fresh pay link."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from jinja2.exceptions import SecurityError

from shared.domain.errors import NotFound
from shared.domain.invoices import InvoiceStatus
from shared.domain.messages import (
    AutopayNoticeEmail,
    DataExportEmail,
    EmailMessage,
    EventName,
    IncidentNoticeEmail,
    InvoiceIssuedEmail,
    InvoiceVoidedEmail,
    OutboxMessage,
    PaymentFailedEmail,
    ReceiptEmail,
    RefundEmail,
    ReminderEmail,
    decode,
    encode,
    outgoing_email,
    outgoing_event,
)
from shared.domain.records import Autopay, Customer, EmailUndeliverable, PayLink
from shared.domain.subject_access import EmailSent
from shared.services.account_export import token_hash
from shared.services.gateway import PaymentMethodUsed
from shared.services.outbox import CLAIM_LEASE_SECONDS, Branding, Delivered, Delivery, deliver
from shared.services.ports import Change, Claim, OutboxBusy
from shared.services.privacy_ports import ExportLink
from tests.fakes import FixedClock, InMemoryLedger, RecordingMailer, RecordingPublisher
from tests.fakes.gateway import FakeGateway
from tests.fakes.ledger import CLAIMED, DELIVERED, PENDING
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import NOW, a_customer, an_invoice

BRANDING = Branding(
    business_name="Acme Consulting",
    support_contact="billing@acme.example",
    public_base_url="https://pay.example.test",
    pay_link_ttl_days=30,
)
PAY_URL = re.compile(r"https://pay\.example\.test/pay/([A-Za-z0-9_-]+)")


class Outbox:
    """A ledger holding cus_1 and inv_1, the mailer and the publisher, and delivery over them."""

    def __init__(self, ledger: InMemoryLedger | None = None) -> None:
        self.ledger = ledger or a_ledger_with(a_customer(), an_invoice())
        self.mailer, self.publisher = RecordingMailer(), RecordingPublisher()
        self.gateway = FakeGateway()

    def queue(self, message: OutboxMessage) -> str:
        self.ledger.commit(Change(outbox=[message]))
        return message.id

    def deliver(self, message_id: str) -> Delivered:
        return deliver(
            message_id,
            store=self.ledger,
            ledger=self.ledger,
            mailer=self.mailer,
            publisher=self.publisher,
            clock=FixedClock(NOW),
            branding=BRANDING,
            gateway=self.gateway,
        )

    def status(self, message_id: str) -> str:
        return self.ledger.outbox[message_id].status


def test_an_event_is_published_once() -> None:
    # Given a queued invoice.created event
    outbox = Outbox()
    message_id = outbox.queue(outgoing_event(EventName.INVOICE_CREATED, {"invoice_id": "inv_1"}, NOW))
    # When the stream delivers it, and delivers it again (a retried batch)
    first = outbox.deliver(message_id)
    again = outbox.deliver(message_id)
    # Then it is published once, under the message's id, and the repeat is already handled
    assert (first.outcome, again.outcome) == (Delivery.SENT, Delivery.ALREADY_HANDLED)
    [event] = outbox.publisher.published
    assert (event.id, event.detail_type, event.detail) == (message_id, "invoice.created", {"invoice_id": "inv_1"})
    assert outbox.status(message_id) == DELIVERED and outbox.mailer.sent == []


def test_a_reminder_is_rendered_now_with_a_fresh_link_whose_token_is_never_stored() -> None:
    # Given a queued reminder for invoice inv_1
    outbox = Outbox()
    message_id = outbox.queue(outgoing_email(ReminderEmail("inv_1", "-7:upcoming", "upcoming"), NOW))
    # When it is delivered
    delivered = outbox.deliver(message_id)
    # Then the customer gets the "upcoming" copy, tagged with their id, with a pay link of its own
    assert delivered.outcome is Delivery.SENT
    [sent] = outbox.mailer.sent
    assert sent.message_id == message_id
    assert (sent.email.to, sent.email.customer_id) == ("cus_1@example.com", "cus_1")
    assert sent.email.subject.startswith("Reminder: invoice N-inv_1 for US$125.00 is due")
    match = PAY_URL.search(sent.email.text)
    assert match is not None and match.group(0) in sent.email.html
    token = match.group(1)
    [link] = outbox.ledger.pay_links.values()
    assert link.token_hash == PayLink.hash_token(token) and token not in outbox.ledger.pay_links
    assert (link.invoice_id, link.expires_at) == ("inv_1", NOW + timedelta(days=30))


def test_a_failed_bank_debit_tells_the_customer_with_a_link_to_pay_another_way() -> None:
    outbox = Outbox()
    message_id = outbox.queue(outgoing_email(PaymentFailedEmail("inv_1", "pi_9", 12_500), NOW))

    assert outbox.deliver(message_id).outcome is Delivery.SENT

    [sent] = outbox.mailer.sent
    assert sent.email.subject == "Your payment of US$125.00 for invoice N-inv_1 did not go through"
    assert "You have not been charged." in sent.email.text and "pi_9" in sent.email.text
    match = PAY_URL.search(sent.email.text)
    assert match is not None and match.group(0) in sent.email.html
    assert len(outbox.ledger.pay_links) == 1


def test_each_email_carries_a_link_of_its_own() -> None:
    outbox = Outbox()
    ids = [outbox.queue(outgoing_email(InvoiceIssuedEmail("inv_1"), NOW)) for _ in range(2)]
    for message_id in ids:
        outbox.deliver(message_id)
    tokens = {m.group(1) for s in outbox.mailer.sent if (m := PAY_URL.search(s.email.text))}
    assert len(tokens) == 2 and len(outbox.ledger.pay_links) == 2


def test_an_email_to_an_undeliverable_address_is_suppressed_and_mints_no_link() -> None:
    # Given a customer whose address bounced
    bounced = a_customer(email_undeliverable=EmailUndeliverable("bounce", NOW))
    outbox = Outbox(a_ledger_with(bounced, an_invoice()))
    message_id = outbox.queue(outgoing_email(ReminderEmail("inv_1", "+3:overdue", "overdue"), NOW))
    # When the reminder is delivered
    delivered = outbox.deliver(message_id)
    # Then nothing is sent, no link is minted, and the message counts as handled
    assert delivered.outcome is Delivery.SUPPRESSED and delivered.message is not None
    assert outbox.mailer.sent == [] and outbox.ledger.pay_links == {}
    assert outbox.status(message_id) == DELIVERED


@pytest.mark.parametrize(
    ("customer", "body", "sent"),
    [
        (a_customer(erased_at=NOW), ReceiptEmail("inv_1", "pi_1", 12_500, NOW), False),  # erased: nothing at all
        (a_customer(erased_at=NOW), InvoiceIssuedEmail("inv_1"), False),
        (a_customer(restricted_at=NOW), InvoiceIssuedEmail("inv_1"), False),  # restricted: no notice
        (a_customer(restricted_at=NOW), ReminderEmail("inv_1", "+3:overdue", "overdue"), False),
        (a_customer(restricted_at=NOW), InvoiceVoidedEmail("inv_1"), False),
        (a_customer(restricted_at=NOW), ReceiptEmail("inv_1", "pi_1", 12_500, NOW), True),  # ... but receipts
        (a_customer(restricted_at=NOW), RefundEmail("inv_1", "pi_1", "re_1", 500), True),
    ],
    ids=["erased-receipt", "erased-issued", "restricted-issued", "restricted-reminder", "restricted-voided",
         "restricted-receipt", "restricted-refund"],
)  # fmt: skip
def test_an_erased_customer_gets_nothing_and_a_restricted_one_only_what_their_payments_need(
    customer: Customer, body: EmailMessage, sent: bool
) -> None:
    outbox = Outbox(a_ledger_with(customer, an_invoice()))
    delivered = outbox.deliver(outbox.queue(outgoing_email(body, NOW)))
    assert (delivered.outcome is Delivery.SENT) is sent
    assert len(outbox.mailer.sent) == (1 if sent else 0)


@pytest.mark.parametrize("status", [InvoiceStatus.PAID, InvoiceStatus.VOID])
def test_an_invoice_email_for_an_invoice_settled_or_voided_before_it_went_out_is_not_sent(
    status: InvoiceStatus,
) -> None:
    amount_paid = 12_500 if status is InvoiceStatus.PAID else 0
    outbox = Outbox(a_ledger_with(a_customer(), an_invoice(status=status, amount_paid=amount_paid)))
    delivered = outbox.deliver(outbox.queue(outgoing_email(InvoiceIssuedEmail("inv_1"), NOW)))
    assert delivered.outcome is Delivery.SUPPRESSED
    assert outbox.mailer.sent == [] and outbox.ledger.pay_links == {}  # no link minted for it either


def test_a_failed_send_releases_the_message_for_a_retry() -> None:
    # Given a mailer that fails
    outbox = Outbox()
    message_id = outbox.queue(outgoing_email(InvoiceIssuedEmail("inv_1"), NOW))
    outbox.mailer.failure = ConnectionError("SES throttled")
    # When delivery is attempted
    with pytest.raises(ConnectionError):
        outbox.deliver(message_id)
    # Then the message is pending again with the reason, and the next attempt sends it
    entry = outbox.ledger.outbox[message_id]
    assert (entry.status, entry.last_error) == (PENDING, "ConnectionError")
    outbox.mailer.failure = None
    assert outbox.deliver(message_id).outcome is Delivery.SENT and len(outbox.mailer.sent) == 1


def test_a_failed_publish_releases_the_event() -> None:
    outbox = Outbox()
    message_id = outbox.queue(outgoing_event(EventName.INVOICE_PAID, {"invoice_id": "inv_1"}, NOW))
    outbox.publisher.failure = TimeoutError()
    with pytest.raises(TimeoutError):
        outbox.deliver(message_id)
    assert outbox.status(message_id) == PENDING and outbox.publisher.published == []


def test_a_message_leased_by_another_delivery_is_left_to_it() -> None:
    # Given a message another worker claimed a moment ago
    outbox = Outbox()
    message_id = outbox.queue(outgoing_email(InvoiceIssuedEmail("inv_1"), NOW))
    outbox.ledger.claim(message_id, CLAIM_LEASE_SECONDS, "other-worker")
    # When this delivery tries it, Then it backs off without sending or marking anything
    with pytest.raises(OutboxBusy):
        outbox.deliver(message_id)
    assert outbox.mailer.sent == [] and outbox.status(message_id) == CLAIMED


def test_a_lease_that_ran_out_is_taken_over() -> None:
    # Given a message whose worker died mid-send, its lease now over
    wall_clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    outbox = Outbox(a_ledger_with(a_customer(), an_invoice(), wall_clock=wall_clock.now))
    message_id = outbox.queue(outgoing_email(InvoiceIssuedEmail("inv_1"), NOW))
    outbox.ledger.claim(message_id, CLAIM_LEASE_SECONDS, "dead-worker")
    wall_clock.instant += timedelta(seconds=CLAIM_LEASE_SECONDS + 1)
    # When the stream retries it, Then this delivery takes it over and sends it, saying it may be a repeat
    delivered = outbox.deliver(message_id)
    assert delivered.outcome is Delivery.SENT and delivered.taken_over
    assert outbox.ledger.outbox[message_id].attempts == 2


class FlakyMarks:
    """The in-memory store, whose mark_delivered fails the first `failures` times (a DynamoDB hiccup)."""

    def __init__(self, ledger: InMemoryLedger, failures: int) -> None:
        self.ledger, self.failures, self.tries = ledger, failures, 0

    def claim(self, message_id: str, lease_seconds: int, token: str) -> Claim | None:
        return self.ledger.claim(message_id, lease_seconds, token)

    def mark_delivered(self, message_id: str, token: str, provider_id: str | None = None) -> bool:
        self.tries += 1
        if self.tries <= self.failures:
            raise TimeoutError("the table did not answer")
        return self.ledger.mark_delivered(message_id, token, provider_id)

    def release(self, message_id: str, token: str, error: str) -> None:
        self.ledger.release(message_id, token, error)

    def record_email_sent(self, sent: EmailSent) -> None:
        self.ledger.record_email_sent(sent)


def deliver_through(outbox: Outbox, store: FlakyMarks, message_id: str, pauses: list[float]) -> Delivered:
    return deliver(
        message_id,
        store=store,
        ledger=outbox.ledger,
        mailer=outbox.mailer,
        publisher=outbox.publisher,
        clock=FixedClock(NOW),
        branding=BRANDING,
        gateway=outbox.gateway,
        sleep=pauses.append,
    )


def test_an_accepted_email_is_marked_delivered_even_when_the_first_marks_fail() -> None:
    # Given SES accepts the email, and the table fails the first two marks
    outbox = Outbox()
    message_id = outbox.queue(outgoing_email(InvoiceIssuedEmail("inv_1"), NOW))
    store, pauses = FlakyMarks(outbox.ledger, failures=2), []
    # When it is delivered
    delivered = deliver_through(outbox, store, message_id, pauses)
    # Then it was sent once, marked on the third try with SES's id, after short pauses
    assert delivered.outcome is Delivery.SENT and not delivered.unrecorded
    assert len(outbox.mailer.sent) == 1 and outbox.status(message_id) == DELIVERED
    assert outbox.ledger.outbox[message_id].provider_id == "ses-1"
    assert pauses == [0.2, 0.4]
    # and the customer's export lists it once: template, subject and when, no address
    (sent,) = outbox.ledger.emails_sent.values()
    assert (sent.message_id, sent.template, sent.sent_at) == (message_id, "invoice_issued", NOW)
    assert sent.subject == outbox.mailer.sent[0].email.subject and "@" not in repr(sent)


def test_an_accepted_email_that_cannot_be_marked_is_not_sent_again_by_the_stream() -> None:
    # Given the table fails every mark
    outbox = Outbox()
    message_id = outbox.queue(outgoing_email(InvoiceIssuedEmail("inv_1"), NOW))
    store = FlakyMarks(outbox.ledger, failures=99)
    # When it is delivered, Then it does not raise (the stream would send it again), and says so
    delivered = deliver_through(outbox, store, message_id, [])
    assert delivered.outcome is Delivery.SENT and delivered.unrecorded
    assert store.tries == 3 and len(outbox.mailer.sent) == 1 and outbox.status(message_id) == CLAIMED


def test_an_unknown_message_is_already_handled() -> None:
    assert Outbox().deliver("msg_nope").outcome is Delivery.ALREADY_HANDLED


def test_an_email_for_a_missing_invoice_fails_and_stays_pending() -> None:
    outbox = Outbox()
    message_id = outbox.queue(outgoing_email(InvoiceIssuedEmail("inv_gone"), NOW))
    with pytest.raises(NotFound):
        outbox.deliver(message_id)
    assert outbox.status(message_id) == PENDING and outbox.mailer.sent == []


def test_a_receipt_shows_the_amount_the_remaining_balance_and_the_reference() -> None:
    outbox = Outbox()
    receipt = ReceiptEmail("inv_1", "pi_1", 12_500, paid_at=NOW)
    outbox.deliver(outbox.queue(outgoing_email(receipt, NOW)))
    [sent] = outbox.mailer.sent
    assert sent.email.subject == "Receipt: US$125.00 for invoice N-inv_1"
    assert "Payment reference: pi_1" in sent.email.text and "Acme Consulting" in sent.email.text
    assert "turn it off" not in sent.email.text and outbox.ledger.pay_links == {}


def test_a_refund_email_shows_the_amount_and_both_references_and_no_pay_link() -> None:
    outbox = Outbox()
    message = outgoing_email(RefundEmail("inv_1", "pi_1", "re_1", 3_000), NOW)
    outbox.deliver(outbox.queue(message))
    [sent] = outbox.mailer.sent
    assert sent.email.subject == "Refund: US$30.00 for invoice N-inv_1"
    assert "Amount refunded: US$30.00" in sent.email.text and "Refund reference: re_1" in sent.email.text
    assert "Payment reference: pi_1" in sent.email.html and outbox.ledger.pay_links == {}


def test_a_refund_email_survives_its_stored_form() -> None:
    body = RefundEmail("inv_1", "pi_1", "re_1", 3_000)
    assert decode(*encode(body)) == body


def test_a_receipt_to_a_customer_on_autopay_says_how_to_turn_it_off() -> None:
    outbox = Outbox(a_ledger_with(a_customer(autopay=Autopay(enabled_at=NOW)), an_invoice()))
    outbox.deliver(outbox.queue(outgoing_email(ReceiptEmail("inv_1", "pi_1", 12_500, paid_at=NOW), NOW)))
    [sent] = outbox.mailer.sent
    assert "You are on autopay. To turn it off: https://pay.example.test/pay/" in sent.email.text
    assert len(outbox.ledger.pay_links) == 1


def test_a_receipt_shows_how_the_customer_paid_as_stripe_tells_it_at_delivery() -> None:
    # Given Stripe says a Mastercard ending in 4444 paid pi_1
    outbox = Outbox()
    outbox.gateway.payment_methods["pi_1"] = PaymentMethodUsed("card", brand="mastercard", last4="4444")
    # When the receipt is delivered
    outbox.deliver(outbox.queue(outgoing_email(ReceiptEmail("inv_1", "pi_1", 12_500, paid_at=NOW), NOW)))
    # Then it says so
    [sent] = outbox.mailer.sent
    assert "Payment method: Mastercard ending in 4444" in sent.email.text


def test_an_autopay_notice_names_the_charge_day_in_the_customers_calendar() -> None:
    # Given a New York customer charged at 00:30 UTC on 15 December, still the 14th where they are
    outbox = Outbox(a_ledger_with(a_customer(timezone="America/New_York"), an_invoice()))
    notice = AutopayNoticeEmail("inv_1", 12_500, charge_at=datetime(2026, 12, 15, 0, 30, tzinfo=UTC))
    # When the notice is delivered
    outbox.deliver(outbox.queue(outgoing_email(notice, NOW)))
    # Then it names their day, and carries a pay link
    [sent] = outbox.mailer.sent
    assert sent.email.subject == "Invoice N-inv_1: US$125.00 will be charged on 14 December 2026"
    assert PAY_URL.search(sent.email.text)


class ExportLinkBook:
    """ExportLinks in memory."""

    def __init__(self) -> None:
        self.links: dict[str, ExportLink] = {}

    def save_export_link(self, link: ExportLink) -> None:
        self.links[link.token_hash] = link

    def get_export_link(self, token_hash: str) -> ExportLink | None:
        return self.links.get(token_hash)

    def use_export_link(self, token_hash: str, at: datetime) -> bool:
        return False


def test_the_export_email_carries_a_fresh_link_whose_token_is_kept_only_as_its_hash() -> None:
    outbox, links = Outbox(), ExportLinkBook()
    message_id = outbox.queue(outgoing_email(DataExportEmail("cus_1"), NOW))

    delivered = deliver(
        message_id, store=outbox.ledger, ledger=outbox.ledger, mailer=outbox.mailer, publisher=outbox.publisher,
        clock=FixedClock(NOW), branding=BRANDING, gateway=outbox.gateway, export_links=links,
    )  # fmt: skip

    assert delivered.outcome is Delivery.SENT
    [sent] = outbox.mailer.sent
    match = re.search(r"https://pay\.example\.test/account/export/([A-Za-z0-9_-]+)", sent.email.text)
    assert match is not None and match.group(0) in sent.email.html and sent.email.to == "cus_1@example.com"
    [link] = links.links.values()
    assert link.token_hash == token_hash(match.group(1)) and match.group(1) not in repr(links.links)
    assert link.customer_id == "cus_1" and link.expires_at - link.created_at == timedelta(hours=24)
    assert decode(*encode(DataExportEmail("cus_1"))) == DataExportEmail("cus_1")


def test_an_incident_notice_renders_the_operators_template_in_the_customers_zone() -> None:
    outbox = Outbox()
    source = "{{ business_name }}: an incident\n\nHello {{ customer.name }}, from {{ since_text }}.\n\nSecond."
    since = datetime(2027, 3, 1, 10, tzinfo=UTC)
    notice = IncidentNoticeEmail("cus_1", "inc-1", source, since, since + timedelta(hours=2))
    message_id = outbox.queue(outgoing_email(notice, NOW))

    outbox.deliver(message_id)

    [sent] = outbox.mailer.sent
    assert sent.email.subject == "Acme Consulting: an incident"
    assert sent.email.text.startswith("Hello ") and "Second." in sent.email.text
    assert sent.email.html.count("<p") >= 2 and "<title>Acme Consulting: an incident</title>" in sent.email.html
    assert decode(*encode(notice)) == notice


def test_an_operators_template_cannot_reach_outside_its_sandbox() -> None:
    outbox = Outbox()
    source = "Subject\n\n{{ customer.__class__.__mro__ }}"
    since = datetime(2027, 3, 1, 10, tzinfo=UTC)
    message_id = outbox.queue(outgoing_email(IncidentNoticeEmail("cus_1", "inc-1", source, since, since), NOW))

    with pytest.raises(SecurityError):
        outbox.deliver(message_id)
    assert outbox.mailer.sent == [] and outbox.status(message_id) == PENDING
