"""The ports of data protection's read side: a data subject's records (the export), the audit trail by time (an
incident's reach), the account's export links and incident notices sent once.

Kept apart from ports.py: only the export, the account's download and the incident tools use them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.domain.messages import OutboxMessage
from shared.domain.records import AuditEntry, StripeEventRecord
from shared.domain.subject_access import CustomerRecords, InvoiceRecords, RecurringRecords


class SubjectRecords(Protocol):
    """Reads by key, by partition and by the by_owner index: never a scan."""

    def customer_records(self, customer_id: str) -> CustomerRecords | None:
        """The customer's partition (record, audit trail, emails sent); None for no such customer."""
        ...

    def owned(self, customer_id: str) -> tuple[list[str], list[str]]:
        """(invoice ids, recurring charge ids) of the customer, oldest first, from by_owner."""
        ...

    def invoice_records(self, invoice_id: str) -> InvoiceRecords | None: ...

    def recurring_records(self, recurring_id: str) -> RecurringRecords | None: ...


class AuditTimeline(Protocol):
    def audit_between(self, since: datetime, until: datetime) -> Iterator[AuditEntry]:
        """Audit entries about customers, invoices and recurring charges written in [since, until)."""
        ...

    def stripe_events_between(self, since: datetime, until: datetime) -> Iterator[StripeEventRecord]:
        """Kept Stripe events received in [since, until)."""
        ...

    def owners(self, invoice_ids: list[str], recurring_ids: list[str], payment_intents: list[str]) -> dict[str, str]:
        """The customer id of each of these invoices, recurring charges and PaymentIntents that exists."""
        ...

    def send_notice_once(self, incident_id: str, customer_id: str, email: OutboxMessage, at: datetime) -> bool:
        """Record that the incident's notice goes to this customer and queue its email, in one transaction;
        False (nothing queued) when it was recorded before."""
        ...


@dataclass(frozen=True, slots=True)
class ExportLink:
    """A link that downloads the customer's own export: its token exists only in the email, this its hash."""

    token_hash: str
    customer_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class ExportLinks(Protocol):
    def save_export_link(self, link: ExportLink) -> None: ...

    def get_export_link(self, token_hash: str) -> ExportLink | None: ...

    def use_export_link(self, token_hash: str, at: datetime) -> bool:
        """Mark it used, once, before it expires; False when it was used already, expired or is unknown."""
        ...
