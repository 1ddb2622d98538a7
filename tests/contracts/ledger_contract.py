"""The Ledger and OutboxStore contract, written once and run against every implementation.

A test class subclasses LedgerContract and provides a `ledger` fixture (a fresh, empty ledger per test) and
`refused_request`, what the implementation raises for a change no transaction may hold (DynamoDB: a
ValidationException; in memory: ValueError). tests/unit/test_ledger_contract.py runs it over InMemoryLedger,
tests/integration/test_ledger_contract.py over DynamoLedger and moto.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar, Protocol

import pytest

from shared import schema
from shared.domain.dunning import DunningPolicy, DunningStep, LateFee, policy_revision
from shared.domain.invoices import CreditNote, Hold, InvoiceStatus, LateFeeLine, PaymentStatus
from shared.domain.messages import EventName
from shared.domain.plans import Frequency, PlanOffer
from shared.domain.records import (
    CHECKOUT_EXPIRY_GRACE,
    FEE_LOOKUP_AFTER,
    PENDING_PAYMENT_EXPECTED,
    REMINDER_CHANNEL_EMAIL,
    REMINDER_LINE_GRACE,
    Allocation,
    AuditSubject,
    Autopay,
    CombinedCheckout,
    Customer,
    Dispute,
    DisputeStatus,
    Drift,
    EmailUndeliverable,
    Installment,
    InstallmentStatus,
    OfflineMethod,
    OfflineReceipt,
    OpenCheckout,
    PayTogetherLink,
    PlanKind,
    PlanStatus,
    ReconcileCursor,
    RecurringStatus,
    Refund,
    RefundStatus,
    ReminderAttribution,
    ReminderLine,
    ReminderOpening,
    ReturnKind,
)
from shared.services.ports import (
    Change,
    ChangeRejected,
    Claim,
    CustomerListing,
    InvalidCursor,
    InvoiceListing,
    Ledger,
    LostDispute,
    OutboxBusy,
    OutboxStore,
    Page,
    PaymentListing,
    PolicyReplacement,
    Rejection,
    ReturnListing,
    Tally,
)
from tests.fakes.records import (
    A_FEE,
    NOW,
    a_checkout,
    a_customer,
    a_dispute,
    a_message,
    a_pay_link,
    a_payment,
    a_plan,
    a_recurring,
    an_audit_entry,
    an_event,
    an_invoice,
)

SHARD = 3


class LedgerUnderTest(Ledger, OutboxStore, Protocol):
    def open_balances(self) -> dict[str, tuple[int, int]]: ...


# ----- helpers ---------------------------------------------------------------------------------------------


def ids_in_shard(prefix: str, shard: int, count: int) -> list[str]:
    """Ids that the due_work index puts in `shard`."""
    candidates = (f"{prefix}_{n:04d}" for n in itertools.count())
    return list(itertools.islice((i for i in candidates if schema.shard_of(i, schema.DUE_WORK_SHARDS) == shard), count))


def every_page(read: Any, limit: int) -> list[Page]:
    """Every page of a listing, following its cursors; `read(limit, cursor)` reads one."""
    pages = [read(limit, None)]
    while pages[-1].next_cursor:
        pages.append(read(limit, pages[-1].next_cursor))
        assert len(pages) < 100, "the cursors go round in circles"
    return pages


def walked(read: Any, limit: int) -> list[Any]:
    pages = every_page(read, limit)
    assert all(len(p.items) <= limit for p in pages)
    return [item for page in pages for item in page.items]


def a_refund(refund_id: str, status: RefundStatus = RefundStatus.SUCCEEDED, *, reopens_balance: bool = False) -> Refund:
    return Refund(
        refund_id, 2_000, status, reopens_balance, "requested_by_customer", NOW, request_ref=f"rfq_{refund_id}"
    )


def rejection(ledger: LedgerUnderTest, change: Change) -> Rejection:
    with pytest.raises(ChangeRejected) as rejected:
        ledger.commit(change)
    return rejected.value.reason


# ----- the contract ------------------------------------------------------------------------------------------


class LedgerContract:
    refused_request: ClassVar[type[Exception] | tuple[type[Exception], ...]]

    # -- each Change field round-trips through commit and the reads

    def test_a_customer_reads_back_as_committed(self, ledger: LedgerUnderTest) -> None:
        # Given a customer with everything a customer can carry
        customer = a_customer(
            external_id="crm-7",
            stripe_customer_id="cus_stripe_1",
            hold=Hold("disputed by phone", NOW + timedelta(days=3)),
            email_undeliverable=EmailUndeliverable("bounce", NOW, "General"),
            autopay=Autopay(NOW),
        )
        # When it is committed
        ledger.commit(Change(new_customer=customer))
        # Then each read returns it as it was
        assert ledger.get_customer("cus_1") == customer
        assert ledger.get_invoice_and_customer("inv_none", "cus_1") == (None, customer)

    def test_customers_are_read_many_at_a_time_each_once(self, ledger: LedgerUnderTest) -> None:
        # Given 150 customers (more than one BatchGetItem holds)
        ids = [f"cus_{n:03d}" for n in range(150)]
        for customer_id in ids:
            ledger.commit(Change(new_customer=a_customer(customer_id)))
        # When they are read with ids repeated and unknown; Then each known one is there, once, as committed
        found = ledger.get_customers([*ids, "cus_000", "cus_unknown"])
        assert sorted(found) == ids
        assert found["cus_149"] == ledger.get_customer("cus_149")

    def test_a_customer_update_replaces_the_customer(self, ledger: LedgerUnderTest) -> None:
        # Given a customer; When it is updated twice, each time over the version read
        ledger.commit(Change(new_customer=a_customer()))
        held = replace(a_customer(), hold=Hold("asked to wait"), version=1)
        ledger.commit(Change(customer_update=held))
        again = replace(held, hold=None, version=2)
        ledger.commit(Change(customer_update=again))

        # Then the last update is what reads back
        assert ledger.get_customer("cus_1") == again

    def test_an_erased_or_restricted_customer_reads_back_as_committed(self, ledger: LedgerUnderTest) -> None:
        customer = a_customer(erased_at=NOW, restricted_at=NOW - timedelta(days=1), stripe_push_pending=True)
        ledger.commit(Change(new_customer=customer))
        assert ledger.get_customer("cus_1") == customer

    def test_a_claimed_external_id_is_the_customers_until_released(self, ledger: LedgerUnderTest) -> None:
        # Given two customers, one holding crm-1
        ledger.commit(Change(new_customer=a_customer(external_id="crm-1")))
        ledger.commit(Change(new_customer=a_customer("cus_2")))
        # When the second claims crm-1; Then it is refused, and nothing of the change is written
        taken = replace(a_customer("cus_2", external_id="crm-1"), version=1)
        assert rejection(ledger, Change(customer_update=taken, claimed_external_id=taken)) == (
            Rejection.DUPLICATE_EXTERNAL_ID
        )
        assert ledger.get_customer("cus_2") == a_customer("cus_2")
        # When another customer's release of it is asked, it stays; the holder's frees it for a new claim
        ledger.release_external_id("crm-1", "cus_2")
        assert ledger.customer_by_external_id("crm-1") == a_customer(external_id="crm-1")
        ledger.release_external_id("crm-1", "cus_1")
        ledger.release_external_id("crm-1", "cus_1")  # a repeat is harmless
        ledger.commit(Change(customer_update=taken, claimed_external_id=taken))
        assert ledger.customer_by_external_id("crm-1") == taken

    def test_redacting_audit_entries_rewrites_their_details_only(self, ledger: LedgerUnderTest) -> None:
        # Given an entry on a customer's trail with a note
        entry = replace(an_audit_entry("customer.note_added"), subject=AuditSubject.CUSTOMER, subject_id="cus_1")
        entry = replace(entry, details={"note": "call Ada after five"})
        ledger.commit(Change(new_customer=a_customer(), audit=[entry]))
        # When its details are redacted (and an entry never stored is asked too)
        ghost = replace(entry, id="aud_ghost")
        ledger.redact_audit([replace(entry, details={"note": "[erased]"}), replace(ghost, details={})])
        # Then the trail shows the entry with the new details, the rest as it was, and no ghost
        [shown] = ledger.list_audit(AuditSubject.CUSTOMER, "cus_1", 10, None).items
        assert shown == replace(entry, details={"note": "[erased]"})

    def test_a_customers_recurring_charges_list_oldest_first(self, ledger: LedgerUnderTest) -> None:
        for n, minutes in enumerate((2, 0, 1)):
            ledger.commit(Change(new_recurring=a_recurring(f"rec_{n}", created_at=NOW + timedelta(minutes=minutes))))
        ledger.commit(Change(new_recurring=a_recurring("rec_other", customer_id="cus_2")))
        for limit in (1, 2, 5):
            listed = walked(lambda lim, cur: ledger.list_customer_recurring("cus_1", lim, cur), limit)
            assert [r.id for r in listed] == ["rec_1", "rec_2", "rec_0"], limit

    def test_an_invoice_reads_back_as_committed(self, ledger: LedgerUnderTest) -> None:
        # Given an invoice with every optional field set
        invoice = an_invoice(
            amount_due=13_000,
            amount_paid=4_000,
            status=InvoiceStatus.PARTIALLY_PAID,
            allow_partial=True,
            min_partial_amount=1_000,
            customer_timezone="Europe/London",
            reminders_sent=frozenset({"before_due", "on_due"}),
            next_action_at=NOW + timedelta(days=2),
            hold=Hold("promised", NOW + timedelta(days=5)),
            late_fees=(LateFeeLine("overdue_7", 500),),
            promised_at=NOW,
            open_disputes=frozenset({"dp_1"}),
            plan_offer=PlanOffer(6, 1_000, (Frequency.WEEKLY, Frequency.MONTHLY)),
            active_plan="plan_1",
            amount_refunded=3_000,
            amount_reopened=1_000,
        )
        ledger.commit(Change(new_customer=a_customer(), new_invoice=invoice))

        assert ledger.get_invoice("inv_1") == invoice
        assert ledger.get_invoice_and_customer("inv_1", "cus_1") == (invoice, a_customer())
        assert ledger.get_payment_context("inv_1", None, None).invoice == invoice

    def test_an_invoice_update_replaces_the_invoice(self, ledger: LedgerUnderTest) -> None:
        # Given an open invoice with a reminder due
        ledger.commit(Change(new_invoice=an_invoice(next_action_at=NOW)))
        paid = an_invoice(amount_paid=12_500, status=InvoiceStatus.PAID, version=2)

        # When it is updated as paid
        ledger.commit(Change(invoice_update=paid))

        # Then it reads back paid, with no reminder left
        assert ledger.get_invoice("inv_1") == paid

    def test_a_pay_link_reads_back_by_its_hash(self, ledger: LedgerUnderTest) -> None:
        # Given a pay link committed; Then it reads back by its token's hash, and only by it
        ledger.commit(Change(pay_link=a_pay_link()))

        assert ledger.get_pay_link("a" * 64) == a_pay_link()
        assert ledger.get_pay_link("b" * 64) is None

    def test_a_reminders_attribution_reads_back_on_its_link_session_and_payment(self, ledger: LedgerUnderTest) -> None:
        # Given a reminder's pay link, a Checkout Session opened through it and the payment it took
        sent = ReminderAttribution("7:overdue", "overdue", REMINDER_CHANNEL_EMAIL, NOW)
        link, attempt = replace(a_pay_link(), reminder=sent), replace(a_checkout(), reminder=sent)
        payment = replace(a_payment(), reminder=sent)
        ledger.commit(Change(pay_link=link, checkout=attempt, payment=payment))
        # Then each reads back naming the reminder
        assert ledger.get_pay_link(link.token_hash) == link
        assert ledger.get_checkout("inv_1", "chk_1") == attempt
        assert ledger.get_invoice_payments("inv_1") == [payment]

    def test_a_pay_links_first_opening_is_written_once(self, ledger: LedgerUnderTest) -> None:
        # Given a reminder's pay link, not yet opened
        sent = ReminderAttribution("7:overdue", "overdue", REMINDER_CHANNEL_EMAIL, NOW)
        link = replace(a_pay_link(), reminder=sent)
        ledger.commit(Change(pay_link=link))
        opened = replace(link, opened_at=NOW + timedelta(hours=1))
        # When its opening is recorded, Then it reads back opened
        ledger.commit(Change(pay_link_opened=opened, audit=[replace(an_audit_entry(), id="aud_1")]))
        assert ledger.get_pay_link(link.token_hash) == opened
        # When another opening is recorded (a second tab that read it unopened), Then it is refused, whole
        with pytest.raises(ChangeRejected) as refused:
            later = replace(link, opened_at=NOW + timedelta(hours=2))
            ledger.commit(Change(pay_link_opened=later, audit=[replace(an_audit_entry(), id="aud_2")]))
        assert refused.value.reason is Rejection.ALREADY_OPENED
        assert ledger.get_pay_link(link.token_hash) == opened
        assert [e.id for e in ledger.list_audit(AuditSubject.INVOICE, "inv_1", 10, None).items] == ["aud_1"]
        # And a link that was never stored is not created by an opening
        with pytest.raises(ChangeRejected) as unknown:
            ledger.commit(Change(pay_link_opened=replace(opened, token_hash="b" * 64)))
        assert unknown.value.reason is Rejection.ALREADY_OPENED
        assert ledger.get_pay_link("b" * 64) is None

    def test_a_reminders_first_opening_is_written_once_whichever_of_its_links(self, ledger: LedgerUnderTest) -> None:
        # Given two links minted for one reminder (its email delivered twice), and one for another reminder
        sent = ReminderAttribution("7:overdue", "overdue", REMINDER_CHANNEL_EMAIL, NOW)
        later = ReminderAttribution("14:overdue", "overdue", REMINDER_CHANNEL_EMAIL, NOW + timedelta(days=7))
        first, second, other = (
            replace(a_pay_link(), token_hash=c * 64, reminder=r) for c, r in (("a", sent), ("b", sent), ("c", later))
        )
        ledger.commit(Change(pay_link=first))
        ledger.commit(Change(pay_link=second))
        ledger.commit(Change(pay_link=other))
        opened_at = NOW + timedelta(hours=1)
        tally = Tally("reminders", "bucket", {"opened": 1})
        # When the first link's opening counts the reminder's
        ledger.commit(
            Change(
                pay_link_opened=replace(first, opened_at=opened_at),
                reminder_opening=ReminderOpening("inv_1", sent, opened_at),
                tallies=[tally],
            )
        )
        # Then the second link's opening may not count it again: refused whole, counter and link unmoved
        with pytest.raises(ChangeRejected) as refused:
            ledger.commit(
                Change(
                    pay_link_opened=replace(second, opened_at=opened_at + timedelta(hours=1)),
                    reminder_opening=ReminderOpening("inv_1", sent, opened_at + timedelta(hours=1)),
                    tallies=[tally],
                )
            )
        assert refused.value.reason is Rejection.REMINDER_OPENED
        assert ledger.read_tallies("reminders", buckets=["bucket"]) == {"bucket": {"opened": 1}}
        stored_second = ledger.get_pay_link(second.token_hash)
        assert stored_second is not None and stored_second.opened_at is None
        # And another reminder of the same invoice counts its own opening
        ledger.commit(
            Change(
                pay_link_opened=replace(other, opened_at=opened_at),
                reminder_opening=ReminderOpening("inv_1", later, opened_at),
                tallies=[tally],
            )
        )
        assert ledger.read_tallies("reminders", buckets=["bucket"]) == {"bucket": {"opened": 2}}

    def test_a_checkout_reads_back_and_the_same_session_may_be_recorded_again(self, ledger: LedgerUnderTest) -> None:
        # Given a checkout attempt, When the same one is recorded again (a retried pay page)
        ledger.commit(Change(checkout=a_checkout()))
        ledger.commit(Change(checkout=a_checkout()))

        # Then it reads back once, by its ref
        assert ledger.get_checkout("inv_1", "chk_1") == a_checkout()
        assert ledger.get_payment_context("inv_1", "chk_1", None).checkout == a_checkout()
        assert ledger.get_checkout("inv_1", "chk_other") is None

    def test_an_attempt_with_what_it_became_reads_back_with_its_invoice_in_one_state(
        self, ledger: LedgerUnderTest
    ) -> None:
        opened = replace(a_checkout(), opened_as=1, expires_at=NOW + timedelta(hours=24))
        ledger.commit(Change(new_invoice=an_invoice(), checkout=opened))
        paid = replace(opened, payment_status=PaymentStatus.SUCCEEDED)
        ledger.commit(Change(invoice_update=an_invoice().with_payment(12_500), checkout=paid))

        invoice, attempt = ledger.get_checkout_outcome("inv_1", "chk_1")
        assert attempt == paid and invoice is not None and invoice.status is InvoiceStatus.PAID
        assert ledger.get_checkout_outcome("inv_1", "chk_other") == (invoice, None)
        assert ledger.get_checkout_outcome("inv_other", "chk_1") == (None, None)

    def test_the_open_checkout_reads_back_and_moves_one_version_at_a_time(self, ledger: LedgerUnderTest) -> None:
        first = replace(a_checkout(), opened_as=1, expires_at=NOW + timedelta(hours=24))
        second = replace(a_checkout("chk_2", "cs_2"), opened_as=2, expires_at=NOW + timedelta(hours=25))
        assert ledger.get_open_checkout("inv_1") is None
        assert rejection(ledger, Change(open_checkout=OpenCheckout("inv_1", 2, first))) == Rejection.STALE_OPEN_CHECKOUT
        ledger.commit(Change(open_checkout=OpenCheckout("inv_1", 1, first, "pay:12500")))
        assert (
            rejection(ledger, Change(open_checkout=OpenCheckout("inv_1", 1, second))) == Rejection.STALE_OPEN_CHECKOUT
        )
        ledger.commit(Change(checkout=second, open_checkout=OpenCheckout("inv_1", 2, second, "pay:6000")))
        assert ledger.get_open_checkout("inv_1") == OpenCheckout("inv_1", 2, second, "pay:6000")
        assert ledger.get_payment_context("inv_1", "chk_2", None).open_checkout == OpenCheckout(
            "inv_1", 2, second, "pay:6000"
        )
        ledger.commit(Change(open_checkout=OpenCheckout("inv_1", 3)))  # closed: nothing payable
        assert ledger.get_open_checkout("inv_1") == OpenCheckout("inv_1", 3)

    def test_a_payment_reads_back_with_its_payment_intent(self, ledger: LedgerUnderTest) -> None:
        # Given a pending bank debit
        ledger.commit(Change(new_invoice=an_invoice(), checkout=a_checkout()))
        ledger.commit(Change(payment=a_payment(status=PaymentStatus.PENDING)))
        succeeded = a_payment(updated_at=NOW + timedelta(days=3))

        # When it succeeds
        ledger.commit(Change(payment=succeeded))

        # Then the payment, its context and the PaymentIntent's invoice read back
        context = ledger.get_payment_context("inv_1", "chk_1", "pi_1")
        assert (context.invoice, context.checkout, context.payment, context.plan) == (
            an_invoice(),
            a_checkout(),
            succeeded,
            None,
        )
        assert ledger.get_invoice_payments("inv_1") == [succeeded]
        assert ledger.invoice_for_payment_intent("pi_1") == "inv_1"
        assert ledger.invoice_for_payment_intent("pi_unknown") is None

    def test_a_payment_without_a_payment_intent_has_no_lookup(self, ledger: LedgerUnderTest) -> None:
        # Given a payment Stripe gave no PaymentIntent for (keyed by its session)
        ledger.commit(Change(payment=a_payment(key="cs_1", payment_intent_id=None)))

        # Then it reads back by its key, and no PaymentIntent leads to it

        assert ledger.get_payment_context("inv_1", None, "cs_1").payment == a_payment(
            key="cs_1", payment_intent_id=None
        )
        assert ledger.invoice_for_payment_intent("None") is None

    def test_a_combined_payment_reads_back_with_an_attempt_per_invoice(self, ledger: LedgerUnderTest) -> None:
        # Given a session paying two invoices, opened, then opened again (a retry of the same request)
        sent = ReminderAttribution("7:overdue", "overdue", REMINDER_CHANNEL_EMAIL, NOW)
        combined = CombinedCheckout(
            ref="cmb_1",
            customer_id="cus_1",
            currency="USD",
            allocations=(Allocation("inv_1", "N-1", 12_500, sent), Allocation("inv_2", "N-2", 3_000)),
            session_id="cs_c",
            created_at=NOW,
            url="https://checkout.example.test/c",
            expires_at=NOW + timedelta(hours=24),
        )
        ledger.commit(Change(combined_checkout=combined))
        ledger.commit(Change(combined_checkout=combined))

        # Then it reads back, and each invoice has its attempt for its share under the same ref
        assert ledger.get_combined_checkout("cmb_1") == combined
        assert ledger.get_combined_checkout("cmb_other") is None
        assert ledger.get_checkout("inv_2", "cmb_1") == combined.attempts()[1]
        assert ledger.get_payment_context("inv_1", "cmb_1", None).checkout == combined.attempts()[0]
        # And another session under the same ref is refused
        assert rejection(ledger, Change(combined_checkout=replace(combined, session_id="cs_x"))) == (
            Rejection.COMBINED_CONFLICT
        )

        # When its outcome is written over the version read; Then a stale one, or opening it again, is refused
        paid = replace(combined, payment_status=PaymentStatus.SUCCEEDED, payment_intent_id="pi_c", version=1)
        ledger.commit(Change(combined_checkout=paid))
        assert ledger.get_combined_checkout("cmb_1") == paid
        assert rejection(ledger, Change(combined_checkout=paid)) == Rejection.STALE_COMBINED
        assert rejection(ledger, Change(combined_checkout=combined)) == Rejection.COMBINED_CONFLICT

    def test_a_combined_payments_shares_name_their_invoices_and_its_intent_the_payment(
        self, ledger: LedgerUnderTest
    ) -> None:
        # Given two invoices' shares of one PaymentIntent
        for invoice_id, key in (("inv_1", "cpay_1"), ("inv_2", "cpay_2")):
            share = a_payment(key=key, invoice_id=invoice_id, payment_intent_id="pi_c", combined_ref="cmb_1")
            ledger.commit(Change(payment=share))

        # Then each share's id names its invoice, and the PaymentIntent the combined payment (no one invoice)
        assert ledger.invoice_for_payment_intent("cpay_1") == "inv_1"
        assert ledger.invoice_for_payment_intent("cpay_2") == "inv_2"
        assert ledger.invoice_for_payment_intent("pi_c") is None
        assert ledger.combined_for_payment_intent("pi_c") == "cmb_1"
        assert ledger.combined_for_payment_intent("pi_other") is None
        [read] = ledger.get_invoice_payments("inv_2")
        assert read.combined_ref == "cmb_1" and read.payment_intent_id == "pi_c"

    def test_reminder_lines_wait_until_emailed_once_and_a_dead_runs_are_due_after_their_grace(
        self, ledger: LedgerUnderTest
    ) -> None:
        # Given two reminders a run sent one customer, and one to another
        sent = ReminderAttribution("+7:overdue", "overdue", REMINDER_CHANNEL_EMAIL, NOW)
        lines = [ReminderLine("cus_1", "inv_2", sent), ReminderLine("cus_1", "inv_1", sent)]
        ledger.commit(Change(reminder_lines=[*lines, ReminderLine("cus_2", "inv_3", sent)]))
        assert rejection(ledger, Change(reminder_lines=[lines[0]])) == Rejection.EXISTS

        # Then the customer's read back, oldest first then by invoice, and are due for the sweep after the grace
        assert ledger.pending_reminder_lines("cus_1") == sorted(lines, key=lambda line: line.invoice_id)
        due = [
            item
            for shard in range(schema.DUE_WORK_SHARDS)
            for item in ledger.reminder_lines_due(shard, NOW + REMINDER_LINE_GRACE, 10, None).items
        ]
        assert sorted((line.customer_id, line.invoice_id) for line in due) == [
            ("cus_1", "inv_1"), ("cus_1", "inv_2"), ("cus_2", "inv_3"),
        ]  # fmt: skip
        early = [ledger.reminder_lines_due(s, NOW, 10, None).items for s in range(schema.DUE_WORK_SHARDS)]
        assert early == [[]] * schema.DUE_WORK_SHARDS

        # When they are emailed; Then once only, and they are neither pending nor due any more
        emailed = [replace(line, emailed=True) for line in lines]
        ledger.commit(Change(reminder_lines_emailed=emailed))
        assert rejection(ledger, Change(reminder_lines_emailed=emailed)) == Rejection.REMINDER_EMAILED
        assert ledger.pending_reminder_lines("cus_1") == []
        still = [
            item
            for shard in range(schema.DUE_WORK_SHARDS)
            for item in ledger.reminder_lines_due(shard, NOW + timedelta(days=1), 10, None).items
        ]
        assert [(line.customer_id, line.invoice_id) for line in still] == [("cus_2", "inv_3")]
        never = ReminderLine("cus_9", "inv_9", sent, emailed=True)
        assert rejection(ledger, Change(reminder_lines_emailed=[never])) == Rejection.REMINDER_EMAILED

    def test_a_pay_together_link_reads_back_by_its_hash_once(self, ledger: LedgerUnderTest) -> None:
        sent = ReminderAttribution("+7:overdue", "overdue", REMINDER_CHANNEL_EMAIL, NOW)
        link = PayTogetherLink(
            token_hash="b" * 64,
            customer_id="cus_1",
            invoice_ids=("inv_1", "inv_2"),
            generations=(0, 2),
            reminders=(sent, None),
            expires_at=NOW + timedelta(days=90),
            created_at=NOW,
        )
        ledger.commit(Change(pay_together_link=link))

        assert ledger.get_pay_together_link("b" * 64) == link
        assert ledger.get_pay_together_link("c" * 64) is None
        assert rejection(ledger, Change(pay_together_link=link)) == Rejection.EXISTS

    def test_a_plan_reads_back_and_updates(self, ledger: LedgerUnderTest) -> None:
        # Given an autopay plan; Then it reads back, alone or with its invoice
        plan = a_plan(kind=PlanKind.AUTOPAY, notice_sent=True)
        ledger.commit(Change(new_invoice=an_invoice(), new_plan=plan))
        assert ledger.get_plan("inv_1", "plan_1") == plan
        assert ledger.get_payment_context("inv_1", None, None, "plan_1").plan == plan

        # When it completes; Then the update reads back, under its own invoice only
        completed = replace(plan, status=PlanStatus.COMPLETED, next_action_at=None, version=2)
        ledger.commit(Change(plan_update=completed))

        assert ledger.get_plan("inv_1", "plan_1") == completed
        assert ledger.get_plan("inv_2", "plan_1") is None

    def test_a_recurring_charge_reads_back_and_updates(self, ledger: LedgerUnderTest) -> None:
        # Given a recurring charge; Then it reads back; When paused, Then the update reads back
        ledger.commit(Change(new_recurring=a_recurring()))
        assert ledger.get_recurring("rec_1") == a_recurring()

        paused = replace(a_recurring(), status=RecurringStatus.PAUSED, next_action_at=None, end_date=None, version=2)
        ledger.commit(Change(recurring_update=paused))

        assert ledger.get_recurring("rec_1") == paused

    def test_a_dispute_reads_back_with_its_invoice(self, ledger: LedgerUnderTest) -> None:
        # Given a dispute opened, When it is lost
        ledger.commit(Change(new_invoice=an_invoice(), dispute=a_dispute()))
        ledger.commit(Change(dispute=a_dispute(DisputeStatus.LOST)))

        # Then it reads back closed, with its invoice

        assert ledger.get_dispute_context("inv_1", "dp_1") == (an_invoice(), a_dispute(DisputeStatus.LOST))
        assert ledger.get_dispute_context("inv_1", "dp_2") == (an_invoice(), None)

    def test_the_dunning_policy_is_replaced_by_the_next(self, ledger: LedgerUnderTest) -> None:
        # Given no policy stored, When two are committed one after the other, Then the second is read
        assert ledger.get_dunning_policy() is None
        first = DunningPolicy(steps=(DunningStep(-3, "reminder_before"),))
        second = DunningPolicy(
            steps=(DunningStep(0, "due_today"), DunningStep(7, "overdue", LateFee(fixed=500)),
                   DunningStep(14, "overdue", LateFee(percent="1.5", cap=2_000))),
            window_start=time(8, 30),
            window_end=time(17, 0),
            mark_uncollectible_after_days=90,
            default_installments=PlanOffer(3, 2_000),
        )  # fmt: skip

        ledger.commit(Change(dunning_policy=first))
        ledger.commit(Change(dunning_policy=second))

        assert ledger.get_dunning_policy() == second

    def test_a_policy_replacement_is_written_only_over_the_revision_it_was_edited_from(
        self, ledger: LedgerUnderTest
    ) -> None:
        # Given a stored policy, and two edits of it
        stored = DunningPolicy(steps=(DunningStep(0, "due_today"),))
        ledger.commit(Change(dunning_policy=stored))
        mine = DunningPolicy(steps=(DunningStep(3, "overdue"),))
        theirs = DunningPolicy(steps=(DunningStep(7, "overdue"),))
        # When theirs is saved over the stored revision, Then it is in force
        ledger.commit(Change(dunning_policy_replacement=PolicyReplacement(theirs, policy_revision(stored))))
        assert ledger.get_dunning_policy() == theirs
        # When mine, edited from the same revision, is saved after it, Then it is refused and theirs stays
        with pytest.raises(ChangeRejected) as refused:
            ledger.commit(Change(dunning_policy_replacement=PolicyReplacement(mine, policy_revision(stored))))
        assert refused.value.reason is Rejection.STALE_POLICY
        assert ledger.get_dunning_policy() == theirs
        # And over the revision now stored, it is written
        ledger.commit(Change(dunning_policy_replacement=PolicyReplacement(mine, policy_revision(theirs))))
        assert ledger.get_dunning_policy() == mine

    def test_an_outbox_message_is_claimed_as_committed(self, ledger: LedgerUnderTest) -> None:
        # Given a message whose data holds numbers, lists and maps
        message = a_message(amount=12_500, lines=["a", "b"], nested={"paid": True})
        ledger.commit(Change(outbox=[message]))

        # Then claiming it gives it back as committed
        assert ledger.claim(message.id, 60, "token-a") == Claim(message)

    def test_scheduled_instants_and_hold_ends_are_kept_to_the_second(self, ledger: LedgerUnderTest) -> None:
        # Given instants with fractions of a second (they are index keys and condition operands)
        at = NOW + timedelta(hours=1, microseconds=750_000)
        ledger.commit(
            Change(
                new_customer=a_customer(hold=Hold("wait", at)),
                new_invoice=an_invoice(next_action_at=at),
                new_plan=a_plan(next_action_at=at),
                new_recurring=a_recurring(next_action_at=at),
            )
        )
        # Then they read back to the whole second
        whole = NOW + timedelta(hours=1)
        customer, invoice = ledger.get_customer("cus_1"), ledger.get_invoice("inv_1")
        plan, recurring = ledger.get_plan("inv_1", "plan_1"), ledger.get_recurring("rec_1")
        assert customer is not None and customer.hold is not None and customer.hold.until == whole
        assert invoice is not None and invoice.next_action_at == whole
        assert plan is not None and plan.next_action_at == whole
        assert recurring is not None and recurring.next_action_at == whole

    def test_nothing_is_read_where_nothing_was_written(self, ledger: LedgerUnderTest) -> None:
        # Given an empty ledger; Then every read finds nothing
        assert ledger.get_customer("cus_1") is None
        assert ledger.get_invoice("inv_1") is None
        assert ledger.get_invoice_and_customer("inv_1", "cus_1") == (None, None)
        assert ledger.get_invoice_payments("inv_1") == []
        assert ledger.get_dispute_context("inv_1", "dp_1") == (None, None)
        context = ledger.get_payment_context("inv_1", "chk_1", "pi_1", "plan_1")
        assert (context.invoice, context.checkout, context.payment, context.plan) == (None, None, None, None)
        assert ledger.get_recurring("rec_1") is None
        assert ledger.open_balances() == {}
        ledger.commit(Change())  # an empty change commits nothing, and is no error

    def test_a_stripe_customer_is_remembered_once(self, ledger: LedgerUnderTest) -> None:
        # Given a customer with no Stripe customer yet
        ledger.commit(Change(new_customer=a_customer()))

        # When Stripe customers are remembered for it (twice) and for a customer never written
        ledger.remember_stripe_customer("cus_1", "cus_stripe_1")
        ledger.remember_stripe_customer("cus_1", "cus_stripe_2")  # a late duplicate does not replace it
        ledger.remember_stripe_customer("cus_unknown", "cus_stripe_3")  # an unknown customer is not created

        # Then it is kept under a new version, so an update made from the old one is stale
        assert ledger.get_customer("cus_1") == a_customer(stripe_customer_id="cus_stripe_1", version=1)
        assert ledger.get_customer("cus_unknown") is None
        assert rejection(ledger, Change(customer_update=a_customer(name="Ada", version=1))) == Rejection.STALE_CUSTOMER

    # -- each guard rejects with its reason

    def test_a_stripe_event_is_recorded_once(self, ledger: LedgerUnderTest) -> None:
        # Given an event recorded; Then the same event is rejected as a duplicate, another is not
        ledger.commit(Change(stripe_event=an_event()))

        assert rejection(ledger, Change(stripe_event=an_event())) == Rejection.DUPLICATE_EVENT
        ledger.commit(Change(stripe_event=an_event("evt_2")))

    @pytest.mark.parametrize("settled", ["applied", "no_change"])
    def test_an_event_settled_is_final_even_for_a_replay(self, ledger: LedgerUnderTest, settled: str) -> None:
        # Given an event applied (or found to change nothing)
        ledger.commit(Change(stripe_event=replace(an_event(), outcome=settled)))

        # Then neither a redelivery nor an operator's replay may write its record again
        for again in (an_event(), replace(an_event(), replay=True), replace(an_event(), outcome="failed")):
            assert rejection(ledger, Change(stripe_event=again)) == Rejection.DUPLICATE_EVENT
        assert ledger.get_stripe_event("evt_1") == replace(an_event(), outcome=settled)

    def test_a_flagged_event_is_written_over_only_by_a_replay(self, ledger: LedgerUnderTest) -> None:
        # Given an event kept as flagged
        ledger.commit(Change(stripe_event=replace(an_event(), outcome="flagged", detail="amount 1 does not match 2")))

        # Then a redelivery is a duplicate, and a replay applies it, after which it is final
        assert rejection(ledger, Change(stripe_event=an_event())) == Rejection.DUPLICATE_EVENT
        ledger.commit(Change(stripe_event=replace(an_event(), replay=True), audit=[an_audit_entry()]))
        assert ledger.get_stripe_event("evt_1") == an_event()
        assert rejection(ledger, Change(stripe_event=replace(an_event(), replay=True))) == Rejection.DUPLICATE_EVENT

    def test_a_replay_is_on_the_events_own_trail_beside_its_record(self, ledger: LedgerUnderTest) -> None:
        # Given a flagged event, When a replay applies it with its entry on the event's trail
        ledger.commit(Change(stripe_event=replace(an_event(), outcome="flagged", detail="amount 1 does not match 2")))
        replayed = replace(
            an_audit_entry("stripe_event.replayed"), subject=AuditSubject.STRIPE_EVENT, subject_id="evt_1",
            actor="staff:sub:ada@example.com", details={"outcome": "applied"}, cause="stripe_event:evt_1",
        )  # fmt: skip
        ledger.commit(Change(stripe_event=replace(an_event(), replay=True), audit=[replayed]))

        # Then the trail holds it, the record reads as applied, and the listings hold the event once
        assert ledger.list_audit(AuditSubject.STRIPE_EVENT, "evt_1", 10, None).items == [replayed]
        assert ledger.list_audit(AuditSubject.STRIPE_EVENT, "evt_2", 10, None).items == []
        assert ledger.get_stripe_event("evt_1") == an_event()
        assert ledger.list_stripe_events(10, None).items == [an_event()]
        assert ledger.list_stripe_events(10, None, outcome="flagged").items == []

    def test_a_failed_event_is_written_over_by_stripes_retry(self, ledger: LedgerUnderTest) -> None:
        # Given an event whose processing failed
        ledger.commit(Change(stripe_event=replace(an_event(), outcome="failed", detail="ThrottlingException")))
        assert ledger.list_stripe_events(10, None, outcome="failed").items == [ledger.get_stripe_event("evt_1")]

        # When Stripe delivers it again and it applies; Then it is no longer waiting on anyone
        ledger.commit(Change(stripe_event=an_event()))
        assert ledger.get_stripe_event("evt_1") == an_event()
        assert ledger.list_stripe_events(10, None, outcome="failed").items == []

    def test_kept_events_are_listed_newest_first_and_by_what_waits_on_an_operator(
        self, ledger: LedgerUnderTest
    ) -> None:
        # Given five events received a minute apart, one flagged and two failed
        outcomes = ["applied", "flagged", "failed", "no_change", "failed"]
        for n, outcome in enumerate(outcomes):
            at = NOW + timedelta(minutes=n)
            ledger.commit(Change(stripe_event=replace(an_event(f"evt_{n}"), outcome=outcome, received_at=at)))

        # Then every page of each listing holds them newest first, and a cursor serves only its own listing
        for limit in (1, 2, 10):
            every = walked(lambda lim, cur: ledger.list_stripe_events(lim, cur), limit)
            failed = walked(lambda lim, cur: ledger.list_stripe_events(lim, cur, outcome="failed"), limit)
            flagged = walked(lambda lim, cur: ledger.list_stripe_events(lim, cur, outcome="flagged"), limit)
            assert [e.event_id for e in every] == ["evt_4", "evt_3", "evt_2", "evt_1", "evt_0"], limit
            assert [e.event_id for e in failed] == ["evt_4", "evt_2"], limit
            assert [(e.event_id, e.outcome) for e in flagged] == [("evt_1", "flagged")], limit
        assert ledger.get_stripe_event("evt_3") == replace(
            an_event("evt_3"), outcome="no_change", received_at=NOW + timedelta(minutes=3)
        )
        assert ledger.get_stripe_event("evt_nope") is None
        cursor = ledger.list_stripe_events(1, None).next_cursor
        with pytest.raises(InvalidCursor):
            ledger.list_stripe_events(1, cursor, outcome="failed")
        with pytest.raises(InvalidCursor):
            ledger.list_stripe_events(1, "not-a-cursor")

    def test_a_subjects_audit_trail_is_read_newest_first_and_only_its_own(self, ledger: LedgerUnderTest) -> None:
        # Given entries about an invoice, another invoice and a customer
        entries = [
            replace(an_audit_entry(f"invoice.step_{n}"), at=NOW + timedelta(minutes=n), cause=f"stripe_event:evt_{n}")
            for n in range(4)
        ]
        other = replace(an_audit_entry("invoice.created"), subject_id="inv_2")
        customer = replace(an_audit_entry("customer.created"), subject=AuditSubject.CUSTOMER, subject_id="cus_1")
        ledger.commit(Change(audit=[*entries, other, customer]))

        # Then each trail holds its own entries, newest first, as written, page after page
        for limit in (1, 3, 10):
            trail = walked(lambda lim, cur: ledger.list_audit(AuditSubject.INVOICE, "inv_1", lim, cur), limit)
            assert trail == entries[::-1], limit
        assert ledger.list_audit(AuditSubject.CUSTOMER, "cus_1", 10, None).items == [customer]
        assert ledger.list_audit(AuditSubject.CUSTOMER, "cus_2", 10, None).items == []
        cursor = ledger.list_audit(AuditSubject.INVOICE, "inv_1", 1, None).next_cursor
        with pytest.raises(InvalidCursor):
            ledger.list_audit(AuditSubject.INVOICE, "inv_2", 1, cursor)
        with pytest.raises(InvalidCursor):
            ledger.list_audit(AuditSubject.CUSTOMER, "cus_1", 1, cursor)

    @pytest.mark.parametrize(
        "change",
        [
            Change(new_customer=a_customer()),
            Change(new_invoice=an_invoice()),
            Change(pay_link=a_pay_link()),
            Change(new_recurring=a_recurring()),
        ],
        ids=["customer", "invoice", "pay_link", "recurring"],
    )
    def test_a_new_record_that_exists_is_rejected(self, ledger: LedgerUnderTest, change: Change) -> None:
        # Given the record committed; When it is committed as new again; Then it exists
        ledger.commit(change)

        assert rejection(ledger, change) == Rejection.EXISTS

    def test_an_outbox_message_or_audit_entry_is_written_once(self, ledger: LedgerUnderTest) -> None:
        # Given a message and an audit entry written; Then writing either again is rejected
        message, entry = a_message(), an_audit_entry()
        ledger.commit(Change(outbox=[message], audit=[entry]))

        assert rejection(ledger, Change(outbox=[a_message(), message])) == Rejection.EXISTS
        assert rejection(ledger, Change(audit=[entry])) == Rejection.EXISTS

    def test_an_invoice_number_is_used_once(self, ledger: LedgerUnderTest) -> None:
        # Given an invoice numbered INV-7; When another invoice takes that number; Then it is rejected
        ledger.commit(Change(new_invoice=an_invoice(number="INV-7")))

        assert rejection(ledger, Change(new_invoice=an_invoice("inv_2", number="INV-7"))) == Rejection.DUPLICATE_NUMBER
        assert ledger.get_invoice("inv_2") is None

    @pytest.mark.parametrize("version", [1, 3], ids=["behind", "ahead"])
    def test_a_customer_update_over_another_version_is_stale(self, ledger: LedgerUnderTest, version: int) -> None:
        # Given a customer at version 1; When an update is made from another version; Then it is stale
        ledger.commit(Change(new_customer=a_customer()))
        ledger.commit(Change(customer_update=a_customer(name="Ada L.", version=1)))

        assert rejection(ledger, Change(customer_update=a_customer(version=version))) == Rejection.STALE_CUSTOMER
        assert ledger.get_customer("cus_1") == a_customer(name="Ada L.", version=1)

    def test_an_update_of_a_record_never_written_is_stale(self, ledger: LedgerUnderTest) -> None:
        # Given an empty ledger; When records are updated; Then each update is stale and writes nothing
        assert rejection(ledger, Change(customer_update=a_customer(version=1))) == Rejection.STALE_CUSTOMER
        assert rejection(ledger, Change(invoice_update=an_invoice(version=2))) == Rejection.STALE_INVOICE
        assert rejection(ledger, Change(plan_update=a_plan(version=2))) == Rejection.STALE_PLAN
        assert rejection(ledger, Change(recurring_update=a_recurring(version=2))) == Rejection.STALE_RECURRING
        assert ledger.get_customer("cus_1") is None and ledger.get_invoice("inv_1") is None

    def test_an_update_over_another_version_is_stale(self, ledger: LedgerUnderTest) -> None:
        # Given an invoice, a plan and a recurring charge at version 1; When updated from other versions
        ledger.commit(Change(new_invoice=an_invoice(), new_plan=a_plan(), new_recurring=a_recurring()))

        # Then each is stale
        assert rejection(ledger, Change(invoice_update=an_invoice(version=3))) == Rejection.STALE_INVOICE
        assert rejection(ledger, Change(plan_update=a_plan(version=1))) == Rejection.STALE_PLAN
        assert rejection(ledger, Change(recurring_update=a_recurring(version=3))) == Rejection.STALE_RECURRING

    def test_a_plan_id_is_used_once_per_invoice(self, ledger: LedgerUnderTest) -> None:
        # Given a plan; Then a new plan with its id is rejected on its invoice, not on another
        ledger.commit(Change(new_plan=a_plan()))

        assert rejection(ledger, Change(new_plan=a_plan(status=PlanStatus.AWAITING_FIRST))) == Rejection.PLAN_EXISTS
        ledger.commit(Change(new_plan=a_plan(invoice_id="inv_2")))

    def test_a_checkout_ref_keeps_its_session(self, ledger: LedgerUnderTest) -> None:
        # Given a checkout attempt; When its ref is recorded with another session; Then it conflicts
        ledger.commit(Change(checkout=a_checkout()))

        assert rejection(ledger, Change(checkout=a_checkout(session_id="cs_2"))) == Rejection.CHECKOUT_CONFLICT
        assert ledger.get_checkout("inv_1", "chk_1") == a_checkout()

    @pytest.mark.parametrize(
        ("stored", "arriving"),
        [
            (PaymentStatus.SUCCEEDED, PaymentStatus.SUCCEEDED),
            (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED),
            (PaymentStatus.SUCCEEDED, PaymentStatus.PENDING),
            (PaymentStatus.FAILED, PaymentStatus.PENDING),
        ],
    )
    def test_a_payment_only_moves_forward(
        self, ledger: LedgerUnderTest, stored: PaymentStatus, arriving: PaymentStatus
    ) -> None:
        # Given a payment stored; When an event as far along or behind arrives; Then it is refused
        ledger.commit(Change(payment=a_payment(status=stored)))

        assert rejection(ledger, Change(payment=a_payment(status=arriving))) == Rejection.PAYMENT_NOT_FORWARD
        assert ledger.get_invoice_payments("inv_1") == [a_payment(status=stored)]

    def test_a_payment_moves_from_pending_to_failed_to_succeeded(self, ledger: LedgerUnderTest) -> None:
        # When a payment moves up the ladder, Then each step is written
        for status in (PaymentStatus.PENDING, PaymentStatus.FAILED, PaymentStatus.SUCCEEDED):
            ledger.commit(Change(payment=a_payment(status=status)))

        assert ledger.get_invoice_payments("inv_1") == [a_payment(status=PaymentStatus.SUCCEEDED)]

    def test_a_succeeded_payment_s_refunds_read_back_and_move_one_version_at_a_time(
        self, ledger: LedgerUnderTest
    ) -> None:
        # Given a succeeded payment; When its refunds are written version after version; Then each reads back
        ledger.commit(Change(payment=a_payment()))
        first = replace(a_payment(), refunds=(a_refund("re_1", RefundStatus.PENDING),), refund_version=1)
        ledger.commit(Change(payment_refunds=first))
        second = replace(first, refunds=(a_refund("re_1"), a_refund("re_2", reopens_balance=True)), refund_version=2)
        ledger.commit(Change(payment_refunds=second))

        assert ledger.get_invoice_payments("inv_1") == [second]
        assert ledger.get_payment_context("inv_1", None, "pi_1").payment == second
        assert second.amount_refunded == 2 * a_refund("re_1").amount

    @pytest.mark.parametrize("version", [1, 3])
    def test_refunds_over_another_version_are_stale(self, ledger: LedgerUnderTest, version: int) -> None:
        # Given refunds at version 1; When refunds are written over version 0 or 2; Then they are refused
        ledger.commit(Change(payment=a_payment()))
        ledger.commit(Change(payment_refunds=replace(a_payment(), refunds=(a_refund("re_1"),), refund_version=1)))
        stale = replace(a_payment(), refunds=(a_refund("re_9"),), refund_version=version)

        assert rejection(ledger, Change(payment_refunds=stale)) == Rejection.STALE_REFUNDS
        assert [r.id for r in ledger.get_invoice_payments("inv_1")[0].refunds] == ["re_1"]

    @pytest.mark.parametrize("status", [None, PaymentStatus.PENDING, PaymentStatus.FAILED])
    def test_refunds_of_a_payment_not_succeeded_are_refused(
        self, ledger: LedgerUnderTest, status: PaymentStatus | None
    ) -> None:
        # Given no payment, or one pending or failed; When refunds are written to it; Then they are refused
        if status is not None:
            ledger.commit(Change(payment=a_payment(status=status)))
        refunded = replace(a_payment(), refunds=(a_refund("re_1"),), refund_version=1)

        assert rejection(ledger, Change(payment_refunds=refunded)) == Rejection.STALE_REFUNDS

    def test_an_offline_payment_reads_back_finds_its_invoice_and_is_reversed_once(
        self, ledger: LedgerUnderTest
    ) -> None:
        # Given a cheque recorded on the invoice
        receipt = OfflineReceipt(OfflineMethod.CHECK, "1234", NOW.date())
        cheque = a_payment(key="off_1", checkout_session_id=None, payment_intent_id=None, offline=receipt)
        ledger.commit(Change(new_invoice=an_invoice(), payment=cheque))
        assert ledger.get_invoice_payments("inv_1") == [cheque]
        assert ledger.invoice_for_payment_intent("off_1") == "inv_1"

        # When it is reversed; Then it reads back reversed, and a second reversal is refused
        bounced = replace(
            cheque, offline=replace(receipt, reversed_at=NOW, reversal_reason="bounced", reversal_ref="r")
        )
        ledger.commit(Change(payment_reversal=bounced))
        assert ledger.get_payment_context("inv_1", None, "off_1").payment == bounced
        assert rejection(ledger, Change(payment_reversal=bounced)) == Rejection.ALREADY_REVERSED

    def test_a_stripe_payment_or_none_cannot_be_reversed(self, ledger: LedgerUnderTest) -> None:
        receipt = OfflineReceipt(OfflineMethod.CASH, "", NOW.date(), reversed_at=NOW)
        assert rejection(ledger, Change(payment_reversal=a_payment(offline=receipt))) == Rejection.ALREADY_REVERSED
        ledger.commit(Change(payment=a_payment()))
        assert rejection(ledger, Change(payment_reversal=a_payment(offline=receipt))) == Rejection.ALREADY_REVERSED
        assert ledger.get_invoice_payments("inv_1") == [a_payment()]

    def test_credit_notes_and_the_pay_link_generation_read_back(self, ledger: LedgerUnderTest) -> None:
        notes = (CreditNote("cn_1", 1_000, "goodwill", NOW), CreditNote("cn_2", 500, "", NOW + timedelta(hours=1)))
        invoice = an_invoice(amount_due=11_000, credit_notes=notes, pay_link_generation=2)
        ledger.commit(Change(new_invoice=invoice, pay_link=replace(a_pay_link(), generation=2)))

        assert ledger.get_invoice("inv_1") == invoice and invoice.amount_original == 12_500
        assert ledger.get_pay_link("a" * 64) == replace(a_pay_link(), generation=2)

    @pytest.mark.parametrize(
        ("stored", "arriving"),
        [
            (DisputeStatus.OPEN, DisputeStatus.OPEN),
            (DisputeStatus.WON, DisputeStatus.OPEN),
            (DisputeStatus.WON, DisputeStatus.LOST),
            (DisputeStatus.LOST, DisputeStatus.WON),
        ],
    )
    def test_a_dispute_only_moves_from_open_to_closed(
        self, ledger: LedgerUnderTest, stored: DisputeStatus, arriving: DisputeStatus
    ) -> None:
        # Given a dispute stored; When one as far along arrives; Then it is refused
        ledger.commit(Change(dispute=a_dispute(stored)))

        assert rejection(ledger, Change(dispute=a_dispute(arriving))) == Rejection.DISPUTE_NOT_FORWARD
        assert ledger.get_dispute_context("inv_1", "dp_1") == (None, a_dispute(stored))

    @pytest.mark.parametrize(
        ("customer", "paused"),
        [
            (None, False),
            (a_customer(), False),
            (a_customer(hold=Hold("asked to wait")), True),
            (a_customer(hold=Hold("until Friday", NOW + timedelta(seconds=1))), True),
            (a_customer(hold=Hold("until now", NOW)), False),
            (a_customer(hold=Hold("last week", NOW - timedelta(days=7))), False),
            (a_customer(email_undeliverable=EmailUndeliverable("complaint", NOW)), True),
        ],
        ids=["unknown", "reachable", "held", "held-until-later", "hold-ends-now", "hold-ended", "undeliverable"],
    )
    def test_a_reminder_commits_only_while_the_customer_is_reachable(
        self, ledger: LedgerUnderTest, customer: Customer | None, paused: bool
    ) -> None:
        # Given the customer as stored (or none)
        if customer is not None:
            ledger.commit(Change(new_customer=customer))
        reminder = Change(customer_reachable_at=("cus_1", NOW), outbox=[a_message(EventName.INVOICE_REMINDER_SENT)])

        # When a reminder is committed; Then it is refused exactly while the customer is paused
        if paused:
            assert rejection(ledger, reminder) == Rejection.CUSTOMER_PAUSED
            assert ledger.claim(reminder.outbox[0].id, 60, "token-a") is None
        else:
            ledger.commit(reminder)
            assert ledger.claim(reminder.outbox[0].id, 60, "token-a") == Claim(reminder.outbox[0])

    def test_the_first_failed_guard_in_field_order_names_the_rejection(self, ledger: LedgerUnderTest) -> None:
        # Given an event already recorded, an invoice whose id and number are both taken, an audit entry
        ledger.commit(Change(stripe_event=an_event(), new_invoice=an_invoice(), audit=[an_audit_entry()]))

        # Then each change is rejected for the guard that comes first
        assert rejection(ledger, Change(stripe_event=an_event(), invoice_update=an_invoice())) == (
            Rejection.DUPLICATE_EVENT
        )
        assert rejection(ledger, Change(new_invoice=an_invoice())) == Rejection.EXISTS
        stale_and_audited = Change(invoice_update=an_invoice(), new_plan=a_plan(), audit=[an_audit_entry()])
        assert rejection(ledger, stale_and_audited) == Rejection.STALE_INVOICE

    # -- all or nothing

    def test_a_rejected_change_writes_nothing(self, ledger: LedgerUnderTest) -> None:
        # Given an invoice already at version 1
        ledger.commit(Change(new_invoice=an_invoice("inv_0")))
        message, entry = a_message(), an_audit_entry()
        everything = Change(
            new_customer=a_customer(),
            new_invoice=an_invoice(),
            pay_link=a_pay_link(),
            checkout=a_checkout(),
            payment=a_payment(),
            new_plan=a_plan(),
            new_recurring=a_recurring(),
            dispute=a_dispute(),
            stripe_event=an_event(),
            dunning_policy=DunningPolicy(steps=(DunningStep(0, "due_today"),)),
            outbox=[message],
            audit=[entry],
        )

        # When a change holding one stale update is committed
        stale = replace(everything, invoice_update=an_invoice("inv_0", version=5))
        assert rejection(ledger, stale) == Rejection.STALE_INVOICE

        # Then none of it can be read, claimed or is in the way: the same change without it commits
        assert ledger.get_customer("cus_1") is None
        assert ledger.get_invoice("inv_1") is None
        assert ledger.get_pay_link(a_pay_link().token_hash) is None
        context = ledger.get_payment_context("inv_1", "chk_1", "pi_1", "plan_1")
        assert (context.checkout, context.payment, context.plan) == (None, None, None)
        assert ledger.invoice_for_payment_intent("pi_1") is None
        assert ledger.get_recurring("rec_1") is None
        assert ledger.get_dispute_context("inv_1", "dp_1") == (None, None)
        assert ledger.get_dunning_policy() is None
        assert ledger.claim(message.id, 60, "token-a") is None
        ledger.commit(everything)
        assert ledger.get_invoice("inv_1") == an_invoice()

    def test_a_change_writing_one_item_twice_is_refused_and_writes_nothing(self, ledger: LedgerUnderTest) -> None:
        # Given a customer; When one change updates it and checks it (two operations on one item)
        ledger.commit(Change(new_customer=a_customer()))
        message = a_message()
        twice = Change(customer_update=a_customer(version=1), customer_reachable_at=("cus_1", NOW), outbox=[message])

        # Then the change is refused as a malformed request, and nothing of it is written
        with pytest.raises(self.refused_request):
            ledger.commit(twice)

        assert ledger.get_customer("cus_1") == a_customer()
        assert ledger.claim(message.id, 60, "token-a") is None

    def test_a_change_of_more_than_a_hundred_items_is_refused_and_writes_nothing(self, ledger: LedgerUnderTest) -> None:
        # Given a hundred messages; When committed with an invoice (102 items); Then it is refused
        messages = [a_message(n=n) for n in range(100)]

        with pytest.raises(self.refused_request):
            ledger.commit(Change(new_invoice=an_invoice(), outbox=messages))

        assert ledger.get_invoice("inv_1") is None
        ledger.commit(Change(outbox=messages))  # a hundred is allowed
        assert ledger.claim(messages[-1].id, 60, "token-a") == Claim(messages[-1])

    def test_a_float_in_a_message_is_refused_and_nothing_is_written(self, ledger: LedgerUnderTest) -> None:
        # Given a message carrying an amount as a float (money is an int in minor units)
        message = a_message(amount=125.0)

        # When it is committed with an invoice; Then nothing is written
        with pytest.raises(TypeError):
            ledger.commit(Change(new_invoice=an_invoice(), outbox=[message]))
        assert ledger.get_invoice("inv_1") is None
        assert ledger.claim(message.id, 60, "token-a") is None

    # -- listings

    def test_a_customers_invoices_list_oldest_first_in_pages(self, ledger: LedgerUnderTest) -> None:
        # Given five invoices of one customer, created in a shuffled order, and one of another customer
        created = [NOW + timedelta(minutes=m) for m in (3, 0, 4, 1, 2)]
        for n, at in enumerate(created):
            ledger.commit(Change(new_invoice=an_invoice(f"inv_{n}", created_at=at)))
        ledger.commit(Change(new_invoice=an_invoice("inv_other", customer_id="cus_2")))
        oldest_first = ["inv_1", "inv_3", "inv_4", "inv_0", "inv_2"]

        # Then every page size walks them in the same order, each once
        for limit in (1, 2, 3, 5, 6):
            listed = walked(lambda lim, cur: ledger.list_customer_invoices("cus_1", lim, cur), limit)
            assert [i.id for i in listed] == oldest_first, limit
        first = ledger.list_customer_invoices("cus_1", 2, None)
        assert [i.id for i in first.items] == oldest_first[:2] and first.next_cursor
        assert [i.id for i in ledger.list_customer_invoices("cus_2", 10, None).items] == ["inv_other"]

    def test_a_customers_payments_list_newest_first_in_pages(self, ledger: LedgerUnderTest) -> None:
        # Given payments over two invoices of one customer, and one payment of another customer
        for n, minutes in enumerate((5, 1, 3, 2, 4)):
            invoice_id = "inv_1" if n % 2 else "inv_2"
            at = NOW + timedelta(minutes=minutes)
            ledger.commit(Change(payment=a_payment(f"pi_{n}", invoice_id=invoice_id, created_at=at)))
        ledger.commit(Change(payment=a_payment("pi_other", invoice_id="inv_9", customer_id="cus_2")))
        newest_first = ["pi_0", "pi_4", "pi_2", "pi_3", "pi_1"]

        # Then every page size walks them newest first; an invoice's payments are newest first too
        for limit in (1, 2, 4, 5, 7):
            listed = walked(lambda lim, cur: ledger.list_customer_payments("cus_1", lim, cur), limit)
            assert [p.key for p in listed] == newest_first, limit
        assert [p.key for p in ledger.get_invoice_payments("inv_1")] == ["pi_3", "pi_1"]
        assert [p.key for p in ledger.get_invoice_payments("inv_2")] == ["pi_0", "pi_4", "pi_2"]

    def test_invoice_lists_hold_what_they_list_in_due_order_and_follow_updates(self, ledger: LedgerUnderTest) -> None:
        # Given invoices of two currencies, statuses and flags, some due on the same day
        dues = [date(2027, 1, d) for d in (5, 3, 3, 9, 1)]
        for n, due in enumerate(dues):
            ledger.commit(Change(new_invoice=an_invoice(f"inv_{n}", due_date=due, number=f"N{n}")))
        ledger.commit(Change(new_invoice=an_invoice("inv_eur", currency="EUR", number="NE")))
        ledger.commit(
            Change(new_invoice=an_invoice("inv_paid", status=InvoiceStatus.PAID, amount_paid=12_500, number="NP"))
        )
        due_order = ["inv_4", "inv_1", "inv_2", "inv_0", "inv_3"]

        # Then the owed list and the status list hold them in due order, in pages of any size
        for listing in (InvoiceListing("owed", "USD"), InvoiceListing("status", "USD", "open")):
            for limit in (1, 2, 3, 5, 6):
                listed = walked(lambda lim, cur, listing=listing: ledger.list_invoices(listing, lim, cur), limit)
                assert [i.id for i in listed] == due_order, (listing, limit)
        every_currency = ledger.list_invoices(InvoiceListing("owed", ""), 10, None).items
        assert [i.id for i in every_currency] == ["inv_eur", *due_order]  # due 2026-12-15, before the others
        # And read backwards (the console's "newest due first"), in pages of any size, over a range too
        for limit in (1, 2, 5, 6):
            backwards = InvoiceListing("owed", "USD", newest_first=True)
            listed = walked(lambda lim, cur, listing=backwards: ledger.list_invoices(listing, lim, cur), limit)
            assert [i.id for i in listed] == due_order[::-1], limit
        ranged_back = InvoiceListing("status", "USD", "open", due_from=date(2027, 1, 3), newest_first=True)
        assert [i.id for i in ledger.list_invoices(ranged_back, 10, None).items] == ["inv_3", "inv_0", "inv_2", "inv_1"]
        newest_created = ledger.list_invoices(
            InvoiceListing("customer", customer_id="cus_1", newest_first=True), 10, None
        )
        oldest_created = ledger.list_invoices(InvoiceListing("customer", customer_id="cus_1"), 10, None)
        assert [i.id for i in newest_created.items] == [i.id for i in oldest_created.items][::-1]
        ranged = InvoiceListing("owed", "USD", due_from=date(2027, 1, 3), due_until=date(2027, 1, 9))
        assert [i.id for i in ledger.list_invoices(ranged, 10, None).items] == ["inv_1", "inv_2", "inv_0"]
        assert [i.id for i in ledger.list_invoices(InvoiceListing("status", "USD", "paid"), 10, None).items] == [
            "inv_paid"
        ]
        assert [i.id for i in ledger.list_invoices(InvoiceListing("number", number="N3"), 10, None).items] == ["inv_3"]
        customers = ledger.list_invoices(InvoiceListing("customer", customer_id="cus_1"), 10, None)
        assert len(customers.items) == 7

        # When one is paid and another held, their lists follow in the same commit
        paid = replace(
            an_invoice("inv_1", due_date=dues[1], number="N1"), amount_paid=12_500, status=InvoiceStatus.PAID
        )
        ledger.commit(Change(invoice_update=replace(paid, version=2)))
        held = an_invoice("inv_0", due_date=dues[0], number="N0", hold=Hold("asked"))
        ledger.commit(Change(invoice_update=replace(held, version=2)))
        owed = ledger.list_invoices(InvoiceListing("owed", "USD"), 10, None).items
        assert [i.id for i in owed] == ["inv_4", "inv_2", "inv_0", "inv_3"]
        assert [i.id for i in ledger.list_invoices(InvoiceListing("held", "USD"), 10, None).items] == ["inv_0"]
        assert ledger.list_invoices(InvoiceListing("held", "USD"), 10, None).items[0].hold == Hold("asked")
        assert ledger.list_invoices(InvoiceListing("promised", "USD"), 10, None).items == []

    def test_payment_lists_walk_the_months_newest_first_by_state_and_customer(self, ledger: LedgerUnderTest) -> None:
        # Given payments over three months, one failed, one of another customer
        ats = [datetime(2027, 1, 31, 23, tzinfo=UTC), datetime(2027, 2, 1, 1, tzinfo=UTC),
               datetime(2027, 2, 14, tzinfo=UTC), datetime(2027, 3, 2, tzinfo=UTC)]  # fmt: skip
        for n, at in enumerate(ats):
            payment = a_payment(f"pi_{n}", created_at=at, invoice_number="N-7")
            ledger.commit(Change(payment=payment))
        ledger.commit(Change(payment=a_payment("pi_failed", PaymentStatus.FAILED, created_at=ats[2])))
        ledger.commit(Change(payment=a_payment("pi_other", customer_id="cus_2", created_at=ats[1])))
        window = PaymentListing(since=datetime(2027, 1, 1, tzinfo=UTC), until=datetime(2027, 4, 1, tzinfo=UTC))

        # Then every page size walks the window newest first, each payment once
        for limit in (1, 2, 3, 6, 7):
            listed = walked(lambda lim, cur: ledger.list_payments(window, lim, cur), limit)
            assert [p.key for p in listed] == ["pi_3", "pi_failed", "pi_2", "pi_other", "pi_1", "pi_0"], limit
        assert ledger.list_payments(window, 1, None).items[0].invoice_number == "N-7"
        february = PaymentListing(since=datetime(2027, 2, 1, tzinfo=UTC), until=datetime(2027, 2, 14, tzinfo=UTC))
        assert [p.key for p in ledger.list_payments(february, 10, None).items] == ["pi_other", "pi_1"]
        failed = replace(window, state="failed")
        assert [p.key for p in ledger.list_payments(failed, 10, None).items] == ["pi_failed"]
        ledger.commit(Change(payment=a_payment("pi_eur", currency="EUR", invoice_id="inv_8", created_at=ats[3])))
        assert [p.key for p in ledger.list_payments(replace(window, currency="EUR"), 10, None).items] == ["pi_eur"]
        assert "pi_eur" not in [p.key for p in ledger.list_payments(replace(window, currency="USD"), 10, None).items]
        cheques = replace(window, method="check")
        ledger.commit(
            Change(
                payment=a_payment(
                    "off_1",
                    invoice_id="inv_7",
                    created_at=ats[0],
                    checkout_session_id=None,
                    offline=OfflineReceipt(OfflineMethod.CHECK, "1234", ats[0].date()),
                )
            )
        )
        assert [p.key for p in ledger.list_payments(cheques, 10, None).items] == ["off_1"]
        assert "off_1" not in [p.key for p in ledger.list_payments(replace(window, method="stripe"), 10, None).items]
        mine = replace(window, customer_id="cus_2")
        assert [p.key for p in ledger.list_payments(mine, 10, None).items] == ["pi_other"]

        # When a payment is refunded in full, it moves to the refunded list
        refunded = replace(a_payment("pi_2", created_at=ats[2], invoice_number="N-7"), refunds=(a_refund("re_1"),))
        ledger.commit(Change(payment_refunds=replace(refunded, amount=2_000, refund_version=1)))
        assert [p.key for p in ledger.list_payments(replace(window, state="refunded"), 10, None).items] == ["pi_2"]
        assert "pi_2" not in [p.key for p in ledger.list_payments(replace(window, state="succeeded"), 10, None).items]

    def test_the_returns_list_holds_each_refund_booked_and_failed_and_each_reversal_oldest_first(
        self, ledger: LedgerUnderTest
    ) -> None:
        # Given a payment with a refund booked in January and one in February that fails in March
        jan, feb, mar = (datetime(2027, 1, 31, 23, tzinfo=UTC), datetime(2027, 2, 1, 1, tzinfo=UTC),
                         datetime(2027, 3, 2, tzinfo=UTC))  # fmt: skip
        ledger.commit(Change(payment=a_payment()))
        booked = replace(a_refund("re_1", RefundStatus.PENDING), created_at=jan, updated_at=jan)
        first = replace(a_payment(), refunds=(booked,), refund_version=1, updated_at=jan)
        ledger.commit(Change(payment_refunds=first))
        second_booked = replace(a_refund("re_2", RefundStatus.PENDING), created_at=feb, updated_at=feb)
        settled = replace(booked, status=RefundStatus.SUCCEEDED, updated_at=feb)
        second = replace(first, refunds=(settled, second_booked), refund_version=2, updated_at=feb)
        ledger.commit(Change(payment_refunds=second))
        failed = replace(second_booked, status=RefundStatus.FAILED, updated_at=mar)
        third = replace(second, refunds=(settled, failed), refund_version=3, updated_at=mar)
        ledger.commit(Change(payment_refunds=third))
        # and a cheque received in January, reversed in February
        cheque = a_payment("off_1", invoice_id="inv_7", created_at=jan, checkout_session_id=None,
                           offline=OfflineReceipt(OfflineMethod.CHECK, "1234", jan.date()))  # fmt: skip
        ledger.commit(Change(payment=cheque))
        assert cheque.offline is not None
        reversal_at = feb + timedelta(hours=5)
        bounced = replace(cheque, offline=replace(cheque.offline, reversed_at=reversal_at, reversal_reason="bounced"))
        ledger.commit(Change(payment_reversal=bounced))
        window = ReturnListing(since=datetime(2027, 1, 1, tzinfo=UTC), until=datetime(2027, 4, 1, tzinfo=UTC))

        # Then every page size walks them oldest first, each once, with what each gave back
        expected = [
            (ReturnKind.REFUND, "re_1", jan, 2_000),
            (ReturnKind.REFUND, "re_2", feb, 2_000),
            (ReturnKind.REVERSAL, "", reversal_at, cheque.amount),
            (ReturnKind.REFUND_FAILED, "re_2", mar, 2_000),
        ]
        for limit in (1, 2, 3, 5):
            listed = walked(lambda lim, cur: ledger.list_returns(window, lim, cur), limit)
            shown = [(r.kind, r.refund.id if r.refund else "", r.at, r.amount) for r in listed]
            assert shown == expected, limit
        # the January refund reads as it settled; a window of February holds what happened in it only
        assert (
            walked(lambda lim, cur: ledger.list_returns(window, lim, cur), 10)[0].refund.status
            == RefundStatus.SUCCEEDED
        )
        february = ReturnListing(since=datetime(2027, 2, 1, tzinfo=UTC), until=datetime(2027, 3, 1, tzinfo=UTC))
        assert [(r.kind, r.payment.key) for r in ledger.list_returns(february, 10, None).items] == [
            (ReturnKind.REFUND, "pi_1"), (ReturnKind.REVERSAL, "off_1"),
        ]  # fmt: skip

    def test_a_dispute_lost_is_in_the_returns_list_of_the_month_it_was_lost(self, ledger: LedgerUnderTest) -> None:
        # Given a payment received in January whose dispute is lost in February
        jan, feb = datetime(2027, 1, 10, tzinfo=UTC), datetime(2027, 2, 3, 12, tzinfo=UTC)
        paid = a_payment(created_at=jan)
        ledger.commit(Change(payment=paid))
        lost = Dispute("dp_1", paid.invoice_id, "pi_1", 1_500, paid.currency, "fraudulent", DisputeStatus.LOST, feb)
        ledger.commit(Change(dispute=lost, lost_dispute=LostDispute(paid, lost)))

        # Then February's returns hold it once, with the amount the bank took back; January's do not
        february = ReturnListing(since=datetime(2027, 2, 1, tzinfo=UTC), until=datetime(2027, 3, 1, tzinfo=UTC))
        [entry] = ledger.list_returns(february, 10, None).items
        assert (entry.kind, entry.at, entry.amount, entry.payment.key) == (ReturnKind.DISPUTE_LOST, feb, 1_500, "pi_1")
        assert entry.dispute is not None and (entry.dispute.id, entry.dispute.reason) == ("dp_1", "fraudulent")
        january = ReturnListing(since=datetime(2027, 1, 1, tzinfo=UTC), until=datetime(2027, 2, 1, tzinfo=UTC))
        assert ledger.list_returns(january, 10, None).items == []

    def test_customer_lists_by_name_and_email_and_everyone_newest_first(self, ledger: LedgerUnderTest) -> None:
        people = [("cus_a", "Ann Smith", "zed@example.com"), ("cus_b", "Bo", "ann@example.com"),
                  ("cus_c", "Cy", "cy@example.com")]  # fmt: skip
        for n, (customer_id, name, email) in enumerate(people):
            created = NOW + timedelta(minutes=n)
            ledger.commit(Change(new_customer=a_customer(customer_id, name=name, email=email, created_at=created)))

        found = ledger.list_customers(CustomerListing("prefix", "ann"), 10, None).items
        assert [(under, c.id) for under, c in found] == [("name", "cus_a"), ("email", "cus_b")]
        by_email = ledger.list_customers(CustomerListing("email", "ann@example.com"), 10, None).items
        assert [(under, c.id) for under, c in by_email] == [("email", "cus_b")]
        for limit in (1, 2, 3, 4):
            listed = walked(lambda lim, cur: ledger.list_customers(CustomerListing("all"), lim, cur), limit)
            assert [c.id for _, c in listed] == ["cus_c", "cus_b", "cus_a"]

        # When a customer's email changes, the old one no longer finds it
        moved = replace(a_customer("cus_b", name="Bo", email="bo@example.com", created_at=NOW + timedelta(minutes=1)))
        ledger.commit(Change(customer_update=replace(moved, version=1)))
        assert ledger.list_customers(CustomerListing("email", "ann@example.com"), 10, None).items == []
        assert [c.id for _, c in ledger.list_customers(CustomerListing("prefix", "bo"), 10, None).items] == [
            "cus_b", "cus_b",
        ]  # fmt: skip

    def test_a_list_cursor_works_only_for_its_own_listing(self, ledger: LedgerUnderTest) -> None:
        for n in range(3):
            ledger.commit(Change(new_invoice=an_invoice(f"inv_{n}", number=f"N{n}")))
        cursor = ledger.list_invoices(InvoiceListing("owed", "USD"), 1, None).next_cursor
        assert cursor
        for other in (InvoiceListing("owed", "EUR"), InvoiceListing("status", "USD", "open")):
            with pytest.raises(InvalidCursor):
                ledger.list_invoices(other, 1, cursor)
        with pytest.raises(InvalidCursor):
            ledger.list_invoices(InvoiceListing("owed", "USD"), 1, cursor[:-3] + "abc")

    def test_due_invoices_list_soonest_first_up_to_the_second(self, ledger: LedgerUnderTest) -> None:
        # Given invoices in one shard: due in the past, within `until`'s second, later, or never
        due_ids = ids_in_shard("inv", SHARD, 6)
        schedule = {
            due_ids[0]: NOW - timedelta(days=2),
            due_ids[1]: NOW + timedelta(microseconds=900_000),  # the same second as `until`
            due_ids[2]: NOW - timedelta(hours=1),
            due_ids[3]: NOW - timedelta(days=2),  # the same instant as the first: by id
            due_ids[4]: NOW + timedelta(seconds=1),
            due_ids[5]: None,
        }
        for invoice_id, at in schedule.items():
            ledger.commit(Change(new_invoice=an_invoice(invoice_id, next_action_at=at)))
        other_shard = ids_in_shard("inv", SHARD + 1, 1)[0]
        ledger.commit(Change(new_invoice=an_invoice(other_shard, next_action_at=NOW - timedelta(days=1))))
        expected = [due_ids[0], due_ids[3], due_ids[2], due_ids[1]]

        # Then every page size walks the due ones soonest first; the other shard has its own
        for limit in (1, 2, 3, 4, 10):
            listed = walked(lambda lim, cur: ledger.due_invoices(SHARD, NOW, lim, cur), limit)
            assert [i.id for i in listed] == expected, limit
        assert [i.id for i in ledger.due_invoices(SHARD + 1, NOW, 10, None).items] == [other_shard]

    def test_due_plans_and_recurring_charges_list_by_their_own_shards(self, ledger: LedgerUnderTest) -> None:
        # Given plans and recurring charges in one shard, two of each due
        plan_ids, recurring_ids = ids_in_shard("plan", SHARD, 3), ids_in_shard("rec", SHARD, 3)
        for n, (plan_id, recurring_id) in enumerate(zip(plan_ids, recurring_ids, strict=True)):
            at = NOW - timedelta(days=n) if n < 2 else NOW + timedelta(days=1)
            ledger.commit(
                Change(
                    new_plan=a_plan(plan_id, next_action_at=at),
                    new_recurring=a_recurring(recurring_id, next_action_at=at),
                )
            )
        # An invoice due in the same shard is reminder work, not a charge
        ledger.commit(Change(new_invoice=an_invoice(ids_in_shard("inv", SHARD, 1)[0], next_action_at=NOW)))

        # Then each listing walks its own due items, soonest first
        for limit in (1, 2, 3):
            plans = walked(lambda lim, cur: ledger.due_plans(SHARD, NOW, lim, cur), limit)
            charges = walked(lambda lim, cur: ledger.due_recurring(SHARD, NOW, lim, cur), limit)
            assert [p.id for p in plans] == [plan_ids[1], plan_ids[0]], limit
            assert [r.id for r in charges] == [recurring_ids[1], recurring_ids[0]], limit
        stored = [ledger.get_plan("inv_1", plan_ids[1]), ledger.get_plan("inv_1", plan_ids[0])]
        assert ledger.due_plans(SHARD, NOW, 10, None).items == stored

    def test_a_cursor_works_only_for_the_listing_that_gave_it(self, ledger: LedgerUnderTest) -> None:
        # Given listings with more than one page each
        for n in range(3):
            ledger.commit(Change(new_invoice=an_invoice(f"inv_{n}", created_at=NOW + timedelta(minutes=n))))
            ledger.commit(Change(payment=a_payment(f"pi_{n}", created_at=NOW + timedelta(minutes=n))))
        for invoice_id in ids_in_shard("inv_due", SHARD, 3):
            ledger.commit(Change(new_invoice=an_invoice(invoice_id, next_action_at=NOW)))
        for plan_id in ids_in_shard("plan", SHARD, 3):
            ledger.commit(Change(new_plan=a_plan(plan_id, next_action_at=NOW)))
        invoices = ledger.list_customer_invoices("cus_1", 1, None).next_cursor
        due = ledger.due_invoices(SHARD, NOW, 1, None).next_cursor
        charges = ledger.due_plans(SHARD, NOW, 1, None).next_cursor
        assert invoices and due and charges

        # Then another customer's, another shard's or another kind of work's listing refuses it, as does noise
        refused = [
            lambda: ledger.list_customer_invoices("cus_2", 1, invoices),
            lambda: ledger.list_customer_payments("cus_2", 1, invoices),
            lambda: ledger.due_invoices(SHARD + 1, NOW, 1, due),
            lambda: ledger.due_plans(SHARD, NOW, 1, due),
            lambda: ledger.due_recurring(SHARD, NOW, 1, charges),
            lambda: ledger.due_invoices(SHARD, NOW, 1, "not-a-cursor"),
            lambda: ledger.list_customer_invoices("cus_1", 1, "eyJ4IjoxfQ"),  # a JSON object, not ours
        ]
        for read in refused:
            with pytest.raises(InvalidCursor):
                read()

    def test_a_cursor_from_another_kind_of_listing_is_refused(self, ledger: LedgerUnderTest) -> None:
        # Given a customer with invoices and payments, and a cursor from the listing of their payments
        for n in range(3):
            at = NOW + timedelta(minutes=n)
            ledger.commit(Change(new_invoice=an_invoice(f"inv_{n}", created_at=at)))
            ledger.commit(Change(payment=a_payment(f"pi_{n}", invoice_id=f"inv_{n}", created_at=at)))
        payments = ledger.list_customer_payments("cus_1", 1, None).next_cursor

        # When it is given to the listing of their invoices; Then it is refused, not read as the end
        with pytest.raises(InvalidCursor):
            ledger.list_customer_invoices("cus_1", 1, payments)

    def test_open_balances_sum_what_is_still_to_collect_per_currency(self, ledger: LedgerUnderTest) -> None:
        # Given open, partly paid, paid, void and written-off invoices in two currencies
        ledger.commit(Change(new_invoice=an_invoice("inv_1", amount_due=10_000)))
        ledger.commit(Change(new_invoice=an_invoice("inv_2", amount_due=5_000, amount_paid=1_000,
                                                     status=InvoiceStatus.PARTIALLY_PAID)))  # fmt: skip
        ledger.commit(Change(new_invoice=an_invoice("inv_3", currency="EUR", amount_due=700)))
        ledger.commit(Change(new_invoice=an_invoice("inv_4", amount_paid=12_500, status=InvoiceStatus.PAID)))
        ledger.commit(Change(new_invoice=an_invoice("inv_5", status=InvoiceStatus.VOID)))
        ledger.commit(Change(new_invoice=an_invoice("inv_6", status=InvoiceStatus.UNCOLLECTIBLE)))

        # Then only what is still being collected counts; When one is paid, Then it stops counting
        assert ledger.open_balances() == {"USD": (14_000, 2), "EUR": (700, 1)}

        ledger.commit(Change(invoice_update=an_invoice("inv_1", amount_due=10_000, amount_paid=10_000,
                                                       status=InvoiceStatus.PAID, version=2)))  # fmt: skip
        assert ledger.open_balances() == {"USD": (4_000, 1), "EUR": (700, 1)}

    # -- the outbox store

    def test_a_claim_retried_with_its_token_is_still_its_own(self, ledger: LedgerUnderTest) -> None:
        # Given a pending message; When claimed twice with one token (a retried call); Then both get it
        message = a_message()
        ledger.commit(Change(outbox=[message]))

        assert ledger.claim(message.id, 60, "token-a") == Claim(message)
        assert ledger.claim(message.id, 60, "token-a") == Claim(message)

    def test_a_live_lease_held_by_another_token_is_busy(self, ledger: LedgerUnderTest) -> None:
        # Given a message claimed by one worker; When another claims it; Then it is busy, not handled
        message = a_message()
        ledger.commit(Change(outbox=[message]))
        ledger.claim(message.id, 60, "token-a")

        with pytest.raises(OutboxBusy):
            ledger.claim(message.id, 60, "token-b")

    def test_an_expired_lease_is_taken_over_and_says_so(self, ledger: LedgerUnderTest) -> None:
        # Given a lease that ran out; Then another worker takes it, knowing the first may have sent it
        message = a_message()
        ledger.commit(Change(outbox=[message]))
        ledger.claim(message.id, -1, "token-a")  # a worker that died: its lease ran out

        assert ledger.claim(message.id, 60, "token-b") == Claim(message, taken_over=True)
        with pytest.raises(OutboxBusy):
            ledger.claim(message.id, 60, "token-a")
        # and the first worker, back from the dead, can neither mark nor release what is no longer its own
        assert ledger.mark_delivered(message.id, "token-a") is False
        ledger.release(message.id, "token-a", "Timeout")
        with pytest.raises(OutboxBusy):
            ledger.claim(message.id, 60, "token-c")

    def test_a_released_message_can_be_claimed_again(self, ledger: LedgerUnderTest) -> None:
        # Given a claimed message; When its delivery fails and releases it; Then another worker claims it
        message = a_message()
        ledger.commit(Change(outbox=[message]))
        ledger.claim(message.id, 60, "token-a")

        ledger.release(message.id, "token-a", "Timeout" * 100)

        assert ledger.claim(message.id, 60, "token-b") == Claim(message)

    def test_a_delivered_or_unknown_message_is_not_claimed(self, ledger: LedgerUnderTest) -> None:
        # Given a message delivered; Then no one claims it again, and an unknown message is not claimed
        message = a_message()
        ledger.commit(Change(outbox=[message]))
        ledger.claim(message.id, 60, "token-a")

        assert ledger.mark_delivered(message.id, "token-a", "ses-1") is True

        assert ledger.claim(message.id, 60, "token-a") is None
        assert ledger.claim(message.id, 60, "token-b") is None
        assert ledger.claim("msg_never_written", 60, "token-b") is None

    def test_marking_or_releasing_what_this_token_does_not_hold_changes_nothing(self, ledger: LedgerUnderTest) -> None:
        # Given a message pending; When released or marked without a lease; Then nothing happens
        message = a_message()
        ledger.commit(Change(outbox=[message]))

        ledger.release(message.id, "token-a", "Timeout")
        assert ledger.mark_delivered(message.id, "token-a") is False
        assert ledger.mark_delivered("msg_never_written", "token-a") is False  # and no stub is written
        assert ledger.claim("msg_never_written", 60, "token-a") is None
        # Still pending: the first real claim gets it
        assert ledger.claim(message.id, 60, "token-b") == Claim(message)
        assert ledger.mark_delivered(message.id, "token-b") is True
        ledger.release(message.id, "token-b", "Timeout")  # too late: delivered stays delivered
        assert ledger.claim(message.id, 60, "token-c") is None

    # -- reconciliation's state

    def test_the_reconcile_cursor_only_moves_forward(self, ledger: LedgerUnderTest) -> None:
        assert ledger.get_reconcile_cursor() is None
        ahead = ReconcileCursor(through=NOW + timedelta(hours=1), updated_at=NOW)
        ledger.advance_reconcile_cursor(ahead)
        ledger.advance_reconcile_cursor(ahead)  # a retry of the same call
        ledger.advance_reconcile_cursor(ReconcileCursor(through=NOW, updated_at=NOW + timedelta(hours=2)))

        assert ledger.get_reconcile_cursor() == ahead
        further = ReconcileCursor(through=NOW + timedelta(hours=3), updated_at=NOW + timedelta(hours=3))
        ledger.advance_reconcile_cursor(further)
        assert ledger.get_reconcile_cursor() == further

    def test_drift_keeps_when_it_was_first_seen_until_resolved(self, ledger: LedgerUnderTest) -> None:
        later = NOW + timedelta(hours=5)
        ledger.record_drift(Drift("event", "evt_b", "RuntimeError", first_seen=NOW, last_seen=NOW))
        ledger.record_drift(Drift("event", "evt_a", "ClientError", first_seen=later, last_seen=later))
        ledger.record_drift(Drift("event", "evt_b", "ValueError", first_seen=later, last_seen=later))

        assert ledger.list_drift() == [
            Drift("event", "evt_b", "ValueError", first_seen=NOW, last_seen=later),
            Drift("event", "evt_a", "ClientError", first_seen=later, last_seen=later),
        ]
        ledger.resolve_drift("event", "evt_b")
        ledger.resolve_drift("event", "evt_unknown")
        assert [d.object_id for d in ledger.list_drift()] == ["evt_a"]

    def test_payments_pending_longer_than_expected_list_by_shard_until_they_settle(
        self, ledger: LedgerUnderTest
    ) -> None:
        # Given bank debits in one shard: two pending past their check_at, one recent, one already settled
        keys = ids_in_shard("pi", SHARD, 4)
        long_ago = NOW - PENDING_PAYMENT_EXPECTED
        ledger.commit(
            Change(payment=a_payment(keys[0], PaymentStatus.PENDING, created_at=long_ago - timedelta(days=2)))
        )
        ledger.commit(
            Change(payment=a_payment(keys[1], PaymentStatus.PENDING, created_at=long_ago - timedelta(days=3)))
        )
        ledger.commit(Change(payment=a_payment(keys[2], PaymentStatus.PENDING, created_at=NOW)))
        ledger.commit(Change(payment=a_payment(keys[3], PaymentStatus.SUCCEEDED, created_at=long_ago, fee=A_FEE)))

        # Then the overdue ones list, longest pending first, in pages
        for limit in (1, 2, 3):
            overdue = walked(lambda lim, cur: ledger.pending_payments_due(SHARD, NOW, lim, cur), limit)
            assert [p.key for p in overdue] == [keys[1], keys[0]], limit
        # And one that settles leaves the listing
        settled = a_payment(keys[1], PaymentStatus.SUCCEEDED, created_at=long_ago - timedelta(days=3), fee=A_FEE)
        ledger.commit(Change(payment=settled))
        assert [p.key for p in ledger.pending_payments_due(SHARD, NOW, 10, None).items] == [keys[0]]

    def test_a_succeeded_payment_lists_until_its_fee_is_recorded_or_its_lookups_are_used_up(
        self, ledger: LedgerUnderTest
    ) -> None:
        # Given a Stripe payment that succeeded at NOW, its fee not known, and an offline one
        [key, other] = ids_in_shard("pi", SHARD, 2)
        succeeded = a_payment(key, PaymentStatus.SUCCEEDED)
        ledger.commit(Change(payment=succeeded))
        offline = a_payment(other, payment_intent_id=None, offline=OfflineReceipt(OfflineMethod.CHECK, "1", NOW.date()))
        ledger.commit(Change(payment=offline))

        # Then the Stripe one lists from its success on (its first lookup), the offline one never
        assert ledger.pending_payments_due(SHARD, NOW - timedelta(seconds=1), 10, None).items == []
        [listed] = ledger.pending_payments_due(SHARD, NOW, 10, None).items
        assert listed == succeeded and listed.fee_due

        # And a lookup that found none lists it again an hour after it
        later = NOW + timedelta(minutes=5)
        once = replace(succeeded, fee_lookups=1, refund_version=1, updated_at=later)
        ledger.commit(Change(payment_fee=once))
        assert ledger.pending_payments_due(SHARD, later + timedelta(minutes=59), 10, None).items == []
        assert ledger.pending_payments_due(SHARD, later + timedelta(hours=1), 10, None).items == [once]

        # And its fee recorded takes it out, with the fee kept on the payment
        known = replace(once, fee=A_FEE, refund_version=2, updated_at=later + timedelta(hours=1))
        # (a fee read from a stale copy is refused, as a refund from one is)
        assert rejection(ledger, Change(payment_fee=replace(known, refund_version=1))) == Rejection.STALE_REFUNDS
        ledger.commit(Change(payment_fee=known))
        assert ledger.pending_payments_due(SHARD, NOW + timedelta(days=30), 10, None).items == []
        assert ledger.get_payment_context("inv_1", None, key).payment == known

        # And so do lookups used up, the fee unknown
        given_up = replace(once, fee_lookups=len(FEE_LOOKUP_AFTER), refund_version=3)
        ledger.commit(Change(payment_fee=given_up))
        assert ledger.pending_payments_due(SHARD, NOW + timedelta(days=30), 10, None).items == []

    def test_a_payment_with_a_refund_pending_longer_than_expected_lists_too(self, ledger: LedgerUnderTest) -> None:
        [key] = ids_in_shard("pi", SHARD, 1)
        pending = Refund(
            "re_slow", 2_000, RefundStatus.PENDING, False, "requested_by_customer", NOW - timedelta(days=15)
        )
        ledger.commit(Change(payment=a_payment(key, PaymentStatus.SUCCEEDED, refunds=(pending,), refund_version=1)))

        [listed] = ledger.pending_payments_due(SHARD, NOW, 10, None).items

        assert listed.key == key and listed.refunds == (pending,)
        assert ledger.pending_payments_due(SHARD, NOW - timedelta(days=2), 10, None).items == []

    def test_open_checkouts_past_their_expiry_list_by_shard_until_they_close(self, ledger: LedgerUnderTest) -> None:
        # Given open sessions in one shard: two past their expiry and grace, one expiring later, one closed
        invoices = ids_in_shard("inv", SHARD, 4)
        late = NOW - CHECKOUT_EXPIRY_GRACE

        def opened(invoice_id: str, expires_at: Any, version: int = 1) -> OpenCheckout:
            attempt = replace(a_checkout(f"chk_{invoice_id}", f"cs_{invoice_id}", invoice_id), expires_at=expires_at)
            return OpenCheckout(invoice_id, version, attempt, "pay:12500")

        ledger.commit(Change(open_checkout=opened(invoices[0], late - timedelta(hours=1))))
        ledger.commit(Change(open_checkout=opened(invoices[1], late - timedelta(hours=2))))
        ledger.commit(Change(open_checkout=opened(invoices[2], NOW + timedelta(hours=23))))
        ledger.commit(Change(open_checkout=OpenCheckout(invoices[3], 1)))

        # Then the overdue ones list, longest past expiry first, in pages
        for limit in (1, 2, 3):
            overdue = walked(lambda lim, cur: ledger.open_checkouts_due(SHARD, NOW, lim, cur), limit)
            assert [o.invoice_id for o in overdue] == [invoices[1], invoices[0]], limit
        assert walked(lambda lim, cur: ledger.open_checkouts_due(SHARD, NOW, lim, cur), 5)[0] == opened(
            invoices[1], late - timedelta(hours=2)
        )
        # And one closed (its session expired or completed) leaves the listing
        ledger.commit(Change(open_checkout=OpenCheckout(invoices[1], 2)))
        assert [o.invoice_id for o in ledger.open_checkouts_due(SHARD, NOW, 10, None).items] == [invoices[0]]

    def test_charges_in_flight_list_by_shard_after_their_grace_and_not_as_charges_due(
        self, ledger: LedgerUnderTest
    ) -> None:
        # Given plans in one shard: two charging under a PaymentIntent past their grace, one within it, one
        # claimed with no PaymentIntent yet (the charge run's to call again), one cancelled mid-charge
        plans = ids_in_shard("plan", SHARD, 5)

        def charging(plan_id: str, check_at: Any, intent: str | None = "pi_x", **fields: Any) -> Any:
            installment = Installment(
                1, NOW.date(), 6_250, InstallmentStatus.CHARGING, 1, intent and f"{intent}_{plan_id}"
            )
            return a_plan(plan_id, installments=(installment,), next_action_at=check_at, **fields)

        ledger.commit(Change(new_plan=charging(plans[0], NOW - timedelta(minutes=5))))
        ledger.commit(Change(new_plan=charging(plans[1], NOW - timedelta(hours=3))))
        ledger.commit(Change(new_plan=charging(plans[2], NOW + timedelta(minutes=30))))
        ledger.commit(Change(new_plan=charging(plans[3], NOW - timedelta(hours=1), intent=None)))
        ledger.commit(Change(new_plan=charging(plans[4], NOW - timedelta(hours=1), status=PlanStatus.CANCELLED)))

        # Then the ones past their grace list, oldest first, in pages
        for limit in (1, 2, 3):
            overdue = walked(lambda lim, cur: ledger.charges_in_flight_due(SHARD, NOW, lim, cur), limit)
            assert [p.id for p in overdue] == [plans[1], plans[0]], limit
        # And none of those in flight is a charge due: the charge run has nothing to do for them
        assert [p.id for p in ledger.due_plans(SHARD, NOW + timedelta(days=1), 10, None).items] == [plans[3], plans[4]]
        # And one whose outcome lands leaves the listing, back to the charge run's partitions
        [stored] = [p for p in ledger.charges_in_flight_due(SHARD, NOW, 10, None).items if p.id == plans[1]]
        paid = replace(stored.installments[0], status=InstallmentStatus.PAID)
        ledger.commit(Change(plan_update=replace(stored, installments=(paid,), version=stored.version + 1)))
        assert [p.id for p in ledger.charges_in_flight_due(SHARD, NOW, 10, None).items] == [plans[0]]
        assert plans[1] in [p.id for p in ledger.due_plans(SHARD, NOW + timedelta(days=1), 10, None).items]

    # -- counters: Change.tallies

    def test_tallies_add_up_over_changes_and_read_back_by_bucket_or_range(self, ledger: LedgerUnderTest) -> None:
        # Given two changes, each with tallies, two of them on the same counter within one change
        ledger.commit(
            Change(
                new_invoice=an_invoice("inv_1"),
                tallies=[
                    Tally("owed#USD", "D#2026-12-15", {"amount": 12_500, "invoices": 1}),
                    Tally("owed#USD", "D#2026-12-15", {"amount": 500}),
                    Tally("owed#USD", "M#2026-12", {"amount": 13_000}),
                ],
            )
        )
        ledger.commit(
            Change(
                invoice_update=an_invoice("inv_1", version=2),
                tallies=[
                    Tally("owed#USD", "D#2026-12-15", {"amount": -13_000, "invoices": -1}),
                    Tally("owed#USD", "D#2026-12-20", {"amount": 7}),
                    Tally("owed#EUR", "D#2026-12-15", {"amount": 3}),
                ],
            )
        )

        # Then each counter holds the sum of its deltas, and a scope's buckets read by name or by range
        named = ledger.read_tallies("owed#USD", buckets=["D#2026-12-15", "M#2026-12", "D#2030-01-01"])
        assert named == {"D#2026-12-15": {"amount": 0, "invoices": 0}, "M#2026-12": {"amount": 13_000}}
        assert ledger.read_tallies("owed#USD", between=("D#2026-12-01", "D#2026-12-31")) == {
            "D#2026-12-15": {"amount": 0, "invoices": 0},
            "D#2026-12-20": {"amount": 7},
        }
        assert ledger.read_tallies("owed#EUR", between=("D#", "D#~")) == {"D#2026-12-15": {"amount": 3}}
        assert ledger.read_tallies("owed#GBP", between=("D#", "D#~")) == {}
        assert list(ledger.read_tallies("owed#USD", between=("", "~"))) == ["D#2026-12-15", "D#2026-12-20", "M#2026-12"]
        assert ledger.read_tallies("owed#USD", buckets=[]) == {}

    def test_a_range_from_the_empty_string_reads_every_bucket_up_to_its_end(self, ledger: LedgerUnderTest) -> None:
        # Given counters in two buckets of one scope (the currencies invoiced in, say)
        tallies = [Tally("currencies", "EUR", {"invoices": 1}), Tally("currencies", "USD", {"invoices": 2})]
        ledger.commit(Change(new_invoice=an_invoice("inv_1"), tallies=tallies))
        # Then a range from "" reads them all (DynamoDB refuses "" as a key value: the adapter asks for sk <= end)
        assert ledger.read_tallies("currencies", between=("", "~")) == {"EUR": {"invoices": 1}, "USD": {"invoices": 2}}
        assert ledger.read_tallies("currencies", between=("", "F")) == {"EUR": {"invoices": 1}}

    def test_more_than_a_hundred_buckets_read_by_name(self, ledger: LedgerUnderTest) -> None:
        # Given 120 counters written over two changes (a transaction holds at most 100 items)
        buckets = [f"B#{n:03}" for n in range(120)]
        ledger.commit(Change(new_invoice=an_invoice("inv_1"), tallies=[Tally("s", b, {"n": 1}) for b in buckets[:60]]))
        ledger.commit(Change(new_invoice=an_invoice("inv_2"), tallies=[Tally("s", b, {"n": 2}) for b in buckets[60:]]))

        # Then naming all of them reads all of them
        found = ledger.read_tallies("s", buckets=buckets)
        assert len(found) == 120 and found["B#000"] == {"n": 1} and found["B#119"] == {"n": 2}

    def test_a_rejected_or_repeated_change_counts_nothing(self, ledger: LedgerUnderTest) -> None:
        # Given a change with a tally, committed once
        counted = Change(new_invoice=an_invoice("inv_1"), tallies=[Tally("owed#USD", "M#2026-12", {"amount": 100})])
        ledger.commit(counted)

        # When the same change is committed again, and a stale update with a tally is committed
        assert rejection(ledger, counted) == Rejection.EXISTS
        stale = Change(
            invoice_update=an_invoice("inv_1", version=5), tallies=[Tally("owed#USD", "M#2026-12", {"amount": 1})]
        )
        assert rejection(ledger, stale) == Rejection.STALE_INVOICE

        # Then the counter moved once
        assert ledger.read_tallies("owed#USD", buckets=["M#2026-12"]) == {"M#2026-12": {"amount": 100}}

    def test_an_expiring_counter_reads_back_its_counts_only_and_disagreeing_expiries_are_refused(
        self, ledger: LedgerUnderTest
    ) -> None:
        # Given a counter that expires, moved twice in one change and again in another
        expiring = [Tally("q", "b", {"n": 1}, expires_at=1_800_000_000), Tally("q", "b", {"n": 2}, 1_800_000_000)]
        ledger.commit(Change(new_invoice=an_invoice("inv_1"), tallies=expiring))
        ledger.commit(Change(new_invoice=an_invoice("inv_2"), tallies=[Tally("q", "b", {"n": 4}, 1_800_000_000)]))

        # Then what it reads back is its counts, never its expiry
        assert ledger.read_tallies("q", buckets=["b"]) == {"b": {"n": 7}}
        assert ledger.read_tallies("q", between=("a", "c")) == {"b": {"n": 7}}
        # And one change may not give the same counter two expiries
        with pytest.raises(ValueError, match="expires"):
            ledger.commit(
                Change(
                    new_invoice=an_invoice("inv_3"), tallies=[Tally("q", "b", {"n": 1}, 1), Tally("q", "b", {"n": 1})]
                )
            )
        assert ledger.read_tallies("q", buckets=["b"]) == {"b": {"n": 7}}

    def test_tallies_without_a_guarded_write_are_refused_and_write_nothing(self, ledger: LedgerUnderTest) -> None:
        # Given a change whose only other writes are an audit entry and a message (fresh ids: no guard on a race)
        message = a_message()
        unguarded = Change(outbox=[message], audit=[an_audit_entry()], tallies=[Tally("s", "b", {"n": 1})])

        # When committed; Then it is refused before anything is written
        with pytest.raises(ValueError, match="guarded"):
            ledger.commit(unguarded)
        assert ledger.read_tallies("s", buckets=["b"]) == {}
        assert ledger.claim(message.id, 60, "token-a") is None

    def test_tallies_count_towards_the_hundred_items_of_a_transaction(self, ledger: LedgerUnderTest) -> None:
        # Given a Stripe event's record (one item) and 100 counters: 101 items
        too_many = [Tally("s", f"b{n:03}", {"n": 1}) for n in range(100)]

        # When committed; Then it is refused and nothing is counted; with 99 counters it commits
        with pytest.raises(self.refused_request):
            ledger.commit(Change(stripe_event=an_event(), tallies=too_many))
        assert ledger.read_tallies("s", between=("b", "b~")) == {}
        ledger.commit(Change(stripe_event=an_event(), tallies=too_many[:99]))
        assert len(ledger.read_tallies("s", between=("b", "b~"))) == 99

    def test_a_delta_that_is_not_an_int_is_refused(self, ledger: LedgerUnderTest) -> None:
        # Given an amount as a float (money is an int in minor units); Then the change is refused
        with pytest.raises(TypeError):
            ledger.commit(Change(new_invoice=an_invoice("inv_1"), tallies=[Tally("s", "b", {"amount": 1.5})]))  # type: ignore[dict-item]
        assert ledger.get_invoice("inv_1") is None

    def test_a_snapshot_reads_back_by_kind_and_day_and_is_replaced_by_the_next(self, ledger: LedgerUnderTest) -> None:
        # Given a snapshot of a day, then another of the same day
        day = NOW.date()
        ledger.save_snapshot("aging", day, {"USD": {"current": 1, "days_1_30": 2}}, NOW + timedelta(days=410))
        ledger.save_snapshot("aging", day, {"USD": {"current": 3}, "EUR": {"days_91_plus": 4}}, NOW)

        # Then the day reads as the last one written, and other days and kinds hold nothing
        assert ledger.get_snapshot("aging", day) == {"USD": {"current": 3}, "EUR": {"days_91_plus": 4}}
        assert ledger.get_snapshot("aging", day - timedelta(days=1)) is None
        assert ledger.get_snapshot("other", day) is None

    def test_the_counters_ready_marker_keeps_its_first_day(self, ledger: LedgerUnderTest) -> None:
        # Given a table without the marker (one from before the aggregates)
        assert ledger.counters_ready() is None

        # When it is marked ready, then marked again later
        ledger.mark_counters_ready(NOW.date())
        ledger.mark_counters_ready(NOW.date() + timedelta(days=3))

        # Then it is ready from the first day marked
        assert ledger.counters_ready() == NOW.date()

    def test_an_uncounted_invoice_reads_back_uncounted_and_an_update_counts_it(self, ledger: LedgerUnderTest) -> None:
        old = an_invoice(counted=False)
        ledger.commit(Change(new_customer=a_customer(), new_invoice=old))
        assert ledger.get_invoice("inv_1") == old

        counted = replace(old, version=2, counted=True)
        ledger.commit(Change(invoice_update=counted))
        assert ledger.get_invoice("inv_1") == counted

    def test_open_invoice_balances_list_what_each_invoice_being_collected_owes(self, ledger: LedgerUnderTest) -> None:
        # Given an open invoice, a partly paid one, a paid one and a void one
        ledger.commit(Change(new_invoice=an_invoice("inv_1", due_date=NOW.date())))
        partly = an_invoice(
            "inv_2", customer_id="cus_2", currency="EUR", amount_paid=500, status=InvoiceStatus.PARTIALLY_PAID
        )
        ledger.commit(Change(new_invoice=partly))
        ledger.commit(Change(new_invoice=an_invoice("inv_3", amount_paid=12_500, status=InvoiceStatus.PAID)))
        ledger.commit(Change(new_invoice=an_invoice("inv_4", status=InvoiceStatus.VOID)))

        # Then only the two being collected are listed, with their customer, currency, due date and remainder
        assert sorted(ledger.open_invoice_balances()) == [
            ("cus_1", "USD", NOW.date(), 12_500),
            ("cus_2", "EUR", partly.due_date, 12_000),
        ]
