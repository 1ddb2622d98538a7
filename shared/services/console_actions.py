"""The console's actions on an invoice and a customer beyond holds, payments and refunds (console_pages):
promises noted on the customer's behalf, pay links resent and revoked, notes, voids, credit notes, invoice
and customer corrections, customer holds and autopay off.

Each checks the role first (shared.domain.console_roles), reads the form into what the operator API's own
service takes (a field it cannot take is `BadField`: a 400 page naming it, before anything is
written), and calls that service with the staff member as the actor, so it is audited as them. A form sent
twice applies once (decision 88): actions that would apply again run under a once-record whose key is the
page's form key, the action and a digest of what the form says; the others are no-ops when repeated (void,
release, autopay off, a correction to the values already held).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.clock import Clock
from shared.domain.console_roles import Action, require
from shared.domain.console_session import ConsoleSession
from shared.domain.errors import DomainError
from shared.domain.invoices import Invoice
from shared.domain.money import parse_major_amount
from shared.domain.records import AuditEntry, AuditSubject, Customer
from shared.domain.text import is_email_address, strip_bidi_controls
from shared.services import corrections, customers, erasure, invoices, pay_links
from shared.services.autopay import disable_autopay
from shared.services.checkout import PayPage, promise_to_pay
from shared.services.console_pages import STAFF_LOCALE, known_shape
from shared.services.customers import CustomerCorrection
from shared.services.erasure import OpenInvoices
from shared.services.gateway import PaymentGateway
from shared.services.once import scoped_key
from shared.services.ports import Change, ChangeRejected, Ledger, Rejection, RunOnce

AMOUNT_MAX: Final = 99_999_999  # as the operator API allows (MinorUnits: Stripe's ceiling for one charge)
EARLIEST_DATE: Final = date(2000, 1, 1)  # as the operator API allows (BusinessDate)
LATEST_DATE: Final = date(2099, 12, 31)
NOTE_MAX: Final = 2000  # a note is an audit entry: a paragraph or two, well inside DynamoDB's item size
REASON_MAX: Final = 200  # a credit note's or a hold's reason, as the operator API allows
DESCRIPTION_MAX: Final = 500  # as the operator API allows (InvoiceChanges)
NAME_MAX: Final = 200  # as the operator API allows (CustomerChanges)


class BadField(DomainError):
    """A form field the console cannot take as sent (empty, too long, not a number or a date): a 400 page."""

    code = "bad_field"


# ----- reading a form ---------------------------------------------------------------------------------------


def _text(value: str, field: str, limit: int, *, required: bool = True) -> str:
    text = strip_bidi_controls(value).strip()
    if required and not text:
        raise BadField(f"{field.replace('_', ' ')} is required", field=field)
    if len(text) > limit:
        raise BadField(f"{field.replace('_', ' ')} has at most {limit} characters", field=field)
    return text


def _amount(value: str, currency: str, field: str, *, owed: int | None = None) -> int:
    """An amount typed in major units (12.50), at most Stripe's ceiling and, given `owed`, what is owed."""
    try:
        amount = parse_major_amount(value, currency, STAFF_LOCALE)
    except DomainError as refused:
        raise BadField(f"{field.replace('_', ' ')}: {refused.message}", field=field) from None
    if amount > AMOUNT_MAX:
        raise BadField(f"{field.replace('_', ' ')} is more than one invoice can be", field=field)
    if owed is not None and amount > owed:
        raise BadField(f"{field.replace('_', ' ')} is more than the invoice still owes", field=field)
    return amount


def _date(value: str, field: str) -> date:
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise BadField(f"{field.replace('_', ' ')} must be a date such as 2027-02-27", field=field) from None
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise BadField(f"{field.replace('_', ' ')} must be from {EARLIEST_DATE} to {LATEST_DATE}", field=field)
    return parsed


