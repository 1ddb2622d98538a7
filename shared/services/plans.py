"""Installment plans: chosen on the pay page, the first installment paid on Checkout (which saves the card
for later), the rest charged off-session on their dates by functions/charges.

A plan is stored when the customer picks it (`awaiting_first`) and becomes `active` when the webhook
records the first installment's payment (shared/services/stripe_events/checkout_payments.py): the invoice
then leaves dunning while the plan pays it off.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from shared.clock import Clock
from shared.domain.double_click import click_window
from shared.domain.errors import InvoiceNotPayable
from shared.domain.invoices import Invoice
from shared.domain.local_time import local_date
from shared.domain.payer_text import payer_text
from shared.domain.plans import InvalidPlan, PlanChoice, choose, plan_choices
from shared.domain.records import CheckoutAttempt, Installment, InstallmentStatus, Plan, PlanStatus
from shared.domain.stripe_amounts import chargeable_increment
from shared.services.checkout import CheckoutConfig, PayPage, open_checkout_session
from shared.services.gateway import PaymentGateway
from shared.services.ports import Ledger
from shared.services.saved_cards import open_setup_session
from shared.services.stripe_events.facts import SetupPurpose


def choices_for(page: PayPage, now: datetime) -> tuple[PlanChoice, ...]:
    """The plans this invoice may be paid by now: none unless the operator offered them, nothing is
    disputed, and no plan is already paying it."""
    invoice = page.invoice
    if invoice.plan_offer is None or invoice.active_plan or invoice.open_disputes or not invoice.accepts_payment:
        return ()
    first = local_date(now, page.customer.timezone)
    return plan_choices(invoice.plan_offer, invoice.amount_remaining, first, chargeable_increment(invoice.currency))


def start_plan(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    config: CheckoutConfig,
    *,
    page: PayPage,
    key: str,
) -> CheckoutAttempt:
    """The customer picked plan `key` (e.g. "monthly-3"): store it and open Checkout for the first
    installment, saving the card for the others."""
    invoice, customer = page.invoice, page.customer
    now = clock.now()
    if invoice.plan_offer is None:
        raise InvalidPlan("this invoice cannot be paid in installments", field="plan")
    if invoice.active_plan or invoice.open_disputes or not invoice.accepts_payment:
        raise InvoiceNotPayable(
            f"invoice {invoice.number} cannot start an installment plan now",
            payer=payer_text("This invoice cannot start an installment plan now."),
        )
    starts_on, increment = local_date(now, page.customer.timezone), chargeable_increment(invoice.currency)
    choice = choose(invoice.plan_offer, invoice.amount_remaining, starts_on, key, increment)

    identity = f"{invoice.id}:{key}:{invoice.amount_remaining}:{invoice.version}:{click_window(now)}"
    plan_id = "plan_" + hashlib.sha256(identity.encode()).hexdigest()[:32]
    plan = Plan(
        id=plan_id,
        invoice_id=invoice.id,
        customer_id=customer.id,
        currency=invoice.currency,
        frequency=choice.frequency.value,
        installments=tuple(Installment(i.number, i.due_on, i.amount) for i in choice.installments),
        status=PlanStatus.AWAITING_FIRST,
        created_at=now,
        customer_timezone=customer.timezone,
    )
    first = plan.installments[0]
    return open_checkout_session(
        ledger,
        gateway,
        clock,
        config,
        page=page,
        amount=first.amount,
        purpose=f"plan:{key}",
        description=f"Invoice {invoice.number}: installment 1 of {len(plan.installments)}",
        extra_metadata={"plan_id": plan_id},
        save_card=True,
        new_plan=plan,
    )


def start_installment_checkout(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    config: CheckoutConfig,
    *,
    page: PayPage,
) -> CheckoutAttempt:
    """The customer pays the installment that could not be charged off-session (it needed their
    authentication, or the card was declined) on Checkout, saving the card they use for the rest."""
    invoice = page.invoice
    plan = ledger.get_plan(invoice.id, invoice.active_plan) if invoice.active_plan else None
    installment = plan.current if plan else None
    if plan is None or installment is None or installment.status is not InstallmentStatus.FAILED:
        raise InvoiceNotPayable(
            "no installment is waiting for you to pay it",
            payer=payer_text("No installment is waiting for you to pay it."),
        )
    return open_checkout_session(
        ledger,
        gateway,
        clock,
        config,
        page=page,
        amount=installment.amount,
        purpose=f"installment:{plan.id}:{installment.number}:{installment.attempts}",
        description=f"Invoice {invoice.number}: installment {installment.number} of {len(plan.installments)}",
        extra_metadata={"plan_id": plan.id, "installment": str(installment.number)},
        save_card=True,
    )


def start_card_update(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, config: CheckoutConfig, *, page: PayPage
) -> str:
    """Checkout in setup mode: the customer saves a new card, which later off-session charges use (the
    newest saved card is the one charged). Returns the Checkout URL."""
    return open_setup_session(
        ledger,
        gateway,
        clock,
        config,
        page=page,
        purpose=SetupPurpose.CARD_UPDATE,
        returned="card=saved",
    )


def waiting_installment(ledger: Ledger, invoice: Invoice) -> tuple[Plan, Installment] | None:
    """The installment of the invoice's plan that failed and can be paid on the pay page, if any."""
    plan = ledger.get_plan(invoice.id, invoice.active_plan) if invoice.active_plan else None
    installment = failed_installment(plan)
    return (plan, installment) if plan is not None and installment is not None else None


def failed_installment(plan: Plan | None) -> Installment | None:
    """The plan's current installment when its last charge failed: the customer may pay it on the page."""
    installment = plan.current if plan else None
    return installment if installment is not None and installment.status is InstallmentStatus.FAILED else None
