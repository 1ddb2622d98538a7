"""Pay pages and Checkout: from a pay link to a Stripe Checkout Session, and back."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from shared.clock import Clock
from shared.domain.double_click import click_window
from shared.domain.errors import InvalidHold, InvalidStateTransition, InvoiceNotPayable, PayLinkInvalid
from shared.domain.invoices import Hold, Invoice, InvoiceStatus, PaymentStatus, invoice_event_detail
from shared.domain.local_time import local_date
from shared.domain.messages import EventName, outgoing_event
from shared.domain.records import AuditEntry, AuditSubject, CheckoutAttempt, Customer, PayLink
from shared.services.customers import ensure_stripe_customer
from shared.services.ports import (
    Change,
    CheckoutSessionRequest,
    Ledger,
    PaymentGateway,
)


@dataclass(frozen=True, slots=True)
class PayPage:
    invoice: Invoice
    customer: Customer


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
    if invoice is None or customer is None:
        raise PayLinkInvalid("this payment link is not valid")
    return PayPage(invoice=invoice, customer=customer)


def start_checkout(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    config: CheckoutConfig,
    *,
    page: PayPage,
    token: str,
    amount: int | None,
) -> CheckoutAttempt:
    """Create (or reuse, on a double click) a Checkout Session and record what we expect from it.
    `page` is what `open_pay_link` returned for `token` in this request."""
    invoice = page.invoice
    to_pay = invoice.amount_remaining if amount is None else amount
    invoice.check_payable(to_pay)
    attempt = open_checkout_session(
        ledger,
        gateway,
        clock,
        config,
        page=page,
        token=token,
        amount=to_pay,
        ref_identity=f"{to_pay}:{invoice.currency}",
        description=f"Invoice {invoice.number}" + (f": {invoice.description}" if invoice.description else ""),
    )
    ledger.commit(Change(checkout=attempt))
    return attempt


def open_checkout_session(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    config: CheckoutConfig,
    *,
    page: PayPage,
    token: str,
    amount: int,
    ref_identity: str,
    description: str,
    extra_metadata: dict[str, str] | None = None,
    save_card: bool = False,
) -> CheckoutAttempt:
    """A Checkout Session for `amount` and the attempt that records what we expect of it (not yet
    committed: the caller commits it with whatever else belongs to the same change). The same
    `ref_identity` within the double-click window gives the same reference, so the same session."""
    invoice, customer = page.invoice, page.customer
    stripe_customer_id = ensure_stripe_customer(ledger, gateway, customer)
    now = clock.now()
    identity = f"{invoice.id}:{ref_identity}:{invoice.version}:{click_window(now)}"
    ref = "chk_" + hashlib.sha256(identity.encode()).hexdigest()[:32]
    return_url = f"{config.base_url}/pay/{token}/return"
    session = gateway.create_checkout_session(
        CheckoutSessionRequest(
            stripe_customer_id=stripe_customer_id,
            amount=amount,
            currency=invoice.currency,
            description=description,
            payment_method_types=config.payment_method_types,
            success_url=return_url + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=f"{config.base_url}/pay/{token}?cancelled=1",
            metadata={"invoice_id": invoice.id, "checkout_ref": ref, "customer_id": customer.id}
            | (extra_metadata or {}),
            idempotency_key=f"payportal-checkout-{ref}",
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
    )


class ReturnState(StrEnum):
    RECEIVED = "received"  # money is recorded
    PROCESSING = "processing"  # Stripe has not told us yet, or a bank debit is settling
    FAILED = "failed"


def return_state(ledger: Ledger, clock: Clock, *, token: str, session_id: str | None) -> tuple[PayPage, ReturnState]:
    """What the customer sees after Checkout: read from the ledger only, never marks anything paid."""
    page = open_pay_link(ledger, clock, token)
    payments = ledger.get_invoice_payments(page.invoice.id)
    mine = [p for p in payments if session_id and p.checkout_session_id == session_id]
    if any(p.status is PaymentStatus.SUCCEEDED for p in mine):
        return page, ReturnState.RECEIVED
    if mine and all(p.status is PaymentStatus.FAILED for p in mine):
        return page, ReturnState.FAILED
    if not session_id and page.invoice.status is InvoiceStatus.PAID:
        return page, ReturnState.RECEIVED
    return page, ReturnState.PROCESSING


PROMISE_REASON = "promise to pay"


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


def promise_to_pay(ledger: Ledger, clock: Clock, page: PayPage, *, promised: date, max_days: int) -> Invoice:
    """The customer promises to pay by a date: reminders pause until the end of that day in their zone,
    the operator hears of it, and if the day passes unpaid dunning resumes with the latest step."""
    invoice, now = page.invoice, clock.now()
    if not invoice.accepts_payment:
        raise InvoiceNotPayable(f"invoice {invoice.number} is {invoice.status.value}")
    latest = latest_promise_date(invoice, page.customer.timezone, now, max_days)
    if latest is None:
        if invoice.promised_at is not None:
            raise InvalidStateTransition("You have already promised to pay this invoice; please pay it now.")
        raise InvalidStateTransition("reminders for this invoice are already paused")
    zone = ZoneInfo(page.customer.timezone)
    today = local_date(now, page.customer.timezone)
    if not today <= promised <= latest:
        raise InvalidHold(f"choose a date between {today.isoformat()} and {latest.isoformat()}", field="date")
    until = datetime.combine(promised + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    promised_invoice = replace(
        invoice,
        hold=Hold(reason=PROMISE_REASON, until=until),
        next_action_at=until,
        promised_at=invoice.promised_at or now,
        version=invoice.version + 1,
    )
    detail = invoice_event_detail(promised_invoice) | {"promised_date": promised.isoformat()}
    ledger.commit(
        Change(
            invoice_update=promised_invoice,
            outbox=[outgoing_event(EventName.INVOICE_PROMISE_TO_PAY, detail, now)],
            audit=[
                AuditEntry(
                    subject=AuditSubject.INVOICE,
                    subject_id=invoice.id,
                    action="invoice.promise_to_pay",
                    actor="customer",
                    at=now,
                    details={"promised_date": promised.isoformat()},
                )
            ],
        )
    )
    return promised_invoice
