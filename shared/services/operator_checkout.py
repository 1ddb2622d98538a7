"""Checkout for operators with a Pay button in their own app (POST /v1/invoices/{id}/checkout-sessions)."""

from __future__ import annotations

from shared.clock import Clock
from shared.domain.records import CheckoutAttempt
from shared.services.checkout import CheckoutConfig, PayPage, start_checkout
from shared.services.customers import get_customer
from shared.services.gateway import PaymentGateway
from shared.services.invoices import get_invoice
from shared.services.ports import Ledger


def start_operator_checkout(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    config: CheckoutConfig,
    *,
    invoice_id: str,
    amount: int | None,
) -> CheckoutAttempt:
    """The invoice's payable Checkout Session, the same one the pay page hands out for the same amount;
    Checkout returns the customer to payportal's return page, which needs no pay link."""
    invoice = get_invoice(ledger, invoice_id)
    page = PayPage(invoice=invoice, customer=get_customer(ledger, invoice.customer_id))
    return start_checkout(ledger, gateway, clock, config, page=page, amount=amount)
