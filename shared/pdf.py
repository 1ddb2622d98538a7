"""PDF documents for customers: an invoice, a receipt, a statement, drawn with fpdf2 from the typed views in
shared.domain.documents, in the customer's language and formats, with the business's identity at the top.

fpdf2 is imported on the first document drawn (about 0.7 s cold, with fontTools and Pillow), never at import
time: the pay pages and the account load it only when a customer asks for a PDF. Text is set in the PDF core
font Helvetica in Windows-1252, which every PDF reader has and which holds every letter of the languages
payportal ships (and the euro sign); a character outside it (a name in another script) prints as "?"
(docs/decisions.md).
"""

from __future__ import annotations

import gettext as gettext_module
import io
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from shared import rendering
from shared.domain.documents import (
    BillTo,
    BusinessIdentity,
    DocumentStatus,
    InvoiceDocument,
    LineKind,
    PaymentLine,
    ReceiptDocument,
    StatementDocument,
)
from shared.rendering import format_day, format_moment, format_money

if TYPE_CHECKING:
    from fpdf import FPDF

# Spaces Babel puts in amounts and dates that Windows-1252 lacks, and the one it has that reads the same.
_SPACES_OUTSIDE_CP1252 = str.maketrans({"\u202f": "\u00a0", "\u2009": "\u00a0", "\u2007": "\u00a0"})
_ENCODING = "windows-1252"
_FONT = "helvetica"
_MARGIN_MM = 18
_LINE_MM = 6


class Translations(Protocol):
    def gettext(self, message: str, /) -> str: ...


def printable(text: str) -> str:
    """`text` as the core font can print it: Babel's narrow spaces as no-break spaces, anything else outside
    Windows-1252 as "?" (never an error halfway through a document)."""
    return text.translate(_SPACES_OUTSIDE_CP1252).encode(_ENCODING, errors="replace").decode(_ENCODING)


def status_text(status: DocumentStatus, translations: Translations) -> str:
    _ = translations.gettext
    return {
        DocumentStatus.OPEN: _("Open"),
        DocumentStatus.OVERDUE: _("Overdue"),
        DocumentStatus.PAID: _("Paid"),
        DocumentStatus.VOID: _("Void"),
        DocumentStatus.UNCOLLECTIBLE: _("Overdue"),
    }[status]


