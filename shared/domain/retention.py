"""How long payportal keeps what it holds (docs/security.md section 2): pure rules, no storage.

Financial records (an invoice and everything in its partition: payments, refunds, disputes, plans, checkout
attempts, credit notes, audit entries) are kept for `financial_days` counted from the moment the invoice is
final: paid in full or voided, with no dispute open. An invoice still being collected (open, partially paid,
uncollectible: money is still welcome) never expires. A customer is kept until the last of their financial
records expires, and is then pseudonymised by the retention job (functions/retention).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from shared.domain.invoices import Invoice, InvoiceStatus

# Ten years and the leap days in them: the longest bookkeeping duty among the operator's likely countries
# (Germany's HGB s.257 and AO s.147, 10 years; France 10, Spain 6, Portugal 10, the UK 6, US IRS up to 7).
DEFAULT_FINANCIAL_DAYS: Final = 3653
MIN_FINANCIAL_DAYS: Final = 365  # shorter would delete what a tax audit of last year asks for
MAX_FINANCIAL_DAYS: Final = 36500
FINAL_STATUSES: Final = frozenset({InvoiceStatus.PAID, InvoiceStatus.VOID})


def is_final(invoice: Invoice) -> bool:
    """Nothing more will be collected or contested on it: paid in full or voided, and no dispute open."""
    return invoice.status in FINAL_STATUSES and not invoice.open_disputes


def financial_expiry(final_at: datetime, financial_days: int) -> datetime:
    """When a financial record made final at `final_at` may go (its TTL)."""
    return final_at + timedelta(days=financial_days)


def retain_until(current: datetime | None, new: datetime | None) -> datetime | None:
    """A customer's retain-until after one more record: the later of the two (None: nothing kept yet)."""
    if current is None or new is None:
        return new if current is None else current
    return max(current, new)


class Verdict(StrEnum):
    """What the retention job does with a customer whose retain-until has passed."""

    ERASE = "erase"  # every record of theirs has expired: pseudonymise them
    POSTPONE = "postpone"  # a record is kept longer than the retain-until said: look again then
    KEEP = "keep"  # a record still open (an invoice being collected, a recurring charge running): not now


@dataclass(frozen=True, slots=True)
class RetentionMarker:
    """A customer's retain-until as the job read it (moved or dropped only if it is still that)."""

    customer_id: str
    retain_until: datetime


@dataclass(frozen=True, slots=True)
class RetentionSweep:
    """An invoice partition whose items written before its invoice became final (or was reopened) take its
    TTL (or lose theirs): `retained_until` None clears."""

    invoice_id: str
    retained_until: datetime | None


@dataclass(frozen=True, slots=True)
class CustomerRecords:
    """What the job reads of a customer's records (their by_owner partition) before deciding."""

    open_records: int  # invoices not final (no TTL) and recurring charges not ended
    kept_until: datetime | None  # the latest TTL of their invoices


def verdict(records: CustomerRecords, now: datetime) -> tuple[Verdict, datetime | None]:
    """ERASE, POSTPONE to the later instant, or KEEP (until a record is made final again)."""
    if records.open_records:
        return Verdict.KEEP, None
    if records.kept_until is not None and records.kept_until > now:
        return Verdict.POSTPONE, records.kept_until
    return Verdict.ERASE, None


def financial_days_from(raw: str | None) -> int:
    """The configured financial retention in days (PAYPORTAL_FINANCIAL_RETENTION_DAYS); ValueError if not a
    whole number of days within bounds."""
    text = (raw or "").strip()
    if not text:
        return DEFAULT_FINANCIAL_DAYS
    if not text.isdigit() or not MIN_FINANCIAL_DAYS <= int(text) <= MAX_FINANCIAL_DAYS:
        raise ValueError(f"financial retention must be whole days, {MIN_FINANCIAL_DAYS} to {MAX_FINANCIAL_DAYS}")
    return int(text)
