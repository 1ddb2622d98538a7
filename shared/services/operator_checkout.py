"""Checkout for operators with a Pay button in their own app (POST /v1/invoices/{id}/checkout-sessions)."""

from __future__ import annotations

from shared.clock import Clock
from shared.domain.records import CheckoutAttempt
from shared.services.checkout import CheckoutConfig, PayPage, start_checkout
from shared.services.customers import get_customer
from shared.services.invoices import get_invoice, new_pay_link
from shared.services.ports import Ledger, PaymentGateway


def start_operator_checkout(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    config: CheckoutConfig,
    *,
    invoice_id: str,
    amount: int | None,
    pay_link_ttl_days: int,
) -> CheckoutAttempt:
    """For operators with a Pay button in their own app: a fresh pay link backs the return page."""
    invoice = get_invoice(ledger, invoice_id)
    invoice.check_payable(invoice.amount_remaining if amount is None else amount)
    issued = new_pay_link(ledger, clock, invoice, ttl_days=pay_link_ttl_days)
    page = PayPage(invoice=invoice, customer=get_customer(ledger, invoice.customer_id))
    return start_checkout(ledger, gateway, clock, config, page=page, token=issued.token, amount=amount)
