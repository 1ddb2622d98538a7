"""What the console's pages show and the actions they take, each behind the role policy.

Every function takes the signed-in session and checks its roles first (shared.domain.console_roles): the
pages hide what a role may not do, and these checks refuse it whatever a browser sends. Actions call the
same services as the operator API, audited with the staff member's identity.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from shared.clock import Clock
from shared.domain.console_roles import Action, allowed_actions, require
from shared.domain.console_session import ConsoleSession
from shared.domain.errors import DomainError, InvalidDate, InvalidHold, NotFound
from shared.domain.invoices import Invoice
from shared.domain.money import normalise_currency, parse_major_amount
from shared.domain.records import (
    AuditEntry,
    AuditSubject,
    Customer,
    Drift,
    OfflineMethod,
    Payment,
    Plan,
    StripeEventRecord,
)
from shared.domain.subject_access import SubjectAccessExport
from shared.domain.text import strip_bidi_controls
from shared.schema import DUE_WORK_SHARDS
from shared.services import invoices, lists, offline_payments, refunds, subject_access
from shared.services.gateway import PaymentGateway
from shared.services.lists import InvoiceFilters, InvoiceRow
from shared.services.offline_payments import OfflinePaymentAsk
from shared.services.ports import Ledger, RunOnce
from shared.services.privacy_ports import SubjectRecords
from shared.services.refunds import RefundAsk
from shared.services.subject_access import READ_ACTIONS, Read, record_read

TODAY_LIMIT = 20  # items per list on Today: a worklist, each list links on to its full view
TODAY_CURRENCIES = 5  # the lists index answers per currency: at most this many currencies' lists on one page
TIMELINE_LIMIT = 50
HOLD_REASON_MAX = 200  # as the operator API allows (NewHold)
REFERENCE_MAX = 100  # as the operator API allows (NewOfflinePayment)
INVOICE_NUMBER_MAX = 64  # as the operator API allows (NewInvoice)
STAFF_LOCALE = "en"  # how staff type amounts: 1234.56
# Our ids and Stripe's: letters, digits, _ and -, well under DynamoDB's key size. Anything else in a URL or a
# form names nothing we hold: a 404, before a key DynamoDB would refuse (a 500) is built from it.
_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")


def known_shape(value: str, field: str) -> str:
    if not _ID.fullmatch(value):
        raise NotFound(f"no such {field.removesuffix('_id')}", field=field)
    return value


class InvalidValue(DomainError):
    """A form field the console cannot take as it is (a 422 page naming it)."""

    code = "invalid_value"


@dataclass(frozen=True, slots=True)
class TodayView:
    reminders_due: list[Invoice]  # invoices whose next reminder is due now (the due_work index)
    flagged_events: list[StripeEventRecord]  # Stripe events that did not match what we recorded
    failed_events: list[StripeEventRecord]
    drift: list[Drift]  # what reconciliation could not settle
    actions: frozenset[Action]
    currencies: list[str]  # those the overdue, promised and disputed lists below are for
    overdue: list[InvoiceRow]  # most days overdue first
    promised: list[InvoiceRow]  # the customer promised a date on the pay page
    disputed: list[InvoiceRow]  # a Stripe dispute is open


@dataclass(frozen=True, slots=True)
class InvoiceView:
    invoice: Invoice
    customer: Customer | None
    payments: list[Payment]
    plan: Plan | None
    timeline: list[AuditEntry]  # newest first
    actions: frozenset[Action]
    now: datetime
    form_key: str  # the idempotency key of this page's forms: a second submit of one applies nothing more


def today(ledger: Ledger, clock: Clock, session: ConsoleSession, currency: str | None = None) -> TodayView:
    """The worklist: reminders due now (the due_work index), and per currency (those of the reminders due, or
    the one asked for) what is overdue, promised and disputed (the lists index); Stripe events to review."""
    require(session.roles, Action.VIEW)
    now = clock.now()
    due: list[Invoice] = []
    for shard in range(DUE_WORK_SHARDS):
        page = ledger.due_invoices(shard, now, TODAY_LIMIT, None)
        due.extend(item for item in page.items if isinstance(item, Invoice))
    due.sort(key=lambda invoice: (invoice.due_date, invoice.number))
    asked = [normalise_currency(currency)] if currency else []
    currencies = list(dict.fromkeys([*asked, *sorted({invoice.currency for invoice in due})]))[:TODAY_CURRENCIES]

    def rows(
        overdue: bool | None = None, promised: bool | None = None, disputed: bool | None = None
    ) -> list[InvoiceRow]:
        found: list[InvoiceRow] = []
        for code in currencies:
            wanted = InvoiceFilters(currency=code, overdue=overdue, promised=promised, disputed=disputed)
            page = lists.list_invoices(ledger, clock, wanted, limit=TODAY_LIMIT, cursor=None)
            found.extend(row for row in page.items if isinstance(row, InvoiceRow))
        return found

    overdue = sorted(rows(overdue=True), key=lambda row: (-row.days_overdue, row.invoice.number))[:TODAY_LIMIT]
    return TodayView(
        currencies=currencies,
        overdue=overdue,
        promised=rows(promised=True)[:TODAY_LIMIT],
        disputed=rows(disputed=True)[:TODAY_LIMIT],
        reminders_due=due[:TODAY_LIMIT],
        flagged_events=list(ledger.list_stripe_events(TODAY_LIMIT, None, outcome="flagged").items),
        failed_events=list(ledger.list_stripe_events(TODAY_LIMIT, None, outcome="failed").items),
        drift=ledger.list_drift()[:TODAY_LIMIT],
        actions=allowed_actions(session.roles),
    )


def invoice_page(ledger: Ledger, clock: Clock, session: ConsoleSession, invoice_id: str) -> InvoiceView:
    require(session.roles, Action.VIEW)
    known_shape(invoice_id, "invoice_id")
    details = invoices.invoice_details(ledger, invoice_id)
    trail = ledger.list_audit(AuditSubject.INVOICE, invoice_id, TIMELINE_LIMIT, None)
    # The read audit: this view of the customer's invoice, under the customer (one put per page view)
    record_read(ledger, clock, details.invoice.customer_id, Read.INVOICE_VIEWED, actor=session.actor,
                invoice_id=invoice_id)  # fmt: skip
    return InvoiceView(
        invoice=details.invoice,
        customer=ledger.get_customer(details.invoice.customer_id),
        payments=details.payments,
        plan=details.plan,
        timeline=[entry for entry in trail.items if isinstance(entry, AuditEntry)],
        actions=allowed_actions(session.roles),
        now=clock.now(),
        form_key=secrets.token_urlsafe(16),
    )


def place_hold(
    ledger: Ledger, clock: Clock, session: ConsoleSession, invoice_id: str, *, reason: str, until: datetime | None
) -> None:
    require(session.roles, Action.PLACE_HOLD)
    known_shape(invoice_id, "invoice_id")
    reason = strip_bidi_controls(reason).strip()
    if not reason or len(reason) > HOLD_REASON_MAX:
        raise InvalidHold(f"a hold needs a reason of 1 to {HOLD_REASON_MAX} characters", field="reason")
    invoices.place_hold(ledger, clock, invoice_id, reason=reason, until=until, actor=session.actor)


def release_hold(ledger: Ledger, clock: Clock, session: ConsoleSession, invoice_id: str) -> None:
    require(session.roles, Action.RELEASE_HOLD)
    known_shape(invoice_id, "invoice_id")
    invoices.release_hold(ledger, clock, invoice_id, actor=session.actor)


@dataclass(frozen=True, slots=True)
class PaymentForm:
    """What the Invoice page's form sends for money received outside Stripe (a cheque, a transfer)."""

    amount: str
    method: str
    reference: str
    received_on: str
    key: str


