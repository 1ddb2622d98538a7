"""The customer's documents as PDFs: an invoice, a receipt, a statement, each as one typed view read here and
drawn by shared.pdf. Through a pay link, a customer gets the documents of that link's invoice only; signed in to
their account, those of every invoice of theirs, and their statement.
"""

from __future__ import annotations

from shared.clock import Clock
from shared.domain.account import AccountSession
from shared.domain.documents import (
    InvoiceDocument,
    ReceiptDocument,
    StatementDocument,
    invoice_document,
    receipt_document,
    statement_document,
)
from shared.domain.errors import NotFound
from shared.domain.invoices import Invoice, PaymentStatus
from shared.domain.languages import served_language
from shared.domain.local_time import local_date
from shared.domain.records import Customer, Payment
from shared.rendering import render
from shared.services.account_statement import every, owned_customers, owned_invoice
from shared.services.checkout import open_pay_link
from shared.services.gateway import PaymentGateway, PaymentMethodUsed
from shared.services.ports import Ledger


def invoice_document_for_link(ledger: Ledger, clock: Clock, token: str) -> InvoiceDocument:
    """The invoice behind pay link `token` (PayLinkInvalid for one that is not usable)."""
    opened = open_pay_link(ledger, clock, token)
    today = local_date(clock.now(), opened.customer.timezone)
    return invoice_document(opened.invoice, opened.customer, ledger.get_invoice_payments(opened.invoice.id), today)


def receipt_document_for_link(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, token: str, payment_id: str
) -> ReceiptDocument:
    """The receipt of one payment of the pay link's invoice: one that succeeded (NotFound otherwise, also for a
    payment of another invoice: a link opens its own invoice's documents only)."""
    opened = open_pay_link(ledger, clock, token)
    payment = _received(ledger.get_invoice_payments(opened.invoice.id), payment_id)
    words = method_words(gateway, payment, served_language(opened.customer.locale))
    return receipt_document(opened.invoice, opened.customer, payment, words)


def account_invoice_document(ledger: Ledger, clock: Clock, session: AccountSession, invoice_id: str) -> InvoiceDocument:
    """One of the signed-in customer's invoices (NotFound for any other: another's looks unknown)."""
    invoice = owned_invoice(ledger, session, invoice_id)
    customer = _customer_of(ledger, invoice.customer_id)
    today = local_date(clock.now(), customer.timezone)
    return invoice_document(invoice, customer, ledger.get_invoice_payments(invoice.id), today)


def account_receipt_document(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, session: AccountSession, invoice_id: str, payment_id: str
) -> ReceiptDocument:
    invoice = owned_invoice(ledger, session, invoice_id)
    customer = _customer_of(ledger, invoice.customer_id)
    payment = _received(ledger.get_invoice_payments(invoice.id), payment_id)
    words = method_words(gateway, payment, served_language(customer.locale))
    return receipt_document(invoice, customer, payment, words)


def account_statement_document(ledger: Ledger, clock: Clock, session: AccountSession) -> StatementDocument:
    """Every invoice and payment of the customer records the session opened (one address may hold several),
    billed to the first; read by each customer's own lists, never a scan."""
    customers = owned_customers(ledger, session)
    if not customers:
        raise NotFound("no customer")
    invoices = [i for c in customers for i in every(ledger.list_customer_invoices, c.id) if isinstance(i, Invoice)]
    payments = [p for c in customers for p in every(ledger.list_customer_payments, c.id) if isinstance(p, Payment)]
    first = customers[0]
    return statement_document(first, invoices, payments, local_date(clock.now(), first.timezone))


def _customer_of(ledger: Ledger, customer_id: str) -> Customer:
    customer = ledger.get_customer(customer_id)
    if customer is None:
        raise NotFound("no such invoice")
    return customer


def _received(payments: list[Payment], payment_id: str) -> Payment:
    payment = next((p for p in payments if p.key == payment_id), None)
    if payment is None or payment.status is not PaymentStatus.SUCCEEDED or payment.reversed:
        raise NotFound("no such payment on this invoice")
    return payment


def method_words(gateway: PaymentGateway, payment: Payment, lang: str) -> str:
    """How it was paid, worded as the receipt email words it: Stripe knows a card's brand and last four (read
    now, never kept), the operator's record says how money came in another way."""
    if payment.offline is not None:
        method: PaymentMethodUsed | None = PaymentMethodUsed(
            kind=payment.offline.method.value, reference=payment.offline.reference or None
        )
    elif payment.payment_intent_id:
        method = gateway.payment_method_used(payment.payment_intent_id)
    else:
        method = None
    return render("emails/payment_method.txt", method=method, lang=lang).strip() if method else ""
