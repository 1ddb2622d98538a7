"""Stripe disputes (chargebacks), exactly once: dunning stops while one is open.

`charge.dispute.created` opens a dispute on the invoice the disputed PaymentIntent paid: the invoice
leaves the due index, and the operator hears of it (`invoice.disputed`). `charge.dispute.closed` closes
it. Won (or an inquiry closed without a chargeback): the money stays and dunning may resume. Lost: the
bank took the money back, so it no longer counts as paid, and the invoice is put on hold for the operator
to decide whether to chase it again; payportal never reminds a customer automatically after a chargeback.

Each event is one transaction guarded like payments: the event id is new, the dispute only moves from
open to closed (so a late "created" cannot reopen it), and the invoice has not changed since it was read.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from shared.clock import Clock
from shared.domain.invoices import Hold, invoice_event_detail
from shared.domain.records import (
    DISPUTE_STATUS_RANK,
    AuditEntry,
    Dispute,
    DisputeStatus,
    OutboxMessage,
    StripeEventRecord,
)
from shared.services.ports import Change, Ledger

if TYPE_CHECKING:
    from shared.services.payments import Outcome, StripeEvent

LOST_HOLD_REASON = "dispute lost: review before chasing again"


def _status(event: StripeEvent) -> DisputeStatus:
    if event.type == "charge.dispute.created":
        return DisputeStatus.OPEN
    return DisputeStatus.LOST if event.object.get("status") == "lost" else DisputeStatus.WON


def record_dispute_event(ledger: Ledger, clock: Clock, event: StripeEvent) -> Outcome:
    from shared.services.payments import Outcome, apply_once

    obj = event.object
    dispute_id, intent = obj.get("id"), obj.get("payment_intent")
    intent_id = intent.get("id") if isinstance(intent, dict) else intent
    if not isinstance(dispute_id, str) or not isinstance(intent_id, str):
        return Outcome.IGNORED
    invoice_id = ledger.invoice_for_payment_intent(intent_id)
    if invoice_id is None:
        return Outcome.IGNORED  # a payment payportal did not take
    return apply_once(ledger, event, lambda: _plan(ledger, clock, event, invoice_id, dispute_id, intent_id))


def _plan(
    ledger: Ledger, clock: Clock, event: StripeEvent, invoice_id: str, dispute_id: str, intent_id: str
) -> tuple[Change, Outcome]:
    from shared.services.payments import Outcome

    now = clock.now()
    invoice, current = ledger.get_dispute_context(invoice_id, dispute_id)
    status = _status(event)

    def record(outcome: Outcome, detail: str = "") -> StripeEventRecord:
        return StripeEventRecord(
            event_id=event.id,
            type=event.type,
            object_id=dispute_id,
            outcome=outcome.value,
            received_at=now,
            detail=detail,
        )

    obj = event.object
    amount, currency = obj.get("amount"), str(obj.get("currency") or "").upper()
    if invoice is None or not isinstance(amount, int) or currency != invoice.currency:
        problem = "unknown invoice" if invoice is None else f"amount or currency does not match {invoice.currency}"
        from shared.services.payments import flagged

        return flagged(event, invoice_id, record(Outcome.FLAGGED, problem), now)
    if current is not None and DISPUTE_STATUS_RANK[current.status] >= DISPUTE_STATUS_RANK[status]:
        return Change(stripe_event=record(Outcome.NO_CHANGE, current.status.value)), Outcome.NO_CHANGE

    dispute = Dispute(
        id=dispute_id,
        invoice_id=invoice.id,
        payment_intent_id=intent_id,
        amount=amount,
        currency=currency,
        reason=str(obj.get("reason") or "")[:64],
        status=status,
        updated_at=now,
    )
    if status is DisputeStatus.OPEN:
        updated = replace(
            invoice,
            open_disputes=invoice.open_disputes | {dispute_id},
            next_action_at=None,
            version=invoice.version + 1,
        )
        name = "invoice.disputed"
    else:
        updated = replace(invoice, open_disputes=invoice.open_disputes - {dispute_id})
        if status is DisputeStatus.LOST:
            updated = replace(updated.with_dispute_lost(amount), hold=Hold(reason=LOST_HOLD_REASON))
            updated = replace(updated, next_action_at=None, version=invoice.version + 1)
        else:
            # Dunning resumes (if anything is owed and no other dispute is open): the run decides what is due.
            updated = replace(updated, next_action_at=now if updated.in_dunning else None, version=invoice.version + 1)
        name = "invoice.dispute_closed"
    detail = invoice_event_detail(updated) | {
        "dispute_id": dispute_id,
        "dispute_amount": amount,
        "dispute_status": status.value,
        "dispute_reason": dispute.reason,
        "stripe_event_id": event.id,
    }
    change = Change(
        stripe_event=record(Outcome.APPLIED),
        dispute=dispute,
        invoice_update=updated,
        outbox=[OutboxMessage(kind="event", name=name, data=detail, created_at=now)],
        audit=[
            AuditEntry(
                entity=f"INVOICE#{invoice.id}",
                action=f"dispute.{status.value}",
                actor="stripe",
                at=now,
                details={"event_id": event.id, "dispute": dispute_id, "amount": amount, "currency": currency},
            )
        ],
    )
    return change, Outcome.APPLIED
