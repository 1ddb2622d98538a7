"""A data subject's records, as payportal holds them, and the one JSON document of them (Art. 15 access, Art. 20
portability). Pure: shared/services/subject_access.py reads the records, this shapes them.

The document is every record of the customer, each field as stored: amounts in minor units with their currency,
instants as ISO 8601 UTC, enums as their values. Nothing is left out but what is not about the customer (the
table's keys and index copies) and what payportal never keeps (card numbers: Stripe holds them; pay-link and
account tokens: only their hashes exist, and a hash is no data about the person).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from shared.domain.invoices import Invoice
from shared.domain.plain_values import plain
from shared.domain.records import (
    AuditEntry,
    CheckoutAttempt,
    Customer,
    Dispute,
    Payment,
    Plan,
    RecurringCharge,
    ReminderOpening,
)

EXPORT_FORMAT_VERSION: Final = 1


@dataclass(frozen=True, slots=True)
class EmailSent:
    """That an email went to the customer: which template, its subject, when. Written by the outbox when the
    provider accepted it; no address (the customer record has it), no link, no body."""

    customer_id: str
    message_id: str
    template: str
    subject: str
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class InvoiceRecords:
    """An invoice and everything kept in its partition: checkout attempts, payments (with their refunds),
    installment plans, disputes, reminder openings and its audit trail. Holds, promises, late fees and credit
    notes are fields of the invoice itself."""

    invoice: Invoice
    checkouts: tuple[CheckoutAttempt, ...] = ()
    payments: tuple[Payment, ...] = ()
    plans: tuple[Plan, ...] = ()
    disputes: tuple[Dispute, ...] = ()
    reminder_openings: tuple[ReminderOpening, ...] = ()
    audit: tuple[AuditEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class RecurringRecords:
    recurring: RecurringCharge
    audit: tuple[AuditEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class CustomerRecords:
    """The customer record with what its own partition keeps: its audit trail and the emails sent to it."""

    customer: Customer
    audit: tuple[AuditEntry, ...] = ()
    emails: tuple[EmailSent, ...] = ()


@dataclass(frozen=True, slots=True)
class SubjectAccessExport:
    customer: CustomerRecords
    invoices: tuple[InvoiceRecords, ...]
    recurring_charges: tuple[RecurringRecords, ...]
    generated_at: datetime


def staff_as_roles(value: Any) -> Any:
    """A staff member or an operator's IAM identity as what they are, not who: for the customer's own copy,
    which must not hand out the business's staff's names and addresses (Art. 15(4))."""
    if isinstance(value, str):
        if value.startswith("staff:"):
            return "staff"
        if value.startswith(("arn:", "operator:")):
            return "operator"
        return value
    if isinstance(value, dict):
        return {k: staff_as_roles(v) for k, v in value.items()}
    if isinstance(value, list):
        return [staff_as_roles(v) for v in value]
    return value


def _audit(entries: tuple[AuditEntry, ...], readers: Callable[[Any], Any]) -> list[dict[str, Any]]:
    return [
        {"id": e.id, "at": plain(e.at), "action": e.action, "actor": readers(e.actor), "cause": e.cause or None,
         "details": readers(plain(e.details))}
        for e in entries
    ]  # fmt: skip


def _without(record: Any, *names: str) -> dict[str, Any]:
    shaped: dict[str, Any] = plain(record)
    for name in names:
        shaped.pop(name, None)
    return shaped


def export_document(export: SubjectAccessExport, *, for_the_subject: bool = False) -> dict[str, Any]:
    """The export as one JSON object (the `CustomerExport` schema of the operator API). `for_the_subject`: the
    customer's own download, where staff and operator identities in the trails read as their role."""
    readers: Callable[[Any], Any] = staff_as_roles if for_the_subject else (lambda value: value)
    customer = export.customer
    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "generated_at": plain(export.generated_at),
        "customer": _without(customer.customer, "version"),
        "emails_sent": [_without(e, "customer_id") for e in customer.emails],
        "audit": _audit(customer.audit, readers),
        "invoices": [
            {
                **_without(records.invoice, "version", "next_action_at", "counted"),
                "checkout_attempts": [plain(c) for c in records.checkouts],
                "payments": [plain(p) for p in records.payments],
                "plans": [_without(p, "version", "next_action_at") for p in records.plans],
                "disputes": [plain(d) for d in records.disputes],
                "reminders_opened": [_without(o, "invoice_id") for o in records.reminder_openings],
                "audit": _audit(records.audit, readers),
            }
            for records in export.invoices
        ],
        "recurring_charges": [
            {**_without(records.recurring, "version", "next_action_at"), "audit": _audit(records.audit, readers)}
            for records in export.recurring_charges
        ],
    }
