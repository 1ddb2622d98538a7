"""Refunds of a payment of several invoices (one PaymentIntent, a share per invoice).

Each refund seen goes to one share: the share that has it already (the operator's refund, recorded when Stripe
answered), else the invoice its metadata names (payportal refunds a share with the share's invoice in the
metadata). Each share's refunds are then planned as a single payment's are (refunds.plan_refunds: up to the
share, never beyond it), in a part of its own (engine.apply_part), and the event is recorded last.

A refund payportal cannot allocate (made in Stripe's dashboard on the combined payment: its metadata names
no invoice of it) is not guessed: the event is flagged for review and moves nothing (docs/decisions.md). The
operator refunds a share through `POST /v1/payments/{share id}/refunds` instead.
"""

from __future__ import annotations

from shared.clock import Clock
from shared.domain.invoices import PaymentStatus
from shared.domain.records import CombinedCheckout
from shared.services.ports import Change, Ledger
from shared.services.stripe_events.engine import (
    Decision,
    Outcome,
    apply_once,
    apply_part,
    event_record,
    flagged,
    not_yet,
    unchanged,
)
from shared.services.stripe_events.facts import RefundFact, RefundSeen
from shared.services.stripe_events.refunds import plan_refunds


def record_combined_refunds(ledger: Ledger, clock: Clock, fact: RefundFact, combined_ref: str) -> Outcome:
    event = fact.event
    if not fact.refunds:
        return apply_once(
            ledger, event, lambda: unchanged(event, Outcome.NO_CHANGE, clock.now(), "refunds not listed on the charge")
        )
    combined = ledger.get_combined_checkout(combined_ref)
    if combined is None or not combined.allocations:
        return apply_once(
            ledger, event, lambda: unchanged(event, Outcome.FLAGGED, clock.now(), "unknown combined payment")
        )
    by_share, unallocated = _allocate(ledger, combined, fact.refunds)
    first = combined.allocations[0].invoice_id
    if unallocated:
        problem = f"refund {unallocated[0].refund_id} of combined payment {combined.ref} names none of its invoices"
        return apply_once(ledger, event, lambda: flagged(event, first, problem, clock.now()))
    moved, problems = False, []
    for invoice_id, seen in by_share.items():
        key = combined.share_key(invoice_id)
        part = apply_part(ledger, event, lambda i=invoice_id, k=key, s=seen: _decide(ledger, clock, fact, i, k, s))  # type: ignore[misc]
        if part is Outcome.RETRY_LATER:
            return part  # a share's success is still on its way: Stripe delivers this again
        moved |= part is Outcome.APPLIED
        if part is Outcome.FLAGGED:
            problems.append(invoice_id)
    if problems:
        problem = f"refunds not recorded for invoices {', '.join(problems)}"
        return apply_once(ledger, event, lambda: flagged(event, problems[0], problem, clock.now()))
    outcome = Outcome.APPLIED if moved else Outcome.NO_CHANGE
    return apply_once(ledger, event, lambda: _recorded(fact, outcome, clock))


def _allocate(
    ledger: Ledger, combined: CombinedCheckout, seen: tuple[RefundSeen, ...]
) -> tuple[dict[str, tuple[RefundSeen, ...]], list[RefundSeen]]:
    """Each refund to its share's invoice; those that name none."""
    known: dict[str, str] = {}  # refund id -> the invoice whose share has it
    for allocation in combined.allocations:
        context = ledger.get_payment_context(allocation.invoice_id, None, combined.share_key(allocation.invoice_id))
        for refund in context.payment.refunds if context.payment else ():
            known[refund.id] = allocation.invoice_id
    invoices = {a.invoice_id for a in combined.allocations}
    by_share: dict[str, list[RefundSeen]] = {}
    unallocated = []
    for one in seen:
        invoice_id = known.get(one.refund_id) or (one.invoice_id if one.invoice_id in invoices else None)
        if invoice_id is None:
            unallocated.append(one)
        else:
            by_share.setdefault(invoice_id, []).append(one)
    return {invoice_id: tuple(refunds) for invoice_id, refunds in by_share.items()}, unallocated


def _decide(
    ledger: Ledger, clock: Clock, fact: RefundFact, invoice_id: str, share_key: str, seen: tuple[RefundSeen, ...]
) -> Decision:
    now = clock.now()
    context = ledger.get_payment_context(invoice_id, None, share_key)
    if context.payment is None or context.payment.status is not PaymentStatus.SUCCEEDED:
        return not_yet()  # as refunds.py: the share's success is on its way (Stripe refunds only money received)
    planned = plan_refunds(context.invoice, context.payment, seen, now, actor="stripe", cause=fact.event.id)
    if planned.problem:
        return flagged(fact.event, invoice_id, planned.problem, now)
    if planned.change is None:
        return Change(), Outcome.NO_CHANGE
    return planned.change, Outcome.APPLIED


def _recorded(fact: RefundFact, outcome: Outcome, clock: Clock) -> Decision:
    return Change(stripe_event=event_record(fact.event, outcome, clock.now())), outcome
