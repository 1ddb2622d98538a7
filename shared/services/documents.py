"""The customer's documents as PDFs: an invoice, a receipt, a statement, each as one typed view read here and
drawn by shared.pdf. Through a pay link, a customer gets the documents of that link's invoice only.
"""

from __future__ import annotations

from shared.clock import Clock
from shared.domain.documents import (
    InvoiceDocument,
    ReceiptDocument,
    invoice_document,
    receipt_document,
)
from shared.domain.errors import NotFound
from shared.domain.invoices import PaymentStatus
from shared.domain.local_time import local_date
from shared.domain.records import Payment
from shared.rendering import render
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
    return receipt_document(opened.invoice, opened.customer, payment, _method_words(gateway, payment))


def _received(payments: list[Payment], payment_id: str) -> Payment:
    payment = next((p for p in payments if p.key == payment_id), None)
    if payment is None or payment.status is not PaymentStatus.SUCCEEDED or payment.reversed:
        raise NotFound("no such payment on this invoice")
    return payment


def _method_words(gateway: PaymentGateway, payment: Payment) -> str:
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
    return render("emails/payment_method.txt", method=method).strip() if method else ""