def record_payment(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    once: RunOnce,
    session: ConsoleSession,
    invoice_id: str,
    form: PaymentForm,
) -> None:
    """Record money received outside Stripe, through the operator API's own service (its idempotency too)."""
    require(session.roles, Action.RECORD_PAYMENT)
    known_shape(invoice_id, "invoice_id")
    invoice = invoices.get_invoice(ledger, invoice_id)
    try:
        method = OfflineMethod(form.method)
    except ValueError:
        raise InvalidValue("choose how the money came in", field="method") from None
    try:
        received_on = date.fromisoformat(form.received_on)
    except ValueError:
        raise InvalidDate("received on must be a date such as 2027-02-27", field="received_on") from None
    reference = strip_bidi_controls(form.reference).strip()
    if len(reference) > REFERENCE_MAX:
        raise InvalidValue(f"the reference has at most {REFERENCE_MAX} characters", field="reference")
    ask = OfflinePaymentAsk(
        amount=parse_major_amount(form.amount, invoice.currency, STAFF_LOCALE),
        method=method,
        reference=reference,
        received_on=received_on,
    )
    fingerprint = {
        "amount": ask.amount,
        "method": method.value,
        "reference": reference,
        "received_on": form.received_on,
    }
    offline_payments.record_offline_payment_once(
        ledger, gateway, clock, once, invoice_id, ask, key=form.key or None, fingerprint=fingerprint,
        actor=session.actor,
    )  # fmt: skip


