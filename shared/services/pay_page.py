"""The hosted pay page: one call per request, each returning what the page shows (a typed view) or where
the customer goes next (a redirect to Stripe Checkout, or back to the page with a notice).

Every use case here opens the pay link first, so an unknown, expired or revoked link raises
`PayLinkInvalid` before anything else happens. What the customer entered that cannot be done comes back
as the same page with the problem on it, never as an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from shared.clock import Clock
from shared.domain.errors import (
    ConcurrentUpdate,
    DomainError,
    InvalidAmount,
    InvalidHold,
    InvalidStateTransition,
    InvoiceNotPayable,
    PayLinkInvalid,
    PaymentInProgress,
)
from shared.domain.invoices import Invoice, InvoiceStatus
from shared.domain.languages import served_language
from shared.domain.local_time import local_date
from shared.domain.money import parse_major_amount
from shared.domain.payer_text import PayerText, payer_text
from shared.domain.plans import InvalidPlan, PlanChoice
from shared.domain.records import InstallmentStatus, Plan, PlanKind
from shared.services.autopay import disable_autopay, start_autopay_setup
from shared.services.checkout import (
    CheckoutConfig,
    PayPage,
    ReturnState,
    checkout_outcome,
    latest_promise_date,
    open_pay_link,
    promise_to_pay,
    return_path,
    start_checkout,
)
from shared.services.gateway import PaymentGateway
from shared.services.plans import (
    choices_for,
    failed_installment,
    start_card_update,
    start_installment_checkout,
    start_plan,
)
from shared.services.ports import Ledger

# Why a Checkout could not be opened, whatever the customer asked for: both pass in a minute.
_BUSY = (PaymentInProgress, ConcurrentUpdate)

# What the page says of a failure raised without a payer's wording (the operator's English is not shown).
UNEXPLAINED = payer_text("This could not be done just now. Please reload the page and try again.")
CHOOSE_A_PLAN = payer_text("Choose one of the plans below.")
CHOOSE_A_DATE = payer_text("Choose the date you will pay by.")
PLAN_DATES_APPLY = payer_text("This invoice is being paid in installments: the dates of its plan apply.")


def for_payer(problem: DomainError) -> PayerText:
    return problem.payer or UNEXPLAINED


@dataclass(frozen=True, slots=True)
class PayPageConfig:
    checkout: CheckoutConfig
    promise_max_days: int  # how far ahead a customer may promise to pay


@dataclass(frozen=True, slots=True)
class InvoiceSummary:
    """What the pages show of an invoice; amounts in minor units of `currency`."""

    number: str
    status: InvoiceStatus
    currency: str
    description: str
    due_date: date
    amount_original: int
    late_fees: tuple[int, ...]
    amount_paid: int
    amount_remaining: int
    allow_partial: bool

    @classmethod
    def of(cls, invoice: Invoice) -> InvoiceSummary:
        return cls(
            number=invoice.number,
            status=invoice.status,
            currency=invoice.currency,
            description=invoice.description,
            due_date=invoice.due_date,
            amount_original=invoice.amount_original,
            late_fees=tuple(fee.amount for fee in invoice.late_fees),
            amount_paid=invoice.amount_paid,
            amount_remaining=invoice.amount_remaining,
            allow_partial=invoice.allow_partial,
        )


@dataclass(frozen=True, slots=True)
class WaitingInstallment:
    """An installment the charge run could not take: the customer may pay it on Checkout."""

    number: int
    of: int
    amount: int
    due_on: date


@dataclass(frozen=True, slots=True)
class ScheduledPayment:
    """One installment of the invoice's plan, as the page lists the schedule."""

    number: int
    due_on: date
    amount: int
    paid: bool
    failed: bool  # its last charge failed (the page offers to pay it)


@dataclass(frozen=True, slots=True)
class PromiseWindow:
    """The dates the customer may promise to pay by, in their own calendar."""

    earliest: date
    latest: date


@dataclass(frozen=True, slots=True)
class Notices:
    """What the page confirms after a round trip (from its query string)."""

    cancelled: bool = False  # back from Checkout without paying
    card_saved: bool = False
    autopay_started: bool = False
    autopay_stopped: bool = False
    promised: date | None = None  # the date just promised


class Problem(StrEnum):
    INVALID = "invalid"  # what the customer entered cannot be done
    CONFLICT = "conflict"  # the invoice's state does not allow it now


@dataclass(frozen=True, slots=True)
class PayPageView:
    """Everything the pay page (or, once nothing is left to pay, the settled page) shows."""

    token: str
    locale: str
    invoice: InvoiceSummary
    payable: bool  # False: paid or void, the settled page instead
    minimum: int  # the least that may be paid now
    plans: tuple[PlanChoice, ...]  # installment plans on offer now
    waiting: WaitingInstallment | None
    in_plan: bool  # a plan (installments or autopay) is paying the invoice off
    autopay: bool  # the customer's future invoices are charged automatically
    promise: PromiseWindow | None  # None: no promise may be made now (nor while an installment plan runs)
    notices: Notices
    schedule: tuple[ScheduledPayment, ...] = ()  # the installment plan paying the invoice off, if one is
    problem: Problem | None = None
    amount_entered: str = ""  # shown again next to its error
    amount_error: PayerText | None = None
    plan_error: PayerText | None = None
    promise_error: PayerText | None = None

    @property
    def lang(self) -> str:
        """The language the page is served in (the locale's, or English where payportal has no catalog)."""
        return served_language(self.locale)


