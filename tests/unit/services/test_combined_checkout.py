"""Several invoices in one Checkout Session: what each invoice gets is checked against what it owes and Stripe's
rules, and recorded before the session is handed out."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.clock import FixedClock
from shared.domain.errors import (
    AmountNotChargeable,
    DomainError,
    InvalidAmount,
    InvoiceNotPayable,
    NotFound,
    PaymentInProgress,
)
from shared.domain.invoices import InvoiceStatus, PaymentStatus
from shared.domain.records import MAX_COMBINED_INVOICES, Allocation, CombinedCheckout
from shared.services.checkout import CheckoutConfig
from shared.services.combined_checkout import AllocationAsk, start_combined_checkout
from shared.services.gateway import CheckoutLine
from shared.services.ports import Change
from tests.fakes import FakeGateway, InMemoryLedger
from tests.fakes.records import NOW, a_customer, an_invoice

CLOCK = FixedClock(NOW)
CONFIG = CheckoutConfig(base_url="https://pay.example.test", payment_method_types=("card",))


def ledger_with_invoices() -> InMemoryLedger:
    """Given cus_1 owes inv_1 (USD 125.00, in full only) and inv_2 (USD 80.00, partial payments from 10.00),
    inv_eur (EUR 50.00), and cus_2 owes inv_other."""
    ledger = InMemoryLedger()
    ledger.commit(Change(new_customer=a_customer()))
    ledger.commit(Change(new_customer=a_customer("cus_2")))
    ledger.commit(Change(new_invoice=an_invoice()))
    ledger.commit(
        Change(new_invoice=an_invoice("inv_2", amount_due=8_000, allow_partial=True, min_partial_amount=1_000))
    )
    ledger.commit(Change(new_invoice=an_invoice("inv_eur", currency="EUR", amount_due=5_000)))
    ledger.commit(Change(new_invoice=an_invoice("inv_other", customer_id="cus_2")))
    return ledger


def start(
    ledger: InMemoryLedger, gateway: FakeGateway, *asks: AllocationAsk, clock: FixedClock = CLOCK
) -> CombinedCheckout:
    return start_combined_checkout(ledger, gateway, clock, CONFIG, "cus_1", list(asks))


def test_one_session_with_a_line_per_invoice_is_recorded_before_it_is_handed_out() -> None:
    ledger, gateway = ledger_with_invoices(), FakeGateway()

    combined = start(ledger, gateway, AllocationAsk("inv_1"), AllocationAsk("inv_2", 3_000))

    # Then one session for the total, one line per invoice, and only a reference in Stripe's metadata
    [request] = gateway.checkout_requests
    assert request.amount == 15_500 and request.currency == "USD"
    assert request.lines == (CheckoutLine("Invoice N-inv_1", 12_500), CheckoutLine("Invoice N-inv_2", 3_000))
    assert request.metadata == {"combined_ref": combined.ref, "customer_id": "cus_1"}
    assert combined.ref in request.success_url and "session_id={CHECKOUT_SESSION_ID}" in request.success_url
    # And the allocation is in our table, with each invoice's attempt for its share
    assert ledger.get_combined_checkout(combined.ref) == combined
    assert combined.allocations == (Allocation("inv_1", "N-inv_1", 12_500), Allocation("inv_2", "N-inv_2", 3_000))
    attempts = [ledger.get_checkout(i, combined.ref) for i in ("inv_1", "inv_2")]
    assert [(a.amount, a.session_id) for a in attempts if a] == [
        (12_500, combined.session_id),
        (3_000, combined.session_id),
    ]
    assert ledger.audit_actions("inv_1") == ledger.audit_actions("inv_2") == ["checkout.combined_opened"]


def test_the_same_selection_again_gets_the_open_session_back() -> None:
    ledger, gateway = ledger_with_invoices(), FakeGateway()
    first = start(ledger, gateway, AllocationAsk("inv_1"), AllocationAsk("inv_2"))

    again = start(ledger, gateway, AllocationAsk("inv_2"), AllocationAsk("inv_1"))

    assert again.session_id == first.session_id and len(gateway.checkout_requests) == 1


def test_a_session_about_to_expire_or_paid_is_not_handed_out_again() -> None:
    ledger, gateway = ledger_with_invoices(), FakeGateway()
    first = start(ledger, gateway, AllocationAsk("inv_1"))

    later = start(ledger, gateway, AllocationAsk("inv_1"), clock=FixedClock(NOW + timedelta(hours=23, minutes=45)))

    assert later.ref != first.ref and len(gateway.checkout_requests) == 2


@pytest.mark.parametrize(
    ("asks", "error", "field"),
    [
        ([], InvalidAmount, "invoices"),
        ([AllocationAsk("inv_1"), AllocationAsk("inv_1")], InvalidAmount, "invoices"),
        ([AllocationAsk("inv_1"), AllocationAsk("inv_eur")], InvoiceNotPayable, "invoices"),
        ([AllocationAsk("inv_1"), AllocationAsk("inv_other")], NotFound, "invoices"),
        ([AllocationAsk("inv_unknown")], NotFound, "invoices"),
        ([AllocationAsk("")], NotFound, "invoices"),
        ([AllocationAsk("inv_1", 5_000)], InvoiceNotPayable, "amount"),  # in full only
        ([AllocationAsk("inv_2", 8_001)], InvoiceNotPayable, "amount"),  # more than it owes
        ([AllocationAsk("inv_2", 500)], InvoiceNotPayable, "amount"),  # below its minimum
        ([AllocationAsk("inv_2", 0)], InvoiceNotPayable, "amount"),
        ([AllocationAsk("inv_2", -1_000)], InvoiceNotPayable, "amount"),
        ([AllocationAsk("inv_2", 2_000.5)], InvalidAmount, "amount"),  # type: ignore[arg-type]
        ([AllocationAsk("inv_2", True)], InvalidAmount, "amount"),
    ],
)
def test_a_selection_that_cannot_be_paid_is_refused_before_stripe_is_asked(
    asks: list[AllocationAsk], error: type[Exception], field: str
) -> None:
    ledger, gateway = ledger_with_invoices(), FakeGateway()

    with pytest.raises(error) as refused:
        start(ledger, gateway, *asks)

    assert getattr(refused.value, "field", None) == field
    assert gateway.checkout_requests == [] and ledger.combined == {}


def test_a_paid_invoice_cannot_be_chosen() -> None:
    ledger, gateway = ledger_with_invoices(), FakeGateway()
    paid = ledger.get_invoice("inv_1")
    assert paid is not None
    ledger.commit(Change(invoice_update=replace(paid, amount_paid=12_500, status=InvoiceStatus.PAID, version=2)))

    with pytest.raises(InvoiceNotPayable):
        start(ledger, gateway, AllocationAsk("inv_1"), AllocationAsk("inv_2"))


def test_at_most_the_cap_of_invoices_at_once() -> None:
    ledger, gateway = ledger_with_invoices(), FakeGateway()
    asks = [AllocationAsk(f"inv_{n}") for n in range(MAX_COMBINED_INVOICES + 1)]

    with pytest.raises(InvalidAmount, match=f"at most {MAX_COMBINED_INVOICES}"):
        start(ledger, gateway, *asks)


def test_the_cap_fits_one_transaction() -> None:
    # Given the most invoices allowed, each owing 1.00; When paid together; Then one transaction records it all
    ledger, gateway = InMemoryLedger(), FakeGateway()
    ledger.commit(Change(new_customer=a_customer()))
    for n in range(MAX_COMBINED_INVOICES):
        ledger.commit(Change(new_invoice=an_invoice(f"inv_{n}", amount_due=100)))

    combined = start(ledger, gateway, *(AllocationAsk(f"inv_{n}") for n in range(MAX_COMBINED_INVOICES)))

    assert combined.amount == 100 * MAX_COMBINED_INVOICES and len(gateway.checkout_requests[0].lines) == 40


def test_an_amount_stripe_cannot_charge_is_refused() -> None:
    # Given an invoice in BHD, which Stripe charges in steps of 0.010 BHD (10 minor units)
    ledger, gateway = ledger_with_invoices(), FakeGateway()
    ledger.commit(Change(new_invoice=an_invoice("inv_bhd", currency="BHD", amount_due=50_000, allow_partial=True)))

    with pytest.raises(AmountNotChargeable):
        start(ledger, gateway, AllocationAsk("inv_bhd", 1_005))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.sampled_from(["inv_1", "inv_2", "inv_eur", "inv_other"]), st.text(max_size=200)),
            st.one_of(st.none(), st.integers(min_value=-(2**70), max_value=2**70)),
        ),
        max_size=45,
    )
)
def test_any_selection_is_a_session_or_a_clear_refusal(asked: list[tuple[str, int | None]]) -> None:
    # Given hostile ids and amounts (another customer's invoice, unknown ids, control characters, huge numbers)
    ledger, gateway = ledger_with_invoices(), FakeGateway()

    try:
        combined = start(ledger, gateway, *(AllocationAsk(i, a) for i, a in asked))
    except DomainError:
        assert gateway.checkout_requests == [] and ledger.combined == {}  # refused before Stripe was asked
        return
    # Then what was opened is the customer's, each share within what its invoice owes
    for allocation in combined.allocations:
        invoice = ledger.get_invoice(allocation.invoice_id)
        assert invoice is not None and invoice.customer_id == "cus_1"
        assert 0 < allocation.amount <= invoice.amount_remaining


def test_while_a_bank_debit_of_the_same_invoices_settles_no_second_session_is_opened() -> None:
    ledger, gateway = ledger_with_invoices(), FakeGateway()
    first = start(ledger, gateway, AllocationAsk("inv_1"), AllocationAsk("inv_2"))
    pending = replace(first, payment_status=PaymentStatus.PENDING, version=1)
    ledger.commit(Change(combined_checkout=pending))

    with pytest.raises(PaymentInProgress):
        start(ledger, gateway, AllocationAsk("inv_1"), AllocationAsk("inv_2"))
    assert len(gateway.checkout_requests) == 1
