"""Customer documents: what an invoice, a receipt and a statement say, and how they are drawn as PDFs."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from shared import pdf
from shared.domain.documents import (
    BusinessIdentity,
    DocumentStatus,
    LineKind,
    invoice_document,
    receipt_document,
    statement_document,
)
from shared.domain.invoices import CreditNote, Invoice, InvoiceStatus, LateFeeLine, PaymentStatus
from shared.domain.records import Customer, Payment, Refund, RefundStatus
from tests.pdf_text import pdf_text

NOW = datetime(2026, 12, 3, 9, tzinfo=UTC)
TODAY = date(2026, 12, 3)
CUSTOMER = Customer(
    id="cus_1",
    email="lena@example.com",
    name="Lena Müller",
    external_id=None,
    timezone="Europe/Berlin",
    locale="de-DE",
    created_at=NOW,
)
IDENTITY = BusinessIdentity(
    name="Acme GmbH", address=("1 Example Street", "10115 Berlin"), tax_id="DE123", support_contact="help@acme.test"
)


def invoice(**changes: object) -> Invoice:
    base = Invoice(
        id="inv_1",
        customer_id="cus_1",
        number="INV-1001",
        currency="EUR",
        amount_due=123_456,
        amount_paid=0,
        status=InvoiceStatus.OPEN,
        due_date=date(2026, 12, 15),
        description="Beratung, November",
        allow_partial=True,
        min_partial_amount=None,
        version=1,
        created_at=datetime(2026, 11, 15, 23, 30, tzinfo=UTC),  # 16 November in Berlin
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def payment(key: str = "pi_1", amount: int = 50_000, **changes: object) -> Payment:
    base = Payment(
        key=key,
        invoice_id="inv_1",
        customer_id="cus_1",
        amount=amount,
        currency="EUR",
        status=PaymentStatus.SUCCEEDED,
        checkout_session_id="cs_1",
        payment_intent_id=key,
        created_at=NOW,
        updated_at=NOW,
        invoice_number="INV-1001",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_an_invoice_document_has_its_lines_totals_and_the_customers_local_issue_date() -> None:
    # Given an invoice with a late fee and a credit note, partly paid
    billed = invoice(
        amount_due=123_456 + 1_000 - 2_000,
        amount_paid=50_000,
        status=InvoiceStatus.PARTIALLY_PAID,
        late_fees=(LateFeeLine("overdue_7", 1_000),),
        credit_notes=(CreditNote("cn_1", 2_000, "Rabatt", NOW),),
    )

    document = invoice_document(billed, CUSTOMER, [payment()], TODAY)

    assert [(line.kind, line.amount) for line in document.lines] == [
        (LineKind.INVOICED, 123_456),
        (LineKind.LATE_FEE, 1_000),
        (LineKind.CREDIT_NOTE, -2_000),
    ]
    assert sum(line.amount for line in document.lines) == document.amount_due
    assert document.amount_remaining == document.amount_due - 50_000
    assert document.issued_on == date(2026, 11, 16)
    assert document.status is DocumentStatus.OPEN


def test_an_invoice_past_its_due_date_is_overdue_and_a_settled_one_paid() -> None:
    assert invoice_document(invoice(), CUSTOMER, [], date(2026, 12, 16)).status is DocumentStatus.OVERDUE
    paid = invoice(amount_paid=123_456, status=InvoiceStatus.PAID)
    assert invoice_document(paid, CUSTOMER, [], date(2026, 12, 16)).status is DocumentStatus.PAID
    void = invoice(status=InvoiceStatus.VOID)
    assert invoice_document(void, CUSTOMER, [], TODAY).status is DocumentStatus.VOID


def test_payments_lines_hold_money_received_and_refunds_not_failed_ones() -> None:
    refunded = payment(
        refunds=(
            Refund("re_1", 10_000, RefundStatus.SUCCEEDED, False, "", NOW),
            Refund("re_2", 5_000, RefundStatus.FAILED, False, "", NOW),
        )
    )
    failed = payment("pi_2", status=PaymentStatus.FAILED)

    lines = invoice_document(invoice(), CUSTOMER, [refunded, failed], TODAY).payments

    assert sorted((line.reference, line.amount) for line in lines) == [("pi_1", 50_000), ("re_1", -10_000)]


def test_the_invoice_pdf_is_in_the_customers_formats_with_the_business_at_the_top() -> None:
    document = invoice_document(invoice(), CUSTOMER, [payment()], TODAY)

    drawn = pdf.invoice_pdf(document, IDENTITY, pdf.no_translations())
    text = pdf_text(drawn)

    assert text.index("Acme GmbH") < text.index("Invoice INV-1001")
    assert "10115 Berlin" in text and "Tax ID: DE123" in text
    assert "Lena Müller" in text and "lena@example.com" in text
    assert "1.234,56\xa0€" in text  # German amounts, the narrow space Babel may use printed as a no-break one
    assert "15. Dezember 2026" in text
    assert "Invoiced: Beratung, November" in text
    assert "Questions? Contact help@acme.test." in text
    assert b"/Lang (de)" in drawn


def test_a_logo_is_drawn_when_the_business_has_one() -> None:
    logo = io.BytesIO()
    Image.new("RGB", (60, 20), "navy").save(logo, format="PNG")
    document = invoice_document(invoice(), CUSTOMER, [], TODAY)

    with_logo = pdf.invoice_pdf(document, replace(IDENTITY, logo=logo.getvalue()), pdf.no_translations())
    without = pdf.invoice_pdf(document, IDENTITY, pdf.no_translations())

    assert b"/Subtype /Image" in with_logo and b"/Subtype /Image" not in without


def test_the_receipt_pdf_names_the_payment_the_invoice_and_what_is_left() -> None:
    paid = invoice(amount_paid=50_000, status=InvoiceStatus.PARTIALLY_PAID)
    document = receipt_document(paid, CUSTOMER, payment(), "Visa ending in 4242")

    text = pdf_text(pdf.receipt_pdf(document, IDENTITY, pdf.no_translations()))

    assert "Receipt" in text and "INV-1001 (Beratung, November)" in text
    assert "500,00\xa0€" in text and "Visa ending in 4242" in text and "pi_1" in text
    assert "734,56\xa0€" in text  # remaining


def test_a_statement_totals_each_currency_and_counts_only_past_due_as_overdue() -> None:
    invoices = [
        invoice(),  # EUR 1,234.56 open, due 15 December
        invoice(id="inv_2", number="INV-1002", due_date=date(2026, 11, 1), amount_due=10_000),  # overdue
        invoice(
            id="inv_3",
            number="INV-1003",
            currency="USD",
            amount_due=5_000,
            amount_paid=5_000,
            status=InvoiceStatus.PAID,
        ),
        invoice(id="inv_4", number="INV-1004", status=InvoiceStatus.VOID, amount_due=99_999),
    ]

    document = statement_document(CUSTOMER, invoices, [payment()], TODAY)

    totals = {total.currency: total for total in document.totals}
    assert (totals["EUR"].amount_due, totals["EUR"].amount_remaining, totals["EUR"].amount_overdue) == (
        133_456,
        133_456,
        10_000,
    )
    assert (totals["USD"].amount_remaining, totals["USD"].amount_overdue) == (0, 0)
    assert [row.number for row in document.rows if row.status is DocumentStatus.VOID] == ["INV-1004"]
    text = pdf_text(pdf.statement_pdf(document, IDENTITY, pdf.no_translations()))
    assert "Statement" in text and "INV-1004" in text and "Void" in text and "100,00\xa0€" in text


def test_a_long_statement_runs_over_several_pages() -> None:
    invoices = [invoice(id=f"inv_{n}", number=f"INV-{n:04}") for n in range(120)]

    drawn = pdf.statement_pdf(statement_document(CUSTOMER, invoices, [], TODAY), IDENTITY, pdf.no_translations())

    assert drawn.count(b"/Type /Page\n") >= 3
    assert "INV-0119" in pdf_text(drawn) and "INV-0000" in pdf_text(drawn)


@given(st.text(max_size=40))
def test_any_text_prints_without_error(name: str) -> None:
    # Given a customer whose name holds any characters at all (other scripts, controls, surrogates excluded)
    customer = replace(CUSTOMER, name=name)

    drawn = pdf.invoice_pdf(invoice_document(invoice(), customer, [], TODAY), IDENTITY, pdf.no_translations())

    assert drawn.startswith(b"%PDF-")
    assert pdf.printable(name).encode("windows-1252") is not None


def test_printable_keeps_the_letters_of_the_shipped_languages_and_replaces_others() -> None:
    assert pdf.printable("Çà ñ ß ü ã €") == "Çà ñ ß ü ã €"
    assert pdf.printable("1\u202f234,50") == "1\xa0234,50"
    assert pdf.printable("Łódź") == "?ód?"
