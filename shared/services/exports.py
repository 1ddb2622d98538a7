"""Accounting exports: the money that moved in a window of the operator's days, as bank-statement lines for
QuickBooks Online and Xero, or every column as CSV (docs/integrations.md describes each file column by
column, and how to import it).

A line is money in or out as the books see it, each recorded once and never moved by a later change:
- a payment, on the day it was received (its record's creation), once it has succeeded (money in);
- a refund, on the day it was booked (money out), whatever became of it since;
- a booked refund that then failed or was canceled, on the day it did (the same money back in);
- an offline payment reversed (a bounced cheque), on the day of the reversal (money out).
So the lines of a window, summed, are what it received less what it gave back, and two exports of the same
closed window hold the same lines. What it reads: the payments listed in the window's months (every state;
pending and failed ones are read and left out) and the returns list's entries in them (shared/schema.py),
plus the customers named (for the payee), 100 a BatchGetItem: never the table.

Fees: Stripe's fee on a payment's charge (its balance transaction), once reconciliation has looked it up
(Payment.fee), and on a lost dispute (from the dispute's own balance transactions, Dispute.fee), is in the
full CSV's columns of that line (`fee`, `fee_currency`, `net`), and in a bank statement a line of its own
(`fee`, money out, on the same day), as Stripe takes it from the balance: the statement's lines then sum to
what reached the balance (decision 140).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.domain.errors import DomainError
from shared.domain.invoices import PaymentStatus
from shared.domain.records import OfflineMethod, Payment, ProcessorFee, ReturnKind
from shared.domain.stripe_amounts import internal_exponent
from shared.services.ports import Ledger, PaymentListing, ReturnListing

FORMATS: Final = ("csv", "quickbooks", "xero")
MAX_DAYS: Final = 92  # a quarter: a bank reconciliation's usual period, and a bounded read
MAX_LINES: Final = 20_000  # about 2 MB of CSV, well inside API Gateway's and Lambda's answer limits
PAGE: Final = 500
EARLIEST, LATEST = 2000, 2099

CSV_COLUMNS: Final = (
    "date", "booked_at", "type", "amount", "amount_minor", "currency", "fee", "fee_currency", "net",
    "invoice_number", "invoice_id", "customer_id", "customer_name", "payment_id", "refund_id", "method", "reference",
)  # fmt: skip
QUICKBOOKS_COLUMNS: Final = ("Date", "Description", "Amount")
XERO_COLUMNS: Final = ("Date", "Amount", "Payee", "Description", "Reference", "Cheque Number")

_SIGN: Final = {
    ReturnKind.REFUND: -1,
    ReturnKind.REFUND_FAILED: 1,
    ReturnKind.REVERSAL: -1,
    ReturnKind.DISPUTE_LOST: -1,
}
_WHAT: Final = {
    "payment": "Payment",
    ReturnKind.REFUND.value: "Refund",
    ReturnKind.REFUND_FAILED.value: "Refund failed",
    ReturnKind.REVERSAL.value: "Payment reversed",
    ReturnKind.DISPUTE_LOST.value: "Chargeback (dispute lost)",
    "fee": "Stripe fee",
}
_DISPUTE_FEE: Final = "Stripe dispute fee"
FEE_PAYEE: Final = "Stripe"


class InvalidExport(DomainError):
    """An export that cannot be made as asked: its window, its format, its time zone, its size."""

    code = "invalid_export"


@dataclass(frozen=True, slots=True)
class ExportRequest:
    first_day: date  # the operator's days, both included
    last_day: date
    format: str
    timezone: str
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class MoneyLine:
    """One line of an export: `amount` in minor units, positive in, negative out."""

    at: datetime
    kind: str  # "payment", "fee" (a bank statement's) or a ReturnKind's value
    amount: int
    payment: Payment
    refund_id: str = ""
    dispute_id: str = ""
    fee: ProcessorFee | None = None  # what Stripe kept of a payment or a lost dispute; a fee line's own

    @property
    def currency(self) -> str:
        return self.fee.currency if self.kind == "fee" and self.fee else self.payment.currency

    def fee_line(self, statement_currency: str | None) -> MoneyLine | None:
        """Its fee as a line of its own (money out, right after it), for a statement in the fee's currency."""
        fee = self.fee
        if statement_currency is None or fee is None or not fee.amount or fee.currency != statement_currency:
            return None
        return MoneyLine(self.at, "fee", -fee.amount, self.payment, dispute_id=self.dispute_id, fee=fee)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" names a folder of zones
        raise InvalidExport(f"timezone {name!r} is not an IANA time zone", field="timezone") from None