class _Page:
    """One document being drawn: the business at the top, then blocks of label and value rows and tables."""

    def __init__(self, identity: BusinessIdentity, bill_to: BillTo, title: str, translations: Translations) -> None:
        from fpdf import FPDF  # lazy: fpdf2 (with fontTools and Pillow) loads only when a document is drawn

        self.locale = bill_to.locale
        self.timezone = bill_to.timezone
        self._ = translations.gettext
        self.pdf: FPDF = FPDF(format="A4", unit="mm")
        self.pdf.core_fonts_encoding = _ENCODING
        self.pdf.set_margins(_MARGIN_MM, _MARGIN_MM, _MARGIN_MM)
        self.pdf.set_auto_page_break(True, margin=_MARGIN_MM)
        self.pdf.set_lang(bill_to.locale.split("-")[0])
        self.pdf.set_title(printable(f"{identity.name}: {title}"))
        self.pdf.set_author(printable(identity.name))
        self.pdf.set_creator("payportal")
        self.pdf.add_page()
        self._header(identity, bill_to, title)

    def _header(self, identity: BusinessIdentity, bill_to: BillTo, title: str) -> None:
        pdf = self.pdf
        if identity.logo:
            pdf.image(io.BytesIO(identity.logo), x=pdf.w - _MARGIN_MM - 40, y=_MARGIN_MM, h=16, keep_aspect_ratio=True)
        self.text(identity.name, size=14, bold=True)
        for line in identity.address:
            self.text(line, size=9)
        if identity.tax_id:
            self.text(self._("Tax ID: %(tax_id)s") % {"tax_id": identity.tax_id}, size=9)
        pdf.ln(8)
        self.text(title, size=18, bold=True)
        pdf.ln(2)
        self.text(self._("Billed to"), size=9, bold=True)
        self.text(bill_to.name, size=10)
        self.text(bill_to.email, size=10)
        pdf.ln(4)

    def text(self, value: str, *, size: float = 10, bold: bool = False) -> None:
        self.pdf.set_font(_FONT, style="B" if bold else "", size=size)
        self.pdf.multi_cell(0, size * 0.5, printable(value), new_x="LMARGIN", new_y="NEXT")

    def row(self, cells: list[str], widths: list[float], *, bold: bool = False, right_from: int = 1) -> None:
        """A table row; the cells from `right_from` on (the amounts) are aligned right."""
        self.pdf.set_font(_FONT, style="B" if bold else "", size=10)
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            align = "R" if index >= right_from else "L"
            self.pdf.cell(width, _LINE_MM, printable(cell), align=align, border="B" if bold else "")
        self.pdf.ln(_LINE_MM)

    def pairs(self, rows: list[tuple[str, str]], *, bold_last: bool = False) -> None:
        width = self.pdf.epw
        for index, (label, value) in enumerate(rows):
            self.row([label, value], [width * 0.6, width * 0.4], bold=bold_last and index == len(rows) - 1)

    def money(self, amount: int, currency: str) -> str:
        return format_money(amount, currency, self.locale)

    def day(self, day: date) -> str:
        return format_day(day, self.locale)

    def moment(self, moment: datetime) -> str:
        return format_moment(moment, self.locale, self.timezone)

    def footer(self, identity: BusinessIdentity) -> None:
        if identity.support_contact:
            self.pdf.ln(8)
            self.text(self._("Questions? Contact %(contact)s.") % {"contact": identity.support_contact}, size=9)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _payments_table(page: _Page, payments: tuple[PaymentLine, ...], *, with_invoice: bool) -> None:
    _ = page._
    if not payments:
        return
    page.pdf.ln(6)
    page.text(_("Payments and refunds"), size=12, bold=True)
    width = page.pdf.epw
    if with_invoice:
        widths = [width * 0.3, width * 0.2, width * 0.25, width * 0.25]
        page.row([_("Date"), _("Invoice"), _("Reference"), _("Amount")], widths, bold=True, right_from=3)
    else:
        widths = [width * 0.35, width * 0.35, width * 0.3]
        page.row([_("Date"), _("Reference"), _("Amount")], widths, bold=True, right_from=2)
    for line in payments:
        what = _("Refund %(reference)s") % {"reference": line.reference} if line.refund else line.reference
        amount = page.money(line.amount, line.currency)
        cells = (
            [page.moment(line.at), line.invoice_number, what, amount]
            if with_invoice
            else [
                page.moment(line.at),
                what,
                amount,
            ]
        )
        page.row(cells, widths, right_from=len(cells) - 1)


def invoice_pdf(
    document: InvoiceDocument, identity: BusinessIdentity, translations: Translations | None = None
) -> bytes:
    translations = translations or in_language_of(document.bill_to)
    _ = translations.gettext
    page = _Page(identity, document.bill_to, _("Invoice %(number)s") % {"number": document.number}, translations)
    page.pairs(
        [
            (_("Issued"), page.day(document.issued_on)),
            (_("Due"), page.day(document.due_on)),
            (_("Status"), status_text(document.status, translations)),
        ]
    )
    page.pdf.ln(4)
    width = page.pdf.epw
    page.row([_("Description"), _("Amount")], [width * 0.7, width * 0.3], bold=True)
    names = {LineKind.INVOICED: _("Invoiced"), LineKind.LATE_FEE: _("Late fee"), LineKind.CREDIT_NOTE: _("Credit note")}
    for line in document.lines:
        label = f"{names[line.kind]}: {line.text}" if line.text else names[line.kind]
        page.row([label, page.money(line.amount, document.currency)], [width * 0.7, width * 0.3])
    page.pdf.ln(2)
    totals = [(_("Total"), page.money(document.amount_due, document.currency))]
    totals.append((_("Paid"), page.money(document.amount_paid, document.currency)))
    if document.amount_refunded:
        totals.append((_("Refunded"), page.money(document.amount_refunded, document.currency)))
    totals.append((_("Amount remaining"), page.money(document.amount_remaining, document.currency)))
    page.pairs(totals, bold_last=True)
    _payments_table(page, document.payments, with_invoice=False)
    page.footer(identity)
    return page.output()


