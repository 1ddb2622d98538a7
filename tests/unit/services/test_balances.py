"""The open balance: what is still to be collected, per currency."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.invoices import InvoiceStatus
from shared.services.balances import OpenBalance, open_balances
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import a_customer, an_invoice


def test_balances_count_open_and_partly_paid_invoices_per_currency_in_currency_order() -> None:
    # Given invoices in every state, in two currencies
    ledger = a_ledger_with(
        a_customer(),
        an_invoice("inv_a", currency="USD", amount_due=10_000),
        an_invoice("inv_b", currency="USD", amount_due=5_000, amount_paid=2_000, status=InvoiceStatus.PARTIALLY_PAID),
        an_invoice("inv_c", currency="EUR", amount_due=700),
        an_invoice("inv_d", currency="USD", amount_due=900, amount_paid=900, status=InvoiceStatus.PAID),
        an_invoice("inv_e", currency="USD", amount_due=800, status=InvoiceStatus.VOID),
        an_invoice("inv_f", currency="USD", amount_due=600, status=InvoiceStatus.UNCOLLECTIBLE),
    )
    # When the operator asks what is open
    # Then paid, void and written-off invoices are left out
    assert open_balances(ledger) == [OpenBalance("EUR", 700, 1), OpenBalance("USD", 13_000, 2)]


def test_nothing_open_is_no_lines() -> None:
    assert open_balances(a_ledger_with(a_customer())) == []


_invoice = st.tuples(
    st.sampled_from(["USD", "EUR", "JPY"]),
    st.integers(min_value=1, max_value=10_000_000),
    st.integers(min_value=0, max_value=10_000_000),
    st.sampled_from(list(InvoiceStatus)),
)


@given(st.lists(_invoice, max_size=20))
def test_open_balances_equal_the_sum_over_open_invoices(invoices: list[tuple[str, int, int, InvoiceStatus]]) -> None:
    records = [
        an_invoice(f"inv_{n}", currency=c, amount_due=due, amount_paid=paid, status=s)
        for n, (c, due, paid, s) in enumerate(invoices)
    ]
    ledger = a_ledger_with(a_customer(), *records)
    expected: dict[str, tuple[int, int]] = {}
    for invoice in records:
        if (
            invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)
            and invoice.amount_due > invoice.amount_paid
        ):
            total, count = expected.get(invoice.currency, (0, 0))
            expected[invoice.currency] = (total + invoice.amount_due - invoice.amount_paid, count + 1)
    lines = open_balances(ledger)
    assert [line.currency for line in lines] == sorted(expected)
    assert {line.currency: (line.amount, line.invoices) for line in lines} == expected
    assert all(line.amount > 0 for line in lines)