def check(request: ExportRequest) -> tuple[datetime, datetime]:
    """The window [since, until) the request's days make in its zone, or InvalidExport saying why not."""
    if request.format not in FORMATS:
        raise InvalidExport(f"format is one of {', '.join(FORMATS)}", field="format")
    for name in ("first_day", "last_day"):
        if not EARLIEST <= getattr(request, name).year <= LATEST:
            raise InvalidExport(f"dates are from {EARLIEST} to {LATEST}", field="from" if name == "first_day" else "to")
    if request.last_day < request.first_day:
        raise InvalidExport("to is on or after from", field="to")
    if (request.last_day - request.first_day).days + 1 > MAX_DAYS:
        raise InvalidExport(f"an export covers at most {MAX_DAYS} days: split it", field="to")
    if request.format != "csv" and request.currency is None:
        raise InvalidExport("a bank statement is in one currency: give currency", field="currency")
    zone = _zone(request.timezone)
    since = datetime.combine(request.first_day, time(), zone)
    until = datetime.combine(request.last_day + timedelta(days=1), time(), zone)
    return since, until


def money_lines(ledger: Ledger, request: ExportRequest) -> list[MoneyLine]:
    """Every line of the window, oldest first (ties: payment, then refund id), at most MAX_LINES."""
    since, until = check(request)
    fees_in = request.currency if request.format != "csv" else None  # a statement's own lines, in its currency
    lines: list[MoneyLine] = []
    for line in (
        *_received(ledger, since, until, request.currency),
        *_given_back(ledger, since, until, request.currency),
    ):
        lines.append(line)
        if (fee := line.fee_line(fees_in)) is not None:
            lines.append(fee)
    if len(lines) > MAX_LINES:
        raise InvalidExport(f"more than {MAX_LINES:,} lines: ask for fewer days", field="to")
    return sorted(
        lines, key=lambda line: (line.at, line.payment.key, line.kind == "fee", line.refund_id, line.dispute_id)
    )


def _received(ledger: Ledger, since: datetime, until: datetime, currency: str | None) -> Iterator[MoneyLine]:
    listing = PaymentListing(since=since, until=until, currency=currency or "", asked=f"export {since} {until}")
    cursor: str | None = None
    while True:
        page = ledger.list_payments(listing, PAGE, cursor)
        for payment in page.items:
            if payment.status is PaymentStatus.SUCCEEDED:  # refunded or reversed since: received all the same
                yield MoneyLine(payment.created_at, "payment", payment.amount, payment, fee=payment.fee)
        if not (cursor := page.next_cursor):
            return


def _given_back(ledger: Ledger, since: datetime, until: datetime, currency: str | None) -> Iterator[MoneyLine]:
    listing = ReturnListing(since=since, until=until)
    cursor: str | None = None
    while True:
        page = ledger.list_returns(listing, PAGE, cursor)
        for returned in page.items:
            if currency and returned.payment.currency != currency:
                continue
            refund_id = returned.refund.id if returned.refund is not None else ""
            dispute_id = returned.dispute.id if returned.dispute is not None else ""
            amount = _SIGN[returned.kind] * returned.amount
            fee = returned.dispute.fee if returned.dispute is not None else None
            yield MoneyLine(returned.at, returned.kind.value, amount, returned.payment, refund_id, dispute_id, fee)
        if not (cursor := page.next_cursor):
            return