@dataclass(frozen=True, slots=True)
class Redirect:
    """Where the customer goes next, and the ids worth a log line."""

    url: str
    invoice_id: str
    customer_id: str
    checkout_ref: str | None = None


@dataclass(frozen=True, slots=True)
class ReturnView:
    """The page after Checkout: read from the ledger only, it never marks anything paid."""

    locale: str
    invoice: InvoiceSummary
    state: ReturnState | None  # None: the customer left Checkout without paying
    check_again: str  # this page's own path, to look again
    token: str | None  # the pay link this browser came from, when it is this invoice's: links back to it

    @property
    def lang(self) -> str:
        return served_language(self.locale)


def _view(
    ledger: Ledger, clock: Clock, config: PayPageConfig, page: PayPage, token: str, notices: Notices
) -> PayPageView:
    invoice, customer, now = page.invoice, page.customer, clock.now()
    plan = ledger.get_plan(invoice.id, invoice.active_plan) if invoice.active_plan else None
    schedule = _schedule(plan)
    # An installment plan has its own dates: no promise to pay is offered beside it.
    latest = None if schedule else latest_promise_date(invoice, customer.timezone, now, config.promise_max_days)
    due = failed_installment(plan)
    waiting_view = None
    if plan is not None and due is not None:
        waiting_view = WaitingInstallment(due.number, of=len(plan.installments), amount=due.amount, due_on=due.due_on)
    return PayPageView(
        token=token,
        locale=customer.locale,
        invoice=InvoiceSummary.of(invoice),
        payable=invoice.accepts_payment,
        minimum=invoice.minimum_payment(),
        plans=choices_for(page, now),
        waiting=waiting_view,
        in_plan=invoice.active_plan is not None,
        autopay=customer.autopay is not None,
        promise=PromiseWindow(local_date(now, customer.timezone), latest) if latest else None,
        notices=notices,
        schedule=schedule,
    )


def _schedule(plan: Plan | None) -> tuple[ScheduledPayment, ...]:
    if plan is None or plan.kind is not PlanKind.INSTALLMENTS:
        return ()
    current = failed_installment(plan)
    return tuple(
        ScheduledPayment(
            number=i.number,
            due_on=i.due_on,
            amount=i.amount,
            paid=i.status is InstallmentStatus.PAID,
            failed=current is not None and i.number == current.number,
        )
        for i in plan.installments
    )


def show_pay_page(ledger: Ledger, clock: Clock, config: PayPageConfig, *, token: str, notices: Notices) -> PayPageView:
    return _view(ledger, clock, config, open_pay_link(ledger, clock, token), token, notices)


def pay(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    config: PayPageConfig,
    *,
    token: str,
    amount_text: str,
    notices: Notices,
) -> Redirect | PayPageView:
    """The customer pays what remains, or (where partial payments are allowed) the amount they typed."""
    page = open_pay_link(ledger, clock, token)
    try:
        amount = parse_major_amount(amount_text, page.invoice.currency, page.customer.locale) if amount_text else None
        attempt = start_checkout(ledger, gateway, clock, config.checkout, page=page, amount=amount)
    except (InvalidAmount, InvoiceNotPayable, *_BUSY) as problem:
        view = _view(ledger, clock, config, page, token, notices)
        kind = Problem.INVALID if view.payable and not isinstance(problem, _BUSY) else Problem.CONFLICT
        return replace(view, problem=kind, amount_error=for_payer(problem), amount_entered=amount_text)
    return Redirect(attempt.url, attempt.invoice_id, attempt.customer_id, attempt.ref)


def choose_plan(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    config: PayPageConfig,
    *,
    token: str,
    key: str,
    notices: Notices,
) -> Redirect | PayPageView:
    """The customer picked an installment plan: Checkout for its first installment."""
    page = open_pay_link(ledger, clock, token)
    try:
        attempt = start_plan(ledger, gateway, clock, config.checkout, page=page, key=key)
    except InvalidPlan:
        view = _view(ledger, clock, config, page, token, notices)
        return replace(view, problem=Problem.INVALID, plan_error=CHOOSE_A_PLAN)
    except (InvoiceNotPayable, *_BUSY) as problem:
        view = _view(ledger, clock, config, page, token, notices)
        return replace(view, problem=Problem.CONFLICT, plan_error=for_payer(problem))
    return Redirect(attempt.url, attempt.invoice_id, attempt.customer_id, attempt.ref)


