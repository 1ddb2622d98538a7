"""What a customer's documents (an invoice, a receipt, a statement) say: typed views, drawn as PDFs by
shared.pdf. Amounts are integers in minor units of their currency; formatting happens when they are drawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from shared.domain.invoices import Invoice, InvoiceStatus, PaymentStatus
from shared.domain.local_time import local_date
from shared.domain.records import Customer, Payment


@dataclass(frozen=True, slots=True)
class BusinessIdentity:
    """Who issues the documents, from configuration (payportal:businessName and the rest)."""

    name: str
    address: tuple[str, ...] = ()  # its lines, top to bottom
    tax_id: str = ""
    support_contact: str = ""
    logo: bytes = b""  # a PNG or JPEG; empty: no logo


@dataclass(frozen=True, slots=True)
class BillTo:
    name: str
    email: str
    locale: str  # the customer's: the document's language and formats
    timezone: str


class LineKind(StrEnum):
    """What a line of an invoice document is: it names the line in the customer's language."""

    INVOICED = "invoiced"
    LATE_FEE = "late_fee"
    CREDIT_NOTE = "credit_note"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    kind: LineKind
    amount: int  # a credit note's is negative: it lowered what is owed
    text: str = ""  # the invoice's description, a credit note's reason


class DocumentStatus(StrEnum):
    OPEN = "open"
    OVERDUE = "overdue"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


@dataclass(frozen=True, slots=True)
class PaymentLine:
    """A payment on an invoice, or a refund of one (a negative amount)."""

    reference: str  # the payment id (pi_..., or payportal's for money received another way)
    at: datetime
    amount: int
    currency: str
    invoice_number: str
    refund: bool = False


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    number: str
    currency: str
    issued_on: date
    due_on: date
    status: DocumentStatus
    lines: tuple[InvoiceLine, ...]
    amount_due: int  # the lines' total
    amount_paid: int
    amount_refunded: int
    amount_remaining: int
    payments: tuple[PaymentLine, ...]
    bill_to: BillTo


@dataclass(frozen=True, slots=True)
class ReceiptDocument:
    payment_reference: str
    paid_at: datetime
    amount: int
    currency: str
    invoice_number: str
    invoice_description: str
    method: str  # how it was paid, worded as the receipt email words it ("Visa ending in 4242"); "" unknown
    amount_refunded: int
    amount_remaining: int  # what the invoice still owes now
    bill_to: BillTo


@dataclass(frozen=True, slots=True)
class StatementRow:
    number: str
    currency: str
    issued_on: date
    due_on: date
    status: DocumentStatus
    amount_due: int
    amount_remaining: int


@dataclass(frozen=True, slots=True)
class CurrencyTotal:
    currency: str
    amount_due: int
    amount_remaining: int
    amount_overdue: int


@dataclass(frozen=True, slots=True)
class StatementDocument:
    on: date  # the customer's local date the statement was made
    rows: tuple[StatementRow, ...]  # newest first
    totals: tuple[CurrencyTotal, ...]  # one per currency, by code
    payments: tuple[PaymentLine, ...]  # and refunds, newest first
    bill_to: BillTo


def document_status(invoice: Invoice, today: date) -> DocumentStatus:
    """The status a document shows on the customer's local `today`: overdue once its due date has passed."""
    if invoice.status is InvoiceStatus.VOID:
        return DocumentStatus.VOID
    if invoice.status is InvoiceStatus.UNCOLLECTIBLE and invoice.amount_remaining > 0:
        return DocumentStatus.UNCOLLECTIBLE
    if invoice.amount_remaining == 0:
        return DocumentStatus.PAID
    return DocumentStatus.OVERDUE if invoice.due_date < today else DocumentStatus.OPEN


def bill_to(customer: Customer) -> BillTo:
    return BillTo(name=customer.name, email=customer.email, locale=customer.locale, timezone=customer.timezone)


def payment_lines(payments: Iterable[Payment]) -> tuple[PaymentLine, ...]:
    """Money in (payments that succeeded, not reversed) and back out (refunds that count), newest first."""
    lines: list[PaymentLine] = []
    for payment in payments:
        if payment.status is not PaymentStatus.SUCCEEDED or payment.reversed:
            continue
        currency, number = payment.currency, payment.invoice_number
        lines.append(PaymentLine(payment.key, payment.created_at, payment.amount, currency, number))
        lines.extend(
            PaymentLine(refund.id, refund.booked_at, -refund.amount, currency, number, refund=True)
            for refund in payment.refunds
            if refund.counts
        )
    return tuple(sorted(lines, key=lambda line: line.at, reverse=True))


def invoice_document(invoice: Invoice, customer: Customer, payments: Iterable[Payment], today: date) -> InvoiceDocument:
    lines = [InvoiceLine(LineKind.INVOICED, invoice.amount_original, invoice.description)]
    lines.extend(InvoiceLine(LineKind.LATE_FEE, fee.amount) for fee in invoice.late_fees)
    lines.extend(InvoiceLine(LineKind.CREDIT_NOTE, -note.amount, note.reason) for note in invoice.credit_notes)
    return InvoiceDocument(
        number=invoice.number,
        currency=invoice.currency,
        issued_on=local_date(invoice.created_at, customer.timezone),
        due_on=invoice.due_date,
        status=document_status(invoice, today),
        lines=tuple(lines),
        amount_due=invoice.amount_due,
        amount_paid=invoice.amount_paid,
        amount_refunded=invoice.amount_refunded,
        amount_remaining=invoice.amount_remaining,
        payments=payment_lines(payments),
        bill_to=bill_to(customer),
    )


def receipt_document(invoice: Invoice, customer: Customer, payment: Payment, method: str) -> ReceiptDocument:
    return ReceiptDocument(
        payment_reference=payment.key,
        paid_at=payment.created_at,
        amount=payment.amount,
        currency=payment.currency,
        invoice_number=invoice.number,
        invoice_description=invoice.description,
        method=method,
        amount_refunded=payment.amount_refunded,
        amount_remaining=invoice.amount_remaining,
        bill_to=bill_to(customer),
    )


def statement_document(
    customer: Customer, invoices: Iterable[Invoice], payments: Iterable[Payment], today: date
) -> StatementDocument:
    """Every invoice (void ones too, so the customer sees what became of them), with totals per currency of
    what was invoiced, what is still owed and what of that is overdue."""
    rows = sorted(
        (
            StatementRow(
                number=invoice.number,
                currency=invoice.currency,
                issued_on=local_date(invoice.created_at, customer.timezone),
                due_on=invoice.due_date,
                status=document_status(invoice, today),
                amount_due=invoice.amount_due,
                amount_remaining=0 if invoice.status is InvoiceStatus.VOID else invoice.amount_remaining,
            )
            for invoice in invoices
        ),
        key=lambda row: (row.issued_on, row.number),
        reverse=True,
    )
    totals: dict[str, CurrencyTotal] = {}
    for row in rows:
        if row.status is DocumentStatus.VOID:
            continue
        total = totals.get(row.currency, CurrencyTotal(row.currency, 0, 0, 0))
        overdue = row.amount_remaining if row.status is DocumentStatus.OVERDUE else 0
        totals[row.currency] = CurrencyTotal(
            row.currency,
            total.amount_due + row.amount_due,
            total.amount_remaining + row.amount_remaining,
            total.amount_overdue + overdue,
        )
    return StatementDocument(
        on=today,
        rows=tuple(rows),
        totals=tuple(totals[code] for code in sorted(totals)),
        payments=payment_lines(payments),
        bill_to=bill_to(customer),
    )
