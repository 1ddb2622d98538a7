"""Invoices: created once per idempotency key with a pay link, voided, held and released."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from shared.domain.dunning import DunningPolicy, DunningStep
from shared.domain.errors import InvalidHold, InvalidStateTransition, NotFound
from shared.domain.invoices import Hold, InvoiceStatus
from shared.domain.messages import Event, EventName, InvoiceIssuedEmail
from shared.domain.plans import PlanOffer
from shared.domain.records import Autopay, PayLink
from shared.services.invoices import (
    InvoiceDraft,
    IssuedInvoice,
    create_invoice,
    create_invoice_once,
    invoice_details,
    place_hold,
    release_hold,
    void_invoice,
)
from shared.services.once import MissingIdempotencyKey
from shared.services.ports import Change, ChangeRejected, Rejection
from shared.services.reminders import run_reminders
from tests.fakes import FixedClock, InMemoryLedger
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import NOW, a_customer, a_payment, an_invoice
from tests.fakes.run_once import FingerprintMismatch, InMemoryRunOnce

DRAFT = InvoiceDraft(
    customer_id="cus_1", number="2026-0042", currency="EUR", amount_due=30_000, due_date=date(2026, 12, 15)
)


def _once(
    ledger: InMemoryLedger,
    once: InMemoryRunOnce,
    draft: InvoiceDraft = DRAFT,
    *,
    key: str | None = "key-1",
    actor: str = "operator:acme",
) -> IssuedInvoice:
    return create_invoice_once(
        ledger,
        FixedClock(NOW),
        once,
        draft,
        key=key,
        fingerprint={"number": draft.number, "amount_due": draft.amount_due},
        actor=actor,
        pay_link_ttl_days=30,
        autopay_notice_days=3,
    )


def test_a_new_invoice_is_stored_with_its_event_its_audit_entry_and_its_first_reminder() -> None:
    # Given a customer in London
    ledger = a_ledger_with(a_customer())
    # When the operator creates an invoice due on 15 December
    invoice = create_invoice(ledger, FixedClock(NOW), DRAFT, actor="operator:acme")
    # Then it is stored open, with the first reminder a week before the due date at 09:00 their time
    stored = ledger.get_invoice(invoice.id)
    assert stored == invoice
    assert (stored.status, stored.amount_due, stored.amount_paid, stored.customer_timezone) == (
        InvoiceStatus.OPEN,
        30_000,
        0,
        "Europe/London",
    )
    assert stored.next_action_at == datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    [message] = ledger.outbox_messages()
    assert isinstance(message.body, Event) and message.body.name is EventName.INVOICE_CREATED
    assert message.body.detail["amount_remaining"] == 30_000
    [audit] = ledger.audit
    assert (audit.subject.value, audit.subject_id, audit.action, audit.actor) == (
        "invoice",
        invoice.id,
        "invoice.created",
        "operator:acme",
    )
    assert ledger.pay_links == {}  # links are minted by the caller


def test_notify_queues_the_invoice_email_without_storing_any_token() -> None:
    ledger = a_ledger_with(a_customer())
    invoice = create_invoice(ledger, FixedClock(NOW), replace(DRAFT, notify=True), actor="operator:acme")
    emails = [m.body for m in ledger.outbox_messages() if not isinstance(m.body, Event)]
    assert emails == [InvoiceIssuedEmail(invoice.id)]
    assert ledger.pay_links == {}


def test_an_invoice_for_an_unknown_customer_is_not_found() -> None:
    with pytest.raises(NotFound):
        create_invoice(a_ledger_with(), FixedClock(NOW), DRAFT, actor="operator:acme")


def test_a_duplicate_invoice_number_is_refused_and_nothing_is_written() -> None:
    # Given an invoice numbered 2026-0042
    ledger = a_ledger_with(a_customer())
    create_invoice(ledger, FixedClock(NOW), DRAFT, actor="operator:acme")
    commits, outbox = ledger.commits, len(ledger.outbox)
    # When another invoice is created with that number
    with pytest.raises(ChangeRejected) as rejected:
        create_invoice(ledger, FixedClock(NOW), DRAFT, actor="operator:acme")
    # Then it is refused as a duplicate number (the operator API answers 409), and nothing else is written
    assert rejected.value.reason is Rejection.DUPLICATE_NUMBER
    assert (ledger.commits, len(ledger.outbox), len(ledger.invoices)) == (commits, outbox, 1)


def test_the_same_key_and_body_give_the_same_invoice_with_a_fresh_link() -> None:
    # Given an invoice created under an idempotency key
    ledger, once = a_ledger_with(a_customer()), InMemoryRunOnce()
    first = _once(ledger, once)
    # When the same request is sent again (a retry after a timeout)
    again = _once(ledger, once)
    # Then it is the same invoice, created once, and each reply carries its own link, stored only as a hash
    assert again.invoice == first.invoice and once.runs == 1 and len(ledger.invoices) == 1
    assert first.link.token != again.link.token
    assert set(ledger.pay_links) == {PayLink.hash_token(first.link.token), PayLink.hash_token(again.link.token)}
    assert first.link.url("https://pay.example.test") == f"https://pay.example.test/pay/{first.link.token}"


def test_a_replay_shows_payments_made_meanwhile() -> None:
    ledger, once = a_ledger_with(a_customer()), InMemoryRunOnce()
    first = _once(ledger, once)
    ledger.commit(Change(payment=a_payment(invoice_id=first.invoice.id)))
    assert [p.key for p in _once(ledger, once).payments] == ["pi_1"]


def test_the_same_key_with_another_body_is_refused() -> None:
    ledger, once = a_ledger_with(a_customer()), InMemoryRunOnce()
    _once(ledger, once)
    with pytest.raises(FingerprintMismatch):
        _once(ledger, once, replace(DRAFT, amount_due=1))
    assert len(ledger.invoices) == 1


def test_keys_are_scoped_to_the_caller() -> None:
    ledger, once = a_ledger_with(a_customer()), InMemoryRunOnce()
    _once(ledger, once, actor="operator:acme")
    other = _once(ledger, once, replace(DRAFT, number="B-1"), actor="operator:globex")
    assert len(ledger.invoices) == 2 and other.invoice.number == "B-1"


@pytest.mark.parametrize("key", [None, "", "   "])
def test_a_creating_request_needs_an_idempotency_key(key: str | None) -> None:
    ledger, once = a_ledger_with(a_customer()), InMemoryRunOnce()
    with pytest.raises(MissingIdempotencyKey):
        _once(ledger, once, key=key)
    assert ledger.invoices == {} and once.runs == 0


def test_voiding_an_untouched_invoice_takes_it_out_of_dunning_once() -> None:
    # Given an open invoice with reminders scheduled
    ledger = a_ledger_with(a_customer(), an_invoice(next_action_at=NOW))
    # When the operator voids it, twice
    details = void_invoice(ledger, FixedClock(NOW), "inv_1", actor="operator:acme")
    void_invoice(ledger, FixedClock(NOW), "inv_1", actor="operator:acme")
    # Then it is void, out of the due index, with one event, one cancellation email and one audit entry
    assert details.invoice.status is InvoiceStatus.VOID and details.invoice.next_action_at is None
    assert [m.name for m in ledger.outbox_messages()] == [EventName.INVOICE_VOIDED.value, "invoice_voided"]
    assert ledger.audit_actions("inv_1") == ["invoice.voided"]


@pytest.mark.parametrize(
    "fields",
    [
        {"status": InvoiceStatus.PARTIALLY_PAID, "amount_paid": 100},
        {"status": InvoiceStatus.PAID, "amount_paid": 12_500},
    ],
)
def test_an_invoice_with_money_on_it_cannot_be_voided(fields: dict[str, Any]) -> None:
    ledger = a_ledger_with(a_customer(), an_invoice(**fields))
    with pytest.raises(InvalidStateTransition):
        void_invoice(ledger, FixedClock(NOW), "inv_1", actor="operator:acme")
    assert ledger.outbox_messages() == [] and ledger.audit == []


def test_a_hold_pauses_reminders_until_its_end_and_release_resumes_them() -> None:
    # Given an open invoice whose week-before reminder is due now
    ledger = a_ledger_with(a_customer(), an_invoice(due_date=date(2026, 11, 9), next_action_at=NOW))
    until = NOW + timedelta(days=5)
    # When the operator holds it for five days
    held = place_hold(ledger, FixedClock(NOW), "inv_1", reason="call scheduled", until=until, actor="operator:acme")
    # Then the run looks at it again only then
    assert held.invoice.hold == Hold("call scheduled", until) and held.invoice.next_action_at == until
    # When the hold is released the next day
    released = release_hold(ledger, FixedClock(NOW + timedelta(days=1)), "inv_1", actor="operator:acme")
    # Then the latest step that applies is due now, in the customer's window (10:30 in London)
    assert released.invoice.hold is None
    assert released.invoice.next_action_at == NOW + timedelta(days=1)
    assert ledger.audit_actions("inv_1") == ["invoice.hold_placed", "invoice.hold_released"]


def test_releasing_a_hold_after_the_last_reminder_keeps_the_write_off_coming() -> None:
    # Given a policy writing off 30 days after the due date, and an invoice whose only reminder went out
    policy = DunningPolicy(steps=(DunningStep(0, "due_today"),), mark_uncollectible_after_days=30)
    invoice = an_invoice(
        due_date=date(2026, 10, 20), customer_timezone="Europe/London", reminders_sent=frozenset({"+0:due_today"})
    )
    ledger = a_ledger_with(a_customer(), invoice)
    ledger.commit(Change(dunning_policy=policy))
    # When the operator holds it and releases it again
    place_hold(ledger, FixedClock(NOW), "inv_1", reason="call scheduled", until=None, actor="operator:acme")
    release_hold(ledger, FixedClock(NOW), "inv_1", actor="operator:acme")
    # Then the dunning run still writes it off on 19 November
    run_reminders(ledger, FixedClock(datetime(2026, 11, 19, 9, tzinfo=UTC)))
    stored = ledger.get_invoice("inv_1")
    assert stored is not None and stored.status is InvoiceStatus.UNCOLLECTIBLE


def test_a_hold_that_ends_in_the_past_is_refused() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice())
    with pytest.raises(InvalidHold):
        place_hold(ledger, FixedClock(NOW), "inv_1", reason="x", until=NOW, actor="operator:acme")


def test_a_paid_invoice_has_nothing_to_hold() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice(status=InvoiceStatus.PAID, amount_paid=12_500))
    with pytest.raises(InvalidStateTransition):
        place_hold(ledger, FixedClock(NOW), "inv_1", reason="x", until=None, actor="operator:acme")


def test_releasing_an_invoice_that_is_not_held_changes_nothing() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice())
    release_hold(ledger, FixedClock(NOW), "inv_1", actor="operator:acme")
    assert ledger.audit == [] and ledger.commits == 2


def test_details_carry_the_payments_newest_first() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice())
    ledger.commit(Change(payment=a_payment("pi_old", created_at=NOW - timedelta(days=1))))
    ledger.commit(Change(payment=a_payment("pi_new")))
    details = invoice_details(ledger, "inv_1")
    assert [p.key for p in details.payments] == ["pi_new", "pi_old"] and details.plan is None


def test_a_customer_on_autopay_gets_a_plan_instead_of_reminders() -> None:
    # Given a customer who turned autopay on
    ledger = a_ledger_with(a_customer(autopay=Autopay(enabled_at=NOW)))
    # When an invoice is created for them
    invoice = create_invoice(ledger, FixedClock(NOW), DRAFT, actor="operator:acme")
    # Then an autopay plan will charge it, and no reminder is scheduled
    assert invoice.active_plan is not None and invoice.next_action_at is None
    plan = ledger.get_plan(invoice.id, invoice.active_plan)
    assert plan is not None and sum(i.amount for i in plan.installments) == 30_000


def test_the_policys_default_installments_are_offered_where_two_installments_fit() -> None:
    ledger = a_ledger_with(a_customer())
    offer = PlanOffer(max_installments=3, min_installment_amount=10_000)
    ledger.commit(
        Change(dunning_policy=DunningPolicy(steps=(DunningStep(0, "due_today"),), default_installments=offer))
    )
    big = create_invoice(ledger, FixedClock(NOW), DRAFT, actor="operator:acme")
    small = create_invoice(
        ledger, FixedClock(NOW), replace(DRAFT, number="S-1", amount_due=19_999), actor="operator:acme"
    )
    assert (big.plan_offer, small.plan_offer) == (offer, None)
