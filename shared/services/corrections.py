"""Correcting an invoice after it was issued: credit notes, a corrected description, due date or amount.

Every correction is one transaction over the invoice read (its version guard), planned again on a lost
race, with its audit entry (who, what changed, from what, to what), its domain event and, when what the
customer owes changed, a "corrected invoice" email. A Checkout Session still open for the old amount is
expired at Stripe first and closed in the same transaction (decision 35): nobody pays the old figure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar

from shared.clock import Clock
from shared.domain.errors import (
    ConcurrentUpdate,
    InvalidAmount,
    InvalidStateTransition,
    InvoiceHasPayments,
    NotFound,
    PaymentInProgress,
)
from shared.domain.invoices import CreditNote, Invoice, InvoiceStatus, PaymentStatus, invoice_event_detail
from shared.domain.local_time import local_date
from shared.domain.messages import EventName, InvoiceCorrectedEmail, outgoing_email, outgoing_event
from shared.domain.records import AuditEntry, AuditSubject, OpenCheckout
from shared.domain.stripe_amounts import check_chargeable
from shared.services.aggregates import tallied
from shared.services.dunning_policy import current_policy
from shared.services.gateway import PaymentGateway, SessionClosed
from shared.services.invoices import InvoiceDetails, get_invoice, invoice_details, next_dunning_action
from shared.services.once import entity_id, scoped_key
from shared.services.ports import Change, ChangeRejected, Ledger, Rejection, RunOnce

MAX_ATTEMPTS = 5
# A lost race with a payment, a reminder, another session or the same request: read again and plan again.
_RACES = (
    Rejection.STALE_INVOICE,
    Rejection.STALE_OPEN_CHECKOUT,
    Rejection.STALE_REFUNDS,
    Rejection.PAYMENT_NOT_FORWARD,
    Rejection.ALREADY_REVERSED,
)

T = TypeVar("T")


def commit_planned(ledger: Ledger, plan: Callable[[], tuple[T, Change | None]]) -> T:
    """Plan on fresh reads and commit; on a lost race plan again. `plan` returns (result, change or None)."""
    for _ in range(MAX_ATTEMPTS):
        result, change = plan()
        if change is None:
            return result
        try:
            ledger.commit(change)
        except ChangeRejected as rejected:
            if rejected.reason in _RACES:
                continue
            raise
        return result
    raise ConcurrentUpdate("the invoice kept changing meanwhile; send the request again")


def close_open_checkout(
    ledger: Ledger, gateway: PaymentGateway, invoice_id: str, now: datetime, *, completed_blocks: bool
) -> OpenCheckout | None:
    """The invoice's payable session expired at Stripe, and its slot closed (to commit with the change).
    With no session payable the slot still moves on: a pay page that read the invoice before this change
    and is opening a session for the old figure meanwhile then fails its commit (the slot's version guard)
    and re-reads the invoice. A session the customer completed meanwhile cannot be expired: its webhook
    closes the slot; `completed_blocks` refuses the change until it has (PaymentInProgress)."""
    slot = ledger.get_open_checkout(invoice_id)
    current = slot.payable_at(now) if slot else None
    if slot is None:
        return OpenCheckout(invoice_id=invoice_id, version=1)
    if current is None:
        return replace(slot, version=slot.version + 1, current=None, identity="")
    if gateway.expire_checkout_session(current.session_id) is SessionClosed.COMPLETE:
        if completed_blocks:
            raise PaymentInProgress("a payment for this invoice is being confirmed; try again once it has landed")
        return None
    return replace(slot, version=slot.version + 1, current=None, identity="")


def _audit(invoice: Invoice, action: str, actor: str, now: datetime, details: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        subject=AuditSubject.INVOICE,
        subject_id=invoice.id,
        action=action,
        actor=f"operator:{actor}",
        at=now,
        details=details,
    )


def _not_while_a_plan_pays(invoice: Invoice, what: str) -> None:
    if invoice.active_plan is not None:
        raise InvalidStateTransition(
            f"an installment plan or autopay pays invoice {invoice.number} off: its {what} cannot change now"
        )


# ----- credit notes ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreditNoteAsk:
    amount: int
    reason: str


@dataclass(frozen=True, slots=True)
class CreditNoteIssued:
    invoice: Invoice
    credit_note: CreditNote


def issue_credit_note_once(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    once: RunOnce,
    invoice_id: str,
    ask: CreditNoteAsk,
    *,
    key: str | None,
    fingerprint: dict[str, Any],
    actor: str,
) -> CreditNoteIssued:
    """Lower what the invoice owes, once per (caller, Idempotency-Key): the note's id derives from both, so
    a retry after a lost reply finds the note on the invoice instead of crediting twice."""
    scoped = scoped_key(actor, key)
    note_id = entity_id("cn", scoped)

    def work() -> dict[str, str]:
        commit_planned(ledger, lambda: _credit(ledger, gateway, clock, invoice_id, note_id, ask, actor))
        return {"credit_note_id": note_id}

    done = once(scoped, fingerprint | {"invoice_id": invoice_id}, work)
    invoice = get_invoice(ledger, invoice_id)
    note = invoice.credit_note(done["credit_note_id"])
    if note is None:
        raise NotFound(f"no credit note {done['credit_note_id']} on invoice {invoice_id}")
    return CreditNoteIssued(invoice, note)


def _credit(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, invoice_id: str, note_id: str, ask: CreditNoteAsk, actor: str
) -> tuple[None, Change | None]:
    invoice = get_invoice(ledger, invoice_id)
    if invoice.credit_note(note_id) is not None:
        return None, None  # an earlier attempt with this key committed; its reply was lost
    if invoice.status is InvoiceStatus.VOID:
        raise InvalidStateTransition(f"invoice {invoice.number} is void: nothing is owed to credit")
    _not_while_a_plan_pays(invoice, "amount")
    check_chargeable(ask.amount, invoice.currency, field="amount")
    now = clock.now()
    credited = invoice.with_credit_note(CreditNote(note_id, ask.amount, ask.reason, now))  # 422 beyond what is owed
    change = Change(invoice_update=credited)
    change.open_checkout = close_open_checkout(ledger, gateway, invoice.id, now, completed_blocks=True)
    # Events carry no free text (docs/security.md): the reason stays in the audit trail and on the invoice.
    detail = invoice_event_detail(credited) | {"credit_note_id": note_id, "amount": ask.amount}
    change.outbox.append(outgoing_event(EventName.INVOICE_CREDITED, detail, now))
    change.outbox.append(
        outgoing_email(InvoiceCorrectedEmail(invoice.id, invoice.amount_due, credited.amount_due, note_id), now)
    )
    change.audit.append(
        _audit(
            invoice,
            "invoice.credited",
            actor,
            now,
            {
                "credit_note": note_id,
                "amount": ask.amount,
                "currency": invoice.currency,
                "reason": ask.reason,
                "amount_due": {"from": invoice.amount_due, "to": credited.amount_due},
                "status": {"from": invoice.status.value, "to": credited.status.value},
            },
        )
    )
    return None, tallied(change, now, invoice_before=invoice)


# ----- PATCH /v1/invoices/{id} -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvoiceCorrection:
    """What to correct; None leaves a field as it is."""

    description: str | None = None
    due_date: date | None = None
    amount_due: int | None = None


def correct_invoice(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, invoice_id: str, correction: InvoiceCorrection, *, actor: str
) -> InvoiceDetails:
    """Correct the description, the due date (reminders re-plan from it) and, while nothing is paid, the
    amount due. Sending the values the invoice already has changes nothing (a retried PATCH is harmless)."""
    commit_planned(ledger, lambda: _correct(ledger, gateway, clock, invoice_id, correction, actor))
    return invoice_details(ledger, invoice_id)


def _correct(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, invoice_id: str, c: InvoiceCorrection, actor: str
) -> tuple[None, Change | None]:
    invoice = get_invoice(ledger, invoice_id)
    if invoice.status is InvoiceStatus.VOID:
        raise InvalidStateTransition(f"invoice {invoice.number} is void and cannot be corrected")
    now = clock.now()
    changed: dict[str, dict[str, Any]] = {}
    updated = invoice
    if c.description is not None and c.description != invoice.description:
        changed["description"] = {"from": invoice.description, "to": c.description}
        updated = replace(updated, description=c.description)
    if c.amount_due is not None and c.amount_due != invoice.amount_due:
        _check_amount_correctable(ledger, invoice, c.amount_due)
        changed["amount_due"] = {"from": invoice.amount_due, "to": c.amount_due}
        updated = updated.with_amount_due(c.amount_due)
        if invoice.status is InvoiceStatus.PAID and updated.status is not InvoiceStatus.PAID:
            updated = _replanned(ledger, updated, now)  # owed again (a credit note had settled it): dunning
    if c.due_date is not None and c.due_date != invoice.due_date:
        _not_while_a_plan_pays(invoice, "due date")
        changed["due_date"] = {"from": invoice.due_date.isoformat(), "to": c.due_date.isoformat()}
        updated = _replanned(ledger, replace(updated, due_date=c.due_date), now)
    if not changed:
        return None, None
    updated = replace(updated, version=invoice.version + 1)
    change = Change(invoice_update=updated)
    if "amount_due" in changed:
        change.open_checkout = close_open_checkout(ledger, gateway, invoice.id, now, completed_blocks=True)
        email = InvoiceCorrectedEmail(invoice.id, invoice.amount_due, updated.amount_due)
        change.outbox.append(outgoing_email(email, now))
    # The description's text stays out of the event, as every event keeps free text out (docs/security.md).
    shown = {field: change for field, change in changed.items() if field != "description"}
    detail = invoice_event_detail(updated) | {"fields": sorted(changed), "changes": shown}
    change.outbox.append(outgoing_event(EventName.INVOICE_CORRECTED, detail, now))
    change.audit.append(_audit(invoice, "invoice.corrected", actor, now, {"changes": changed}))
    return None, tallied(change, now, invoice_before=invoice)


def _check_amount_correctable(ledger: Ledger, invoice: Invoice, amount_due: int) -> None:
    """amount_due changes only while no money moved on the invoice; late fee lines stay as they are."""
    if invoice.amount_paid > 0 or any(
        p.status is not PaymentStatus.FAILED for p in ledger.get_invoice_payments(invoice.id)
    ):
        raise InvoiceHasPayments(
            f"invoice {invoice.number} has payments: issue a credit note to lower what it owes", field="amount_due"
        )
    _not_while_a_plan_pays(invoice, "amount")
    check_chargeable(amount_due, invoice.currency, field="amount_due")
    fees = sum(line.amount for line in invoice.late_fees)
    if amount_due - fees + invoice.amount_credited <= 0:
        raise InvalidAmount(f"amount_due must be more than the late fees of {fees}", field="amount_due")
    if invoice.min_partial_amount is not None and invoice.min_partial_amount > amount_due:
        raise InvalidAmount("amount_due cannot be less than the invoice's min_partial_amount", field="amount_due")


def _replanned(ledger: Ledger, invoice: Invoice, now: datetime) -> Invoice:
    """Reminders from the new due date: steps whose day has not come under it may go out again, and the
    dunning run next looks at the invoice when its next step is due (a hold keeps its own end)."""
    policy = current_policy(ledger)
    today = local_date(now, invoice.customer_timezone)
    days = {step.key: invoice.due_date.toordinal() + step.offset_days for step in policy.steps}
    sent = frozenset(k for k in invoice.reminders_sent if k not in days or days[k] <= today.toordinal())
    replanned = replace(invoice, reminders_sent=sent)
    if replanned.hold is not None and replanned.hold.active_at(now):
        return replanned
    return replace(replanned, next_action_at=next_dunning_action(policy, replanned, now))
