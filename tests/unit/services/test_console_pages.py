"""The console's pages and actions over the in-memory ledger: each checks the role policy first, and an
action goes through the operator API's own service, audited with the staff member's identity."""

from __future__ import annotations

from datetime import date

import pytest

from shared.domain.console_roles import Action, ActionForbidden, Role
from shared.domain.errors import DomainError, InvalidHold, NotFound
from shared.domain.invoices import InvoiceStatus
from shared.services import console_pages
from shared.services.ports import Change
from tests.fakes import FixedClock, InMemoryLedger
from tests.fakes.gateway import FakeGateway
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import A_FEE, NOW, a_customer, a_payment, a_plan, an_invoice
from tests.fakes.records import a_staff_session as staff
from tests.fakes.run_once import InMemoryRunOnce


def test_a_collector_places_a_hold_audited_as_themselves() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice())
    console_pages.place_hold(ledger, FixedClock(NOW), staff(Role.COLLECTOR), "inv_1", reason="Called", until=None)
    held = ledger.get_invoice("inv_1")
    assert held is not None and held.hold is not None and held.hold.reason == "Called"
    [entry] = [a for a in ledger.audit if a.action == "invoice.hold_placed"]
    assert entry.actor == "staff:sub-1:ada@example.com"


@pytest.mark.parametrize("roles", [(Role.VIEWER,), ()])
def test_a_viewer_or_someone_without_a_role_cannot_hold(roles: tuple[Role, ...]) -> None:
    ledger = a_ledger_with(a_customer(), an_invoice())
    with pytest.raises(ActionForbidden):
        console_pages.place_hold(ledger, FixedClock(NOW), staff(*roles), "inv_1", reason="Called", until=None)
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.hold is None and ledger.audit_actions("inv_1") == []


def test_a_viewer_cannot_release_a_hold() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice())
    console_pages.place_hold(ledger, FixedClock(NOW), staff(Role.ADMIN), "inv_1", reason="Called", until=None)
    with pytest.raises(ActionForbidden):
        console_pages.release_hold(ledger, FixedClock(NOW), staff(Role.VIEWER), "inv_1")


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201])
def test_a_hold_needs_a_reason_of_reasonable_length(reason: str) -> None:
    ledger = a_ledger_with(a_customer(), an_invoice())
    with pytest.raises(InvalidHold):
        console_pages.place_hold(ledger, FixedClock(NOW), staff(Role.ADMIN), "inv_1", reason=reason, until=None)


def test_pages_need_a_role_to_read() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice())
    with pytest.raises(ActionForbidden):
        console_pages.today(ledger, FixedClock(NOW), staff())
    with pytest.raises(ActionForbidden):
        console_pages.invoice_page(ledger, FixedClock(NOW), staff(), "inv_1")


def test_the_invoice_page_offers_what_the_role_allows() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice())
    viewer = console_pages.invoice_page(ledger, FixedClock(NOW), staff(Role.VIEWER), "inv_1")
    collector = console_pages.invoice_page(ledger, FixedClock(NOW), staff(Role.COLLECTOR), "inv_1")
    assert Action.PLACE_HOLD not in viewer.actions and Action.PLACE_HOLD in collector.actions
    assert Action.REFUND not in collector.actions


def test_today_lists_invoices_whose_reminder_is_due() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice(due_date=date(2026, 11, 9), next_action_at=NOW))
    view = console_pages.today(ledger, FixedClock(NOW), staff(Role.VIEWER))
    assert [invoice.id for invoice in view.reminders_due] == ["inv_1"]


def a_cheque(**overrides: str) -> console_pages.PaymentForm:
    fields = {"amount": "50.00", "method": "check", "reference": "CHQ 1001", "received_on": "2026-11-01", "key": "k1"}
    return console_pages.PaymentForm(**(fields | overrides))


