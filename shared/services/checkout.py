"""Pay pages and Checkout: from a pay link to a Stripe Checkout Session, and back."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

from shared.clock import Clock
from shared.domain.errors import (
    ConcurrentUpdate,
    InvalidHold,
    InvalidStateTransition,
    InvoiceNotPayable,
    NotFound,
    PayLinkInvalid,
    PaymentInProgress,
)
from shared.domain.invoices import NOT_PAYABLE_FOR_PAYER, Hold, Invoice, PaymentStatus, invoice_event_detail
from shared.domain.local_time import local_date
from shared.domain.messages import EventName, outgoing_event
from shared.domain.payer_text import payer_text
from shared.domain.records import (
    AuditEntry,
    AuditSubject,
    CheckoutAttempt,
    Customer,
    OpenCheckout,
    PayLink,
    Plan,
    ReminderOpening,
)
from shared.services import reminder_report
from shared.services.aggregates import PROMISE_REASON, tallied
from shared.services.customers import ensure_stripe_customer
from shared.services.gateway import CheckoutSessionRequest, PaymentGateway, SessionClosed
from shared.services.ports import Change, ChangeRejected, Ledger, Rejection


@dataclass(frozen=True, slots=True)
class PayPage:
    invoice: Invoice
    customer: Customer
    link: PayLink | None = None  # the pay link it was opened through (None: the operator's own call)


@dataclass(frozen=True, slots=True)
class CheckoutConfig:
    """Where Checkout returns to and which payment methods it offers: configuration, never the request."""

    base_url: str
    payment_method_types: tuple[str, ...]


def open_pay_link(ledger: Ledger, clock: Clock, token: str) -> PayPage:
    """The invoice behind a pay link; unknown, expired and revoked links all look the same."""
    if not token or len(token) > 128:
        raise PayLinkInvalid("this payment link is not valid")
    link = ledger.get_pay_link(PayLink.hash_token(token))
    if link is None or not link.usable_at(clock.now()):
        raise PayLinkInvalid("this payment link is not valid")
    invoice, customer = ledger.get_invoice_and_customer(link.invoice_id, link.customer_id)
    if invoice is None or customer is None or not link.usable_for(invoice, clock.now()):
        raise PayLinkInvalid("this payment link is not valid")  # revoked with the invoice's other links
    if link.reminder is not None and link.opened_at is None:
        link = _record_first_opening(ledger, link, clock.now())
    return PayPage(invoice=invoice, customer=customer, link=link)


def _record_first_opening(ledger: Ledger, link: PayLink, now: datetime) -> PayLink:
    """A reminder's link opened for the first time: recorded once, whoever opens it first (two tabs at once,
    a mail scanner and the customer) wins the guarded write and the others find it recorded. The reminder's
    "opened" counter moves only with the first opening of any of its links (ReminderOpening): an email sent
    twice carries two links, and the reminder was still sent once."""
    reminder = link.reminder
    assert reminder is not None
    opened = replace(link, opened_at=now)
    entry = AuditEntry(
        subject=AuditSubject.INVOICE,
        subject_id=link.invoice_id,
        action="invoice.pay_link_opened",
        actor="customer",
        at=now,
        details={"reminder": reminder.details()},
    )
    counted = Change(
        pay_link_opened=opened,
        reminder_opening=ReminderOpening(link.invoice_id, reminder, now),
        audit=[entry],
        tallies=[reminder_report.link_opened(link.invoice_id, reminder)],
    )
    try:
        try:
            ledger.commit(counted)
        except ChangeRejected as rejected:
            if rejected.reason is not Rejection.REMINDER_OPENED:
                raise
            ledger.commit(Change(pay_link_opened=opened, audit=[entry]))  # another of its links was opened first
    except ChangeRejected as rejected:
        if rejected.reason is not Rejection.ALREADY_OPENED:
            raise
        return ledger.get_pay_link(link.token_hash) or opened
    return opened


# Stripe closes a session 24 hours after it is created unless told otherwise (expires_at, which Stripe
# checks against its own clock: we leave it to its default).
SESSION_LIFETIME: Final = timedelta(hours=24)
# A payable session closing sooner than this is replaced rather than handed out again.
REUSE_MARGIN: Final = timedelta(minutes=30)
# Tries to open a session when others are opened at the same moment (two tabs, two clicks).
OPEN_TRIES: Final = 3


def start_checkout(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    config: CheckoutConfig,
    *,
    page: PayPage,
    amount: int | None,
) -> CheckoutAttempt:
    """The invoice's Checkout Session for `amount` (None: what remains), opened or handed out again."""
    invoice = page.invoice
    to_pay = invoice.amount_remaining if amount is None else amount
    invoice.check_payable(to_pay)
    return open_checkout_session(
        ledger,
        gateway,
        clock,
        config,
        page=page,
        amount=to_pay,
        purpose="pay",
        description=f"Invoice {invoice.number}" + (f": {invoice.description}" if invoice.description else ""),
    )


