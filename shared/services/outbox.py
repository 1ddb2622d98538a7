"""Delivering the outbox: each queued email or domain event goes out once, after its transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from shared.clock import Clock
from shared.domain.errors import NotFound
from shared.domain.local_time import local_date
from shared.domain.messages import (
    AutopayNoticeEmail,
    EmailMessage,
    Event,
    InvoiceIssuedEmail,
    OutboxMessage,
    PlanUpdateEmail,
    ReceiptEmail,
    RefundEmail,
    ReminderEmail,
)
from shared.rendering import format_day, format_moment, render_email
from shared.services.invoices import issue_pay_link
from shared.services.ports import (
    Change,
    DomainEvent,
    Email,
    EventPublisher,
    Ledger,
    Mailer,
    OutboxStore,
    PaymentGateway,
)

# Longer than the outbox function's timeout (60 s, infra/components/lambdas.py): a lease outlives only a
# delivery that is certainly dead, and the stream's retry after a timed-out invocation soon finds it free.
CLAIM_LEASE_SECONDS = 75


@dataclass(frozen=True, slots=True)
class Branding:
    business_name: str
    support_contact: str
    public_base_url: str
    pay_link_ttl_days: int


class Delivery(StrEnum):
    SENT = "sent"
    ALREADY_HANDLED = "already_handled"  # delivered before
    SUPPRESSED = "suppressed"  # an email to an address that bounced or complained: not sent


@dataclass(frozen=True, slots=True)
class Delivered:
    outcome: Delivery
    message: OutboxMessage | None  # what was sent or suppressed; None when already handled


def deliver(
    message_id: str,
    *,
    store: OutboxStore,
    ledger: Ledger,
    mailer: Mailer,
    publisher: EventPublisher,
    clock: Clock,
    branding: Branding,
    gateway: PaymentGateway,
) -> Delivered:
    message = store.claim(message_id, CLAIM_LEASE_SECONDS, uuid.uuid4().hex)  # OutboxBusy: the stream retries
    if message is None:
        return Delivered(Delivery.ALREADY_HANDLED, None)
    try:
        if isinstance(message.body, Event):
            publisher.publish(DomainEvent(id=message.id, detail_type=message.name, detail=dict(message.body.detail)))
        else:
            email = compose_email(message.body, message.id, ledger, clock, branding, gateway)
            if email is None:
                store.mark_delivered(message.id)
                return Delivered(Delivery.SUPPRESSED, message)
            mailer.send(email, message_id=message.id)
    except Exception as error:
        store.release(message.id, type(error).__name__)
        raise
    store.mark_delivered(message.id)
    return Delivered(Delivery.SENT, message)


def compose_email(
    body: EmailMessage, message_id: str, ledger: Ledger, clock: Clock, branding: Branding, gateway: PaymentGateway
) -> Email | None:
    """The email, addressed and rendered now; None when the customer's address is known to be undeliverable."""
    invoice = ledger.get_invoice(body.invoice_id)
    if invoice is None:
        raise NotFound(f"outbox {message_id}: no invoice {body.invoice_id}")
    customer = ledger.get_customer(invoice.customer_id)
    if customer is None:
        raise NotFound(f"outbox {message_id}: no customer {invoice.customer_id}")
    if customer.email_undeliverable is not None:
        return None  # SES would bounce it again, or the recipient said it is unwanted: protect the sender
    context: dict[str, object] = {
        "invoice": invoice,
        "customer": customer,
        "locale": customer.locale,
        "lang": customer.locale.split("-")[0],
        "business_name": branding.business_name,
        "support_contact": branding.support_contact,
    }

    def pay_url() -> str:
        # A fresh link per email: the token exists only in the email, its hash in the table.
        issued = issue_pay_link(invoice, clock, branding.pay_link_ttl_days)
        ledger.commit(Change(pay_link=issued.link))
        return issued.url(branding.public_base_url)

    match body:
        case ReceiptEmail():
            context |= {
                "amount": body.amount,
                "payment_id": body.payment_id,
                "paid_at_text": format_moment(body.paid_at, customer.locale, customer.timezone),
                # read now, from Stripe: what paid it is Stripe's to know, and nothing of it waits in the table
                "method": gateway.payment_method_used(body.payment_id) if body.payment_id.startswith("pi_") else None,
                # every email to a customer on autopay says how to turn it off
                "autopay_url": pay_url() if customer.autopay is not None else "",
            }
        case AutopayNoticeEmail():
            context |= {
                "pay_url": pay_url(),
                "amount": body.amount,
                "charge_day": format_day(local_date(body.charge_at, customer.timezone), customer.locale),
            }
        case PlanUpdateEmail():
            when = body.next_attempt_at
            context |= {
                "pay_url": pay_url(),
                "kind": body.news.value,
                "installment": body.installment,
                "amount": body.amount,
                "next_attempt_text": format_moment(when, customer.locale, customer.timezone) if when else "",
                "due_on_text": format_day(body.due_on, customer.locale) if body.due_on else "",
            }
        case RefundEmail():
            payment = next((p for p in ledger.get_invoice_payments(invoice.id) if p.key == body.payment_id), None)
            context |= {
                "amount": body.amount,
                "payment_id": body.payment_id,
                "refund_id": body.refund_id,
                "refunded_in_full": payment is not None and payment.state == "refunded",
            }
        case ReminderEmail():
            context |= {"pay_url": pay_url(), "template": body.step_template}
        case InvoiceIssuedEmail():
            context |= {"pay_url": pay_url(), "template": ""}
    subject, text, html = render_email(body.template, **context)
    return Email(to=customer.email, subject=subject, text=text, html=html, customer_id=customer.id)
