"""The customer's saved payment methods: listed, removed, and the one autopay and installment plans charge
chosen. Stripe keeps them (no card data ever reaches us); payportal checks that each one named belongs to the
customer before it acts on it, and audits every change.

Adding one is Checkout in setup mode (shared.services.saved_cards). The account asks for a fresh one-time code
before any of these changes (step-up).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.clock import Clock
from shared.domain.errors import NotFound, PaymentMethodStillNeeded
from shared.domain.invoices import Invoice
from shared.domain.records import AuditEntry, AuditSubject, Customer
from shared.services.customers import get_customer
from shared.services.gateway import PaymentGateway, SavedPaymentMethod, SavedPaymentMethods
from shared.services.ports import Change, Ledger

# How many of the customer's invoices one page reads, looking for an installment plan still charging.
_INVOICE_PAGE = 100


@dataclass(frozen=True, slots=True)
class PaymentMethodsView:
    methods: tuple[SavedPaymentMethod, ...]  # newest first
    charged_id: str | None  # what autopay and installment plans charge (None: nothing saved)
    chosen: bool  # the customer chose it (else it is the newest saved, by default)
    autopay: bool


def list_payment_methods(ledger: Ledger, gateway: PaymentGateway, customer_id: str) -> PaymentMethodsView:
    customer = get_customer(ledger, customer_id)
    saved = _saved(gateway, customer)
    charged = saved.charged
    return PaymentMethodsView(
        methods=saved.methods,
        charged_id=charged.id if charged else None,
        chosen=charged is not None and charged.id == saved.default_id,
        autopay=customer.autopay is not None,
    )


def remove_payment_method(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, customer_id: str, payment_method_id: str, *, actor: str
) -> None:
    """Detach it at Stripe. The customer's last one stays while autopay or a plan would charge it."""
    customer = get_customer(ledger, customer_id)
    saved = _saved(gateway, customer)
    method = _owned(saved, payment_method_id)
    if len(saved.methods) == 1 and (customer.autopay is not None or _plan_charging(ledger, customer.id)):
        raise PaymentMethodStillNeeded(
            "this is the only payment method autopay or your installment plan can charge: add another one first, "
            "or turn autopay off"
        )
    gateway.detach_payment_method(method.id)
    _audit(ledger, clock, customer, "payment_method.removed", method, actor)


def choose_payment_method(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, customer_id: str, payment_method_id: str, *, actor: str
) -> None:
    """Autopay and installment plans charge this one from now on."""
    customer = get_customer(ledger, customer_id)
    method = _owned(_saved(gateway, customer), payment_method_id)
    gateway.choose_payment_method(_stripe_id(customer), method.id)
    _audit(ledger, clock, customer, "payment_method.chosen", method, actor)


def _saved(gateway: PaymentGateway, customer: Customer) -> SavedPaymentMethods:
    if not customer.stripe_customer_id:
        return SavedPaymentMethods(methods=(), default_id=None)  # never paid or saved a card: nothing at Stripe
    return gateway.saved_payment_methods(customer.stripe_customer_id)


def _stripe_id(customer: Customer) -> str:
    if not customer.stripe_customer_id:
        raise NotFound("no saved payment method")
    return customer.stripe_customer_id


def _owned(saved: SavedPaymentMethods, payment_method_id: str) -> SavedPaymentMethod:
    """The customer's own method of that id; any other id (another customer's, made up) is not found."""
    method = next((m for m in saved.methods if m.id == payment_method_id), None)
    if method is None:
        raise NotFound("no such payment method", field="payment_method")
    return method


def _plan_charging(ledger: Ledger, customer_id: str) -> bool:
    """Whether an installment plan is paying off one of the customer's invoices (read by the customer's own
    invoice list, a page at a time, never the table)."""
    cursor: str | None = None
    while True:
        page = ledger.list_customer_invoices(customer_id, _INVOICE_PAGE, cursor)
        if any(isinstance(invoice, Invoice) and invoice.active_plan for invoice in page.items):
            return True
        if page.next_cursor is None:
            return False
        cursor = page.next_cursor


def _audit(
    ledger: Ledger, clock: Clock, customer: Customer, action: str, method: SavedPaymentMethod, actor: str
) -> None:
    # Only what the account shows of it: its kind, brand or bank and last four, never a full number or token.
    details = {"kind": method.kind, "brand": method.brand or method.bank_name or "", "last4": method.last4 or ""}
    entry = AuditEntry(AuditSubject.CUSTOMER, customer.id, action, actor, clock.now(), details=details)
    ledger.commit(Change(audit=[entry]))
