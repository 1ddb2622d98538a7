"""The list planner (which listing answers which filters, or a 400 saying what to combine) and the list use
cases over the in-memory ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.clock import FixedClock
from shared.domain.invoices import Hold, InvoiceStatus
from shared.services import lists
from shared.services.lists import (
    CustomerFilters,
    FiltersNotServed,
    InvalidFilter,
    InvoiceFilters,
    PaymentFilters,
    plan_customers,
    plan_invoices,
    plan_payments,
)
from shared.services.ports import Change, CustomerListing, InvoiceListing, PaymentListing
from tests.fakes import InMemoryLedger
from tests.fakes.records import a_customer, an_invoice

NOW = datetime(2027, 3, 1, 15, tzinfo=UTC)  # 2 March already east of UTC+9, still 1 March in the Americas


@pytest.mark.parametrize(
    ("filters", "listing"),
    [
        (InvoiceFilters(number="N1", statuses=("paid",)), InvoiceListing("number", number="N1")),
        (InvoiceFilters(customer_id="cus_1"), InvoiceListing("customer", customer_id="cus_1")),
        (InvoiceFilters(currency="USD", statuses=("void",)), InvoiceListing("status", "USD", "void")),
        (InvoiceFilters(currency="USD", statuses=("open", "partially_paid")), InvoiceListing("owed", "USD")),
        # Overdue: due before the latest today anywhere (2 March), the rows checked to the day after
        (InvoiceFilters(currency="USD", overdue=True), InvoiceListing("owed", "USD", due_until=date(2027, 3, 2))),
        (InvoiceFilters(currency="USD", days_overdue_min=30),
         InvoiceListing("owed", "USD", due_until=date(2027, 2, 1))),
        (InvoiceFilters(currency="USD", overdue=True, statuses=("open",), due_after=date(2027, 1, 1)),
         InvoiceListing("status", "USD", "open", due_from=date(2027, 1, 2), due_until=date(2027, 3, 2))),
        (InvoiceFilters(currency="USD", overdue=False, statuses=("open",)),
         InvoiceListing("status", "USD", "open", due_from=date(2027, 3, 1))),
        (InvoiceFilters(currency="USD", overdue=False, statuses=("paid",)), InvoiceListing("status", "USD", "paid")),
        (InvoiceFilters(currency="EUR", on_hold=True, due_before=date(2027, 2, 1)),
         InvoiceListing("held", "EUR", due_until=date(2027, 2, 1))),
        (InvoiceFilters(currency="EUR", promised=True), InvoiceListing("promised", "EUR")),
        (InvoiceFilters(currency="EUR", disputed=True), InvoiceListing("disputed", "EUR")),
    ],
)  # fmt: skip
def test_each_served_combination_reads_one_listing(filters: InvoiceFilters, listing: InvoiceListing) -> None:
    assert plan_invoices(filters, NOW) == listing


@pytest.mark.parametrize(
    "filters",
    [
        InvoiceFilters(),
        InvoiceFilters(currency="USD"),
        InvoiceFilters(statuses=("open",)),
        InvoiceFilters(overdue=True),
        InvoiceFilters(customer_id="cus_1", overdue=True),
        InvoiceFilters(currency="USD", statuses=("open", "paid")),
        InvoiceFilters(currency="USD", overdue=True, statuses=("paid",)),
        InvoiceFilters(currency="USD", overdue=False),
        InvoiceFilters(currency="USD", on_hold=False),
        InvoiceFilters(currency="USD", on_hold=True, promised=True),
        InvoiceFilters(currency="USD", on_hold=True, statuses=("open",)),
    ],
)
def test_a_combination_no_listing_answers_is_refused_saying_what_to_give(filters: InvoiceFilters) -> None:
    with pytest.raises(FiltersNotServed) as refused:
        plan_invoices(filters, NOW)
    assert "give" in refused.value.message


def test_contradictory_overdue_filters_are_a_bad_value() -> None:
    with pytest.raises(InvalidFilter):
        plan_invoices(InvoiceFilters(currency="USD", overdue=False, days_overdue_min=3), NOW)


@given(
    due=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 6, 1)),
    zone=st.sampled_from(["Pacific/Kiritimati", "Pacific/Auckland", "Europe/London", "America/New_York",
                          "Pacific/Pago_Pago", "Etc/GMT+12"]),
    least=st.one_of(st.none(), st.integers(0, 400)),
)  # fmt: skip
def test_the_overdue_range_never_leaves_out_an_invoice_overdue_in_its_own_zone(
    due: date, zone: str, least: int | None
) -> None:
    invoice = an_invoice(due_date=due, customer_timezone=zone)
    filters = InvoiceFilters(currency="USD", overdue=True, days_overdue_min=least)
    listing = plan_invoices(filters, NOW)
    if lists.invoice_matches(filters, invoice, NOW):
        assert listing.due_until is not None and due < listing.due_until


def test_payment_windows_and_what_they_refuse() -> None:
    since = datetime(2027, 2, 28, tzinfo=UTC)
    assert plan_payments(PaymentFilters(since=since), NOW) == PaymentListing(since, NOW)
    assert plan_payments(PaymentFilters(since=since, status="failed"), NOW) == PaymentListing(since, NOW, "failed")
    assert plan_payments(PaymentFilters(customer_id="cus_1"), NOW).customer_id == "cus_1"
    refused_filters = (
        PaymentFilters(),
        PaymentFilters(since=since, currency="USD"),
        PaymentFilters(since=since, method="cash"),
        PaymentFilters(customer_id="cus_1", status="failed"),
    )
    for refused in refused_filters:
        with pytest.raises(FiltersNotServed):
            plan_payments(refused, NOW)
    with pytest.raises(InvalidFilter):
        plan_payments(PaymentFilters(since=datetime(2020, 1, 1, tzinfo=UTC)), NOW)


def test_customer_filters_one_at_a_time() -> None:
    assert plan_customers(CustomerFilters()) == CustomerListing("all")
    assert plan_customers(CustomerFilters(q="  ANN  Sm")) == CustomerListing("prefix", "ann sm")
    assert plan_customers(CustomerFilters(email="Ann@Example.com")) == CustomerListing("email", "ann@example.com")
    assert plan_customers(CustomerFilters(external_id="crm-1")) is None
    with pytest.raises(FiltersNotServed):
        plan_customers(CustomerFilters(q="a", email="a@example.com"))
    with pytest.raises(InvalidFilter):
        plan_customers(CustomerFilters(q="   "))


def test_overdue_rows_carry_days_counted_in_each_customers_zone() -> None:
    # Given invoices due on 1 March for customers on either side of the date line, and one held
    ledger = InMemoryLedger()
    ledger.commit(
        Change(new_invoice=an_invoice("inv_nz", due_date=date(2027, 3, 1), customer_timezone="Pacific/Auckland"))
    )
    ledger.commit(
        Change(new_invoice=an_invoice("inv_us", due_date=date(2027, 3, 1), customer_timezone="America/New_York"))
    )
    ledger.commit(Change(new_invoice=an_invoice("inv_held", due_date=date(2027, 2, 1), hold=Hold("asked"))))
    ledger.commit(
        Change(
            new_invoice=an_invoice("inv_paid", due_date=date(2027, 1, 1), status=InvoiceStatus.PAID, amount_paid=12_500)
        )
    )
    clock = FixedClock(NOW)

    # When the overdue invoices are listed
    page = lists.list_invoices(ledger, clock, InvoiceFilters(currency="USD", overdue=True), limit=10, cursor=None)

    # Then the one already a day late in Auckland is listed, New York's (still 1 March) is not
    assert [(r.invoice.id, r.days_overdue) for r in page.items] == [("inv_held", 28), ("inv_nz", 1)]
    held = lists.list_invoices(ledger, clock, InvoiceFilters(currency="USD", on_hold=True), limit=10, cursor=None)
    assert [r.invoice.id for r in held.items] == ["inv_held"]


def test_a_customer_met_by_name_and_email_is_listed_once_across_pages() -> None:
    ledger = InMemoryLedger()
    ledger.commit(Change(new_customer=a_customer("cus_a", name="Ann", email="ann@example.com")))
    ledger.commit(Change(new_customer=a_customer("cus_b", name="Bea", email="ann.b@example.com")))
    seen: list[str] = []
    cursor = None
    while True:
        page = lists.list_customers(ledger, CustomerFilters(q="ann"), limit=1, cursor=cursor)
        seen += [c.id for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == ["cus_a", "cus_b"]
