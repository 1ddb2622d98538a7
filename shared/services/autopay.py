"""Autopay: a customer saves a card from the pay page (Checkout in setup mode) and their future invoices are
charged on the due date, after a notice email some days before. Every autopay email links to the pay page,
where autopay can be turned off; operators can turn it off too.

An autopay invoice is carried by a one-installment plan (`PlanKind.AUTOPAY`), so functions/charges, its
exactly-once claims, retries and webhooks are the same as for installment plans.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from shared.clock import Clock
from shared.domain.errors import ConcurrentUpdate
from shared.domain.invoices import Invoice
from shared.domain.messages import AutopayNoticeEmail, EventName, outgoing_email, outgoing_event
from shared.domain.plan_lifecycle import charge_at
from shared.domain.records import AuditEntry, AuditSubject, Customer, InstallmentStatus, Plan, PlanKind, PlanStatus
from shared.services.checkout import CheckoutConfig, PayPage
from shared.services.customers import get_customer
from shared.services.gateway import PaymentGateway
from shared.services.ports import Change, ChangeRejected, Ledger, Rejection
from shared.services.saved_cards import open_account_setup_session, open_setup_session
from shared.services.stripe_events.facts import SetupPurpose

# However late an invoice is created, the notice goes out at least this long before the charge.
MIN_NOTICE = timedelta(days=1)


def start_autopay_setup(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, config: CheckoutConfig, *, page: PayPage
) -> str:
    """Checkout in setup mode to save the card autopay will charge; returns its URL. Autopay is on once
    Stripe's webhook says the card is saved (shared/services/stripe_events/autopay_setup.py)."""
    return open_setup_session(
        ledger,
        gateway,
        clock,
        config,
        page=page,
        purpose=SetupPurpose.AUTOPAY,
        returned="autopay=on",
    )


def start_autopay_setup_for(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, config: CheckoutConfig, customer: Customer, *, back_to: str
) -> str:
    """As `start_autopay_setup`, from the customer's account rather than an invoice's pay page: Checkout in setup
    mode, back to `back_to` (a path of ours that carries no secret) with `?autopay=on`, or without it when
    cancelled. The webhook turns autopay on from the session's customer id alone."""
    return open_account_setup_session(
        ledger, gateway, clock, config, customer, purpose=SetupPurpose.AUTOPAY, back_to=back_to, returned="autopay=on"
    )


def disable_autopay(ledger: Ledger, clock: Clock, customer_id: str, *, actor: str) -> Customer:
    """Autopay off: no future invoice is charged automatically, and the autopay charges not yet made are
    cancelled, their invoices going back to normal dunning."""
    customer = get_customer(ledger, customer_id)
    if customer.autopay is None:
        return customer
    now = clock.now()
    disabled = replace(customer, autopay=None, version=customer.version + 1)
    change = Change(
        customer_update=disabled,
        outbox=[outgoing_event(EventName.AUTOPAY_DISABLED, {"customer_id": customer.id}, now)],
        audit=[
            AuditEntry(
                subject=AuditSubject.CUSTOMER, subject_id=customer.id, action="autopay.disabled", actor=actor, at=now
            )
        ],
    )
    try:
        ledger.commit(change)
    except ChangeRejected as rejected:
        if rejected.reason == Rejection.STALE_CUSTOMER:
            raise ConcurrentUpdate("the customer changed meanwhile; try again") from None
        raise
    _cancel_pending_charges(ledger, customer.id, now, actor=actor)
    return disabled


def _cancel_pending_charges(ledger: Ledger, customer_id: str, now: datetime, *, actor: str) -> None:
    cursor: str | None = None
    while True:
        page = ledger.list_customer_invoices(customer_id, 100, cursor)
        for listed in page.items:
            for _ in range(3):
                invoice = ledger.get_invoice(listed.id)
                plan = ledger.get_plan(invoice.id, invoice.active_plan) if invoice and invoice.active_plan else None
                if invoice is None or plan is None or plan.kind is not PlanKind.AUTOPAY:
                    break
                current = plan.current
                if plan.status is not PlanStatus.ACTIVE or (current and current.status is InstallmentStatus.CHARGING):
                    break  # a charge is under way: its webhook settles it
                cancelled = replace(plan, status=PlanStatus.CANCELLED, next_action_at=None, version=plan.version + 1)
                back = replace(invoice, active_plan=None, next_action_at=now, version=invoice.version + 1)
                audit = AuditEntry(
                    subject=AuditSubject.INVOICE,
                    subject_id=invoice.id,
                    action="plan.cancelled",
                    actor=actor,
                    at=now,
                    details={
                        "plan": plan.id,
                        "reason": "autopay_disabled",
                        "status": {"from": plan.status.value, "to": cancelled.status.value},
                    },
                )
                try:
                    ledger.commit(Change(plan_update=cancelled, invoice_update=back, audit=[audit]))
                except ChangeRejected:
                    continue
                break
        cursor = page.next_cursor
        if cursor is None:
            return


def notice_change(plan: Plan, invoice: Invoice, now: datetime, *, actor: str = "scheduler") -> Change:
    """The autopay notice: the plan is noted as told and waits for the charge time (at least a day on)."""
    charge_time = max(charge_at(plan.installments[0].due_on, plan.customer_timezone), now + MIN_NOTICE)
    noticed = replace(plan, notice_sent=True, next_action_at=charge_time, version=plan.version + 1)
    audit = AuditEntry(
        subject=AuditSubject.INVOICE,
        subject_id=invoice.id,
        action="plan.autopay_notice_sent",
        actor=actor,
        at=now,
        details={"plan": plan.id, "amount": invoice.amount_remaining, "charge_at": charge_time.isoformat()},
    )
    return Change(
        plan_update=noticed,
        outbox=[outgoing_email(AutopayNoticeEmail(invoice.id, invoice.amount_remaining, charge_time), now)],
        audit=[audit],
    )
