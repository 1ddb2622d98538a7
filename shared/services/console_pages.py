"""What the console's pages show and the actions they take, each behind the role policy.

Every function takes the signed-in session and checks its roles first (shared.domain.console_roles): the
pages hide what a role may not do, and these checks refuse it whatever a browser sends. Actions call the
same services as the operator API, audited with the staff member's identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.clock import Clock
from shared.domain.console_roles import Action, allowed_actions, require
from shared.domain.console_session import ConsoleSession
from shared.domain.errors import InvalidHold
from shared.domain.invoices import Invoice
from shared.domain.records import AuditEntry, AuditSubject, Customer, Drift, Payment, Plan, StripeEventRecord
from shared.domain.text import strip_bidi_controls
from shared.schema import DUE_WORK_SHARDS
from shared.services import invoices
from shared.services.ports import Ledger

TODAY_LIMIT = 20  # items per list on Today: a worklist, each list links on to its full view
TIMELINE_LIMIT = 50
HOLD_REASON_MAX = 200  # as the operator API allows (NewHold)


@dataclass(frozen=True, slots=True)
class TodayView:
    reminders_due: list[Invoice]  # invoices whose next reminder is due now (the due_work index)
    flagged_events: list[StripeEventRecord]  # Stripe events that did not match what we recorded
    failed_events: list[StripeEventRecord]
    drift: list[Drift]  # what reconciliation could not settle
    actions: frozenset[Action]


@dataclass(frozen=True, slots=True)
class InvoiceView:
    invoice: Invoice
    customer: Customer | None
    payments: list[Payment]
    plan: Plan | None
    timeline: list[AuditEntry]  # newest first
    actions: frozenset[Action]
    now: datetime


def today(ledger: Ledger, clock: Clock, session: ConsoleSession) -> TodayView:
    require(session.roles, Action.VIEW)
    now = clock.now()
    due: list[Invoice] = []
    for shard in range(DUE_WORK_SHARDS):
        page = ledger.due_invoices(shard, now, TODAY_LIMIT, None)
        due.extend(item for item in page.items if isinstance(item, Invoice))
    due.sort(key=lambda invoice: (invoice.due_date, invoice.number))
    return TodayView(
        reminders_due=due[:TODAY_LIMIT],
        flagged_events=list(ledger.list_stripe_events(TODAY_LIMIT, None, outcome="flagged").items),
        failed_events=list(ledger.list_stripe_events(TODAY_LIMIT, None, outcome="failed").items),
        drift=ledger.list_drift()[:TODAY_LIMIT],
        actions=allowed_actions(session.roles),
    )


def invoice_page(ledger: Ledger, clock: Clock, session: ConsoleSession, invoice_id: str) -> InvoiceView:
    require(session.roles, Action.VIEW)
    details = invoices.invoice_details(ledger, invoice_id)
    trail = ledger.list_audit(AuditSubject.INVOICE, invoice_id, TIMELINE_LIMIT, None)
    return InvoiceView(
        invoice=details.invoice,
        customer=ledger.get_customer(details.invoice.customer_id),
        payments=details.payments,
        plan=details.plan,
        timeline=[entry for entry in trail.items if isinstance(entry, AuditEntry)],
        actions=allowed_actions(session.roles),
        now=clock.now(),
    )


def place_hold(
    ledger: Ledger, clock: Clock, session: ConsoleSession, invoice_id: str, *, reason: str, until: datetime | None
) -> None:
    require(session.roles, Action.PLACE_HOLD)
    reason = strip_bidi_controls(reason).strip()
    if not reason or len(reason) > HOLD_REASON_MAX:
        raise InvalidHold(f"a hold needs a reason of 1 to {HOLD_REASON_MAX} characters", field="reason")
    invoices.place_hold(ledger, clock, invoice_id, reason=reason, until=until, actor=session.actor)


def release_hold(ledger: Ledger, clock: Clock, session: ConsoleSession, invoice_id: str) -> None:
    require(session.roles, Action.RELEASE_HOLD)
    invoices.release_hold(ledger, clock, invoice_id, actor=session.actor)