def pay_installment(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, config: PayPageConfig, *, token: str, notices: Notices
) -> Redirect | PayPageView:
    """Checkout for the installment the charge run could not take."""
    page = open_pay_link(ledger, clock, token)
    try:
        attempt = start_installment_checkout(ledger, gateway, clock, config.checkout, page=page)
    except (InvoiceNotPayable, *_BUSY) as problem:
        view = _view(ledger, clock, config, page, token, notices)
        return replace(view, problem=Problem.CONFLICT, plan_error=for_payer(problem))
    return Redirect(attempt.url, attempt.invoice_id, attempt.customer_id, attempt.ref)


def update_card(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, config: PayPageConfig, *, token: str
) -> Redirect:
    """Checkout in setup mode: a new card for the plan's remaining installments."""
    page = open_pay_link(ledger, clock, token)
    url = start_card_update(ledger, gateway, clock, config.checkout, page=page)
    return Redirect(url, page.invoice.id, page.customer.id)


def turn_on_autopay(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, config: PayPageConfig, *, token: str
) -> Redirect:
    """Checkout in setup mode: the card autopay will charge."""
    page = open_pay_link(ledger, clock, token)
    url = start_autopay_setup(ledger, gateway, clock, config.checkout, page=page)
    return Redirect(url, page.invoice.id, page.customer.id)


def turn_off_autopay(ledger: Ledger, clock: Clock, *, token: str) -> Redirect:
    page = open_pay_link(ledger, clock, token)
    disable_autopay(ledger, clock, page.customer.id, actor="customer")
    return Redirect(f"/pay/{token}?autopay=off", page.invoice.id, page.customer.id)


def promise(
    ledger: Ledger, clock: Clock, config: PayPageConfig, *, token: str, date_text: str, notices: Notices
) -> Redirect | PayPageView:
    """The customer promises to pay by a date (ISO, from the date input): reminders pause until then."""
    page = open_pay_link(ledger, clock, token)
    if page.invoice.active_plan:  # an installment plan's dates stand: the page offers no promise beside them
        on_plan = _view(ledger, clock, config, page, token, notices)
        if on_plan.schedule:
            return replace(on_plan, problem=Problem.CONFLICT, promise_error=PLAN_DATES_APPLY)
    try:
        promised = date.fromisoformat(date_text)
    except ValueError:
        view = _view(ledger, clock, config, page, token, notices)
        return replace(view, problem=Problem.INVALID, promise_error=CHOOSE_A_DATE)
    try:
        promise_to_pay(ledger, clock, page, promised=promised, max_days=config.promise_max_days)
    except (InvalidHold, InvalidStateTransition, InvoiceNotPayable) as problem:
        view = _view(ledger, clock, config, page, token, notices)
        return replace(view, problem=Problem.INVALID, promise_error=for_payer(problem))
    return Redirect(f"/pay/{token}?promised={promised.isoformat()}", page.invoice.id, page.customer.id)


def _own_link(ledger: Ledger, clock: Clock, token: str | None, invoice_id: str) -> str | None:
    """`token` (from this browser's cookie) when it is a usable pay link for this invoice, else None."""
    if not token:
        return None
    try:
        page = open_pay_link(ledger, clock, token)
    except PayLinkInvalid:
        return None
    return token if page.invoice.id == invoice_id else None


def returned(
    ledger: Ledger, clock: Clock, *, invoice_id: str, ref: str, cancelled: bool, cookie_token: str | None
) -> ReturnView | Redirect:
    """Back from Checkout. The URL names the attempt only; the pay link, if this browser came from one for
    this invoice, comes from its cookie. Cancelled with that link: back to the pay page."""
    outcome = checkout_outcome(ledger, invoice_id=invoice_id, ref=ref)
    invoice = outcome.invoice
    token = _own_link(ledger, clock, cookie_token, invoice.id)
    if cancelled and token:
        return Redirect(f"/pay/{token}?cancelled=1", invoice.id, invoice.customer_id, ref)
    customer = ledger.get_customer(invoice.customer_id)
    return ReturnView(
        locale=customer.locale if customer else "en",
        invoice=InvoiceSummary.of(invoice),
        state=None if cancelled else outcome.state,
        check_again=return_path(invoice.id, ref),
        token=token,
    )


@dataclass(frozen=True, slots=True)
class SetupReturnView:
    """The page after a card setup, for a browser without the invoice's pay link: it says to open the email."""

    locale: str

    @property
    def lang(self) -> str:
        return served_language(self.locale)


def returned_from_setup(
    ledger: Ledger, clock: Clock, *, invoice_id: str, notice: str, cookie_token: str | None
) -> Redirect | SetupReturnView:
    """Back from Checkout in setup mode: to the pay page with `notice` (e.g. "card=saved") when this
    browser holds the invoice's pay link; else the setup page, in the invoice's customer's language."""
    token = _own_link(ledger, clock, cookie_token, invoice_id)
    if token is None:
        invoice = ledger.get_invoice(invoice_id)
        customer = ledger.get_customer(invoice.customer_id) if invoice else None
        return SetupReturnView(locale=customer.locale if customer else "en")
    return Redirect(f"/pay/{token}" + (f"?{notice}" if notice else ""), invoice_id, "")
