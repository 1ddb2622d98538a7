"""Subject access (Art. 15) and portability (Art. 20): everything payportal holds about one customer, as one JSON
document or a zip of it with the customer's PDFs; and the read audit, an entry under the customer for every read
of their data by staff or an operator's system.

Read by key, by the customer's and each invoice's partition and by the by_owner index: never a scan. The export
is as large as the customer's history; each partition is read to its end (the adapter pages internally).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime
from enum import StrEnum
from typing import Final

from shared.clock import Clock
from shared.domain.documents import BusinessIdentity, invoice_document, receipt_document, statement_document
from shared.domain.errors import NotFound
from shared.domain.invoices import PaymentStatus
from shared.domain.languages import served_language
from shared.domain.local_time import local_date
from shared.domain.records import AuditEntry, AuditSubject, Payment
from shared.domain.subject_access import SubjectAccessExport, export_document
from shared.pdf import invoice_pdf, receipt_pdf, statement_pdf
from shared.services.documents import method_words
from shared.services.gateway import PaymentGateway
from shared.services.ports import Change, Ledger
from shared.services.privacy_ports import SubjectRecords


class Read(StrEnum):
    """What a read of a customer's data was: the action of its audit entry (under the customer)."""

    VIEWED = "customer.viewed"  # the console's customer page or its timeline
    INVOICE_VIEWED = "customer.invoice_viewed"  # the console's invoice page or its timeline
    EXPORTED = "customer.exported"  # the export, by the operator API or the customer's own download


MAX_ID_LENGTH: Final = 128

# Every read action: the incident tools count these apart from changes.
READ_ACTIONS: Final = frozenset(read.value for read in Read)


def record_read(ledger: Ledger, clock: Clock, customer_id: str, read: Read, *, actor: str, **details: str) -> None:
    """One audit entry under the customer: who read, what (ids only), when. One put per page or export."""
    entry = AuditEntry(AuditSubject.CUSTOMER, customer_id, read.value, actor, clock.now(), dict(details))
    ledger.commit(Change(audit=[entry]))


def collect(records: SubjectRecords, clock: Clock, customer_id: str) -> SubjectAccessExport:
    """Every record of the customer (NotFound for an unknown one). An invoice or recurring charge by_owner names
    that does not name the customer back is left out: never another customer's record in this export."""
    if not customer_id or len(customer_id) > MAX_ID_LENGTH:
        raise NotFound("no such customer")  # no id payportal issues is that long: never a key DynamoDB refuses
    customer = records.customer_records(customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    invoice_ids, recurring_ids = records.owned(customer_id)
    invoices = tuple(
        found
        for invoice_id in invoice_ids
        if (found := records.invoice_records(invoice_id)) is not None and found.invoice.customer_id == customer_id
    )
    charges = (records.recurring_records(recurring_id) for recurring_id in recurring_ids)
    recurring = tuple(c for c in charges if c is not None and c.recurring.customer_id == customer_id)
    return SubjectAccessExport(customer, invoices, recurring, generated_at=clock.now())


def export(
    records: SubjectRecords, ledger: Ledger, clock: Clock, customer_id: str, *, actor: str, via: str
) -> SubjectAccessExport:
    """The customer's export, its read audited under them (`via`: api, account)."""
    collected = collect(records, clock, customer_id)
    record_read(ledger, clock, customer_id, Read.EXPORTED, actor=actor, via=via)
    return collected


def export_json(export: SubjectAccessExport, *, for_the_subject: bool = False) -> str:
    document = export_document(export, for_the_subject=for_the_subject)
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False)


_UNSAFE_NAME: Final = re.compile(r"[^A-Za-z0-9._-]+")


def _file_name(text: str) -> str:
    """An operator-given number as a file name: nothing that climbs out of a folder or confuses an unzipper."""
    return _UNSAFE_NAME.sub("_", text).strip("._")[:80] or "document"


def export_zip(
    export: SubjectAccessExport,
    gateway: PaymentGateway,
    identity: BusinessIdentity,
    *,
    today_at: datetime | None = None,
    for_the_subject: bool = False,
) -> bytes:
    """`export.json` and the PDFs the account serves: each invoice, each receipt of a payment received, the
    statement. Built with the stdlib's zipfile in memory (decisions.md 125). `for_the_subject`: the customer's
    own download (staff and operators named by their role in the trails)."""
    customer = export.customer.customer
    today = local_date(today_at or export.generated_at, customer.timezone)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.json", export_json(export, for_the_subject=for_the_subject))
        every_payment: list[Payment] = []
        for records in export.invoices:
            invoice, payments = records.invoice, records.payments
            every_payment.extend(payments)
            name = _file_name(invoice.number or invoice.id)
            document = invoice_document(invoice, customer, payments, today)
            archive.writestr(f"invoices/{name}.pdf", invoice_pdf(document, identity))
            for payment in payments:
                if payment.status is not PaymentStatus.SUCCEEDED or payment.reversed:
                    continue
                words = method_words(gateway, payment, served_language(customer.locale))
                receipt = receipt_document(invoice, customer, payment, words)
                archive.writestr(f"receipts/{name}-{_file_name(payment.key)}.pdf", receipt_pdf(receipt, identity))
        statement = statement_document(customer, [r.invoice for r in export.invoices], every_payment, today)
        archive.writestr("statement.pdf", statement_pdf(statement, identity))
    return buffer.getvalue()