def form_key(action: Action, subject_id: str, key: str, said: dict[str, Any]) -> str:
    """The idempotency key of one action of one page's form: the same form sent again finds its first run; the
    form changed and sent again (a typo fixed after going back) is a new request, never a refused repeat."""
    if not key.strip():
        raise BadField("the form has no key: reload the page and send it again", field="key")
    digest = hashlib.sha256(json.dumps(said, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{action.value}:{subject_id}:{key.strip()[:64]}:{digest}"


def _apply_once(
    once: RunOnce, session: ConsoleSession, key: str, said: dict[str, Any], work: Callable[[], dict[str, str]]
) -> None:
    """`work` at most once per staff member and `key` (from `form_key`)."""
    once(scoped_key(session.actor, key), said, work)


def _invoice(ledger: Ledger, session: ConsoleSession, action: Action, invoice_id: str) -> Invoice:
    require(session.roles, action)
    return invoices.get_invoice(ledger, known_shape(invoice_id, "invoice_id"))


def _customer(ledger: Ledger, session: ConsoleSession, action: Action, customer_id: str) -> Customer:
    require(session.roles, action)
    return customers.get_customer(ledger, known_shape(customer_id, "customer_id"))


# ----- the Invoice page -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PromiseForm:
    """A promise the customer made by phone or letter: to pay `amount` by `date` (their own local date)."""

    date: str
    amount: str
    key: str


def note_promise(
    ledger: Ledger, clock: Clock, once: RunOnce, session: ConsoleSession, invoice_id: str, form: PromiseForm,
    *, max_days: int,
) -> None:  # fmt: skip
    """The pay page's own promise (reminders pause until the end of that day), noted by staff: the audit
    entry names them and the amount promised; the pay page's rules hold (one promise, at most max_days)."""
    invoice = _invoice(ledger, session, Action.NOTE_PROMISE, invoice_id)
    promised = _date(form.date, "date")
    amount = _amount(form.amount, invoice.currency, "amount", owed=invoice.amount_remaining)
    customer = customers.get_customer(ledger, invoice.customer_id)
    said = {"date": promised.isoformat(), "amount": amount}

    def work() -> dict[str, str]:
        page = PayPage(invoice=invoices.get_invoice(ledger, invoice.id), customer=customer)
        promise_to_pay(ledger, clock, page, promised=promised, max_days=max_days, actor=session.actor, amount=amount)
        return {"invoice_id": invoice.id}

    _apply_once(once, session, form_key(Action.NOTE_PROMISE, invoice.id, form.key, said), said, work)


def resend_pay_link(
    ledger: Ledger, clock: Clock, once: RunOnce, session: ConsoleSession, invoice_id: str, key: str, *, ttl_days: int
) -> None:
    """A new email to the customer with a fresh pay link, through the operator API's own service (send=True);
    sent twice, one email goes."""
    invoice = _invoice(ledger, session, Action.RESEND_PAY_LINK, invoice_id)
    said = {"send": True}
    key_of_form = form_key(Action.RESEND_PAY_LINK, invoice.id, key, said)
    pay_links.issue_pay_link_once(
        ledger, clock, once, invoice.id, send=True, key=key_of_form, fingerprint=said, actor=session.actor,
        ttl_days=ttl_days,
    )  # fmt: skip


def revoke_pay_links(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, once: RunOnce, session: ConsoleSession, invoice_id: str,
    key: str,
) -> None:  # fmt: skip
    """Every pay link sent so far stops working (the operator API's service); sent twice, links minted in
    between by a reminder stay alive."""
    invoice = _invoice(ledger, session, Action.REVOKE_PAY_LINK, invoice_id)
    said = {"revoke": True}

    def work() -> dict[str, str]:
        pay_links.revoke_pay_links(ledger, gateway, clock, invoice.id, actor=session.actor)
        return {"invoice_id": invoice.id}

    _apply_once(once, session, form_key(Action.REVOKE_PAY_LINK, invoice.id, key, said), said, work)


@dataclass(frozen=True, slots=True)
class NoteForm:
    text: str
    key: str


def add_note(
    ledger: Ledger, clock: Clock, once: RunOnce, session: ConsoleSession, subject: AuditSubject, subject_id: str,
    form: NoteForm,
) -> None:  # fmt: skip
    """A free-text note on an invoice or a customer: an audit entry of its own (`<subject>.note_added`), shown
    on the timeline; nothing else changes."""
    if subject is AuditSubject.INVOICE:
        held_id = _invoice(ledger, session, Action.ADD_NOTE, subject_id).id
    else:
        held_id = _customer(ledger, session, Action.ADD_NOTE, subject_id).id
    text = _text(form.text, "note", NOTE_MAX)
    said = {"note": text}

    def work() -> dict[str, str]:
        entry = AuditEntry(
            subject=subject, subject_id=held_id, action=f"{subject.value}.note_added", actor=session.actor,
            at=clock.now(), details=said,
        )  # fmt: skip
        ledger.commit(Change(audit=[entry]))
        return {"subject_id": held_id}

    _apply_once(once, session, form_key(Action.ADD_NOTE, held_id, form.key, said), said, work)


def void_invoice(ledger: Ledger, clock: Clock, session: ConsoleSession, invoice_id: str) -> None:
    """The operator API's void (an open invoice with no payment); voiding again is a no-op."""
    invoice = _invoice(ledger, session, Action.VOID, invoice_id)
    invoices.void_invoice(ledger, clock, invoice.id, actor=session.actor)


@dataclass(frozen=True, slots=True)
class CreditNoteForm:
    amount: str
    reason: str
    key: str


def issue_credit_note(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, once: RunOnce, session: ConsoleSession, invoice_id: str,
    form: CreditNoteForm,
) -> None:  # fmt: skip
    """Lower what the invoice owes, at most what is still owed, through the operator API's own service."""
    invoice = _invoice(ledger, session, Action.CREDIT_NOTE, invoice_id)
    amount = _amount(form.amount, invoice.currency, "amount", owed=invoice.amount_remaining)
    reason = _text(form.reason, "reason", REASON_MAX)
    said = {"amount": amount, "reason": reason}
    corrections.issue_credit_note_once(
        ledger, gateway, clock, once, invoice.id, corrections.CreditNoteAsk(amount=amount, reason=reason),
        key=form_key(Action.CREDIT_NOTE, invoice.id, form.key, said), fingerprint=said,
        actor=session.actor,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class CorrectionForm:
    """What PATCH /v1/invoices/{id} corrects; an empty field (or one the page did not offer) stays as it is."""

    description: str
    due_date: str
    amount_due: str


def correct_invoice(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, session: ConsoleSession, invoice_id: str,
    form: CorrectionForm,
) -> None:  # fmt: skip
    """The operator API's correction; the values the invoice already has change nothing (sent twice too)."""
    invoice = _invoice(ledger, session, Action.CORRECT_INVOICE, invoice_id)
    description = _text(form.description, "description", DESCRIPTION_MAX, required=False) or None
    due_date = _date(form.due_date, "due_date") if form.due_date.strip() else None
    amount_due = _amount(form.amount_due, invoice.currency, "amount_due") if form.amount_due.strip() else None
    if description is None and due_date is None and amount_due is None:
        raise BadField("give a description, a due date or an amount due", field="description")
    correction = corrections.InvoiceCorrection(description=description, due_date=due_date, amount_due=amount_due)
    corrections.correct_invoice(ledger, gateway, clock, invoice.id, correction, actor=session.actor)


# ----- the Customer page ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HoldForm:
    reason: str
    key: str


def place_customer_hold(
    ledger: Ledger, clock: Clock, once: RunOnce, session: ConsoleSession, customer_id: str, form: HoldForm
) -> None:
    """Pause reminders for every invoice of the customer until released (the operator API's service)."""
    customer = _customer(ledger, session, Action.PLACE_HOLD, customer_id)
    reason = _text(form.reason, "reason", REASON_MAX)
    said = {"reason": reason}

    def work() -> dict[str, str]:
        customers.place_customer_hold(ledger, clock, customer.id, reason=reason, until=None, actor=session.actor)
        return {"customer_id": customer.id}

    _apply_once(once, session, form_key(Action.PLACE_HOLD, customer.id, form.key, said), said, work)


def release_customer_hold(ledger: Ledger, clock: Clock, session: ConsoleSession, customer_id: str) -> None:
    customer = _customer(ledger, session, Action.RELEASE_HOLD, customer_id)
    customers.release_customer_hold(ledger, clock, customer.id, actor=session.actor)


def turn_off_autopay(ledger: Ledger, clock: Clock, session: ConsoleSession, customer_id: str) -> None:
    """Autopay off, as the operator API and the pay page turn it off: charges not yet made are cancelled."""
    customer = _customer(ledger, session, Action.DISABLE_AUTOPAY, customer_id)
    disable_autopay(ledger, clock, customer.id, actor=session.actor)


@dataclass(frozen=True, slots=True)
class CustomerForm:
    """What PATCH /v1/customers/{id} corrects: name, email, locale, time zone and external id; empty leaves
    one as it is (the external id: `remove_external_id` takes it off)."""

    name: str
    email: str
    locale: str = ""
    timezone: str = ""
    external_id: str = ""
    remove_external_id: bool = False


def correct_customer(
    ledger: Ledger,
    clock: Clock,
    session: ConsoleSession,
    customer_id: str,
    form: CustomerForm,
    gateway: PaymentGateway | None = None,
) -> None:
    customer = _customer(ledger, session, Action.CORRECT_CUSTOMER, customer_id)
    name = _text(form.name, "name", NAME_MAX, required=False) or None
    email = form.email.strip() or None  # as the operator API takes it: a bidi control refuses it, not stripped
    if email is not None and not is_email_address(email):
        raise BadField("email must be an email address such as name@example.com", field="email")
    locale = _locale(form.locale.strip()) if form.locale.strip() else None
    timezone = _time_zone(form.timezone.strip()) if form.timezone.strip() else None
    external_id = "" if form.remove_external_id else _text(form.external_id, "external_id", 128, required=False)
    correction = CustomerCorrection(
        email=email,
        name=name,
        locale=locale,
        timezone=timezone,
        external_id=external_id if external_id or form.remove_external_id else None,
    )
    if not correction.fields():
        raise BadField("give a name, an email address or another field to correct", field="name")
    try:
        customers.update_customer(ledger, clock, customer.id, correction, actor=session.actor, gateway=gateway)
    except ChangeRejected as rejected:
        if rejected.reason == Rejection.DUPLICATE_EXTERNAL_ID:
            raise BadField("another customer has that external id", field="external_id") from None
        raise


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of zones ("America") is no zone
        raise BadField("time zone must be an IANA zone such as Europe/Berlin", field="timezone") from None
    return value


def _locale(value: str) -> str:
    from babel import Locale, UnknownLocaleError  # lazy: babel's locale data loads only when a locale is checked

    try:
        parsed = Locale.parse(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise BadField("locale must be one such as en-US or de-DE", field="locale") from None
    return str(parsed).replace("_", "-")


# What the admin types to confirm an erasure: it cannot be undone.
ERASE_CONFIRMATION: Final = "ERASE"


@dataclass(frozen=True, slots=True)
class ErasureForm:
    open_invoices: str  # "hold" | "void"
    confirm: str  # ERASE_CONFIRMATION, typed by the admin


def erase_customer(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, session: ConsoleSession, customer_id: str, form: ErasureForm
) -> None:
    """The admin's erasure, as POST /v1/customers/{id}/erase does it, once they typed the confirmation."""
    customer = _customer(ledger, session, Action.ERASE_CUSTOMER, customer_id)
    if form.open_invoices not in {choice.value for choice in OpenInvoices}:
        raise BadField("choose whether open invoices are held or voided", field="open_invoices")
    if form.confirm.strip() != ERASE_CONFIRMATION:
        raise BadField(f"type {ERASE_CONFIRMATION} to confirm: an erasure cannot be undone", field="confirm")
    erasure.erase_customer(
        ledger, gateway, clock, customer.id, open_invoices=OpenInvoices(form.open_invoices), actor=session.actor
    )


def restrict_customer(ledger: Ledger, clock: Clock, session: ConsoleSession, customer_id: str) -> None:
    customer = _customer(ledger, session, Action.RESTRICT_CUSTOMER, customer_id)
    customers.restrict_customer(ledger, clock, customer.id, actor=session.actor)


def lift_restriction(ledger: Ledger, clock: Clock, session: ConsoleSession, customer_id: str) -> None:
    customer = _customer(ledger, session, Action.RESTRICT_CUSTOMER, customer_id)
    customers.lift_restriction(ledger, clock, customer.id, actor=session.actor)