def test_a_collector_records_a_cheque_once_however_often_the_form_is_sent() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice(amount_due=12_500))
    once, gateway = InMemoryRunOnce(), FakeGateway()
    for _ in range(2):
        console_pages.record_payment(ledger, gateway, FixedClock(NOW), once, staff(Role.COLLECTOR), "inv_1", a_cheque())
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_paid == 5_000
    [payment] = ledger.get_invoice_payments("inv_1")
    assert payment.offline is not None and payment.offline.reference == "CHQ 1001"
    [entry] = [a for a in ledger.audit if a.action == "payment.recorded"]
    # Some services store their caller as operator:<identity> (the operator API's views strip it, as the page does)
    assert entry.actor.removeprefix("operator:") == "staff:sub-1:ada@example.com"


def test_a_viewer_cannot_record_a_payment() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice())
    with pytest.raises(ActionForbidden):
        console_pages.record_payment(
            ledger, FakeGateway(), FixedClock(NOW), InMemoryRunOnce(), staff(Role.VIEWER), "inv_1", a_cheque()
        )
    assert ledger.get_invoice_payments("inv_1") == []


@pytest.mark.parametrize(
    "field", [{"amount": "fifty"}, {"amount": "-5"}, {"method": "bitcoin"}, {"received_on": "yesterday"},
              {"received_on": "2030-01-01"}, {"reference": "x" * 101}],
)  # fmt: skip
def test_a_bad_value_is_refused_by_name(field: dict[str, str]) -> None:
    ledger = a_ledger_with(a_customer(), an_invoice())
    with pytest.raises(DomainError) as refused:
        console_pages.record_payment(
            ledger, FakeGateway(), FixedClock(NOW), InMemoryRunOnce(), staff(Role.ADMIN), "inv_1", a_cheque(**field)
        )
    assert refused.value.field == next(iter(field))
    assert ledger.get_invoice_payments("inv_1") == []


def test_the_invoice_page_renders_a_plan_reminders_and_the_actions_a_role_allows() -> None:
    from shared.rendering import render

    invoice = an_invoice(reminders_sent=frozenset({"due", "week_before"}), next_action_at=NOW)
    view = console_pages.InvoiceView(
        invoice=invoice, customer=a_customer(), payments=[], plan=a_plan(), timeline=[], now=NOW, form_key="k",
        actions=frozenset({Action.VIEW}),
    )  # fmt: skip
    html = render("console/invoice.html", view=view, session=staff(Role.VIEWER), csrf="t", done="", base="/console",
                  business_name="B", console_css="")  # fmt: skip
    assert "Installment plan" in html and "due, week_before" in html
    assert "Place a hold" not in html and "Record the payment" not in html


def test_the_invoice_page_shows_each_payments_stripe_fee_or_why_there_is_none() -> None:
    from shared.domain.records import OfflineMethod, OfflineReceipt
    from shared.rendering import render

    payments = [
        a_payment("pi_1", fee=A_FEE),
        a_payment("pi_2"),  # succeeded, its fee still to be read
        a_payment("pi_3", fee_lookups=4),  # asked four times: Stripe never had it
        a_payment("off_1", payment_intent_id=None, offline=OfflineReceipt(OfflineMethod.CHECK, "7", NOW.date())),
    ]
    view = console_pages.InvoiceView(
        invoice=an_invoice(), customer=a_customer(), payments=payments, plan=None, timeline=[], now=NOW,
        form_key="k", actions=frozenset({Action.VIEW}),
    )  # fmt: skip
    html = render("console/invoice.html", view=view, session=staff(Role.VIEWER), csrf="t", done="", base="/console",
                  business_name="B", console_css="")  # fmt: skip
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("</tr>")
    assert ["$3.92" in rows[0], "not read yet" in rows[1], "unknown" in rows[2], "none</td>" in rows[3]] == [True] * 4


def a_paid_ledger() -> InMemoryLedger:
    ledger = InMemoryLedger()
    invoice = an_invoice(amount_paid=12_500, status=InvoiceStatus.PAID, next_action_at=None)
    ledger.commit(Change(new_customer=a_customer(), new_invoice=invoice, payment=a_payment(amount=12_500)))
    return ledger


def a_refund(**overrides: str) -> console_pages.RefundForm:
    fields = {"payment_id": "pi_1", "amount": "50.00", "reason": "requested_by_customer", "key": "r1"}
    return console_pages.RefundForm(**(fields | overrides))


