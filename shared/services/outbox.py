"""Delivering the outbox: each queued email or domain event goes out once, after its transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from shared.clock import Clock
from shared.domain.errors import NotFound
from shared.domain.local_time import local_date
from shared.domain.records import OutboxMessage
from shared.rendering import format_day, format_moment, render_email
from shared.services.invoices import issue_pay_link
from shared.services.ports import Change, DomainEvent, Email, EventPublisher, Ledger, Mailer, OutboxStore

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
) -> Delivered:
    message = store.claim(message_id, CLAIM_LEASE_SECONDS, uuid.uuid4().hex)  # OutboxBusy: the stream retries
    if message is None:
        return Delivered(Delivery.ALREADY_HANDLED, None)
    try:
        if message.kind == "event":
            publisher.publish(DomainEvent(id=message.id, detail_type=message.name, detail=message.data))
        else:
            email = compose_email(message, ledger, clock, branding)
            if email is None:
                store.mark_delivered(message.id)
                return Delivered(Delivery.SUPPRESSED, message)
            mailer.send(email, message_id=message.id)
    except Exception as error:
        store.release(message.id, type(error).__name__)
        raise
    store.mark_delivered(message.id)
    return Delivered(Delivery.SENT, message)


def compose_email(message: OutboxMessage, ledger: Ledger, clock: Clock, branding: Branding) -> Email | None:
    """The email, addressed and rendered now; None when the customer's address is known to be undeliverable."""
    invoice = ledger.get_invoice(str(message.data["invoice_id"]))
    if invoice is None:
        raise NotFound(f"outbox {message.id}: no invoice {message.data['invoice_id']}")
    customer = ledger.get_customer(invoice.customer_id)
    if customer is None:
        raise NotFound(f"outbox {message.id}: no customer {invoice.customer_id}")
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
    if message.name == "receipt":
        paid_at = datetime.fromisoformat(str(message.data["paid_at"]))
        context |= {
            "amount": int(message.data["amount"]),
            "payment_id": message.data["payment_id"],
            "paid_at_text": format_moment(paid_at, customer.locale, customer.timezone),
            "method": message.data.get("method"),
            "autopay_url": "",
        }
        if customer.autopay is not None:  # every email to a customer on autopay says how to turn it off
            issued = issue_pay_link(invoice, clock, branding.pay_link_ttl_days)
            ledger.commit(Change(pay_link=issued.link))
            context["autopay_url"] = issued.url(branding.public_base_url)
    elif message.name == "autopay_notice":
        issued = issue_pay_link(invoice, clock, branding.pay_link_ttl_days)
        ledger.commit(Change(pay_link=issued.link))
        charge_time = datetime.fromisoformat(str(message.data["charge_at"]))
        context |= {
            "pay_url": issued.url(branding.public_base_url),
            "amount": int(message.data["amount"]),
            "charge_day": format_day(local_date(charge_time, customer.timezone), customer.locale),
        }
    elif message.name == "plan_update":
        issued = issue_pay_link(invoice, clock, branding.pay_link_ttl_days)
        ledger.commit(Change(pay_link=issued.link))
        next_attempt = message.data.get("next_attempt_at")
        when = datetime.fromisoformat(str(next_attempt)) if next_attempt else None
        context |= {
            "pay_url": issued.url(branding.public_base_url),
            "kind": message.data["kind"],
            "installment": int(message.data["installment"]),
            "amount": int(message.data["amount"]),
            "next_attempt_text": format_moment(when, customer.locale, customer.timezone) if when else "",
            "due_on_text": format_day(date.fromisoformat(str(message.data["due_on"])), customer.locale)
            if message.data.get("due_on")
            else "",
        }
    elif message.name in ("invoice_issued", "reminder"):
        # A fresh link per email: the token exists only in the email, its hash in the table.
        issued = issue_pay_link(invoice, clock, branding.pay_link_ttl_days)
        ledger.commit(Change(pay_link=issued.link))
        context["pay_url"] = issued.url(branding.public_base_url)
        context["template"] = message.data.get("template", "")
    else:
        raise ValueError(f"unknown email template {message.name!r}")
    subject, text, html = render_email(message.name, **context)
    return Email(to=customer.email, subject=subject, text=text, html=html, customer_id=customer.id)
