"""Customers: created, corrected, held, and marked unreachable when their address bounces."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.domain.errors import InvalidHold, NotFound
from shared.domain.invoices import Hold, InvoiceStatus
from shared.domain.messages import Event, EventName
from shared.domain.records import EmailUndeliverable
from shared.services.customers import (
    CustomerCorrection,
    CustomerDraft,
    create_customer,
    ensure_stripe_customer,
    get_customer,
    list_transactions,
    place_customer_hold,
    record_email_feedback,
    release_customer_hold,
    update_customer,
)
from shared.services.ports import Change
from tests.fakes import FakeGateway, FixedClock
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import NOW, a_customer, a_payment, an_invoice

BOUNCED = EmailUndeliverable(reason="bounce", at=NOW - timedelta(days=1), detail="General")


def test_a_new_customer_is_stored_with_an_audit_entry() -> None:
    ledger = a_ledger_with()
    draft = CustomerDraft(email="ada@example.com", name="Ada", timezone="Europe/Paris", locale="fr-FR")
    customer = create_customer(ledger, FixedClock(NOW), draft, actor="operator:acme")
    assert get_customer(ledger, customer.id) == customer
    assert (customer.email, customer.timezone, customer.locale, customer.created_at) == (
        "ada@example.com",
        "Europe/Paris",
        "fr-FR",
        NOW,
    )
    assert [(a.subject.value, a.subject_id, a.action) for a in ledger.audit] == [
        ("customer", customer.id, "customer.created")
    ]


def test_an_unknown_customer_is_not_found_even_for_their_transactions() -> None:
    with pytest.raises(NotFound):
        get_customer(a_ledger_with(), "cus_nope")
    with pytest.raises(NotFound):
        list_transactions(a_ledger_with(), "cus_nope", limit=10, cursor=None)


def test_transactions_page_through_the_customers_payments_newest_first() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice())
    for n in range(3):
        ledger.commit(Change(payment=a_payment(f"pi_{n}", created_at=NOW + timedelta(minutes=n))))
    first = list_transactions(ledger, "cus_1", limit=2, cursor=None)
    rest = list_transactions(ledger, "cus_1", limit=2, cursor=first.next_cursor)
    assert [p.key for p in first.items + rest.items] == ["pi_2", "pi_1", "pi_0"] and rest.next_cursor is None


def test_the_stripe_customer_is_created_once_and_remembered() -> None:
    ledger, gateway = a_ledger_with(a_customer()), FakeGateway()
    first = ensure_stripe_customer(ledger, gateway, get_customer(ledger, "cus_1"))
    again = ensure_stripe_customer(ledger, gateway, get_customer(ledger, "cus_1"))
    assert first == again == "cus_fake_1" and len(gateway.stripe_customers) == 1
    assert get_customer(ledger, "cus_1").stripe_customer_id == "cus_fake_1"


def test_a_corrected_address_makes_a_bounced_customer_reachable_and_wakes_their_reminders() -> None:
    # Given a customer whose address bounced, with an invoice in dunning taken out of the due index
    ledger = a_ledger_with(a_customer(email_undeliverable=BOUNCED), an_invoice(next_action_at=None))
    # When the operator corrects the address
    updated = update_customer(
        ledger, FixedClock(NOW), "cus_1", CustomerCorrection(email="ada@new.example.com"), actor="operator:acme"
    )
    # Then the address is deliverable again, and the invoice is back in front of the next run
    assert updated.email_undeliverable is None and updated.email == "ada@new.example.com"
    assert get_customer(ledger, "cus_1") == updated
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.next_action_at == NOW
    [audit] = [a for a in ledger.audit if a.subject_id == "cus_1"]
    # what changed, from and to, with the addresses themselves left out of the trail
    bounced = {"reason": "bounce", "at": "2026-11-01T09:30:00+00:00", "detail": "General"}
    assert (audit.action, audit.details) == ("customer.updated", {
        "fields": ["email"], "changes": {"email": {"changed": True}, "email_undeliverable": {"from": bounced}},
    })  # fmt: skip
    assert "@" not in str(audit.details)


def test_the_same_address_in_other_letters_keeps_the_bounce() -> None:
    ledger = a_ledger_with(a_customer(email_undeliverable=BOUNCED))
    updated = update_customer(
        ledger, FixedClock(NOW), "cus_1", CustomerCorrection(email="CUS_1@example.com"), actor="operator:acme"
    )
    assert updated.email_undeliverable == BOUNCED


def test_a_correction_that_changes_nothing_writes_nothing() -> None:
    ledger = a_ledger_with(a_customer())
    update_customer(ledger, FixedClock(NOW), "cus_1", CustomerCorrection(name="Ada Lovelace"), actor="operator:acme")
    assert ledger.audit == [] and ledger.commits == 1


def test_a_customer_hold_must_end_in_the_future() -> None:
    ledger = a_ledger_with(a_customer())
    with pytest.raises(InvalidHold):
        place_customer_hold(ledger, FixedClock(NOW), "cus_1", reason="x", until=NOW, actor="operator:acme")


def test_releasing_a_customer_hold_wakes_only_invoices_in_dunning() -> None:
    # Given a customer on hold with an open invoice, a paid one and one held on its own
    ledger = a_ledger_with(
        a_customer(),
        an_invoice("inv_open", next_action_at=None),
        an_invoice("inv_paid", status=InvoiceStatus.PAID, amount_paid=12_500),
        an_invoice("inv_held", hold=Hold("by phone")),
    )
    clock = FixedClock(NOW)
    held = place_customer_hold(ledger, clock, "cus_1", reason="bankruptcy", until=None, actor="operator:acme")
    assert held.hold == Hold("bankruptcy") and held.reminders_paused_at(NOW + timedelta(days=365))
    # When the hold is released
    clock.instant = NOW + timedelta(days=2)
    released = release_customer_hold(ledger, clock, "cus_1", actor="operator:acme")
    # Then only the open invoice is due again, now
    assert released.hold is None
    due = {i.id: i.next_action_at for i in ledger.invoices.values()}
    assert due == {"inv_open": NOW + timedelta(days=2), "inv_paid": None, "inv_held": None}
    assert ledger.audit_actions("cus_1") == ["customer.hold_placed", "customer.hold_released"]


def test_a_bounce_marks_the_customer_once_and_tells_other_systems() -> None:
    # Given a reachable customer
    ledger = a_ledger_with(a_customer())
    clock = FixedClock(NOW)
    # When SES reports a permanent bounce for their address, twice
    first = record_email_feedback(ledger, clock, "cus_1", reason="bounce", addresses=["CUS_1@example.com"])
    again = record_email_feedback(ledger, clock, "cus_1", reason="bounce", addresses=["cus_1@example.com"])
    # Then they are marked once, with one event and one audit entry
    assert (first, again) == (True, False)
    assert get_customer(ledger, "cus_1").email_undeliverable == EmailUndeliverable("bounce", NOW, "")
    [message] = ledger.outbox_messages()
    assert isinstance(message.body, Event) and message.body.name is EventName.CUSTOMER_EMAIL_UNDELIVERABLE
    assert ledger.audit_actions("cus_1") == ["customer.email_undeliverable"]


def test_a_bounce_for_an_address_since_corrected_changes_nothing() -> None:
    ledger = a_ledger_with(a_customer())
    assert not record_email_feedback(ledger, FixedClock(NOW), "cus_1", reason="bounce", addresses=["old@example.com"])
    assert not record_email_feedback(ledger, FixedClock(NOW), "cus_x", reason="bounce", addresses=["a@example.com"])
    assert get_customer(ledger, "cus_1").email_undeliverable is None and ledger.outbox == {}
