"""Recurring charges: a fixed amount billed every week, month or year as an invoice of its own.

Each period's invoice is created a week before its date (the period date is its due date) by the charge
run, in one transaction with the recurring charge's advance, guarded by its version: a double firing or a
concurrent run creates each period's invoice once. A customer on autopay is then charged on the due date
(after the usual notice); anyone else gets the invoice by email with its pay link and normal dunning.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.clock import Clock
from shared.domain.errors import (
    AmountNotChargeable,
    ConcurrentUpdate,
    CurrencyNotChargeable,
    CustomerErased,
    InvalidStateTransition,
    NotFound,
)
from shared.domain.local_time import local_date
from shared.domain.messages import EventName, outgoing_event
from shared.domain.plans import Frequency, installment_date
from shared.domain.records import AuditEntry, AuditSubject, RecurringCharge, RecurringStatus, new_id
from shared.domain.stripe_amounts import check_chargeable
from shared.services.audit import what_changed
from shared.services.customers import get_customer
from shared.services.invoices import InvoiceDraft, invoice_creation
from shared.services.once import create_once, scoped_key
from shared.services.ports import Change, ChangeRejected, Ledger, RunOnce

# A period's invoice is created this long before its date, at 09:00 in the customer's zone.
INVOICE_LEAD = timedelta(days=7)
INVOICE_LOCAL_TIME = time(9)


@dataclass(frozen=True, slots=True)
class RecurringDraft:
    """A new recurring charge as the operator describes it, already validated."""

    customer_id: str
    amount: int
    currency: str
    interval: str  # weekly | monthly | yearly
    start_date: date  # the first period's date, which is its invoice's due date
    end_date: date | None = None  # no period after this date
    count: int | None = None  # or: this many periods in all
    description: str = ""


@dataclass(frozen=True, slots=True)
class RecurringCorrection:
    """Pause (True), resume (False) and/or a new amount from the next period; None changes nothing."""

    paused: bool | None = None
    amount: int | None = None

    def details(self) -> dict[str, Any]:
        return {k: v for k, v in (("paused", self.paused), ("amount", self.amount)) if v is not None}


def period_date(start: date, interval: str, index: int) -> date:
    """The date of period `index` (0 is `start`); months and years keep the start's day, clamped to the
    month's end, never drifting."""
    if interval == "weekly":
        return installment_date(start, Frequency.WEEKLY, index)
    months = index * (12 if interval == "yearly" else 1)
    return installment_date(start, Frequency.MONTHLY, months)


