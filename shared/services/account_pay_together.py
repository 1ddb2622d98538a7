"""Several open invoices of one customer, picked on the account's statement, paid in one Checkout Session
(combined_checkout.start_combined_checkout: each invoice's share recorded before the session is handed out,
applied once by the webhook in any event order, one receipt listing them all).

The form names each picked invoice `pay-<invoice id>` and, where the invoice takes partial payments, its
amount `amount-<invoice id>`, typed the customer's way (parse_major_amount in their locale).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from shared.clock import Clock
from shared.domain.account import AccountSession
from shared.domain.errors import ConcurrentUpdate, InvalidAmount, InvoiceNotPayable, NotFound, PaymentInProgress
from shared.domain.money import parse_major_amount
from shared.domain.records import MAX_COMBINED_INVOICES
from shared.services.checkout import CheckoutConfig
from shared.services.combined_checkout import AllocationAsk, start_combined_checkout
from shared.services.gateway import PaymentGateway
from shared.services.ports import Ledger

PICK: Final = "pay-"
AMOUNT: Final = "amount-"
# The form's fields at most: the form token, the customer, and a pick and an amount per invoice.
MAX_FIELDS: Final = 2 + 2 * MAX_COMBINED_INVOICES


class SelectionRefused(StrEnum):
    """Why the picked invoices could not be paid together; the statement says so beside the form."""

    NONE_PICKED = "none"
    AMOUNT = "amount"  # an amount out of what the invoice allows, or unreadable
    CURRENCIES = "currencies"
    UNAVAILABLE = "unavailable"  # paid meanwhile, being paid, or no longer payable


def picked(form: Mapping[str, str]) -> list[tuple[str, str]]:
    """The invoices ticked on the form, in the form's order, each with the amount typed for it ("" for all)."""
    return [(name[len(PICK) :], form.get(AMOUNT + name[len(PICK) :], "")) for name in form if name.startswith(PICK)]


def pay_selected(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    config: CheckoutConfig,
    session: AccountSession,
    customer_id: str,
    picks: list[tuple[str, str]],
) -> str:
    """Where the browser goes next: the one Checkout Session for the picked invoices, or back to the statement
    saying why they could not be paid together. A customer the session does not open looks unknown."""
    customer = ledger.get_customer(customer_id) if session.opens(customer_id) else None
    if customer is None:
        raise NotFound("no such customer")
    refused = f"/account?together={customer.id}&together_refused=%s#together-{customer.id}"
    if not picks:
        return refused % SelectionRefused.NONE_PICKED.value
    asks, currencies = [], set()
    for invoice_id, amount_text in picks:
        invoice = ledger.get_invoice(invoice_id) if 0 < len(invoice_id) <= 64 else None
        if invoice is None or invoice.customer_id != customer.id:
            raise NotFound("no such invoice")
        try:
            partial = bool(amount_text) and invoice.allow_partial
            amount = parse_major_amount(amount_text, invoice.currency, customer.locale) if partial else None
        except InvalidAmount:
            return refused % SelectionRefused.AMOUNT.value
        asks.append(AllocationAsk(invoice.id, amount))
        currencies.add(invoice.currency)
    if len(currencies) > 1:
        return refused % SelectionRefused.CURRENCIES.value
    try:
        combined = start_combined_checkout(ledger, gateway, clock, config, customer.id, asks)
    except InvalidAmount:
        return refused % SelectionRefused.AMOUNT.value
    except InvoiceNotPayable as refusal:  # an amount over what remains or under the least allowed, or unpayable
        return refused % (SelectionRefused.AMOUNT if refusal.field == "amount" else SelectionRefused.UNAVAILABLE)
    except (PaymentInProgress, ConcurrentUpdate):
        return refused % SelectionRefused.UNAVAILABLE.value
    return combined.url
