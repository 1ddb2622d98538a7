"""Invoice and payment rules, pure."""

from dataclasses import replace
from datetime import UTC, date, datetime
from itertools import permutations

import pytest

from shared.domain.errors import AmountNotChargeable, InvalidAmount, InvalidStateTransition, InvoiceNotPayable
from shared.domain.invoices import Invoice, InvoiceStatus, PaymentStatus, payment_status_moves_forward

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def an_invoice(**changes: object) -> Invoice:
    invoice = Invoice(
        id="inv_1",
        customer_id="cust_1",
        number="INV-1",
        currency="USD",
        amount_due=10_000,
        amount_paid=0,
        status=InvoiceStatus.OPEN,
        due_date=date(2026, 12, 1),
        description="",
        allow_partial=False,
        min_partial_amount=None,
        version=1,
        created_at=NOW,
    )
    return replace(invoice, **changes)  # type: ignore[arg-type]


def test_full_payment_marks_the_invoice_paid() -> None:
    paid = an_invoice().with_payment(10_000)
    assert (paid.status, paid.amount_remaining, paid.version) == (InvoiceStatus.PAID, 0, 2)


def test_partial_payments_add_up_to_paid() -> None:
    invoice = an_invoice(allow_partial=True, min_partial_amount=1_000)
    invoice = invoice.with_payment(4_000)
    assert (invoice.status, invoice.amount_remaining) == (InvoiceStatus.PARTIALLY_PAID, 6_000)
    invoice = invoice.with_payment(6_000)
    assert invoice.status is InvoiceStatus.PAID


def test_overpayment_is_kept_as_credit() -> None:
    invoice = an_invoice().with_payment(10_000).with_payment(2_500)
    assert (invoice.amount_paid, invoice.amount_remaining, invoice.amount_credit) == (12_500, 0, 2_500)


def test_money_arriving_on_a_void_invoice_is_recorded_as_credit() -> None:
    invoice = an_invoice(status=InvoiceStatus.VOID).with_payment(3_000)
    assert (invoice.status, invoice.amount_paid) == (InvoiceStatus.VOID, 3_000)


@pytest.mark.parametrize(
    ("changes", "amount"),
    [
        ({}, 5_000),  # partial not allowed
        ({"allow_partial": True, "min_partial_amount": 2_000}, 1_000),  # below the minimum
        ({}, 10_001),  # more than remains
        ({"status": InvoiceStatus.VOID}, 10_000),
        ({"status": InvoiceStatus.PAID, "amount_paid": 10_000}, 1),
    ],
)
def test_payments_the_invoice_does_not_allow_are_refused(changes: dict[str, object], amount: int) -> None:
    with pytest.raises(InvoiceNotPayable):
        an_invoice(**changes).check_payable(amount)


def test_the_minimum_never_exceeds_what_remains() -> None:
    invoice = an_invoice(allow_partial=True, min_partial_amount=2_000, amount_paid=9_000)
    assert invoice.minimum_payment() == 1_000
    invoice.check_payable(1_000)


def test_only_an_untouched_open_invoice_can_be_voided() -> None:
    assert an_invoice().voided().status is InvoiceStatus.VOID
    with pytest.raises(InvalidStateTransition):
        an_invoice(status=InvoiceStatus.PARTIALLY_PAID, amount_paid=100).voided()


def test_payment_states_converge_whatever_order_events_arrive_in() -> None:
    for order in permutations([PaymentStatus.PENDING, PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]):
        state: PaymentStatus | None = None
        for status in order:
            if payment_status_moves_forward(state, status):
                state = status
        assert state is PaymentStatus.SUCCEEDED


def test_a_partial_payment_stripe_cannot_charge_is_refused_saying_what_would_do() -> None:
    # Given a BHD invoice open to partial payments (BHD has three decimals; Stripe wants the last one 0)
    invoice = an_invoice(currency="BHD", amount_due=12_340, allow_partial=True, min_partial_amount=1_000)
    # Then 1.234 BHD is refused, as a 422, naming the step; 1.230 BHD is fine
    with pytest.raises(AmountNotChargeable, match=r"steps of 0\.010 BHD") as refused:
        invoice.check_payable(1_234)
    assert isinstance(refused.value, InvalidAmount) and refused.value.field == "amount"
    invoice.check_payable(1_230)


def test_the_minimum_partial_payment_is_rounded_up_to_a_chargeable_amount() -> None:
    invoice = an_invoice(currency="KWD", amount_due=50_000, allow_partial=True, min_partial_amount=1_005)
    assert invoice.minimum_payment() == 1_010
    with pytest.raises(InvoiceNotPayable, match="below the minimum"):
        invoice.check_payable(1_000)


def test_an_invoice_in_a_currency_stripe_cannot_charge_is_not_payable() -> None:
    # Only an invoice stored before creation refused such currencies can be in one
    with pytest.raises(InvoiceNotPayable, match="in XAU, which cannot be charged"):
        an_invoice(currency="XAU").check_payable(10_000)