def open_checkout_session(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    config: CheckoutConfig,
    *,
    page: PayPage,
    amount: int,
    purpose: str,
    description: str,
    extra_metadata: dict[str, str] | None = None,
    save_card: bool = False,
    new_plan: Plan | None = None,
) -> CheckoutAttempt:
    """The one Checkout Session of the invoice that may be paid, for `amount` and `purpose`, committed.

    An invoice has at most one payable session. The same amount and purpose again (a double click, a
    second tab, another email's link) gets the open session back; anything else expires the open
    session at Stripe first, and if the customer has completed it meanwhile, nothing new is opened
    (PaymentInProgress). `new_plan` is stored with the session when it is a new one."""
    invoice = page.invoice
    identity = f"{purpose}:{amount}:{invoice.currency}:{'save' if save_card else 'once'}"
    for _ in range(OPEN_TRIES):
        now = clock.now()
        slot = ledger.get_open_checkout(invoice.id) or OpenCheckout(invoice_id=invoice.id, version=0)
        current = slot.payable_at(now)
        if current is not None:
            if slot.identity == identity and current.expires_at and current.expires_at - now > REUSE_MARGIN:
                return current
            if gateway.expire_checkout_session(current.session_id) is SessionClosed.COMPLETE:
                raise PaymentInProgress(
                    "a payment for this invoice is being confirmed; please check back shortly",
                    payer=payer_text("A payment for this invoice is being confirmed. Please check back shortly."),
                )
        attempt = _new_session(
            ledger, gateway, config, page, amount, description, extra_metadata, save_card,
            ref=_checkout_ref(invoice.id, identity, slot.version + 1), opened_as=slot.version + 1, now=now,
        )  # fmt: skip
        opened = OpenCheckout(invoice_id=invoice.id, version=slot.version + 1, current=attempt, identity=identity)
        try:
            chosen = [_plan_chosen(new_plan, now)] if new_plan else []
            _commit_opened(ledger, Change(checkout=attempt, open_checkout=opened, new_plan=new_plan, audit=chosen))
            return attempt
        except ChangeRejected as rejected:
            if rejected.reason is not Rejection.STALE_OPEN_CHECKOUT:
                raise
            won = ledger.get_open_checkout(invoice.id)
            if won and won.current and won.current.session_id == attempt.session_id:
                return won.current  # the same request twice at once: Stripe gave both the one session
            gateway.expire_checkout_session(attempt.session_id)  # another won: ours must not stay payable
            fresh = ledger.get_invoice(invoice.id)
            if fresh is None or fresh.version != invoice.version:  # corrected, credited, paid meanwhile
                raise ConcurrentUpdate(
                    "the invoice changed a moment ago; please reload the page",
                    payer=payer_text("The invoice changed a moment ago. Please reload the page."),
                ) from None
    raise ConcurrentUpdate(
        "the invoice is being paid from elsewhere at this moment; please try again",
        payer=payer_text("The invoice is being paid from elsewhere at this moment. Please try again."),
    )


