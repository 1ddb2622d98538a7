"""Invoice arithmetic under credit notes, offline payments and their reversals, in any order (hypothesis):
what was invoiced never moves, a credit note never makes credit, and the status follows what is owed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.errors import CreditExceedsRemaining
from shared.domain.invoices import CreditNote, Invoice, InvoiceStatus
from tests.fakes.records import NOW, an_invoice

Step = tuple[str, int]
steps = st.lists(
    st.tuples(st.sampled_from(["pay", "credit", "reverse"]), st.integers(min_value=1, max_value=20_000)), max_size=12
)


def applied(invoice: Invoice, history: list[Step]) -> tuple[Invoice, list[int]]:
    """The invoice after each step that the rules allow, and the payments still standing."""
    standing: list[int] = []
    for n, (kind, amount) in enumerate(history):
        if kind == "pay":
            invoice = invoice.with_payment(amount)
            standing.append(amount)
        elif kind == "credit":
            try:
                invoice = invoice.with_credit_note(CreditNote(f"cn_{n}", amount, "", NOW))
            except CreditExceedsRemaining:
                assert amount > invoice.amount_remaining
        elif standing:
            invoice = invoice.with_payment_reversed(standing.pop(amount % len(standing)))
    return invoice, standing


@settings(max_examples=300, deadline=None)
@given(steps)
def test_what_is_owed_follows_every_history(history: list[Step]) -> None:
    start = an_invoice(amount_due=12_500, allow_partial=True)

    invoice, standing = applied(start, history)

    assert invoice.amount_original == start.amount_original == 12_500
    assert invoice.amount_due == 12_500 - invoice.amount_credited >= 0
    assert invoice.amount_paid == sum(standing)
    assert invoice.amount_remaining == max(0, invoice.amount_due - invoice.amount_paid)
    assert invoice.amount_credit == max(0, invoice.amount_paid - invoice.amount_due)
    expected = (
        InvoiceStatus.PAID
        if invoice.amount_paid >= invoice.amount_due
        else InvoiceStatus.PARTIALLY_PAID
        if invoice.amount_paid
        else InvoiceStatus.OPEN
    )
    assert invoice.status is expected
