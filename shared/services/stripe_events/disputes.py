"""Stripe disputes (chargebacks), exactly once: dunning stops while one is open.

`charge.dispute.created` opens a dispute on the invoice the disputed PaymentIntent paid: the invoice
leaves the due index, and the operator hears of it (`invoice.disputed`). `charge.dispute.closed` closes
it. Won (or an inquiry closed without a chargeback): the money stays and dunning may resume. Lost: the
bank took the money back, so it no longer counts as paid, and the invoice is put on hold for the operator
to decide whether to chase it again; payportal never reminds a customer automatically after a chargeback.

A dispute of a payment we still have as pending (its success not yet arrived) is not kept
(`Outcome.RETRY_LATER`): it applies when Stripe delivers it again.

Each event is one transaction guarded like payments: the event id is new, the dispute only moves from
open to closed (so a late "created" cannot reopen it), and the invoice has not changed since it was read.
"""

from __future__ import annotations

from dataclasses import replace

from shared.clock import Clock
from shared.domain.invoices import Hold, PaymentStatus, invoice_event_detail
from shared.domain.messages import EventName, outgoing_event
from shared.domain.records import DISPUTE_STATUS_RANK, AuditEntry, AuditSubject, Dispute, DisputeStatus
from shared.services import digest_tallies
from shared.services.aggregates import tallied
from shared.services.ports import Change, Ledger, LostDispute
from shared.services.stripe_events.engine import (
    Decision,
    Outcome,
    apply_once,
    event_record,
    flagged,
    not_yet,
    unchanged,
)
from shared.services.stripe_events.facts import DisputeFact

LOST_HOLD_REASON = "dispute lost: review before chasing again"


def record_dispute(ledger: Ledger, clock: Clock, fact: DisputeFact) -> Outcome:
    invoice_id = ledger.invoice_for_payment_intent(fact.payment_intent_id)
    if invoice_id is None:
        combined = ledger.combined_for_payment_intent(fact.payment_intent_id)
        if combined is not None:  # a payment of several invoices: which of them it disputes is not ours to guess
            return apply_once(ledger, fact.event, lambda: _combined_dispute(ledger, clock, fact, combined))
        return Outcome.IGNORED  # a payment payportal did not take
    return apply_once(ledger, fact.event, lambda: _decide(ledger, clock, fact, invoice_id))


def _combined_dispute(ledger: Ledger, clock: Clock, fact: DisputeFact, combined_ref: str) -> Decision:
    """Flagged for review on the first invoice's trail (docs/decisions.md: a combined payment's dispute)."""
    combined = ledger.get_combined_checkout(combined_ref)
    first = combined.allocations[0].invoice_id if combined and combined.allocations else combined_ref
    return flagged(fact.event, first, f"dispute of combined payment {combined_ref}: review which invoices", clock.now())


def _decide(ledger: Ledger, clock: Clock, fact: DisputeFact, invoice_id: str) -> Decision:
    now = clock.now()
    payment = ledger.get_payment_context(invoice_id, None, fact.payment_intent_id).payment
    if payment is not None and payment.status is not PaymentStatus.SUCCEEDED:
        # Only money received is disputed: the payment's success (a bank debit's) is still on its way.
        # Applied now, a lost dispute would take back money not yet counted, and the success then count it.
        return not_yet()
    invoice, current = ledger.get_dispute_context(invoice_id, fact.dispute_id)
    status = fact.status
    if invoice is None or fact.amount is None or fact.currency != invoice.currency:
        problem = "unknown invoice" if invoice is None else f"amount or currency does not match {invoice.currency}"
        return flagged(fact.event, invoice_id, problem, now)
    if current is not None and DISPUTE_STATUS_RANK[current.status] >= DISPUTE_STATUS_RANK[status]:
        return unchanged(fact.event, Outcome.NO_CHANGE, now, current.status.value)

    dispute = Dispute(
        id=fact.dispute_id,
        invoice_id=invoice.id,
        payment_intent_id=fact.payment_intent_id,
        amount=fact.amount,
        currency=fact.currency,
        reason=fact.reason,
        status=status,
        updated_at=now,
        fee=fact.fee,
    )
    if status is DisputeStatus.OPEN:
        updated = replace(
            invoice,
            open_disputes=invoice.open_disputes | {dispute.id},
            next_action_at=None,
            version=invoice.version + 1,
        )
        name = EventName.INVOICE_DISPUTED
    else:
        updated = replace(invoice, open_disputes=invoice.open_disputes - {dispute.id})
        if status is DisputeStatus.LOST:
            updated = replace(updated.with_dispute_lost(dispute.amount), hold=Hold(reason=LOST_HOLD_REASON))
            updated = replace(updated, next_action_at=None, version=invoice.version + 1)
        else:
            # Dunning resumes (if anything is owed and no other dispute is open): the run decides what is due.
            updated = replace(updated, next_action_at=now if updated.in_dunning else None, version=invoice.version + 1)
        name = EventName.INVOICE_DISPUTE_CLOSED
    detail = invoice_event_detail(updated) | {
        "dispute_id": dispute.id,
        "dispute_amount": dispute.amount,
        "dispute_status": status.value,
        "dispute_reason": dispute.reason,
        "stripe_event_id": fact.event.id,
    }
    lost = LostDispute(payment, dispute) if status is DisputeStatus.LOST and payment is not None else None
    change = Change(
        stripe_event=event_record(fact.event, Outcome.APPLIED, now),
        dispute=dispute,
        lost_dispute=lost,
        invoice_update=updated,
        outbox=[outgoing_event(name, detail, now)],
        audit=[
            AuditEntry(
                subject=AuditSubject.INVOICE,
                subject_id=invoice.id,
                action=f"dispute.{status.value}",
                actor="stripe",
                at=now,
                details={
                    "event_id": fact.event.id,
                    "dispute": dispute.id,
                    "amount": dispute.amount,
                    "currency": dispute.currency,
                },
            )
        ],
    )
    if current is None:  # first recorded: the digest counts it opened today
        change.tallies.append(digest_tallies.dispute_opened(dispute, now))
    return tallied(change, now, invoice_before=invoice), Outcome.APPLIED
