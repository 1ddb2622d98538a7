"""Each listing as DynamoDB reads it: the index, the partitions in the order read, the key condition."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared import schema
from shared.adapters.dynamodb.lists import KeyRange, customer_range, invoice_range, payment_range
from shared.services.ports import CustomerListing, InvoiceListing, PaymentListing


def test_an_overdue_list_is_one_partition_of_the_lists_index_below_a_day() -> None:
    assert invoice_range(InvoiceListing("owed", "USD", due_until=date(2027, 3, 2))) == KeyRange(
        schema.LISTS_INDEX, schema.LISTS_PK, schema.LISTS_SK, ("OWED#USD",), "#s < :hi", "", "2027-03-02"
    )
    assert invoice_range(InvoiceListing("owed", "")).partitions == ("OWED#*",)


def test_a_due_range_takes_every_invoice_of_its_last_day() -> None:
    ranged = invoice_range(
        InvoiceListing("status", "EUR", "open", due_from=date(2027, 1, 2), due_until=date(2027, 2, 1))
    )
    assert ranged is not None
    assert (ranged.partitions, ranged.condition, ranged.lo, ranged.hi) == (
        ("INVOICES#open#EUR",), "#s BETWEEN :lo AND :hi", "2027-01-02", "2027-01-31$",
    )  # fmt: skip
    assert "2027-01-31#inv_zzz" < ranged.hi < "2027-02-01"
    assert invoice_range(InvoiceListing("held", "EUR", due_from=date(2027, 2, 1), due_until=date(2027, 2, 1))) is None


def test_a_customers_invoices_are_their_by_owner_partition() -> None:
    owned = invoice_range(InvoiceListing("customer", customer_id="cus_1"))
    assert owned is not None
    assert (owned.index, owned.partitions, owned.lo) == (schema.BY_OWNER_INDEX, ("CUSTOMER#cus_1",), "INVOICE#")


def test_a_payment_window_walks_its_months_newest_first_across_a_year_end() -> None:
    window = PaymentListing(since=datetime(2026, 11, 15, tzinfo=UTC), until=datetime(2027, 2, 1, tzinfo=UTC))
    walked = payment_range(window)
    assert walked.partitions == ("PAYMENTS#2027-01", "PAYMENTS#2026-12", "PAYMENTS#2026-11")
    assert (walked.lo, walked.hi, walked.forward) == ("2026-11-15T00:00:00Z", "2027-02-01T00:00:00Z", False)
    failed = payment_range(PaymentListing(window.since, window.until, state="failed"))
    assert failed.partitions[0] == "PAYMENTS#failed#2027-01"
    euros = payment_range(PaymentListing(window.since, window.until, currency="EUR"))
    assert euros.partitions[-1] == "PAYMENTS#EUR#2026-11"


def test_customer_searches_are_prefixes_of_one_partition_and_everyone_is_by_owner() -> None:
    assert customer_range(CustomerListing("prefix", "ann")).lo == "ann"
    assert customer_range(CustomerListing("email", "ann@example.com")).lo == "ann@example.com#"
    everyone = customer_range(CustomerListing("all"))
    assert (everyone.index, everyone.partitions, everyone.forward) == (schema.BY_OWNER_INDEX, ("CUSTOMERS",), False)
