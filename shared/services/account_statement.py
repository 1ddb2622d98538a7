"""The statement a signed-in customer sees at /account: every invoice of theirs, open and settled, what is
overdue in the operator's aging buckets (reports.aging_bucket), totals per currency, payments and refunds,
installment schedules and the plans on offer; paying an invoice (Checkout, as the pay page starts it) and
promising to pay from it.

Read by the by_owner index (a customer's invoices and payments), never a scan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final

from shared.clock import Clock
from shared.domain.account import AccountSession
from shared.domain.errors import (
    ConcurrentUpdate,
    InvalidAmount,
    InvalidHold,
    InvalidStateTransition,
    InvoiceNotPayable,
    NotFound,
    PaymentInProgress,
)
from shared.domain.invoices import Invoice, InvoiceStatus, PaymentStatus
from shared.domain.languages import served_language
from shared.domain.local_time import local_date
from shared.domain.money import parse_major_amount
from shared.domain.plans import PlanChoice
from shared.domain.records import Customer, InstallmentStatus, Payment, PlanKind, PlanStatus
from shared.services.aggregates import PROMISE_REASON
from shared.services.checkout import CheckoutConfig, PayPage, latest_promise_date, promise_to_pay, start_checkout
from shared.services.gateway import PaymentGateway
from shared.services.plans import choices_for
from shared.services.ports import Ledger, Page
from shared.services.reports import AGING_BUCKETS, aging_bucket

PAGE_SIZE: Final = 100
MAX_PAGES: Final = 20  # 2,000 invoices and 2,000 payments per customer record at most on one page


@dataclass(frozen=True, slots=True)
class ScheduledInstallment:
    number: int
    due_on: date
    amount: int
    paid: bool


@dataclass(frozen=True, slots=True)
class Schedule:
    """An installment plan (or autopay's one charge) paying an invoice off."""

    autopay: bool
    installments: tuple[ScheduledInstallment, ...]
    next: ScheduledInstallment | None


@dataclass(frozen=True, slots=True)
class StatementInvoice:
    id: str
    number: str
    description: str
    status: InvoiceStatus
    currency: str
    due_date: date
    amount_due: int
    amount_paid: int
    amount_remaining: int
    amount_refunded: int
    bucket: str | None  # the aging bucket of what is owed (None: nothing owed)
    payable: bool
    schedule: Schedule | None
    allow_partial: bool = False
    minimum: int = 0  # the least that may be paid now (partial payments)
    promise_until: date | None = None  # the latest day a promise to pay may name (None: none may be made now)
    promised_on: date | None = None  # the day promised, while the promise runs
    plans: tuple[PlanChoice, ...] = ()  # the installment plans it may be paid by now (as on the pay page)

    @property
    def overdue(self) -> bool:
        return self.bucket not in (None, "current")


@dataclass(frozen=True, slots=True)
class StatementRefund:
    amount: int
    status: str
    at: date


@dataclass(frozen=True, slots=True)
class StatementPayment:
    payment_id: str
    invoice_id: str
    invoice_number: str
    amount: int
    currency: str
    status: PaymentStatus
    received_on: date
    method: str
    refunds: tuple[StatementRefund, ...]


@dataclass(frozen=True, slots=True)
class CurrencyTotal:
    currency: str
    owed: int
    overdue: int
    buckets: dict[str, int]  # AGING_BUCKETS -> amount


@dataclass(frozen=True, slots=True)
class CustomerStatement:
    customer_id: str
    name: str
    autopay: bool
    invoices: tuple[StatementInvoice, ...]
    payments: tuple[StatementPayment, ...]

    @property
    def open_invoices(self) -> tuple[StatementInvoice, ...]:
        return tuple(i for i in self.invoices if i.payable)

    @property
    def settled_invoices(self) -> tuple[StatementInvoice, ...]:
        return tuple(i for i in self.invoices if not i.payable)

    @property
    def payable_together(self) -> tuple[tuple[str, tuple[StatementInvoice, ...]], ...]:
        """Per currency, the open invoices that can be paid in one Checkout, where there are two or more: those
        with something left to pay and no installment plan (a plan's schedule pays those)."""
        per: dict[str, list[StatementInvoice]] = {}
        for invoice in self.open_invoices:
            if invoice.amount_remaining > 0 and invoice.schedule is None:
                per.setdefault(invoice.currency, []).append(invoice)
        return tuple((currency, tuple(found)) for currency, found in sorted(per.items()) if len(found) > 1)


@dataclass(frozen=True, slots=True)
class Notices:
    autopay_on: bool = False  # back from Checkout in setup mode: on once Stripe confirms
    autopay_off: bool = False
    promised: str = ""  # the invoice just promised (its id)
    pay_refused: str = ""  # the invoice whose payment could not be started (its id)
    promise_refused: str = ""  # the invoice whose promise could not be recorded (its id)
    together: str = ""  # the customer whose invoices could not be paid together (its id)
    together_refused: str = ""  # why (account_pay_together.SelectionRefused)
    plan_refused: str = ""  # the invoice whose installment plan could not be started (its id)


@dataclass(frozen=True, slots=True)
class Statement:
    locale: str
    today: date
    customers: tuple[CustomerStatement, ...]
    totals: tuple[CurrencyTotal, ...]
    notices: Notices = field(default_factory=Notices)

    @property
    def lang(self) -> str:
        return served_language(self.locale)


def every(read: Callable[[str, int, str | None], Page], customer_id: str) -> list[object]:
    """Every item a customer's paged list holds (their invoices, their payments), up to MAX_PAGES pages."""
    found: list[object] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = read(customer_id, PAGE_SIZE, cursor)
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    return found


def _schedule(ledger: Ledger, invoice: Invoice) -> Schedule | None:
    plan = ledger.get_plan(invoice.id, invoice.active_plan) if invoice.active_plan else None
    if plan is None or plan.status not in (PlanStatus.ACTIVE, PlanStatus.AWAITING_FIRST):
        return None
    rows = tuple(
        ScheduledInstallment(i.number, i.due_on, i.amount, i.status is InstallmentStatus.PAID)
        for i in plan.installments
    )
    current = plan.current
    upcoming = next((r for r in rows if current is not None and r.number == current.number), None)
    return Schedule(autopay=plan.kind is PlanKind.AUTOPAY, installments=rows, next=upcoming)


def _invoice(ledger: Ledger, invoice: Invoice, customer: Customer, now: datetime, max_days: int) -> StatementInvoice:
    today = local_date(now, customer.timezone)
    owed = invoice.accepts_payment and invoice.amount_remaining > 0
    hold = invoice.hold
    running = invoice.promised_at and hold and hold.reason == PROMISE_REASON and hold.until and hold.active_at(now)
    # The hold lasts to the end of the promised day in the customer's zone: the day is the one before it ends.
    promised = (
        local_date(hold.until, customer.timezone) - timedelta(days=1) if running and hold and hold.until else None
    )
    return StatementInvoice(
        id=invoice.id,
        number=invoice.number,
        description=invoice.description,
        status=invoice.status,
        currency=invoice.currency,
        due_date=invoice.due_date,
        amount_due=invoice.amount_due,
        amount_paid=invoice.amount_paid,
        amount_remaining=invoice.amount_remaining,
        amount_refunded=invoice.amount_refunded,
        bucket=aging_bucket(today, invoice.due_date) if owed else None,
        payable=invoice.accepts_payment,
        allow_partial=invoice.allow_partial and invoice.accepts_payment,
        minimum=invoice.minimum_payment() if invoice.accepts_payment else 0,
        schedule=_schedule(ledger, invoice) if invoice.active_plan else None,
        promise_until=None if invoice.active_plan else latest_promise_date(invoice, customer.timezone, now, max_days),
        promised_on=promised,
        plans=choices_for(PayPage(invoice, customer), now),
    )


def _payment(payment: Payment, timezone: str) -> StatementPayment:
    return StatementPayment(
        payment_id=payment.key,
        invoice_id=payment.invoice_id,
        invoice_number=payment.invoice_number,
        amount=payment.amount,
        currency=payment.currency,
        status=payment.status,
        received_on=local_date(payment.created_at, timezone),
        method=payment.method,
        refunds=tuple(
            StatementRefund(r.amount, r.status.value, local_date(r.booked_at, timezone)) for r in payment.refunds
        ),
    )


def _customer(ledger: Ledger, customer: Customer, now: datetime, max_days: int) -> CustomerStatement:
    invoices = [i for i in every(ledger.list_customer_invoices, customer.id) if isinstance(i, Invoice)]
    invoices.sort(key=lambda i: (not i.accepts_payment, i.due_date, i.number))
    payments = [p for p in every(ledger.list_customer_payments, customer.id) if isinstance(p, Payment)]
    return CustomerStatement(
        customer_id=customer.id,
        name=customer.name,
        autopay=customer.autopay is not None,
        invoices=tuple(_invoice(ledger, i, customer, now, max_days) for i in invoices),
        payments=tuple(_payment(p, customer.timezone) for p in payments if p.status is not PaymentStatus.FAILED),
    )


def _totals(customers: tuple[CustomerStatement, ...]) -> tuple[CurrencyTotal, ...]:
    per: dict[str, dict[str, int]] = {}
    for statement in customers:
        for invoice in statement.invoices:
            if invoice.bucket is None:
                continue
            buckets = per.setdefault(invoice.currency, dict.fromkeys(AGING_BUCKETS, 0))
            buckets[invoice.bucket] += invoice.amount_remaining
    return tuple(
        CurrencyTotal(code, sum(b.values()), sum(v for k, v in b.items() if k != "current"), b)
        for code, b in sorted(per.items())
    )


def owned_customers(ledger: Ledger, session: AccountSession) -> list[Customer]:
    found = ledger.get_customers(list(session.customer_ids))
    return [found[cid] for cid in session.customer_ids if cid in found]


def statement(
    ledger: Ledger, clock: Clock, session: AccountSession, *, notices: Notices, promise_max_days: int
) -> Statement:
    now = clock.now()
    customers = owned_customers(ledger, session)
    statements = tuple(_customer(ledger, c, now, promise_max_days) for c in customers)
    first = customers[0] if customers else None
    return Statement(
        locale=first.locale if first else "en",
        today=local_date(now, first.timezone) if first else now.date(),
        customers=statements,
        totals=_totals(statements),
        notices=notices,
    )


def owned_invoice(ledger: Ledger, session: AccountSession, invoice_id: str) -> Invoice:
    """The invoice, if it is one of this session's customers'; NotFound otherwise (another's looks unknown)."""
    invoice = ledger.get_invoice(invoice_id) if invoice_id and len(invoice_id) <= 64 else None
    if invoice is None or not session.opens(invoice.customer_id):
        raise NotFound("no such invoice")
    return invoice


def pay_invoice(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    config: CheckoutConfig,
    session: AccountSession,
    invoice_id: str,
    *,
    amount_text: str,
) -> str:
    """Checkout for the invoice, started from the account, as the pay page starts it (checkout.start_checkout:
    one payable session per invoice, the same return pages, no token in any URL Stripe keeps); what remains, or
    where partial payments are allowed the amount typed in the customer's way of writing numbers. Where the
    browser goes next: Checkout, or back to the statement saying it could not be started. No pay link is minted:
    a pay page would offer autopay and plan changes without the account's step-up."""
    invoice = owned_invoice(ledger, session, invoice_id)
    customer = ledger.get_customer(invoice.customer_id)
    if customer is None:
        raise NotFound("no such invoice")
    try:
        partial = amount_text and invoice.allow_partial  # the form offers an amount only where it may be partial
        amount = parse_major_amount(amount_text, invoice.currency, customer.locale) if partial else None
        attempt = start_checkout(ledger, gateway, clock, config, page=PayPage(invoice, customer), amount=amount)
    except (InvalidAmount, InvoiceNotPayable, PaymentInProgress, ConcurrentUpdate):
        return f"/account?pay_refused={invoice.id}#inv-{invoice.id}"
    return attempt.url


def promise(
    ledger: Ledger, clock: Clock, session: AccountSession, invoice_id: str, *, date_text: str, max_days: int
) -> str:
    """A promise to pay by a date (ISO, from the date input), as on the pay page (checkout.promise_to_pay):
    where the browser goes next, the statement saying it was recorded, or that it could not be."""
    invoice = owned_invoice(ledger, session, invoice_id)
    customer = ledger.get_customer(invoice.customer_id)
    if customer is None:
        raise NotFound("no such invoice")
    try:
        promised = date.fromisoformat(date_text)
        promise_to_pay(ledger, clock, PayPage(invoice, customer), promised=promised, max_days=max_days,
                       actor=session.actor)  # fmt: skip
    except (ValueError, InvalidHold, InvalidStateTransition, InvoiceNotPayable):
        return f"/account?promise_refused={invoice.id}#inv-{invoice.id}"
    return f"/account?promised={invoice.id}#inv-{invoice.id}"
