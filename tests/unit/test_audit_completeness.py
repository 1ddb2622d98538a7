"""Every state change writes an audit entry. `unaudited` names what a Change moves without one, and the
in-memory ledger refuses such a commit from any use case (a module of shared.services): so every unit test
of a use case over the fakes (tests/unit/services) also proves that use case audits what it changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from shared.domain.dunning import DEFAULT_POLICY
from shared.domain.records import DUNNING_POLICY_ID, AuditEntry, AuditSubject, PlanStatus, RecurringStatus
from shared.services.aggregates import tallied
from shared.services.audit import unaudited, what_changed
from shared.services.ports import Change
from tests.fakes import InMemoryLedger
from tests.fakes.ledger import UnauditedChange
from tests.fakes.records import NOW, a_customer, a_dispute, a_payment, a_plan, a_recurring, an_invoice


def entry(subject: AuditSubject, subject_id: str) -> AuditEntry:
    return AuditEntry(subject=subject, subject_id=subject_id, action="x.changed", actor="test", at=NOW)


CHANGES: list[tuple[Change, AuditEntry, str]] = [
    (Change(new_customer=a_customer()), entry(AuditSubject.CUSTOMER, "cus_1"), "customer cus_1"),
    (Change(customer_update=a_customer(name="B", version=1)), entry(AuditSubject.CUSTOMER, "cus_1"), "customer cus_1"),
    (Change(new_invoice=an_invoice()), entry(AuditSubject.INVOICE, "inv_1"), "invoice inv_1"),
    (Change(invoice_update=an_invoice(version=2)), entry(AuditSubject.INVOICE, "inv_1"), "invoice inv_1"),
    (Change(payment=a_payment()), entry(AuditSubject.INVOICE, "inv_1"), "payment pi_1"),
    (Change(payment_refunds=a_payment(refund_version=1)), entry(AuditSubject.INVOICE, "inv_1"), "payment pi_1"),
    (Change(dispute=a_dispute()), entry(AuditSubject.INVOICE, "inv_1"), "dispute dp_1"),
    (Change(new_plan=a_plan()), entry(AuditSubject.INVOICE, "inv_1"), "plan plan_1"),
    (Change(plan_update=a_plan(version=2)), entry(AuditSubject.INVOICE, "inv_1"), "plan plan_1"),
    (Change(new_recurring=a_recurring()), entry(AuditSubject.RECURRING_CHARGE, "rec_1"), "recurring charge rec_1"),
    (Change(recurring_update=a_recurring(version=2)), entry(AuditSubject.RECURRING_CHARGE, "rec_1"), "recurring"),
    (Change(dunning_policy=DEFAULT_POLICY), entry(AuditSubject.DUNNING_POLICY, DUNNING_POLICY_ID), "dunning policy"),
]


@pytest.mark.parametrize(("change", "audit", "named"), CHANGES, ids=[c[2] for c in CHANGES])
def test_each_kind_of_state_change_needs_an_entry_about_its_own_subject(
    change: Change, audit: AuditEntry, named: str
) -> None:
    # Without an entry, or with one about another subject, the change is named as unaudited
    assert named in " ".join(unaudited(change))
    other = replace(audit, subject_id="someone_else")
    assert named in " ".join(unaudited(replace(change, audit=[other])))
    # With an entry about its subject, it is audited
    assert unaudited(replace(change, audit=[audit])) == []


def test_a_change_of_scheduling_fields_alone_is_bookkeeping_and_any_other_field_is_a_state_change() -> None:
    stored = a_plan(version=1)
    rescheduled = replace(stored, next_action_at=NOW + timedelta(hours=1), version=2)
    defaulted = replace(rescheduled, status=PlanStatus.DEFAULTED)

    assert unaudited(Change(plan_update=rescheduled), lambda record: stored) == []
    [missing] = unaudited(Change(plan_update=defaulted), lambda record: stored)
    assert missing.startswith("plan plan_1") and "status" in missing


def test_what_changed_shows_each_field_from_and_to_without_bookkeeping_or_redacted_values() -> None:
    before = a_recurring(version=1)
    after = replace(before, amount=before.amount + 100, status=RecurringStatus.PAUSED, next_action_at=None, version=2)

    assert what_changed(before, after) == {
        "amount": {"from": before.amount, "to": before.amount + 100},
        "status": {"from": "active", "to": "paused"},
    }
    customer = a_customer()
    moved = replace(customer, email="new@example.com", name="Ada L.")
    assert what_changed(customer, moved, redacted=("email",)) == {
        "email": {"changed": True},
        "name": {"from": customer.name, "to": "Ada L."},
    }


def _commit_as(module: str, ledger: InMemoryLedger, change: Change) -> None:
    """Commit from code whose module is `module`, as a use case there would."""
    namespace: dict[str, Any] = {"__name__": module}
    exec("def commit(ledger, change):\n    ledger.commit(change)\n", namespace)
    namespace["commit"](ledger, change)


def test_the_in_memory_ledger_refuses_a_use_case_committing_a_state_change_without_its_entry() -> None:
    ledger = InMemoryLedger()
    ledger.commit(Change(new_customer=a_customer()))  # a test seeding the ledger needs none

    with pytest.raises(UnauditedChange, match=r"shared\.services\.example committed a change to invoice inv_1"):
        _commit_as("shared.services.example", ledger, Change(new_invoice=an_invoice()))
    assert ledger.get_invoice("inv_1") is None

    audited = Change(new_invoice=an_invoice(), audit=[entry(AuditSubject.INVOICE, "inv_1")])
    _commit_as("shared.services.example", ledger, tallied(audited, NOW))  # with its counters, as every use case
    assert ledger.get_invoice("inv_1") is not None
