"""Audit trails: every state change of an invoice, customer, recurring charge or the dunning policy wrote
an AuditEntry in its own transaction (who, what, from what to what, caused by which event, request or job);
a subject's trail is read newest first, a page at a time."""

from __future__ import annotations

from shared.domain.errors import NotFound
from shared.domain.records import AuditSubject
from shared.services.ports import Ledger, Page


def invoice_trail(ledger: Ledger, invoice_id: str, *, limit: int, cursor: str | None) -> Page:
    """The invoice's entries, with its payments', plans', disputes' and refunds' (all kept on the invoice)."""
    if ledger.get_invoice(invoice_id) is None:
        raise NotFound(f"no invoice {invoice_id}")
    return ledger.list_audit(AuditSubject.INVOICE, invoice_id, limit, cursor)


def customer_trail(ledger: Ledger, customer_id: str, *, limit: int, cursor: str | None) -> Page:
    """What happened to the customer record itself (created, corrected, held, autopay, email bounces); its
    invoices' entries are on each invoice's trail."""
    if ledger.get_customer(customer_id) is None:
        raise NotFound(f"no customer {customer_id}")
    return ledger.list_audit(AuditSubject.CUSTOMER, customer_id, limit, cursor)
