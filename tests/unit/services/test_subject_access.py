"""The subject-access export over in-memory records: only the customer's own records, each field as stored, a
hostile id refused, the read audited; the customer's own copy names staff by their role."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from shared.domain.errors import NotFound
from shared.domain.records import AuditEntry, AuditSubject
from shared.domain.subject_access import CustomerRecords, InvoiceRecords, RecurringRecords, export_document
from shared.services.subject_access import collect, export
from tests.fakes import FixedClock, InMemoryLedger
from tests.fakes.records import NOW, a_customer, an_invoice

STAFF = "staff:3f2a:jo@business.example"


@dataclass
class Records:
    """SubjectRecords in memory; `owned` may name a record of someone else, as a stale index entry could."""

    customers: dict[str, CustomerRecords] = field(default_factory=dict)
    invoices: dict[str, InvoiceRecords] = field(default_factory=dict)
    owned_ids: dict[str, list[str]] = field(default_factory=dict)

    def customer_records(self, customer_id: str) -> CustomerRecords | None:
        return self.customers.get(customer_id)

    def owned(self, customer_id: str) -> tuple[list[str], list[str]]:
        return self.owned_ids.get(customer_id, []), []

    def invoice_records(self, invoice_id: str) -> InvoiceRecords | None:
        return self.invoices.get(invoice_id)

    def recurring_records(self, recurring_id: str) -> RecurringRecords | None:
        return None


@pytest.fixture
def records() -> Records:
    viewed = AuditEntry(AuditSubject.CUSTOMER, "cus_1", "customer.viewed", STAFF, NOW, {"by": STAFF})
    customers = {
        "cus_1": CustomerRecords(a_customer("cus_1"), audit=(viewed,)),
        "cus_2": CustomerRecords(a_customer("cus_2")),
    }
    invoices = {
        "inv_1": InvoiceRecords(an_invoice("inv_1")),
        "inv_2": InvoiceRecords(an_invoice("inv_2", customer_id="cus_2")),
    }
    return Records(customers, invoices, owned_ids={"cus_1": ["inv_1", "inv_2", "inv_missing"]})


def test_the_export_holds_only_records_that_name_the_customer_back(records: Records) -> None:
    collected = collect(records, FixedClock(NOW), "cus_1")

    assert [r.invoice.id for r in collected.invoices] == ["inv_1"]
    document = export_document(collected)
    assert document["customer"]["id"] == "cus_1" and "version" not in document["customer"]
    assert document["invoices"][0]["amount_due"] == an_invoice("inv_1").amount_due
    assert document["invoices"][0]["status"] == "open" and document["generated_at"] == NOW.isoformat()
    assert "cus_2" not in str(document)


@pytest.mark.parametrize("customer_id", ["", "x" * 129, "cus_nope"])
def test_an_unknown_or_hostile_id_is_not_found(records: Records, customer_id: str) -> None:
    with pytest.raises(NotFound):
        collect(records, FixedClock(NOW), customer_id)


def test_an_export_is_one_audit_entry_under_the_customer(records: Records) -> None:
    ledger = InMemoryLedger()

    export(records, ledger, FixedClock(NOW), "cus_1", actor="arn:aws:iam::1:user/op", via="api")

    [entry] = ledger.audit
    assert (entry.subject, entry.subject_id, entry.action, entry.actor, entry.details) == (
        AuditSubject.CUSTOMER, "cus_1", "customer.exported", "arn:aws:iam::1:user/op", {"via": "api"},
    )  # fmt: skip


def test_the_customers_own_copy_names_staff_by_their_role(records: Records) -> None:
    collected = collect(records, FixedClock(NOW), "cus_1")

    own = export_document(collected, for_the_subject=True)
    operators = export_document(collected)

    assert own["audit"][0]["actor"] == "staff" and own["audit"][0]["details"] == {"by": "staff"}
    assert "jo@business.example" not in str(own)
    assert operators["audit"][0]["actor"] == STAFF