def _next_action(charge: RecurringCharge, timezone: str) -> datetime | None:
    """When the next period's invoice is created, or None when no period is left."""
    index = charge.periods_created
    if charge.status is not RecurringStatus.ACTIVE or (charge.count is not None and index >= charge.count):
        return None
    day = period_date(charge.start_date, charge.interval, index)
    if charge.end_date is not None and day > charge.end_date:
        return None
    local = datetime.combine(day - INVOICE_LEAD, INVOICE_LOCAL_TIME, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def create_recurring(
    ledger: Ledger, clock: Clock, request: RecurringDraft, *, actor: str, recurring_id: str | None = None
) -> RecurringCharge:
    check_chargeable(request.amount, request.currency, field="amount")  # refused now, not at each period
    customer = get_customer(ledger, request.customer_id)
    if customer.erased_at is not None:
        raise CustomerErased(f"customer {customer.id} was erased: nothing more is billed to them", field="customer_id")
    now = clock.now()
    charge = RecurringCharge(
        id=recurring_id or new_id("rec"),
        customer_id=customer.id,
        amount=request.amount,
        currency=request.currency,
        interval=request.interval,
        start_date=request.start_date,
        end_date=request.end_date,
        count=request.count,
        description=request.description,
        status=RecurringStatus.ACTIVE,
        created_at=now,
    )
    charge = replace(charge, next_action_at=_next_action(charge, customer.timezone))
    audit = AuditEntry(
        subject=AuditSubject.RECURRING_CHARGE, subject_id=charge.id, action="recurring.created", actor=actor, at=now
    )
    ledger.commit(Change(new_recurring=charge, audit=[audit]))
    return charge


def create_recurring_once(
    ledger: Ledger,
    clock: Clock,
    once: RunOnce,
    request: RecurringDraft,
    *,
    key: str | None,
    fingerprint: dict[str, Any],
    actor: str,
) -> RecurringCharge:
    """A schedule that bills money: created once per (caller, Idempotency-Key), which is required, so a
    retried create never bills a customer twice for one period."""
    recurring_id = create_once(
        once,
        scoped=scoped_key(actor, key),
        fingerprint=fingerprint,
        prefix="rec",
        result_key="recurring_id",
        create=lambda wanted: create_recurring(ledger, clock, request, actor=actor, recurring_id=wanted),
        exists=lambda wanted: ledger.get_recurring(wanted) is not None,
    )
    return get_recurring(ledger, recurring_id)


def get_recurring(ledger: Ledger, recurring_id: str) -> RecurringCharge:
    charge = ledger.get_recurring(recurring_id)
    if charge is None:
        raise NotFound(f"no recurring charge {recurring_id}", field="recurring_id")
    return charge


def update_recurring(
    ledger: Ledger, clock: Clock, recurring_id: str, changes: RecurringCorrection, *, actor: str
) -> RecurringCharge:
    """Pause, resume (periods whose date passed meanwhile are not billed) or change the amount from the
    next period on."""
    charge = get_recurring(ledger, recurring_id)
    if charge.status is RecurringStatus.ENDED:
        raise InvalidStateTransition(f"recurring charge {recurring_id} has ended")
    customer = get_customer(ledger, charge.customer_id)
    now = clock.now()
    updated = charge
    if changes.amount is not None:
        check_chargeable(changes.amount, charge.currency, field="amount")
        updated = replace(updated, amount=changes.amount)
    if changes.paused is True:
        updated = replace(updated, status=RecurringStatus.PAUSED)
    elif changes.paused is False and charge.status is RecurringStatus.PAUSED:
        today = local_date(now, customer.timezone)
        index = charge.periods_created
        while period_date(charge.start_date, charge.interval, index) < today:
            index += 1  # skipped while paused
        updated = replace(updated, status=RecurringStatus.ACTIVE, periods_created=index)
    updated = replace(updated, next_action_at=_next_action(updated, customer.timezone), version=charge.version + 1)
    details = changes.details() | {"changes": what_changed(charge, updated)}
    audit = AuditEntry(
        subject=AuditSubject.RECURRING_CHARGE,
        subject_id=charge.id,
        action="recurring.updated",
        actor=actor,
        at=now,
        details=details,
    )
    try:
        ledger.commit(Change(recurring_update=updated, audit=[audit]))
    except ChangeRejected as rejected:
        if rejected.reason == "stale_recurring":
            raise ConcurrentUpdate("the recurring charge changed meanwhile; try again") from None
        raise
    return updated


def end_recurring(ledger: Ledger, clock: Clock, recurring_id: str, *, actor: str) -> RecurringCharge:
    """No further periods; invoices already created stay as they are."""
    charge = get_recurring(ledger, recurring_id)
    if charge.status is RecurringStatus.ENDED:
        return charge
    now = clock.now()
    ended = replace(charge, status=RecurringStatus.ENDED, next_action_at=None, version=charge.version + 1)
    audit = AuditEntry(
        subject=AuditSubject.RECURRING_CHARGE, subject_id=charge.id, action="recurring.ended", actor=actor, at=now
    )
    ledger.commit(Change(recurring_update=ended, audit=[audit]))
    return ended


def bill_period(ledger: Ledger, clock: Clock, charge: RecurringCharge, *, autopay_notice_days: int) -> bool:
    """Create the invoice for the next period, once; returns whether this call created it."""
    now = clock.now()
    customer = ledger.get_customer(charge.customer_id)
    if customer is None or _next_action(charge, customer.timezone) is None:
        with contextlib.suppress(ChangeRejected):  # someone else moved it on: nothing to tidy
            ledger.commit(Change(recurring_update=replace(charge, next_action_at=None, version=charge.version + 1)))
        return False
    index = charge.periods_created
    day = period_date(charge.start_date, charge.interval, index)
    request = InvoiceDraft(
        customer_id=customer.id,
        number=f"{charge.id.removeprefix('rec_')[:12]}-{index + 1}",
        currency=charge.currency,
        amount_due=charge.amount,
        due_date=day,
        description=charge.description,
        notify=customer.autopay is None,  # autopay customers get the autopay notice instead
    )
    try:
        invoice, change = invoice_creation(
            ledger, clock, request, actor="scheduler", autopay_notice_days=autopay_notice_days
        )
    except (AmountNotChargeable, CurrencyNotChargeable) as refused:
        # Created before Stripe's rules were checked: it can never be charged, so it stops here, said why.
        audit = AuditEntry(
            subject=AuditSubject.RECURRING_CHARGE,
            subject_id=charge.id,
            action="recurring.not_chargeable",
            actor="scheduler",
            at=now,
            details={"reason": refused.message},
        )
        stopped = replace(charge, next_action_at=None, version=charge.version + 1)
        with contextlib.suppress(ChangeRejected):
            ledger.commit(Change(recurring_update=stopped, audit=[audit]))
        return False
    advanced = replace(charge, periods_created=index + 1)
    change.recurring_update = replace(
        advanced, next_action_at=_next_action(advanced, customer.timezone), version=charge.version + 1
    )
    change.audit.append(
        AuditEntry(
            subject=AuditSubject.RECURRING_CHARGE,
            subject_id=charge.id,
            action="recurring.period_invoiced",
            actor="scheduler",
            at=now,
            details={
                "invoice_id": invoice.id,
                "period": index + 1,
                "periods_created": {"from": index, "to": index + 1},
                "job": "charges",
            },
        )
    )
    change.outbox.append(
        outgoing_event(
            EventName.RECURRING_INVOICED,
            {
                "recurring_id": charge.id,
                "invoice_id": invoice.id,
                "period": index + 1,
                "due_date": day.isoformat(),
            },
            now,
        )
    )
    try:
        ledger.commit(change)
    except ChangeRejected:
        return False  # another run billed it first
    return True