def _commit_opened(ledger: Ledger, change: Change) -> None:
    try:
        ledger.commit(change)
    except ChangeRejected as rejected:
        if rejected.reason is not Rejection.PLAN_EXISTS:
            raise
        ledger.commit(replace(change, new_plan=None, audit=[]))  # the same plan, chosen twice: stored already


def _plan_chosen(plan: Plan, now: datetime) -> AuditEntry:
    return AuditEntry(
        subject=AuditSubject.INVOICE,
        subject_id=plan.invoice_id,
        action="plan.chosen",
        actor="customer",
        at=now,
        details={
            "plan": plan.id,
            "kind": plan.kind.value,
            "frequency": plan.frequency,
            "installments": [i.amount for i in plan.installments],
            "currency": plan.currency,
        },
    )


def _checkout_ref(invoice_id: str, identity: str, version: int) -> str:
    return "chk_" + hashlib.sha256(f"{invoice_id}:{identity}:{version}".encode()).hexdigest()[:32]


def _new_session(
    ledger: Ledger,
    gateway: PaymentGateway,
    config: CheckoutConfig,
    page: PayPage,
    amount: int,
    description: str,
    extra_metadata: dict[str, str] | None,
    save_card: bool,
    *,
    ref: str,
    opened_as: int,
    now: datetime,
) -> CheckoutAttempt:
    """A new session at Stripe. Its return and cancel URLs name the invoice and the attempt, never the pay
    link's token: they sit in Stripe's dashboard and in every checkout.session event."""
    invoice, customer = page.invoice, page.customer
    stripe_customer_id = ensure_stripe_customer(ledger, gateway, customer)
    back = return_path(invoice.id, ref)
    session = gateway.create_checkout_session(
        CheckoutSessionRequest(
            stripe_customer_id=stripe_customer_id,
            amount=amount,
            currency=invoice.currency,
            description=description,
            payment_method_types=config.payment_method_types,
            success_url=f"{config.base_url}{back}?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{config.base_url}{back}?cancelled=1",
            metadata={"invoice_id": invoice.id, "checkout_ref": ref, "customer_id": customer.id}
            | (extra_metadata or {}),
            idempotency_scope=f"payportal-checkout-{ref}",
            save_card=save_card,
        )
    )
    return CheckoutAttempt(
        ref=ref,
        invoice_id=invoice.id,
        customer_id=customer.id,
        session_id=session.id,
        amount=amount,
        currency=invoice.currency,
        created_at=now,
        url=session.url,
        opened_as=opened_as,
        expires_at=now + SESSION_LIFETIME,
        reminder=page.link.reminder if page.link else None,
    )


def return_path(invoice_id: str, ref: str) -> str:
    """Where Checkout sends the customer back to after a payment: names the attempt, carries no secret."""
    return f"/pay/return/{invoice_id}/{ref}"


def setup_return_path(invoice_id: str) -> str:
    """Where Checkout in setup mode (a card saved) sends the customer back to; carries no secret."""
    return f"/pay/return/{invoice_id}"


class ReturnState(StrEnum):
    RECEIVED = "received"  # money is recorded
    PROCESSING = "processing"  # Stripe has not told us yet, or a bank debit is settling
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CheckoutOutcome:
    invoice: Invoice
    attempt: CheckoutAttempt
    state: ReturnState


