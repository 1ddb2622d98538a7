"""The card autopay will charge is saved (Checkout in setup mode completed): autopay is on for the
customer's future invoices. Exactly once: the event id is new and the customer has not changed since it
was read."""

from __future__ import annotations

from dataclasses import replace

from shared.clock import Clock
from shared.domain.messages import EventName, outgoing_event
from shared.domain.records import AuditEntry, AuditSubject, Autopay
from shared.services.ports import Change, Ledger
from shared.services.stripe_events.engine import Decision, Outcome, apply_once, event_record, unchanged
from shared.services.stripe_events.facts import SetupSessionFact


def record_autopay_setup(ledger: Ledger, clock: Clock, fact: SetupSessionFact) -> Outcome:
    return apply_once(ledger, fact.event, lambda: _decide(ledger, clock, fact))


def _decide(ledger: Ledger, clock: Clock, fact: SetupSessionFact) -> Decision:
    now = clock.now()
    customer = ledger.get_customer(fact.tags.customer_id or "")
    if customer is None:
        return unchanged(fact.event, Outcome.IGNORED, now)
    change = Change(stripe_event=event_record(fact.event, Outcome.APPLIED, now))
    if customer.autopay is None:
        change.customer_update = replace(customer, autopay=Autopay(enabled_at=now), version=customer.version + 1)
        change.outbox.append(outgoing_event(EventName.AUTOPAY_ENABLED, {"customer_id": customer.id}, now))
        change.audit.append(
            AuditEntry(
                subject=AuditSubject.CUSTOMER,
                subject_id=customer.id,
                action="autopay.enabled",
                actor="customer",
                at=now,
            )
        )
    return change, Outcome.APPLIED