REFUND_REASONS = ("requested_by_customer", "duplicate", "fraudulent")  # as Stripe (and the operator API) takes them


@dataclass(frozen=True, slots=True)
class RefundForm:
    """What the Invoice page's refund form for one payment sends; an empty amount refunds all that is left."""

    payment_id: str
    amount: str
    reason: str
    key: str


def refund_payment(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    once: RunOnce,
    session: ConsoleSession,
    invoice_id: str,
    form: RefundForm,
) -> None:
    """Refund (part of) a payment at Stripe, through the operator API's own service; the admin's alone."""
    require(session.roles, Action.REFUND)
    known_shape(invoice_id, "invoice_id")
    known_shape(form.payment_id, "payment_id")
    invoice = invoices.get_invoice(ledger, invoice_id)
    if all(payment.key != form.payment_id for payment in ledger.get_invoice_payments(invoice_id)):
        raise NotFound(f"no payment {form.payment_id} on invoice {invoice.number}", field="payment_id")
    if form.reason not in REFUND_REASONS:
        raise InvalidValue("choose why the money goes back", field="reason")
    amount = parse_major_amount(form.amount, invoice.currency, STAFF_LOCALE) if form.amount.strip() else None
    ask = RefundAsk(amount=amount, reason=form.reason, reopen_balance=False)
    refunds.refund_payment_once(
        ledger, gateway, clock, once, form.payment_id, ask, key=form.key or None,
        fingerprint={"amount": amount, "reason": form.reason, "reopen_balance": False, "credit": False},
        actor=session.actor,
    )  # fmt: skip


def find_invoice(ledger: Ledger, clock: Clock, session: ConsoleSession, number: str) -> str:
    """The id of the invoice with this number (the lists index's number listing), or NotFound."""
    require(session.roles, Action.VIEW)
    number = strip_bidi_controls(number).strip()
    if not number or len(number) > INVOICE_NUMBER_MAX:
        raise NotFound("no invoice has that number", field="number")
    page = lists.list_invoices(ledger, clock, InvoiceFilters(number=number), limit=1, cursor=None)
    for row in page.items:
        if isinstance(row, InvoiceRow):
            return row.invoice.id
    raise NotFound(f"no invoice numbered {number}", field="number")


CUSTOMER_PAGE_LIMIT = 50  # invoices, payments and timeline entries on the Customer page (newest payments first)


@dataclass(frozen=True, slots=True)
class CustomerView:
    customer: Customer
    invoices: list[Invoice]  # oldest first
    payments: list[Payment]  # newest first
    timeline: list[AuditEntry]  # newest first
    actions: frozenset[Action]
    now: datetime
    form_key: str  # as on the Invoice page: a second submit of one of its forms applies nothing more


def customer_export(
    records: SubjectRecords, ledger: Ledger, clock: Clock, session: ConsoleSession, customer_id: str
) -> SubjectAccessExport:
    """Everything held about the customer, for a subject-access request (admins only), audited as the staff
    member's `customer.exported` (via console)."""
    require(session.roles, Action.EXPORT_CUSTOMER)
    known_shape(customer_id, "customer_id")
    return subject_access.export(records, ledger, clock, customer_id, actor=session.actor, via="console")


def customer_page(ledger: Ledger, clock: Clock, session: ConsoleSession, customer_id: str) -> CustomerView:
    require(session.roles, Action.VIEW)
    known_shape(customer_id, "customer_id")
    customer = ledger.get_customer(customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}", field="customer_id")
    owned = ledger.list_customer_invoices(customer_id, CUSTOMER_PAGE_LIMIT, None)
    paid = ledger.list_customer_payments(customer_id, CUSTOMER_PAGE_LIMIT, None)
    trail = ledger.list_audit(AuditSubject.CUSTOMER, customer_id, CUSTOMER_PAGE_LIMIT, None)
    record_read(ledger, clock, customer_id, Read.VIEWED, actor=session.actor)  # the read audit: one put a view
    return CustomerView(
        customer=customer,
        invoices=[i for i in owned.items if isinstance(i, Invoice)],
        payments=[p for p in paid.items if isinstance(p, Payment)],
        # what happened to the record; the reads of it are in its audit trail (GET /v1/customers/{id}/audit)
        timeline=[e for e in trail.items if isinstance(e, AuditEntry) and e.action not in READ_ACTIONS],
        actions=allowed_actions(session.roles),
        now=clock.now(),
        form_key=secrets.token_urlsafe(16),
    )