def checkout_outcome(ledger: Ledger, *, invoice_id: str, ref: str) -> CheckoutOutcome:
    """What the customer sees after Checkout, from one consistent read of the invoice and the attempt (the
    webhook writes the payment's status onto the attempt in the transaction that applies it), so the page
    never says "received" next to a balance that does not show it. Never marks anything paid."""
    invoice, attempt = ledger.get_checkout_outcome(invoice_id, ref)
    if invoice is None or attempt is None:
        raise NotFound("no such checkout")
    status = attempt.payment_status
    if status is PaymentStatus.SUCCEEDED:
        state = ReturnState.RECEIVED
    elif status is PaymentStatus.FAILED:
        state = ReturnState.FAILED
    else:
        state = ReturnState.PROCESSING
    return CheckoutOutcome(invoice=invoice, attempt=attempt, state=state)


def latest_promise_date(invoice: Invoice, timezone: str, now: datetime, max_days: int) -> date | None:
    """The latest date the customer may promise to pay by, or None when no promise may be made.

    One promise per invoice: while it runs the customer may change the date, but never beyond `max_days`
    from the day of the first promise, so promising again and again cannot pause dunning for ever. Once a
    promise has lapsed unpaid, the page no longer offers one."""
    if not invoice.accepts_payment:
        return None
    if invoice.promised_at is None:
        if invoice.hold and invoice.hold.active_at(now):
            return None  # the operator has paused reminders already
        return local_date(now, timezone) + timedelta(days=max_days)
    running = invoice.hold is not None and invoice.hold.reason == PROMISE_REASON and invoice.hold.active_at(now)
    return local_date(invoice.promised_at, timezone) + timedelta(days=max_days) if running else None


def promise_to_pay(
    ledger: Ledger,
    clock: Clock,
    page: PayPage,
    *,
    promised: date,
    max_days: int,
    actor: str = "customer",
    amount: int | None = None,
) -> Invoice:
    """The customer promises to pay by a date: reminders pause until the end of that day in their zone,
    the operator hears of it, and if the day passes unpaid dunning resumes with the latest step. Staff note
    one on the customer's behalf through the console (`actor` names them, `amount` is what was promised)."""
    invoice, now = page.invoice, clock.now()
    if not invoice.accepts_payment:
        raise InvoiceNotPayable(f"invoice {invoice.number} is {invoice.status.value}", payer=NOT_PAYABLE_FOR_PAYER)
    latest = latest_promise_date(invoice, page.customer.timezone, now, max_days)
    if latest is None:
        if invoice.promised_at is not None:
            raise InvalidStateTransition(
                "You have already promised to pay this invoice; please pay it now.",
                payer=payer_text("You have already promised to pay this invoice; please pay it now."),
            )
        raise InvalidStateTransition(
            "reminders for this invoice are already paused",
            payer=payer_text("Reminders for this invoice are already paused."),
        )
    zone = ZoneInfo(page.customer.timezone)
    today = local_date(now, page.customer.timezone)
    if not today <= promised <= latest:
        raise InvalidHold(
            f"choose a date between {today.isoformat()} and {latest.isoformat()}",
            field="date",
            payer=payer_text("Choose a date between %(earliest)s and %(latest)s.", earliest=today, latest=latest),
        )
    until = datetime.combine(promised + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    promised_invoice = replace(
        invoice,
        hold=Hold(reason=PROMISE_REASON, until=until),
        next_action_at=until,
        promised_at=invoice.promised_at or now,
        version=invoice.version + 1,
    )
    promise = {"promised_date": promised.isoformat()} | ({"promised_amount": amount} if amount is not None else {})
    detail = invoice_event_detail(promised_invoice) | promise
    ledger.commit(
        tallied(
            Change(
                invoice_update=promised_invoice,
                outbox=[outgoing_event(EventName.INVOICE_PROMISE_TO_PAY, detail, now)],
                audit=[
                    AuditEntry(
                        subject=AuditSubject.INVOICE,
                        subject_id=invoice.id,
                        action="invoice.promise_to_pay",
                        actor=actor,
                        at=now,
                        details=promise,
                    )
                ],
            ),
            now,
            invoice_before=invoice,
        )
    )
    return promised_invoice
