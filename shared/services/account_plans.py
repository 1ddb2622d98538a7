"""An installment plan chosen from the customer's account, behind step-up: the statement offers the plans the
pay page would (plans.choices_for); the customer picks one, types a fresh code (StepUpAction.INSTALLMENT_PLAN),
and Checkout opens for the first installment, saving the card for the rest (plans.start_plan, as on the pay
page). A choice no longer on offer is refused before any code is sent."""

from __future__ import annotations

from dataclasses import dataclass

from shared.clock import Clock
from shared.domain.account import AccountSession, StepUpAction
from shared.domain.errors import ConcurrentUpdate, InvoiceNotPayable, NotFound, PaymentInProgress
from shared.domain.plans import InvalidPlan
from shared.domain.records import Customer
from shared.services import step_up
from shared.services.account_codes import CodeAsked
from shared.services.account_ports import AccountStore
from shared.services.account_statement import owned_invoice
from shared.services.checkout import CheckoutConfig, PayPage
from shared.services.gateway import PaymentGateway
from shared.services.plans import choices_for, start_plan
from shared.services.ports import Ledger


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """The plan (its key, e.g. "monthly-3") the customer picked for one of their invoices."""

    invoice_id: str
    key: str


def refused_path(invoice_id: str) -> str:
    """The statement, saying beside the invoice that the plan could not be started."""
    return f"/account?plan_refused={invoice_id}#inv-{invoice_id}"


def _page(ledger: Ledger, session: AccountSession, request: PlanRequest) -> PayPage:
    invoice = owned_invoice(ledger, session, request.invoice_id)
    customer: Customer | None = ledger.get_customer(invoice.customer_id)
    if customer is None:
        raise NotFound("no such invoice")
    return PayPage(invoice, customer)


def ask_code(
    store: AccountStore,
    ledger: Ledger,
    session_clock: Clock,
    clock: Clock,
    session: AccountSession,
    request: PlanRequest,
    *,
    source_ip: str,
) -> CodeAsked:
    """Step one: a fresh code by email, for a plan on offer for the invoice now (InvalidPlan otherwise)."""
    page = _page(ledger, session, request)
    if request.key not in {choice.key for choice in choices_for(page, clock.now())}:
        raise InvalidPlan("choose one of the plans on offer", field="plan")
    return step_up.ask(store, session_clock, session, StepUpAction.INSTALLMENT_PLAN, source_ip=source_ip)


def apply(
    store: AccountStore,
    ledger: Ledger,
    gateway: PaymentGateway,
    session_clock: Clock,
    clock: Clock,
    config: CheckoutConfig,
    session: AccountSession,
    request: PlanRequest,
    *,
    code: str,
    source_ip: str,
) -> str:
    """Step two: the code, then the plan; where the browser goes next (Checkout for the first installment, or
    the statement saying it could not be started: no longer on offer, the invoice paid or being paid)."""
    page = _page(ledger, session, request)
    step_up.confirm(store, session_clock, session, StepUpAction.INSTALLMENT_PLAN, code=code, source_ip=source_ip)
    try:
        attempt = start_plan(ledger, gateway, clock, config, page=page, key=request.key)
    except (InvalidPlan, InvoiceNotPayable, PaymentInProgress, ConcurrentUpdate):
        return refused_path(page.invoice.id)
    return attempt.url
