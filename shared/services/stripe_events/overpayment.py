"""Money beyond what an invoice owed: kept as the customer's credit, never dropped, and told to the operator."""

from __future__ import annotations

from datetime import datetime

from shared.domain.invoices import Invoice, invoice_event_detail
from shared.domain.messages import EventName, outgoing_event
from shared.domain.records import AuditEntry, AuditSubject
from shared.services.ports import Change


def note_overpayment(
    change: Change, before: Invoice, after: Invoice, payment_key: str, now: datetime, *, actor: str = "stripe"
) -> None:
    """When a payment left the invoice with more credit than before: an audit entry and `invoice.overpaid`
    (the operator may refund the credit, or keep it for the customer's next invoice)."""
    added = after.amount_credit - before.amount_credit
    if added <= 0:
        return
    change.audit.append(
        AuditEntry(
            subject=AuditSubject.INVOICE,
            subject_id=after.id,
            action="invoice.overpaid",
            actor=actor,
            at=now,
            details={"credit": after.amount_credit, "currency": after.currency},
        )
    )
    detail = invoice_event_detail(after) | {"credit_added": added, "payment_id": payment_key}
    change.outbox.append(outgoing_event(EventName.INVOICE_OVERPAID, detail, now))
