"""Erasure over the in-memory fakes: what pseudonymisation rewrites, what stops, and when it is refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from shared.domain.invoices import Hold, InvoiceStatus, PaymentStatus
from shared.domain.messages import Event, EventName
from shared.domain.records import AuditEntry, AuditSubject, DisputeStatus, PlanStatus, RecurringStatus
from shared.services.customers import (
    CustomerCorrection,
    ensure_stripe_customer,
    lift_restriction,
    restrict_customer,
    update_customer,
)
from shared.services.erasure import (
    ERASED_NAME,
    ERASED_TEXT,
    ErasureCause,
    MoneyInFlight,
    OpenInvoices,
    erase_customer,
    erased_email,
    pseudonymise_customer,
    redact_details,
)
from shared.services.ports import Change, ChangeRejected
from tests.fakes import FakeGateway, FixedClock
from tests.fakes.ledger import InMemoryLedger
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import NOW, a_customer, a_dispute, a_payment, a_plan, a_recurring, an_invoice

NAME = "Zebulon Quartermaine"
EMAIL = "zebulon.q@example.org"


def _everything_text(ledger: object) -> str:
    """Every record the fake ledger holds, as text (what a table scan would show)."""
    return repr(vars(ledger))


def _a_customer_with_history() -> tuple[InMemoryLedger, FakeGateway]:
    ledger = a_ledger_with(
        a_customer(name=NAME, email=EMAIL, external_id="crm-zeb-77", stripe_customer_id="cus_stripe_1"),
        an_invoice(description=f"Consulting for {NAME}", hold=Hold(reason=f"{NAME} called", until=None)),
        an_invoice("inv_2", number="N-2", status=InvoiceStatus.PAID, amount_paid=12_500),
    )
    ledger.commit(Change(new_recurring=a_recurring(description=f"Support for {EMAIL}")))
    ledger.commit(
        Change(
            audit=[
                AuditEntry(
                    subject=AuditSubject.CUSTOMER,
                    subject_id="cus_1",
                    action="customer.note_added",
                    actor="operator:ops",
                    at=NOW,
                    details={"note": "Prefers phone calls", "changes": {"name": {"from": "Zeb", "to": NAME}}},
                )
            ]
        )
    )
    gateway = FakeGateway()
    gateway.save_card("cus_stripe_1")
    return ledger, gateway


def test_pseudonymisation_leaves_no_name_email_or_free_text_and_keeps_the_money() -> None:
    ledger, gateway = _a_customer_with_history()
    erased = pseudonymise_customer(ledger, FixedClock(NOW), "cus_1", actor="scheduler", gateway=gateway)
    assert (erased.name, erased.email, erased.external_id, erased.erased_at) == (
        ERASED_NAME,
        erased_email("cus_1"),
        None,
        NOW,
    )
    text = _everything_text(ledger)
    for secret in (NAME, EMAIL, "crm-zeb-77", "Prefers phone calls", "Zeb"):
        assert secret not in text
    paid = ledger.get_invoice("inv_2")
    assert paid is not None and (paid.status, paid.amount_paid) == (InvoiceStatus.PAID, 12_500)
    assert ledger.get_invoice("inv_1").description == ERASED_TEXT
    assert ledger.get_recurring("rec_1").description == ERASED_TEXT
    assert ledger.customer_by_external_id("crm-zeb-77") is None
    assert gateway.deleted_customers == ["cus_stripe_1"] and gateway.detached
    events = [m.body for m in ledger.outbox_messages() if isinstance(m.body, Event)]
    assert [(e.name, dict(e.detail)["cause"]) for e in events] == [(EventName.CUSTOMER_ERASED, "retention")]


def test_pseudonymising_again_changes_nothing() -> None:
    ledger, _gateway = _a_customer_with_history()
    first = pseudonymise_customer(ledger, FixedClock(NOW), "cus_1", actor="scheduler")
    commits = ledger.commits
    again = pseudonymise_customer(ledger, FixedClock(NOW + timedelta(hours=1)), "cus_1", actor="scheduler")
    assert again == first and ledger.commits == commits


def test_erasure_holds_or_voids_open_invoices_ends_plans_and_recurring_and_stops_reminders() -> None:
    ledger, gateway = _a_customer_with_history()
    ledger.commit(Change(new_invoice=an_invoice("inv_3", number="N-3", next_action_at=NOW + timedelta(days=1))))
    ledger.commit(
        Change(new_invoice=an_invoice("inv_4", number="N-4", active_plan="plan_1"), new_plan=a_plan(invoice_id="inv_4"))
    )
    done = erase_customer(
        ledger, gateway, FixedClock(NOW), "cus_1", open_invoices=OpenInvoices.VOID, actor="operator:ops"
    )
    assert ledger.get_invoice("inv_3").status is InvoiceStatus.VOID
    assert ledger.get_invoice("inv_3").next_action_at is None
    assert ledger.get_plan("inv_4", "plan_1").status is PlanStatus.CANCELLED
    assert ledger.get_recurring("rec_1").status is RecurringStatus.ENDED
    assert done.customer.erased_at == NOW and done.recurring_ended == 1 and done.plans_cancelled == 1
    assert done.customer.reminders_paused_at(NOW)
    erased_audit = [a for a in ledger.audit if a.action == "customer.erased"]
    assert erased_audit[0].details["cause"] == ErasureCause.REQUEST.value
    assert NAME not in _everything_text(ledger)


def test_a_second_erasure_returns_the_erased_customer() -> None:
    ledger, gateway = _a_customer_with_history()
    clock = FixedClock(NOW)
    first = erase_customer(ledger, gateway, clock, "cus_1", open_invoices=OpenInvoices.HOLD, actor="operator:ops")
    second = erase_customer(ledger, gateway, clock, "cus_1", open_invoices=OpenInvoices.HOLD, actor="operator:ops")
    assert second.customer == first.customer
    assert [a.action for a in ledger.audit].count("customer.erased") == 1


def test_erasure_is_refused_while_a_payment_is_processing() -> None:
    ledger, gateway = _a_customer_with_history()
    ledger.commit(Change(payment=a_payment("pi_9", status=PaymentStatus.PENDING)))
    with pytest.raises(MoneyInFlight, match="processing"):
        erase_customer(ledger, gateway, FixedClock(NOW), "cus_1", open_invoices=OpenInvoices.HOLD, actor="operator:ops")
    assert ledger.get_customer("cus_1").name == NAME


def test_erasure_is_refused_while_a_dispute_is_open() -> None:
    ledger, gateway = _a_customer_with_history()
    invoice = ledger.get_invoice("inv_2")
    ledger.commit(
        Change(
            invoice_update=replace(invoice, open_disputes=frozenset({"dp_1"}), version=invoice.version + 1),
            dispute=a_dispute(DisputeStatus.OPEN),
        )
    )
    with pytest.raises(MoneyInFlight, match="dispute"):
        erase_customer(ledger, gateway, FixedClock(NOW), "cus_1", open_invoices=OpenInvoices.HOLD, actor="operator:ops")
    assert gateway.deleted_customers == []


def test_redaction_keeps_codes_and_ids_and_drops_typed_text() -> None:
    details = {
        "reason": "customer_hold",
        "note": "call after 5",
        "plan": "plan_1",
        "changes": {"description": {"from": "a b", "to": "c"}},
        "x": f"hi {NAME}",
    }
    assert redact_details(details, (NAME,)) == {
        "reason": "customer_hold",
        "note": ERASED_TEXT,
        "plan": "plan_1",
        "changes": {"description": {"from": ERASED_TEXT, "to": ERASED_TEXT}},
        "x": ERASED_TEXT,
    }


def test_a_correction_reaches_the_stripe_customer_and_a_failed_push_is_kept_for_the_next_use() -> None:
    ledger = a_ledger_with(a_customer(stripe_customer_id="cus_stripe_1", external_id="crm-1"))
    gateway = FakeGateway(fail_customer_updates=True)
    correction = CustomerCorrection(name="Ada King", locale="fr-FR", timezone="Europe/Paris", external_id="crm-2")
    updated = update_customer(ledger, FixedClock(NOW), "cus_1", correction, actor="operator:ops", gateway=gateway)
    assert (updated.name, updated.locale, updated.timezone, updated.external_id) == (
        "Ada King",
        "fr-FR",
        "Europe/Paris",
        "crm-2",
    )
    assert updated.stripe_push_pending and gateway.customer_updates == {}
    assert ledger.customer_by_external_id("crm-1") is None and ledger.customer_by_external_id("crm-2") == updated
    gateway.fail_customer_updates = False
    ensure_stripe_customer(ledger, gateway, updated)  # the customer's next payment
    assert gateway.customer_updates["cus_stripe_1"] == {
        "name": "Ada King",
        "email": "cus_1@example.com",
        "preferred_locale": "fr-FR",
        "external_id": "crm-2",
    }
    assert not ledger.get_customer("cus_1").stripe_push_pending


def test_a_correction_to_an_external_id_another_customer_holds_is_refused() -> None:
    ledger = a_ledger_with(a_customer(external_id="crm-1"), a_customer("cus_2", external_id="crm-2"))
    with pytest.raises(ChangeRejected):
        update_customer(ledger, FixedClock(NOW), "cus_1", CustomerCorrection(external_id="crm-2"), actor="op")
    assert ledger.get_customer("cus_1").external_id == "crm-1"


def test_restriction_stops_reminders_and_is_lifted() -> None:
    ledger = a_ledger_with(a_customer())
    restricted = restrict_customer(ledger, FixedClock(NOW), "cus_1", actor="op")
    assert restricted.reminders_paused_at(NOW) and restricted.restricted_at == NOW
    assert restrict_customer(ledger, FixedClock(NOW), "cus_1", actor="op") == restricted
    lifted = lift_restriction(ledger, FixedClock(NOW), "cus_1", actor="op")
    assert lifted.restricted_at is None and not lifted.reminders_paused_at(NOW)
    names = [m.body.name for m in ledger.outbox_messages() if isinstance(m.body, Event)]
    assert names == [EventName.CUSTOMER_RESTRICTED, EventName.CUSTOMER_UNRESTRICTED]