def receipt_pdf(
    document: ReceiptDocument, identity: BusinessIdentity, translations: Translations | None = None
) -> bytes:
    translations = translations or in_language_of(document.bill_to)
    _ = translations.gettext
    page = _Page(identity, document.bill_to, _("Receipt"), translations)
    invoice = document.invoice_number
    if document.invoice_description:
        invoice = f"{invoice} ({document.invoice_description})"
    rows = [
        (_("Amount paid"), page.money(document.amount, document.currency)),
        (_("Date"), page.moment(document.paid_at)),
        (_("Invoice"), invoice),
    ]
    if document.method:
        rows.append((_("Payment method"), document.method))
    rows.append((_("Payment reference"), document.payment_reference))
    if document.amount_refunded:
        rows.append((_("Refunded"), page.money(document.amount_refunded, document.currency)))
    rows.append((_("Remaining balance"), page.money(document.amount_remaining, document.currency)))
    page.pairs(rows)
    page.footer(identity)
    return page.output()


def statement_pdf(
    document: StatementDocument, identity: BusinessIdentity, translations: Translations | None = None
) -> bytes:
    translations = translations or in_language_of(document.bill_to)
    _ = translations.gettext
    page = _Page(identity, document.bill_to, _("Statement"), translations)
    page.pairs([(_("Date"), page.day(document.on))])
    page.pdf.ln(4)
    width = page.pdf.epw
    widths = [width * 0.16, width * 0.18, width * 0.18, width * 0.14, width * 0.17, width * 0.17]
    page.row(
        [_("Invoice"), _("Issued"), _("Due"), _("Status"), _("Total"), _("Remaining")], widths, bold=True, right_from=4
    )
    for row in document.rows:
        cells = [
            row.number,
            page.day(row.issued_on),
            page.day(row.due_on),
            status_text(row.status, translations),
            page.money(row.amount_due, row.currency),
            page.money(row.amount_remaining, row.currency),
        ]
        page.row(cells, widths, right_from=4)
    if document.totals:
        page.pdf.ln(4)
        page.text(_("Totals"), size=12, bold=True)
        widths = [width * 0.25, width * 0.25, width * 0.25, width * 0.25]
        page.row([_("Currency"), _("Invoiced"), _("Remaining"), _("Overdue")], widths, bold=True)
        for total in document.totals:
            cells = [
                total.currency,
                page.money(total.amount_due, total.currency),
                page.money(total.amount_remaining, total.currency),
                page.money(total.amount_overdue, total.currency),
            ]
            page.row(cells, widths)
    _payments_table(page, document.payments, with_invoice=True)
    page.footer(identity)
    return page.output()


def download_headers(name: str) -> dict[str, str]:
    """A PDF shown in the browser and saved as `name`.pdf; the name keeps only letters, digits, dots, dashes and
    underscores (an invoice number is the operator's text)."""
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100] or "document"
    return {"Content-Type": "application/pdf", "Content-Disposition": f'inline; filename="{filename}.pdf"'}


def in_language_of(bill_to: BillTo) -> Translations:
    """The catalog of the customer's language (their locale's, or English where payportal does not speak it)."""
    return rendering.translations(bill_to.locale)


def no_translations() -> Translations:
    """English, as the source strings are."""
    return gettext_module.NullTranslations()
