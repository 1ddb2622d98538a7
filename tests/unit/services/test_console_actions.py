"""The console's actions on an invoice over the in-memory ledger: each role may do what the policy grants and
nothing more, each goes through the operator API's own service audited as the staff member, a form sent twice
applies once, and a field the console cannot take is refused by name before anything is written."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from shared.domain.console_roles import ActionForbidden, Role
from shared.domain.errors import InvalidHold, InvalidStateTransition, NotFound
from shared.domain.invoices import InvoiceStatus
from shared.domain.messages import InvoiceIssuedEmail
from shared.domain.records import AuditSubject, Autopay
from shared.services import console_actions
from shared.services.console_actions import BadField, CorrectionForm, CreditNoteForm, NoteForm, PromiseForm
from tests.fakes import FixedClock, InMemoryLedger
from tests.fakes.gateway import FakeGateway
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import NOW, a_customer, an_invoice
from tests.fakes.records import a_staff_session as staff
from tests.fakes.run_once import InMemoryRunOnce

ACTOR = "staff:sub-1:ada@example.com"
CLOCK = FixedClock(NOW)


def a_book() -> InMemoryLedger:
    return a_ledger_with(a_customer(), an_invoice(amount_due=12_500))


def promise(ledger: InMemoryLedger, role: Role, once: Any = None, **form: str) -> None:
    fields = {"date": "2026-11-10", "amount": "125.00", "key": "k1"} | form
    console_actions.note_promise(
        ledger, CLOCK, once or InMemoryRunOnce(), staff(role), "inv_1", PromiseForm(**fields), max_days=14
    )


def credit(ledger: InMemoryLedger, role: Role, once: Any = None, **form: str) -> None:
    fields = {"amount": "20.00", "reason": "goodwill", "key": "k1"} | form
    console_actions.issue_credit_note(
        ledger, FakeGateway(), CLOCK, once or InMemoryRunOnce(), staff(role), "inv_1", CreditNoteForm(**fields)
    )


def note(ledger: InMemoryLedger, role: Role, once: Any = None, **form: str) -> None:
    fields = {"text": "Called: the cheque is in the post", "key": "k1"} | form
    console_actions.add_note(
        ledger, CLOCK, once or InMemoryRunOnce(), staff(role), AuditSubject.INVOICE, "inv_1", NoteForm(**fields)
    )


def correct(ledger: InMemoryLedger, role: Role, **form: str) -> None:
    fields = {"description": "", "due_date": "", "amount_due": ""} | form
    console_actions.correct_invoice(ledger, FakeGateway(), CLOCK, staff(role), "inv_1", CorrectionForm(**fields))


def entries(ledger: InMemoryLedger, action: str) -> list[Any]:
    return [entry for entry in ledger.audit if entry.action == action]


# ----- promises ---------------------------------------------------------------------------------------------


def test_a_collector_notes_a_promise_once_however_often_the_form_is_sent() -> None:
    ledger, once = a_book(), InMemoryRunOnce()
    for _ in range(2):
        promise(ledger, Role.COLLECTOR, once)
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.hold is not None and invoice.promised_at == NOW
    [entry] = entries(ledger, "invoice.promise_to_pay")
    assert entry.actor == ACTOR and entry.details == {"promised_date": "2026-11-10", "promised_amount": 12_500}


def test_a_viewer_cannot_note_a_promise() -> None:
    ledger = a_book()
    with pytest.raises(ActionForbidden):
        promise(ledger, Role.VIEWER)
    assert ledger.audit_actions("inv_1") == [] and ledger.get_invoice("inv_1").hold is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("form", "field"),
    [({"amount": "-5"}, "amount"), ({"amount": "lots"}, "amount"), ({"amount": "125.001"}, "amount"),
     ({"amount": "125.01"}, "amount"), ({"amount": "1e9"}, "amount"), ({"amount": ""}, "amount"),
     ({"date": "tomorrow"}, "date"), ({"date": "2026-02-30"}, "date"), ({"date": "9999-01-01"}, "date"),
     ({"key": " "}, "key")],
)  # fmt: skip
def test_a_promise_the_form_cannot_take_is_refused_by_name(form: dict[str, str], field: str) -> None:
    ledger = a_book()
    with pytest.raises(BadField) as refused:
        promise(ledger, Role.COLLECTOR, **form)
    assert refused.value.field == field and ledger.audit_actions("inv_1") == []


def test_a_promise_beyond_the_pay_pages_limit_is_refused_as_the_pay_page_refuses_it() -> None:
    ledger = a_book()
    with pytest.raises(InvalidHold) as refused:
        promise(ledger, Role.COLLECTOR, date="2027-01-30")
    assert refused.value.field == "date" and ledger.audit_actions("inv_1") == []


# ----- pay links ----------------------------------------------------------------------------------------------


def test_a_collector_resends_the_pay_link_and_a_second_submit_sends_no_second_email() -> None:
    ledger, once = a_book(), InMemoryRunOnce()
    for _ in range(2):
        console_actions.resend_pay_link(ledger, CLOCK, once, staff(Role.COLLECTOR), "inv_1", "k1", ttl_days=30)
    emails = [m for m in ledger.outbox_messages() if isinstance(m.body, InvoiceIssuedEmail)]
    assert len(emails) == 1
    [entry] = entries(ledger, "invoice.pay_link_issued")
    assert entry.actor == f"operator:{ACTOR}" and entry.details == {"sent": True}


def test_a_collector_revokes_the_pay_links_once_per_form() -> None:
    ledger, once = a_book(), InMemoryRunOnce()
    for _ in range(2):
        console_actions.revoke_pay_links(ledger, FakeGateway(), CLOCK, once, staff(Role.COLLECTOR), "inv_1", "k1")
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.pay_link_generation == 1
    assert len(entries(ledger, "invoice.pay_links_revoked")) == 1


@pytest.mark.parametrize("action", ["resend", "revoke"])
def test_a_viewer_cannot_resend_or_revoke_pay_links(action: str) -> None:
    ledger = a_book()
    with pytest.raises(ActionForbidden):
        if action == "resend":
            console_actions.resend_pay_link(
                ledger, CLOCK, InMemoryRunOnce(), staff(Role.VIEWER), "inv_1", "k", ttl_days=30
            )
        else:
            console_actions.revoke_pay_links(
                ledger, FakeGateway(), CLOCK, InMemoryRunOnce(), staff(Role.VIEWER), "inv_1", "k"
            )
    assert ledger.audit_actions("inv_1") == [] and ledger.outbox_messages() == []


# ----- notes --------------------------------------------------------------------------------------------------


def test_a_note_is_an_audit_entry_kept_once_and_a_changed_note_is_a_second_one() -> None:
    ledger, once = a_book(), InMemoryRunOnce()
    note(ledger, Role.COLLECTOR, once)
    note(ledger, Role.COLLECTOR, once)
    note(ledger, Role.COLLECTOR, once, text="Called again: \u202eposted Monday")
    notes = entries(ledger, "invoice.note_added")
    assert [entry.details["note"] for entry in notes] == [
        "Called: the cheque is in the post",
        "Called again: posted Monday",
    ]
    assert {entry.actor for entry in notes} == {ACTOR}


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001])
def test_an_empty_or_overlong_note_is_refused(text: str) -> None:
    ledger = a_book()
    with pytest.raises(BadField) as refused:
        note(ledger, Role.COLLECTOR, text=text)
    assert refused.value.field == "note" and ledger.audit == []


def test_a_viewer_cannot_add_a_note() -> None:
    ledger = a_book()
    with pytest.raises(ActionForbidden):
        note(ledger, Role.VIEWER)
    assert ledger.audit == []


# ----- void, credit notes, corrections: the admin's ------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.VIEWER])
def test_a_collector_or_a_viewer_cannot_void_credit_or_correct(role: Role) -> None:
    ledger = a_book()
    with pytest.raises(ActionForbidden):
        console_actions.void_invoice(ledger, CLOCK, staff(role), "inv_1")
    with pytest.raises(ActionForbidden):
        credit(ledger, role)
    with pytest.raises(ActionForbidden):
        correct(ledger, role, description="Changed")
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.status is InvoiceStatus.OPEN and invoice.amount_due == 12_500
    assert invoice.description == "Consulting, November" and ledger.audit == []


def test_an_admin_voids_and_voiding_again_changes_nothing() -> None:
    ledger = a_book()
    for _ in range(2):
        console_actions.void_invoice(ledger, CLOCK, staff(Role.ADMIN), "inv_1")
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.status is InvoiceStatus.VOID
    [entry] = entries(ledger, "invoice.voided")
    assert entry.actor == ACTOR


def test_an_admin_issues_a_credit_note_once_however_often_the_form_is_sent() -> None:
    ledger, once = a_book(), InMemoryRunOnce()
    for _ in range(2):
        credit(ledger, Role.ADMIN, once)
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_due == 10_500 and len(invoice.credit_notes) == 1
    [entry] = entries(ledger, "invoice.credited")
    assert entry.actor == f"operator:{ACTOR}" and entry.details["reason"] == "goodwill"


@pytest.mark.parametrize(
    ("form", "field"),
    [({"amount": "-1"}, "amount"), ({"amount": "0"}, "amount"), ({"amount": "NaN"}, "amount"),
     ({"amount": "125.01"}, "amount"), ({"amount": "99999999999"}, "amount"), ({"reason": ""}, "reason"),
     ({"reason": "x" * 201}, "reason"), ({"key": ""}, "key")],
)  # fmt: skip
def test_a_credit_note_the_form_cannot_take_is_refused_by_name(form: dict[str, str], field: str) -> None:
    ledger = a_book()
    with pytest.raises(BadField) as refused:
        credit(ledger, Role.ADMIN, **form)
    assert refused.value.field == field
    assert ledger.get_invoice("inv_1").amount_due == 12_500 and ledger.audit == []  # type: ignore[union-attr]


def test_an_admin_corrects_what_patch_corrects_and_the_same_values_again_change_nothing() -> None:
    ledger = a_book()
    for _ in range(2):
        correct(ledger, Role.ADMIN, description="Consulting, Nov.", due_date="2026-12-31", amount_due="100.00")
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_due == 10_000 and invoice.due_date == date(2026, 12, 31)
    assert invoice.description == "Consulting, Nov."
    [entry] = entries(ledger, "invoice.corrected")
    assert entry.actor == f"operator:{ACTOR}" and sorted(entry.details["changes"]) == [
        "amount_due",
        "description",
        "due_date",
    ]


@pytest.mark.parametrize(
    ("form", "field"),
    [({}, "description"), ({"description": "x" * 501}, "description"), ({"due_date": "31/12/2026"}, "due_date"),
     ({"due_date": "1999-12-31"}, "due_date"), ({"amount_due": "-100"}, "amount_due"),
     ({"amount_due": "ten"}, "amount_due"), ({"amount_due": "1000000000"}, "amount_due")],
)  # fmt: skip
def test_a_correction_the_form_cannot_take_is_refused_by_name(form: dict[str, str], field: str) -> None:
    ledger = a_book()
    with pytest.raises(BadField) as refused:
        correct(ledger, Role.ADMIN, **form)
    assert refused.value.field == field and ledger.audit == []


def test_a_paid_invoice_cannot_be_voided() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice(amount_paid=12_500, status=InvoiceStatus.PAID))
    with pytest.raises(InvalidStateTransition):
        console_actions.void_invoice(ledger, CLOCK, staff(Role.ADMIN), "inv_1")


@pytest.mark.parametrize("invoice_id", ["x" * 300, "inv_\u202e", "no_such"])
def test_an_invoice_we_never_issued_is_not_found(invoice_id: str) -> None:
    with pytest.raises(NotFound):
        console_actions.void_invoice(a_book(), CLOCK, staff(Role.ADMIN), invoice_id)


# ----- the Customer page ----------------------------------------------------------------------------------------


def a_customer_with_autopay() -> InMemoryLedger:
    return a_ledger_with(a_customer(autopay=Autopay(enabled_at=NOW)), an_invoice())


def hold(ledger: InMemoryLedger, role: Role, once: Any = None, **form: str) -> None:
    fields = {"reason": "In administration", "key": "k1"} | form
    console_actions.place_customer_hold(
        ledger, CLOCK, once or InMemoryRunOnce(), staff(role), "cus_1", console_actions.HoldForm(**fields)
    )


def correct_customer(ledger: InMemoryLedger, role: Role, **form: str) -> None:
    fields = {"name": "", "email": ""} | form
    console_actions.correct_customer(ledger, CLOCK, staff(role), "cus_1", console_actions.CustomerForm(**fields))


def test_a_collector_holds_a_customer_once_however_often_the_form_is_sent_and_releases_it() -> None:
    ledger, once = a_customer_with_autopay(), InMemoryRunOnce()
    for _ in range(2):
        hold(ledger, Role.COLLECTOR, once)
    customer = ledger.get_customer("cus_1")
    assert customer is not None and customer.hold is not None and customer.hold.reason == "In administration"
    [entry] = entries(ledger, "customer.hold_placed")
    assert entry.actor == ACTOR
    for _ in range(2):
        console_actions.release_customer_hold(ledger, CLOCK, staff(Role.COLLECTOR), "cus_1")
    assert ledger.get_customer("cus_1").hold is None  # type: ignore[union-attr]
    assert len(entries(ledger, "customer.hold_released")) == 1


def test_a_collector_turns_autopay_off_and_again_changes_nothing() -> None:
    ledger = a_customer_with_autopay()
    for _ in range(2):
        console_actions.turn_off_autopay(ledger, CLOCK, staff(Role.COLLECTOR), "cus_1")
    assert ledger.get_customer("cus_1").autopay is None  # type: ignore[union-attr]
    [entry] = entries(ledger, "autopay.disabled")
    assert entry.actor == ACTOR


def test_a_note_on_a_customer_is_on_the_customers_trail() -> None:
    ledger = a_customer_with_autopay()
    console_actions.add_note(
        ledger, CLOCK, InMemoryRunOnce(), staff(Role.COLLECTOR), AuditSubject.CUSTOMER, "cus_1",
        NoteForm(text="Prefers email", key="k1"),
    )  # fmt: skip
    [entry] = entries(ledger, "customer.note_added")
    assert (entry.subject, entry.subject_id, entry.details) == (
        AuditSubject.CUSTOMER,
        "cus_1",
        {"note": "Prefers email"},
    )


def test_a_viewer_can_do_nothing_to_a_customer() -> None:
    ledger = a_customer_with_autopay()
    session = staff(Role.VIEWER)
    for act in (
        lambda: hold(ledger, Role.VIEWER),
        lambda: console_actions.release_customer_hold(ledger, CLOCK, session, "cus_1"),
        lambda: console_actions.turn_off_autopay(ledger, CLOCK, session, "cus_1"),
        lambda: correct_customer(ledger, Role.VIEWER, name="Someone else"),
        lambda: console_actions.add_note(
            ledger, CLOCK, InMemoryRunOnce(), session, AuditSubject.CUSTOMER, "cus_1", NoteForm("hi", "k")
        ),
    ):
        with pytest.raises(ActionForbidden):
            act()
    assert ledger.get_customer("cus_1") == a_customer_with_autopay().get_customer("cus_1") and ledger.audit == []


def test_only_an_admin_corrects_a_customers_name_and_email() -> None:
    ledger = a_customer_with_autopay()
    with pytest.raises(ActionForbidden):
        correct_customer(ledger, Role.COLLECTOR, name="Ada King")
    for _ in range(2):
        correct_customer(ledger, Role.ADMIN, name="Ada King", email="ada.king@example.com")
    customer = ledger.get_customer("cus_1")
    assert customer is not None and (customer.name, customer.email) == ("Ada King", "ada.king@example.com")
    [entry] = entries(ledger, "customer.updated")
    assert entry.actor == ACTOR and "ada.king@example.com" not in repr(entry.details)  # the trail keeps no address


@pytest.mark.parametrize(
    ("form", "field"),
    [({}, "name"), ({"name": "x" * 201}, "name"), ({"email": "not an address"}, "email"),
     ({"email": "a@b.c"}, "email"), ({"email": "ada@exam\u202eple.com"}, "email"),
     ({"email": "a" * 250 + "@example.com"}, "email")],
)  # fmt: skip
def test_a_customer_correction_the_form_cannot_take_is_refused_by_name(form: dict[str, str], field: str) -> None:
    ledger = a_customer_with_autopay()
    with pytest.raises(BadField) as refused:
        correct_customer(ledger, Role.ADMIN, **form)
    assert refused.value.field == field and ledger.audit == []


@pytest.mark.parametrize("reason", ["", "  ", "x" * 201])
def test_a_customer_hold_needs_a_reason_of_reasonable_length(reason: str) -> None:
    ledger = a_customer_with_autopay()
    with pytest.raises(BadField):
        hold(ledger, Role.COLLECTOR, reason=reason)
    assert ledger.get_customer("cus_1").hold is None  # type: ignore[union-attr]
