"""The customer's saved payment methods over the in-memory ledger and the fake gateway: listed, removed,
chosen; only the customer's own, never the last one autopay or a plan charges, every change audited."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.clock import FixedClock
from shared.domain.errors import NotFound, PaymentMethodStillNeeded
from shared.domain.records import AuditSubject, Autopay
from shared.services.payment_methods import choose_payment_method, list_payment_methods, remove_payment_method
from shared.services.ports import Change
from tests.fakes import FakeGateway, InMemoryLedger
from tests.fakes.records import NOW, a_customer, an_invoice

CLOCK = FixedClock(NOW)


def given(**customer: object) -> tuple[InMemoryLedger, FakeGateway]:
    ledger, gateway = InMemoryLedger(), FakeGateway()
    ledger.commit(Change(new_customer=a_customer(stripe_customer_id="cus_stripe_1", **customer)))
    return ledger, gateway


def audit_actions(ledger: InMemoryLedger) -> list[tuple[str, dict[str, object]]]:
    page = ledger.list_audit(AuditSubject.CUSTOMER, "cus_1", 50, None)
    return [(entry.action, entry.details) for entry in page.items]


def test_the_newest_saved_card_is_charged_until_the_customer_chooses_another() -> None:
    ledger, gateway = given()
    older = gateway.save_card("cus_stripe_1", last4="1111")
    newer = gateway.save_card("cus_stripe_1", last4="2222")

    listed = list_payment_methods(ledger, gateway, "cus_1")
    assert [m.last4 for m in listed.methods] == ["2222", "1111"]
    assert (listed.charged_id, listed.chosen) == (newer.id, False)

    choose_payment_method(ledger, gateway, CLOCK, "cus_1", older.id, actor="customer")

    listed = list_payment_methods(ledger, gateway, "cus_1")
    assert (listed.charged_id, listed.chosen) == (older.id, True)
    [(action, details)] = audit_actions(ledger)
    assert action == "payment_method.chosen" and details == {"kind": "card", "brand": "visa", "last4": "1111"}


def test_a_customer_who_never_saved_one_has_none_and_nothing_is_asked_of_stripe() -> None:
    ledger, gateway = InMemoryLedger(), FakeGateway()
    ledger.commit(Change(new_customer=a_customer()))

    listed = list_payment_methods(ledger, gateway, "cus_1")

    assert listed.methods == () and listed.charged_id is None


def test_removing_one_detaches_it_at_stripe_and_audits_it() -> None:
    ledger, gateway = given()
    gateway.save_card("cus_stripe_1", last4="1111")
    doomed = gateway.save_card("cus_stripe_1", last4="2222")

    remove_payment_method(ledger, gateway, CLOCK, "cus_1", doomed.id, actor="customer")

    assert gateway.detached == [doomed.id]
    assert [m.last4 for m in list_payment_methods(ledger, gateway, "cus_1").methods] == ["1111"]
    assert [action for action, _ in audit_actions(ledger)] == ["payment_method.removed"]


@pytest.mark.parametrize("act", ["remove", "choose"])
def test_another_customers_method_or_a_made_up_id_is_not_found_and_nothing_changes(act: str) -> None:
    ledger, gateway = given()
    gateway.save_card("cus_stripe_1")
    theirs = gateway.save_card("cus_stripe_other")

    for method_id in (theirs.id, "pm_made_up", ""):
        with pytest.raises(NotFound):
            if act == "remove":
                remove_payment_method(ledger, gateway, CLOCK, "cus_1", method_id, actor="customer")
            else:
                choose_payment_method(ledger, gateway, CLOCK, "cus_1", method_id, actor="customer")

    assert gateway.detached == [] and gateway.default_method == {} and audit_actions(ledger) == []


def test_the_only_method_stays_while_autopay_would_charge_it() -> None:
    ledger, gateway = given(autopay=Autopay(enabled_at=NOW))
    only = gateway.save_card("cus_stripe_1")

    with pytest.raises(PaymentMethodStillNeeded):
        remove_payment_method(ledger, gateway, CLOCK, "cus_1", only.id, actor="customer")

    assert gateway.detached == []


def test_the_only_method_stays_while_an_installment_plan_is_paying_an_invoice() -> None:
    ledger, gateway = given()
    ledger.commit(Change(new_invoice=replace(an_invoice(), active_plan="plan_1")))
    only = gateway.save_card("cus_stripe_1")

    with pytest.raises(PaymentMethodStillNeeded):
        remove_payment_method(ledger, gateway, CLOCK, "cus_1", only.id, actor="customer")

    # with a second one saved, either may go
    gateway.save_card("cus_stripe_1", last4="9999")
    remove_payment_method(ledger, gateway, CLOCK, "cus_1", only.id, actor="customer")
    assert gateway.detached == [only.id]


def test_removing_the_chosen_one_falls_back_to_the_newest() -> None:
    ledger, gateway = given()
    first = gateway.save_card("cus_stripe_1", last4="1111")
    chosen = gateway.save_card("cus_stripe_1", last4="2222")
    gateway.save_card("cus_stripe_1", last4="3333")
    choose_payment_method(ledger, gateway, CLOCK, "cus_1", chosen.id, actor="customer")

    remove_payment_method(ledger, gateway, CLOCK, "cus_1", chosen.id, actor="customer")

    listed = list_payment_methods(ledger, gateway, "cus_1")
    assert [m.last4 for m in listed.methods] == ["3333", "1111"]
    assert listed.charged_id == listed.methods[0].id != first.id and listed.chosen is False
