"""Money outside Stripe, credit notes, invoice corrections and pay-link control over the fakes: each applied
once per Idempotency-Key, audited with the operator's identity, announced, and the customer told."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from shared.clock import FixedClock
from shared.domain.errors import (
    CreditExceedsRemaining,
    InvalidDate,
    InvalidStateTransition,
    InvoiceHasPayments,
    OfflinePaymentNotRefundable,
    PayLinkInvalid,
    PaymentAlreadyReversed,
    PaymentInProgress,
    PaymentNotOffline,
)
from shared.domain.invoices import Hold, InvoiceStatus
from shared.domain.messages import (
    Event,
    EventName,
    InvoiceCorrectedEmail,
    InvoiceIssuedEmail,
    OutboxMessage,
    PaymentReversedEmail,
    ReceiptEmail,
    decode,
    encode,
)
from shared.domain.records import OfflineMethod, OpenCheckout
from shared.services.checkout import open_pay_link
from shared.services.corrections import CreditNoteAsk, InvoiceCorrection, correct_invoice, issue_credit_note_once
from shared.services.invoices import new_pay_link, void_invoice
from shared.services.offline_payments import (
    OfflinePaymentAsk,
    OfflinePaymentMade,
    record_offline_payment_once,
    reverse_offline_payment_once,
)
from shared.services.outbox import Branding, deliver
from shared.services.pay_links import issue_pay_link_once, revoke_pay_links
from shared.services.ports import Change
from shared.services.refunds import RefundAsk, refund_payment_once
from tests.fakes import FakeGateway, InMemoryLedger, RecordingMailer, RecordingPublisher
from tests.fakes.records import NOW, a_checkout, a_customer, a_payment, an_invoice
from tests.fakes.run_once import FingerprintMismatch, InMemoryRunOnce

CLOCK = FixedClock(NOW)
OPS = "arn:aws:iam::1:user/ops"
CHEQUE = OfflinePaymentAsk(amount=5_000, method=OfflineMethod.CHECK, reference="1234", received_on=NOW.date())
BRANDING = Branding("Acme Consulting", "billing@acme.example", "https://pay.example.test", 30)


def a_ledger(**invoice: Any) -> InMemoryLedger:
    """Given cus_1 owing inv_1 (USD 125.00, due 2026-12-15), reminders scheduled."""
    ledger = InMemoryLedger()
    fields = {"next_action_at": NOW + timedelta(days=20)} | invoice
    ledger.commit(Change(new_customer=a_customer(), new_invoice=an_invoice(**fields)))
    return ledger


def record(
    ledger: InMemoryLedger,
    ask: OfflinePaymentAsk = CHEQUE,
    *,
    key: str = "k1",
    once: InMemoryRunOnce | None = None,
    gateway: FakeGateway | None = None,
) -> OfflinePaymentMade:
    return record_offline_payment_once(
        ledger,
        gateway or FakeGateway(),
        CLOCK,
        once or InMemoryRunOnce(),
        "inv_1",
        ask,
        key=key,
        fingerprint={"amount": ask.amount, "method": ask.method.value},
        actor=OPS,
    )


def reverse(
    ledger: InMemoryLedger, payment_id: str, *, key: str = "r1", once: InMemoryRunOnce | None = None
) -> OfflinePaymentMade:
    return reverse_offline_payment_once(
        ledger, CLOCK, once or InMemoryRunOnce(), payment_id, "cheque bounced", key=key, fingerprint={}, actor=OPS
    )


def credit(ledger: InMemoryLedger, amount: int, *, key: str = "c1", gateway: FakeGateway | None = None) -> None:
    issue_credit_note_once(
        ledger,
        gateway or FakeGateway(),
        CLOCK,
        InMemoryRunOnce(),
        "inv_1",
        CreditNoteAsk(amount=amount, reason="goodwill"),
        key=key,
        fingerprint={"amount": amount},
        actor=OPS,
    )


def names(ledger: InMemoryLedger) -> list[str]:
    return [m.name for m in ledger.outbox_messages()]


def with_open_session(ledger: InMemoryLedger, gateway: FakeGateway) -> str:
    """Given a Checkout Session for the whole amount, still payable."""
    attempt = replace(a_checkout(), opened_as=1, expires_at=NOW + timedelta(hours=23))
    ledger.commit(Change(checkout=attempt, open_checkout=OpenCheckout("inv_1", 1, attempt, "pay:12500:USD:once")))
    gateway.session_status[attempt.session_id] = "open"
    return attempt.session_id


def delivered(ledger: InMemoryLedger, message: OutboxMessage, gateway: FakeGateway | None = None) -> str:
    """The text of the email `message` becomes."""
    mailer = RecordingMailer()
    deliver(
        message.id,
        store=ledger,
        ledger=ledger,
        mailer=mailer,
        publisher=RecordingPublisher(),
        clock=CLOCK,
        branding=BRANDING,
        gateway=gateway or FakeGateway(),
    )
    [sent] = mailer.sent
    return f"{sent.email.subject}\n{sent.email.text}"


def the(ledger: InMemoryLedger, kind: type) -> OutboxMessage:
    [message] = [m for m in ledger.outbox_messages() if isinstance(m.body, kind)]
    return message


# ----- money received outside Stripe -----------------------------------------------------------------------


def test_a_cheque_is_recorded_once_per_key_and_applied_like_a_payment() -> None:
    ledger, once = a_ledger(allow_partial=True), InMemoryRunOnce()

    made = record(ledger, once=once)
    again = record(ledger, once=once)

    assert again == made and once.runs == 1 and len(ledger.get_invoice_payments("inv_1")) == 1
    assert made.payment.key.startswith("off_") and made.payment.offline is not None
    assert made.invoice.status is InvoiceStatus.PARTIALLY_PAID and made.invoice.amount_remaining == 7_500
    assert names(ledger) == [EventName.INVOICE_PAYMENT_RECORDED, EventName.INVOICE_PARTIALLY_PAID, "receipt"]
    [audit] = ledger.audit
    assert (audit.action, audit.actor) == ("payment.recorded", f"operator:{OPS}")
    assert audit.details["method"] == "check" and audit.details["amount_paid"] == {"from": 0, "to": 5_000}


def test_a_lost_reply_then_a_retry_records_it_once() -> None:
    ledger = a_ledger(allow_partial=True)
    record(ledger, once=InMemoryRunOnce())

    again = record(ledger, once=InMemoryRunOnce())  # Powertools' record is gone: the payment's own id finds it

    assert again.invoice.amount_paid == 5_000 and len(ledger.get_invoice_payments("inv_1")) == 1


def test_a_settling_transfer_stops_dunning_and_an_overpayment_is_kept_as_credit() -> None:
    ledger = a_ledger()
    transfer = replace(CHEQUE, amount=15_000, method=OfflineMethod.BANK_TRANSFER)

    made = record(ledger, transfer)

    assert made.invoice.status is InvoiceStatus.PAID and made.invoice.next_action_at is None
    assert made.invoice.amount_credit == 2_500 and EventName.INVOICE_OVERPAID in names(ledger)
    assert ledger.audit_actions("inv_1")[-1] == "invoice.overpaid" and ledger.audit[-1].actor == f"operator:{OPS}"


def test_the_receipt_says_how_it_was_paid() -> None:
    ledger = a_ledger(allow_partial=True)
    record(ledger)

    text = delivered(ledger, the(ledger, ReceiptEmail))

    assert "Payment method: Cheque, reference 1234" in text and "Remaining balance: US$75.00" in text


@pytest.mark.parametrize(
    ("ask", "error"),
    [
        (replace(CHEQUE, received_on=NOW.date() + timedelta(days=2)), InvalidDate),
        (replace(CHEQUE, amount=12_500), None),  # the whole amount is fine
    ],
)
def test_a_payment_received_in_the_future_is_refused(ask: OfflinePaymentAsk, error: type | None) -> None:
    ledger = a_ledger(allow_partial=True)
    if error is None:
        assert record(ledger, ask).invoice.status is InvoiceStatus.PAID
        return
    with pytest.raises(error):
        record(ledger, ask)
    assert ledger.get_invoice_payments("inv_1") == [] and ledger.outbox_messages() == []


def test_nothing_is_recorded_on_a_void_invoice_or_one_an_installment_plan_pays() -> None:
    for invoice in ({"status": InvoiceStatus.VOID}, {"active_plan": "plan_1"}):
        ledger = a_ledger(**invoice)
        with pytest.raises(InvalidStateTransition):
            record(ledger)
        assert ledger.get_invoice_payments("inv_1") == []


def test_recording_a_payment_expires_the_session_open_for_the_old_remainder() -> None:
    ledger, gateway = a_ledger(allow_partial=True), FakeGateway()
    session = with_open_session(ledger, gateway)

    record(ledger, gateway=gateway)

    assert gateway.expire_requests == [session] and gateway.session_status[session] == "expired"
    slot = ledger.get_open_checkout("inv_1")
    assert slot is not None and slot.current is None and slot.version == 2


def test_the_same_key_with_another_body_is_refused() -> None:
    ledger, once = a_ledger(allow_partial=True), InMemoryRunOnce()
    record(ledger, once=once)

    with pytest.raises(FingerprintMismatch):
        record(ledger, replace(CHEQUE, amount=6_000), once=once)


# ----- reversal ----------------------------------------------------------------------------------------------


def test_a_bounced_cheque_is_owed_again_dunning_resumes_and_the_customer_is_told() -> None:
    ledger = a_ledger()
    paid = record(ledger, replace(CHEQUE, amount=12_500))
    assert paid.invoice.next_action_at is None

    made = reverse(ledger, paid.payment.key)

    assert made.invoice.status is InvoiceStatus.OPEN and made.invoice.amount_remaining == 12_500
    assert made.invoice.next_action_at is not None  # the dunning run looks at it again
    assert made.payment.state == "reversed" and made.payment.offline is not None
    assert made.payment.offline.reversal_reason == "cheque bounced"
    assert EventName.PAYMENT_REVERSED in names(ledger)
    text = delivered(ledger, the(ledger, PaymentReversedEmail))
    assert "Cheque, reference 1234" in text and "Remaining balance: US$125.00" in text and "/pay/" in text
    assert ledger.audit_actions("inv_1")[-1] == "payment.reversed" and ledger.audit[-1].actor == f"operator:{OPS}"


def test_a_reversal_is_made_once_and_a_second_one_is_refused() -> None:
    ledger, once = a_ledger(), InMemoryRunOnce()
    paid = record(ledger, replace(CHEQUE, amount=12_500))

    first = reverse(ledger, paid.payment.key, once=once)
    again = reverse(ledger, paid.payment.key, once=InMemoryRunOnce())  # the same key, its record lost

    assert again.invoice == first.invoice and first.invoice.amount_paid == 0
    with pytest.raises(PaymentAlreadyReversed):
        reverse(ledger, paid.payment.key, key="another")


def test_a_stripe_payment_is_refunded_not_reversed_and_an_offline_one_is_not_refunded() -> None:
    ledger = a_ledger(allow_partial=True)
    ledger.commit(Change(payment=a_payment(amount=2_000)))
    offline = record(ledger)

    with pytest.raises(PaymentNotOffline):
        reverse(ledger, "pi_1")
    ask = RefundAsk(amount=None, reason="requested_by_customer", reopen_balance=False)
    with pytest.raises(OfflinePaymentNotRefundable):
        refund_payment_once(
            ledger,
            FakeGateway(),
            CLOCK,
            InMemoryRunOnce(),
            offline.payment.key,
            ask,
            key="x",
            fingerprint={},
            actor=OPS,
        )


# ----- credit notes ------------------------------------------------------------------------------------------


def test_a_credit_note_lowers_what_is_owed_and_the_customer_gets_the_corrected_amount() -> None:
    ledger = a_ledger()

    credit(ledger, 2_500)

    invoice = ledger.invoices["inv_1"]
    assert (invoice.amount_due, invoice.amount_remaining, invoice.amount_original) == (10_000, 10_000, 12_500)
    assert [n.amount for n in invoice.credit_notes] == [2_500] and invoice.next_action_at is not None
    assert names(ledger) == [EventName.INVOICE_CREDITED, "invoice_corrected"]
    text = delivered(ledger, the(ledger, InvoiceCorrectedEmail))
    assert "Amount before: US$125.00" in text and "Corrected amount: US$100.00" in text and "/pay/" in text
    [audit] = ledger.audit
    assert audit.details["amount_due"] == {"from": 12_500, "to": 10_000} and audit.actor == f"operator:{OPS}"


def test_a_credit_note_that_settles_the_invoice_stops_dunning() -> None:
    ledger = a_ledger(allow_partial=True)
    record(ledger)

    credit(ledger, 7_500)

    invoice = ledger.invoices["inv_1"]
    assert invoice.status is InvoiceStatus.PAID and invoice.next_action_at is None and invoice.amount_credit == 0
    assert "Nothing more is owed" in delivered(ledger, the(ledger, InvoiceCorrectedEmail))


def test_a_credit_note_for_more_than_is_owed_is_refused_and_changes_nothing() -> None:
    ledger = a_ledger(allow_partial=True)
    record(ledger)

    with pytest.raises(CreditExceedsRemaining):
        credit(ledger, 7_501)

    assert ledger.invoices["inv_1"].amount_due == 12_500 and ledger.audit_actions() == ["payment.recorded"]


def test_a_credit_note_is_issued_once_per_key() -> None:
    ledger = a_ledger()
    credit(ledger, 1_000, key="same")
    credit(ledger, 1_000, key="same")  # a retry whose Powertools record is gone

    assert ledger.invoices["inv_1"].amount_due == 11_500


def test_a_credit_note_expires_the_open_session_but_waits_for_a_completed_one() -> None:
    ledger, gateway = a_ledger(), FakeGateway()
    session = with_open_session(ledger, gateway)
    gateway.pay(session)

    with pytest.raises(PaymentInProgress):
        credit(ledger, 1_000, gateway=gateway)
    assert ledger.invoices["inv_1"].amount_due == 12_500

    gateway.session_status[session] = "open"
    credit(ledger, 1_000, gateway=gateway)
    assert gateway.session_status[session] == "expired" and ledger.open_checkouts["inv_1"].current is None


# ----- PATCH -----------------------------------------------------------------------------------------------


def correct(ledger: InMemoryLedger, correction: InvoiceCorrection, gateway: FakeGateway | None = None) -> None:
    correct_invoice(ledger, gateway or FakeGateway(), CLOCK, "inv_1", correction, actor=OPS)


def test_a_corrected_amount_tells_the_customer_and_expires_the_old_session() -> None:
    ledger, gateway = a_ledger(), FakeGateway()
    session = with_open_session(ledger, gateway)

    correct(ledger, InvoiceCorrection(amount_due=11_000, description="Consulting, November (corrected)"), gateway)

    invoice = ledger.invoices["inv_1"]
    assert invoice.amount_due == 11_000 and invoice.description.endswith("(corrected)") and invoice.version == 2
    assert gateway.session_status[session] == "expired"
    assert names(ledger) == ["invoice_corrected", EventName.INVOICE_CORRECTED]
    [audit] = ledger.audit
    assert audit.details["changes"]["amount_due"] == {"from": 12_500, "to": 11_000}


def test_the_amount_cannot_change_once_something_is_paid() -> None:
    ledger = a_ledger(allow_partial=True)
    record(ledger)

    with pytest.raises(InvoiceHasPayments):
        correct(ledger, InvoiceCorrection(amount_due=10_000))


def test_a_new_due_date_re_plans_reminders_and_sends_no_email() -> None:
    ledger = a_ledger(reminders_sent=frozenset({"-7:upcoming"}))
    before = ledger.invoices["inv_1"].next_action_at

    correct(ledger, InvoiceCorrection(due_date=date(2027, 2, 15)))

    invoice = ledger.invoices["inv_1"]
    assert invoice.due_date == date(2027, 2, 15) and invoice.next_action_at != before
    assert invoice.next_action_at is not None and invoice.next_action_at.date() >= date(2027, 2, 1)
    assert "-7:upcoming" not in invoice.reminders_sent  # its day under the new date has not come
    assert names(ledger) == [EventName.INVOICE_CORRECTED]


def test_sending_what_the_invoice_already_says_changes_nothing() -> None:
    ledger = a_ledger()
    commits = ledger.commits

    correct(ledger, InvoiceCorrection(amount_due=12_500, description="Consulting, November"))

    assert ledger.commits == commits and ledger.outbox_messages() == []


def test_voiding_tells_the_customer_it_is_cancelled() -> None:
    ledger = a_ledger()

    void_invoice(ledger, CLOCK, "inv_1", actor=OPS)

    [message] = [m for m in ledger.outbox_messages() if not isinstance(m.body, Event)]
    assert "is cancelled" in delivered(ledger, message)


# ----- pay links -----------------------------------------------------------------------------------------------


def test_revoking_kills_every_link_minted_before_and_not_the_ones_after() -> None:
    ledger, gateway = a_ledger(), FakeGateway()
    old = [new_pay_link(ledger, CLOCK, ledger.invoices["inv_1"], ttl_days=30) for _ in range(3)]
    session = with_open_session(ledger, gateway)

    revoke_pay_links(ledger, gateway, CLOCK, "inv_1", actor=OPS)
    fresh = new_pay_link(ledger, CLOCK, ledger.invoices["inv_1"], ttl_days=30)

    for issued in old:
        with pytest.raises(PayLinkInvalid):
            open_pay_link(ledger, CLOCK, issued.token)
    assert open_pay_link(ledger, CLOCK, fresh.token).invoice.id == "inv_1"
    assert gateway.session_status[session] == "expired"  # nobody pays through a session a dead link opened
    assert names(ledger) == [EventName.INVOICE_PAY_LINKS_REVOKED]
    assert ledger.audit_actions() == ["invoice.pay_links_revoked"]


def test_a_fresh_link_is_emailed_once_per_key() -> None:
    ledger, once = a_ledger(), InMemoryRunOnce()

    def issue() -> str:
        issued = issue_pay_link_once(
            ledger, CLOCK, once, "inv_1", send=True, key="k", fingerprint={"send": True}, actor=OPS, ttl_days=30
        )
        assert issued.sent
        return issued.link.token

    first, second = issue(), issue()

    assert first != second  # tokens are never stored: a replay gets a fresh link of its own
    assert [m.name for m in ledger.outbox_messages()] == [InvoiceIssuedEmail.template]
    assert ledger.audit_actions() == ["invoice.pay_link_issued"]


def test_the_new_emails_survive_their_stored_form() -> None:
    for body in (
        InvoiceCorrectedEmail("inv_1", 12_500, 10_000, "cn_1"),
        InvoiceCorrectedEmail("inv_1", 12_500, 10_000),
        PaymentReversedEmail("inv_1", "off_1", 5_000),
    ):
        assert decode(*encode(body)) == body


# ----- found in review: each of these left the ledger saying something other than what is owed -----------


def test_a_bounced_cheque_whose_credit_was_refunded_is_owed_again_in_full() -> None:
    # Given inv_1 paid by card and by a cheque, and the card refunded as credit (the cheque seemed to cover it)
    ledger = a_ledger()
    ledger.commit(Change(payment=a_payment(amount=12_500)))
    ledger.commit(Change(invoice_update=ledger.invoices["inv_1"].with_payment(12_500)))
    cheque = record(ledger, replace(CHEQUE, amount=12_500))
    refund_payment_once(
        ledger, FakeGateway(), CLOCK, InMemoryRunOnce(), "pi_1",
        RefundAsk(amount=None, reason="duplicate", reopen_balance=False), key="rf", fingerprint={}, actor=OPS,
    )  # fmt: skip
    assert ledger.invoices["inv_1"].status is InvoiceStatus.PAID

    # When the cheque bounces
    invoice = reverse(ledger, cheque.payment.key).invoice

    # Then nothing was received in the end: the whole amount is owed, and dunning picks it up
    assert (invoice.status, invoice.amount_remaining) == (InvoiceStatus.OPEN, 12_500)
    assert invoice.next_action_at is not None


def test_a_bounced_cheque_that_only_overpaid_leaves_the_invoice_settled() -> None:
    # Given inv_1 paid by card and, once more, by cheque: 125.00 of credit, none of it refunded
    ledger = a_ledger()
    ledger.commit(Change(payment=a_payment(amount=12_500)))
    ledger.commit(Change(invoice_update=ledger.invoices["inv_1"].with_payment(12_500)))
    cheque = record(ledger, replace(CHEQUE, amount=12_500))

    # When the cheque bounces, the card still pays it
    invoice = reverse(ledger, cheque.payment.key).invoice
    assert (invoice.status, invoice.amount_remaining, invoice.amount_credit) == (InvoiceStatus.PAID, 0, 0)
    assert invoice.amount_reopened == 0


def test_a_cheque_bouncing_during_a_hold_is_chased_when_the_hold_ends() -> None:
    # Given inv_1 on hold for five days, and paid in full by cheque meanwhile (nothing left to chase)
    until = NOW + timedelta(days=5)
    ledger = a_ledger()
    held = ledger.invoices["inv_1"]
    ledger.commit(
        Change(
            invoice_update=replace(
                held, hold=Hold(reason="disputing a line", until=until), next_action_at=until, version=held.version + 1
            )
        )
    )
    cheque = record(ledger, replace(CHEQUE, amount=12_500))
    assert ledger.invoices["inv_1"].next_action_at is None

    # When it bounces while the hold still runs
    invoice = reverse(ledger, cheque.payment.key).invoice

    # Then the invoice is looked at again when the hold ends, not never
    assert (invoice.status, invoice.next_action_at) == (InvoiceStatus.OPEN, until)


def test_raising_the_amount_of_an_invoice_a_credit_note_settled_makes_it_owed_and_chased() -> None:
    # Given inv_1 settled by a credit note for all of it
    ledger = a_ledger()
    credit(ledger, 12_500)
    assert ledger.invoices["inv_1"].status is InvoiceStatus.PAID

    # When the operator corrects the amount up
    correct_invoice(ledger, FakeGateway(), CLOCK, "inv_1", InvoiceCorrection(amount_due=20_000), actor=OPS)

    # Then it is owed, payable and in dunning again
    invoice = ledger.invoices["inv_1"]
    assert (invoice.status, invoice.amount_remaining) == (InvoiceStatus.OPEN, 20_000)
    assert invoice.accepts_payment and invoice.next_action_at is not None


def test_the_offline_payment_events_carry_no_reference() -> None:
    ledger = a_ledger()
    record(ledger, replace(CHEQUE, reference="transfer from J. Smith, acct 1234"))
    details = [m.body.detail for m in ledger.outbox_messages() if isinstance(m.body, Event)]
    assert details and all("J. Smith" not in str(detail) for detail in details)