def decimal_amount(amount: int, currency: str) -> Decimal:
    """Minor units as the currency's decimal amount, exactly (JPY 500 -> 500, USD -3000 -> -30.00)."""
    exponent = internal_exponent(currency)
    return Decimal(amount).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def _reference(line: MoneyLine) -> str:
    """What identifies the line at the bank or at Stripe: the refund, the cheque or transfer, the PaymentIntent."""
    if line.kind == "fee" and line.fee is not None:
        return line.fee.balance_transaction
    if line.refund_id or line.dispute_id:
        return line.refund_id or line.dispute_id
    offline = line.payment.offline
    if offline is not None:
        return offline.reference or line.payment.key
    return line.payment.payment_intent_id or line.payment.key


def rows(
    ledger: Ledger, request: ExportRequest, lines: list[MoneyLine]
) -> tuple[tuple[str, ...], list[dict[str, object]]]:
    """The export's columns and rows in its format; reads each customer named once (the payee)."""
    zone = _zone(request.timezone)
    customers = ledger.get_customers([line.payment.customer_id for line in lines])  # 100 a request
    # A restricted customer's name goes to no integration (GDPR Art. 18): the line stays, by customer id only.
    named = {c: found.name for c, found in customers.items() if found.restricted_at is None}
    names = {line.payment.customer_id: "" for line in lines} | named
    out: list[dict[str, object]] = []
    for line in lines:
        p = line.payment
        local = line.at.astimezone(zone)
        amount = decimal_amount(line.amount, line.currency)
        what = _DISPUTE_FEE if line.kind == "fee" and line.dispute_id else _WHAT[line.kind]
        payee = FEE_PAYEE if line.kind == "fee" else names[p.customer_id]
        description = f"{what} {p.invoice_number}".strip() + (f" ({payee})" if payee and line.kind != "fee" else "")
        if request.format == "quickbooks":
            out.append({"Date": local.strftime("%m/%d/%Y"), "Description": description, "Amount": amount})
        elif request.format == "xero":
            cheque = p.offline.reference if p.offline is not None and p.offline.method is OfflineMethod.CHECK else ""
            out.append({"Date": local.strftime("%d/%m/%Y"), "Amount": amount, "Payee": payee,
                        "Description": f"{what} {p.invoice_number}".strip(), "Reference": _reference(line),
                        "Cheque Number": cheque})  # fmt: skip
        else:
            out.append({
                "date": local.date(), "booked_at": local, "type": line.kind, "amount": amount,
                "amount_minor": line.amount, "currency": p.currency, **_fee_columns(line),
                "invoice_number": p.invoice_number, "invoice_id": p.invoice_id, "customer_id": p.customer_id,
                "customer_name": payee, "payment_id": p.key, "refund_id": line.refund_id, "method": p.method,
                "reference": _reference(line),
            })  # fmt: skip
    columns = {"csv": CSV_COLUMNS, "quickbooks": QUICKBOOKS_COLUMNS, "xero": XERO_COLUMNS}[request.format]
    return columns, out


def _fee_columns(line: MoneyLine) -> dict[str, object]:
    """The full CSV's fee, its currency and what the balance got or gave (in the line's currency, when the fee
    is in it too), on a payment's or a lost dispute's line; empty on the others and while the fee is not known."""
    fee = line.fee
    if line.kind == "fee" or fee is None:
        return {"fee": None, "fee_currency": None, "net": None}
    currency = line.payment.currency
    net = decimal_amount(line.amount - fee.amount, currency) if fee.currency == currency else None
    return {"fee": decimal_amount(fee.amount, fee.currency), "fee_currency": fee.currency, "net": net}