def test_an_admin_refunds_part_of_a_payment_at_stripe_once() -> None:
    ledger, gateway, once = a_paid_ledger(), FakeGateway(), InMemoryRunOnce()
    for _ in range(2):
        console_pages.refund_payment(ledger, gateway, FixedClock(NOW), once, staff(Role.ADMIN), "inv_1", a_refund())
    [payment] = ledger.get_invoice_payments("inv_1")
    assert payment.amount_refunded == 5_000 and len({r.idempotency_key for r in gateway.refund_requests}) == 1


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.VIEWER])
def test_a_collector_or_a_viewer_cannot_refund(role: Role) -> None:
    ledger, gateway = a_paid_ledger(), FakeGateway()
    with pytest.raises(ActionForbidden):
        console_pages.refund_payment(
            ledger, gateway, FixedClock(NOW), InMemoryRunOnce(), staff(role), "inv_1", a_refund()
        )
    assert gateway.refund_requests == [] and ledger.get_invoice_payments("inv_1")[0].amount_refunded == 0


def test_an_empty_amount_refunds_what_is_left_and_a_bad_reason_is_refused() -> None:
    ledger, gateway = a_paid_ledger(), FakeGateway()
    with pytest.raises(console_pages.InvalidValue):
        console_pages.refund_payment(
            ledger, gateway, FixedClock(NOW), InMemoryRunOnce(), staff(Role.ADMIN), "inv_1", a_refund(reason="oops")
        )
    console_pages.refund_payment(
        ledger, gateway, FixedClock(NOW), InMemoryRunOnce(), staff(Role.ADMIN), "inv_1", a_refund(amount="")
    )
    assert ledger.get_invoice_payments("inv_1")[0].amount_refunded == 12_500


def test_a_payment_of_another_invoice_is_not_refunded_from_this_one() -> None:
    ledger, gateway = a_paid_ledger(), FakeGateway()
    ledger.commit(Change(new_invoice=an_invoice("inv_2", number="INV-2")))
    with pytest.raises(NotFound):
        console_pages.refund_payment(
            ledger, gateway, FixedClock(NOW), InMemoryRunOnce(), staff(Role.ADMIN), "inv_2", a_refund()
        )
    assert gateway.refund_requests == []


def test_today_lists_what_is_overdue_in_the_currencies_of_the_reminders_due_or_the_one_asked_for() -> None:
    ledger = a_ledger_with(
        a_customer(),
        an_invoice(due_date=date(2026, 10, 1), next_action_at=NOW),
        an_invoice("inv_2", number="INV-2", currency="EUR", due_date=date(2026, 10, 20)),
    )
    view = console_pages.today(ledger, FixedClock(NOW), staff(Role.VIEWER))
    assert view.currencies == ["USD"] and [row.invoice.id for row in view.overdue] == ["inv_1"]
    assert view.overdue[0].days_overdue > 0
    asked = console_pages.today(ledger, FixedClock(NOW), staff(Role.VIEWER), "eur")
    assert asked.currencies == ["EUR", "USD"] and {row.invoice.id for row in asked.overdue} == {"inv_1", "inv_2"}


def test_an_invoice_is_found_by_its_number() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice(number="INV-1001"))
    assert console_pages.find_invoice(ledger, FixedClock(NOW), staff(Role.VIEWER), " INV-1001 ") == "inv_1"
    for number in ("INV-404", "", "x" * 65):
        with pytest.raises(NotFound):
            console_pages.find_invoice(ledger, FixedClock(NOW), staff(Role.VIEWER), number)


def test_the_customer_page_needs_a_role_and_a_customer_we_hold() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice())
    view = console_pages.customer_page(ledger, FixedClock(NOW), staff(Role.VIEWER), "cus_1")
    assert [i.id for i in view.invoices] == ["inv_1"]
    with pytest.raises(ActionForbidden):
        console_pages.customer_page(ledger, FixedClock(NOW), staff(), "cus_1")
    for customer_id in ("cus_404", "x" * 300):
        with pytest.raises(NotFound):
            console_pages.customer_page(ledger, FixedClock(NOW), staff(Role.VIEWER), customer_id)
