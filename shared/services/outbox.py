"""Delivering the outbox: each queued email or domain event goes out once, after its transaction."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from shared.clock import Clock, SystemClock
from shared.domain.account import CodePurpose, code_hash, new_code, new_salt, sign_in_key
from shared.domain.contact import contact_href, url_origin
from shared.domain.errors import NotFound
from shared.domain.invoices import Invoice
from shared.domain.languages import served_language
from shared.domain.local_time import local_date
from shared.domain.messages import (
    AccountCodeEmail,
    AutopayNoticeEmail,
    CombinedPaymentFailedEmail,
    CombinedReceiptEmail,
    DataExportEmail,
    DigestEmail,
    EmailMessage,
    Event,
    GroupedReminderEmail,
    IncidentNoticeEmail,
    InvoiceCorrectedEmail,
    InvoiceEmailMessage,
    InvoiceIssuedEmail,
    InvoiceVoidedEmail,
    OutboxMessage,
    PaymentFailedEmail,
    PaymentReversedEmail,
    PlanUpdateEmail,
    ReceiptEmail,
    RefundEmail,
    ReminderEmail,
)
from shared.domain.records import REMINDER_CHANNEL_EMAIL, CombinedCheckout, ReminderAttribution
from shared.domain.subject_access import EmailSent
from shared.rendering import format_day, format_moment, render_email, render_operator_text
from shared.services import account_export
from shared.services.account_ports import AccountStore
from shared.services.gateway import PaymentGateway, PaymentMethodUsed
from shared.services.invoices import issue_pay_link
from shared.services.pay_together import issue_pay_together_link
from shared.services.ports import Change, DomainEvent, Email, EventPublisher, Ledger, Mailer, OutboxStore
from shared.services.privacy_ports import ExportLinks

# The digest is for the operator's staff: amounts and days formatted as in English.
DIGEST_LOCALE: Final = "en"

# Longer than the outbox function's timeout (60 s, infra/components/lambdas.py): a lease outlives only a
# delivery that is certainly dead, and the stream's retry after a timed-out invocation soon finds it free.
CLAIM_LEASE_SECONDS = 75


@dataclass(frozen=True, slots=True)
class Branding:
    business_name: str
    support_contact: str
    public_base_url: str
    pay_link_ttl_days: int
    # Who gets the operator's morning digest (payportal:digestRecipients); none: it is not sent.
    digest_recipients: tuple[str, ...] = ()


class Delivery(StrEnum):
    SENT = "sent"
    ALREADY_HANDLED = "already_handled"  # delivered before
    SUPPRESSED = "suppressed"  # an email to an address that bounced or complained: not sent


@dataclass(frozen=True, slots=True)
class Delivered:
    outcome: Delivery
    message: OutboxMessage | None  # what was sent or suppressed; None when already handled
    # An earlier delivery's lease ran out without an outcome, so this one may have sent it a second time.
    taken_over: bool = False
    # Sent, but recording that failed every try: the message stays leased and is not sent again by the
    # stream (a redrive would); counted and alarmed.
    unrecorded: bool = False


# Tries at recording a delivery the provider accepted, and the pause before each retry (seconds).
MARK_TRIES: Final = 3
MARK_BACKOFF_SECONDS: Final = 0.2


# What a customer whose processing is restricted is still sent: what their own payments and refunds need (a
# receipt is owed to whoever pays; a failed or reversed payment and a refund concern money they moved; the
# notices of charges they instructed, which still run, decision 133).
RESTRICTED_STILL_SENT: Final = (
    ReceiptEmail,
    AutopayNoticeEmail,
    PlanUpdateEmail,
    CombinedReceiptEmail,
    RefundEmail,
    PaymentFailedEmail,
    CombinedPaymentFailedEmail,
    PaymentReversedEmail,
)


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
    sleep: Callable[[float], None] = time.sleep,
    accounts: AccountStore | None = None,
    export_links: ExportLinks | None = None,
) -> Delivered:
    """Send one outbox message at most once per lease. Email is at-least-once only in what no store can
    close: the provider accepted it and the delivery died (or never managed to record it) before the
    record was written; the next lease then sends it again, and says so (`taken_over`)."""
    token = uuid.uuid4().hex
    claim = store.claim(message_id, CLAIM_LEASE_SECONDS, token)  # OutboxBusy: the stream retries
    if claim is None:
        return Delivered(Delivery.ALREADY_HANDLED, None)
    message, provider_id = claim.message, None
    sent: EmailSent | None = None  # what the customer's export lists: template, subject, when (no address)
    try:
        if isinstance(message.body, Event):
            publisher.publish(DomainEvent(id=message.id, detail_type=message.name, detail=dict(message.body.detail)))
        else:
            email = compose_email(
                message.body, message.id, ledger, clock, branding, gateway, accounts=accounts,
                export_links=export_links,
            )  # fmt: skip
            if email is None:
                store.mark_delivered(message.id, token)
                return Delivered(Delivery.SUPPRESSED, message, taken_over=claim.taken_over)
            provider_id = mailer.send(email, message_id=message.id)
            if email.customer_id:
                sent = EmailSent(email.customer_id, message.id, message.name, kept_subject(message, email), clock.now())
    except Exception as error:
        store.release(message.id, token, type(error).__name__)
        raise
    recorded = _record_delivery(store, message.id, token, provider_id, sleep, sent)
    return Delivered(Delivery.SENT, message, taken_over=claim.taken_over, unrecorded=not recorded)


def kept_subject(message: OutboxMessage, email: Email) -> str:
    """The subject the customer's record of emails sent keeps: an account code's names the code, so none."""
    return "" if isinstance(message.body, AccountCodeEmail) else email.subject


def _record_delivery(
    store: OutboxStore,
    message_id: str,
    token: str,
    provider_id: str | None,
    sleep: Callable[[float], None],
    sent: EmailSent | None = None,
) -> bool:
    """Record the email sent to the customer (its own record, by message id: a retry writes it again) and mark
    the message delivered, trying again on a failure: raising now would have the stream send it again."""
    for attempt in range(MARK_TRIES):
        try:
            if sent is not None:
                store.record_email_sent(sent)
            store.mark_delivered(message_id, token, provider_id)
            return True
        except Exception:
            if attempt == MARK_TRIES - 1:
                return False
            sleep(MARK_BACKOFF_SECONDS * 2**attempt)
    return False


def compose_email(
    body: EmailMessage,
    message_id: str,
    ledger: Ledger,
    clock: Clock,
    branding: Branding,
    gateway: PaymentGateway,
    *,
    accounts: AccountStore | None = None,
    export_links: ExportLinks | None = None,
) -> Email | None:
    """The email, addressed and rendered now; None when the customer's address is known to be undeliverable
    (or, for the digest, when no one is configured to get it; for an account code, when no customer has the
    address or the code was replaced meanwhile)."""
    if isinstance(body, DigestEmail):
        return compose_digest(body, branding)
    if isinstance(body, AccountCodeEmail):
        if accounts is None:
            raise RuntimeError("an account code needs the account store to be delivered")
        return compose_account_code(body, accounts, ledger, branding)
    if isinstance(body, DataExportEmail | IncidentNoticeEmail):
        return compose_customer_email(body, message_id, ledger, clock, branding, export_links)
    return _compose_invoice_email(body, message_id, ledger, clock, branding, gateway)


def trust_context(branding: Branding) -> dict[str, str]:
    """What every payer email carries so that it can be trusted: the business's name (at the top), a tappable
    support contact, the customer's account, and the origin every genuine link starts with."""
    return {
        "business_name": branding.business_name,
        "support_contact": branding.support_contact,
        "support_href": contact_href(branding.support_contact),
        "account_url": f"{branding.public_base_url.rstrip('/')}/account",
        "public_origin": url_origin(branding.public_base_url),
    }


def compose_digest(body: DigestEmail, branding: Branding) -> Email | None:
    """The morning digest to every configured address, in one message."""
    if not branding.digest_recipients:
        return None
    first, *others = branding.digest_recipients
    context = {"digest": body.digest, "locale": DIGEST_LOCALE, "business_name": branding.business_name}
    subject, text, html = render_email(body.template, **context)
    return Email(to=first, subject=subject, text=text, html=html, also_to=tuple(others))


def compose_account_code(
    body: AccountCodeEmail, accounts: AccountStore, ledger: Ledger, branding: Branding
) -> Email | None:
    """Mint the code now, keep only its salted hash on the challenge, and put the code in the email alone. A
    second delivery of the same message mints another code, and only the newest email's code works."""
    challenge = accounts.get_challenge(body.challenge_key)
    if challenge is None or challenge.challenge_id != body.challenge_id or not challenge.customer_ids:
        return None  # replaced by a newer code, or an address no customer has: nothing is sent
    customer = ledger.get_customer(challenge.customer_ids[0])
    if customer is None or customer.email_undeliverable is not None or customer.erased_at is not None:
        return None
    if challenge.purpose is CodePurpose.SIGN_IN and sign_in_key(customer.email) != challenge.key:
        return None  # the customer's address was corrected meanwhile: the code would open it for another mailbox
    code, salt = new_code(), new_salt()
    if not accounts.set_code(challenge.key, challenge.challenge_id, salt, code_hash(code, salt)):
        return None  # replaced, locked or used meanwhile
    minutes = int((challenge.expires_at - challenge.created_at).total_seconds() // 60)
    context: dict[str, object] = {
        "code": code,
        "minutes": minutes,
        "step_up": challenge.purpose is CodePurpose.STEP_UP,
        "customer": customer,
        "locale": customer.locale,
        "lang": served_language(customer.locale),
        **trust_context(branding),
    }
    subject, text, html = render_email(body.template, **context)
    return Email(to=customer.email, subject=subject, text=text, html=html, customer_id=customer.id)


def compose_customer_email(
    body: DataExportEmail | IncidentNoticeEmail,
    message_id: str,
    ledger: Ledger,
    clock: Clock,
    branding: Branding,
    export_links: ExportLinks | None,
) -> Email | None:
    """An email to a customer about no one invoice: their export's link (minted now, only its hash kept), or an
    incident notice from the operator's template. None when their address is known to be undeliverable."""
    customer = ledger.get_customer(body.customer_id)
    if customer is None:
        raise NotFound(f"outbox {message_id}: no customer {body.customer_id}")
    if customer.email_undeliverable is not None:
        return None
    context: dict[str, object] = {
        "customer": customer,
        "locale": customer.locale,
        "lang": served_language(customer.locale),
        **trust_context(branding),
    }
    if isinstance(body, DataExportEmail):
        if export_links is None:
            raise RuntimeError("an export link needs the export link store to be delivered")
        # Lapses by the wall clock, as account codes and sessions do (the account checks it by that clock)
        minted = account_export.mint_link(export_links, SystemClock(), customer.id)
        subject, text, html = render_email(
            body.template, download_url=minted.url(branding.public_base_url), hours=minted.hours, **context
        )
    else:
        context |= {
            "since_text": format_moment(body.since, customer.locale, customer.timezone),
            "until_text": format_moment(body.until, customer.locale, customer.timezone),
        }
        subject, text, html = render_operator_text(body.source, **context)
    return Email(to=customer.email, subject=subject, text=text, html=html, customer_id=customer.id)


def _compose_invoice_email(
    body: InvoiceEmailMessage,
    message_id: str,
    ledger: Ledger,
    clock: Clock,
    branding: Branding,
    gateway: PaymentGateway,
) -> Email | None:
    invoice = ledger.get_invoice(body.invoice_id)
    if invoice is None:
        raise NotFound(f"outbox {message_id}: no invoice {body.invoice_id}")
    customer = ledger.get_customer(invoice.customer_id)
    if customer is None:
        raise NotFound(f"outbox {message_id}: no customer {invoice.customer_id}")
    if customer.email_undeliverable is not None:
        return None  # SES would bounce it again, or the recipient said it is unwanted: protect the sender
    if customer.erased_at is not None:
        return None  # erased: their address is a placeholder, and nothing may reach them again
    if customer.restricted_at is not None and not isinstance(body, RESTRICTED_STILL_SENT):
        return None  # restricted (Art. 18): only what their own payments need goes out (decision 133)
    context: dict[str, object] = {
        "invoice": invoice,
        "customer": customer,
        "locale": customer.locale,
        "lang": served_language(customer.locale),
        **trust_context(branding),
    }

    def pay_url(reminder: ReminderAttribution | None = None) -> str:
        # A fresh link per email: the token exists only in the email, its hash in the table.
        issued = issue_pay_link(invoice, clock, branding.pay_link_ttl_days, reminder=reminder)
        ledger.commit(Change(pay_link=issued.link))
        return issued.url(branding.public_base_url)

    match body:
        case ReceiptEmail():
            context |= {
                "amount": body.amount,
                "payment_id": body.payment_id,
                "paid_at_text": format_moment(body.paid_at, customer.locale, customer.timezone),
                # read now, from Stripe: what paid it is Stripe's to know, and nothing of it waits in the table;
                # money received outside Stripe says how the operator recorded it
                "method": gateway.payment_method_used(body.payment_id)
                if body.payment_id.startswith("pi_")
                else _offline_method(ledger, invoice.id, body.payment_id),
                # every email to a customer on autopay says how to turn it off
                "autopay_url": pay_url() if customer.autopay is not None else "",
            }
        case CombinedReceiptEmail():
            combined = _combined(ledger, body.combined_ref, message_id)
            intent = combined.payment_intent_id
            context |= {
                "shares": _shares(ledger, combined),
                "total": combined.amount,
                "currency": combined.currency,
                "payment_id": intent or combined.ref,
                "paid_at_text": format_moment(body.paid_at, customer.locale, customer.timezone),
                "method": gateway.payment_method_used(intent) if intent else None,
                "autopay_url": pay_url() if customer.autopay is not None else "",
            }
        case CombinedPaymentFailedEmail():
            combined = _combined(ledger, body.combined_ref, message_id)
            context |= {
                "shares": _shares(ledger, combined, clock=clock, branding=branding),
                "total": combined.amount,
                "currency": combined.currency,
            }
        case PaymentFailedEmail():
            context |= {"pay_url": pay_url(), "amount": body.amount, "payment_id": body.payment_id}
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
        case InvoiceCorrectedEmail():
            context |= {
                "amount_before": body.amount_before,
                "amount_after": body.amount_after,
                "credit_note_id": body.credit_note_id,
                "pay_url": pay_url() if invoice.accepts_payment else "",
            }
        case InvoiceVoidedEmail():
            pass
        case PaymentReversedEmail():
            context |= {
                "amount": body.amount,
                "payment_id": body.payment_id,
                "method": _offline_method(ledger, invoice.id, body.payment_id),
                "pay_url": pay_url(),
            }
        case ReminderEmail():
            # The link names the reminder it was minted for: opening it and paying through it are attributed.
            sent = ReminderAttribution(
                body.step, body.step_template, REMINDER_CHANNEL_EMAIL, body.sent_at or clock.now()
            )
            context |= {"pay_url": pay_url(sent), "template": body.step_template}
        case InvoiceIssuedEmail():
            if not invoice.accepts_payment:
                # Paid (or voided) before its email went out: the receipt (or the void notice) says what
                # happened, and an invoice email asking for nothing, with a pay link, would only confuse.
                return None
            context |= {"pay_url": pay_url(), "template": ""}
        case GroupedReminderEmail():
            context |= _grouped_reminder(body, ledger, clock, branding, customer.id)
    subject, text, html = render_email(body.template, **context)
    return Email(to=customer.email, subject=subject, text=text, html=html, customer_id=customer.id)


def _grouped_reminder(
    body: GroupedReminderEmail, ledger: Ledger, clock: Clock, branding: Branding, customer_id: str
) -> dict[str, object]:
    """Each reminded invoice with its step and its own link (naming its reminder), and per currency one link to
    pay every one of them still payable together. Links are minted now: tokens exist only in the email."""
    lines: list[dict[str, object]] = []
    by_currency: dict[str, list[tuple[Invoice, ReminderAttribution]]] = {}
    for line in body.lines:
        invoice = ledger.get_invoice(line.invoice_id)
        if invoice is None or invoice.customer_id != customer_id:
            continue  # never another customer's invoice in this customer's email
        url = ""
        if invoice.accepts_payment:
            issued = issue_pay_link(invoice, clock, branding.pay_link_ttl_days, reminder=line.reminder)
            ledger.commit(Change(pay_link=issued.link))
            url = issued.url(branding.public_base_url)
            by_currency.setdefault(invoice.currency, []).append((invoice, line.reminder))
        lines.append({"invoice": invoice, "template": line.reminder.template, "pay_url": url})
    together: list[dict[str, object]] = []
    for currency, payable in by_currency.items():
        if len(payable) < 2:
            continue  # one invoice: its own link pays it
        issued_together = issue_pay_together_link(list(payable), clock, branding.pay_link_ttl_days)
        ledger.commit(Change(pay_together_link=issued_together.link))
        total = sum(invoice.amount_remaining for invoice, _ in payable)
        together.append(
            {
                "currency": currency,
                "total": total,
                "count": len(payable),
                "url": issued_together.url(branding.public_base_url),
            }
        )
    return {"lines": lines, "together": together}


def _combined(ledger: Ledger, ref: str, message_id: str) -> CombinedCheckout:
    combined = ledger.get_combined_checkout(ref)
    if combined is None:
        raise NotFound(f"outbox {message_id}: no combined payment {ref}")
    return combined


def _shares(
    ledger: Ledger, combined: CombinedCheckout, *, clock: Clock | None = None, branding: Branding | None = None
) -> list[dict[str, object]]:
    """Each invoice of a combined payment, its share and what remains of it now; with `clock` and `branding`,
    a fresh pay link for each invoice still payable."""
    shares: list[dict[str, object]] = []
    for allocation in combined.allocations:
        invoice = ledger.get_invoice(allocation.invoice_id)
        remaining = invoice.amount_remaining if invoice else 0
        url = ""
        if invoice is not None and clock is not None and branding is not None and invoice.accepts_payment:
            issued = issue_pay_link(invoice, clock, branding.pay_link_ttl_days)
            ledger.commit(Change(pay_link=issued.link))
            url = issued.url(branding.public_base_url)
        shares.append(
            {"number": allocation.invoice_number, "amount": allocation.amount, "remaining": remaining, "pay_url": url}
        )
    return shares


def _offline_method(ledger: Ledger, invoice_id: str, payment_id: str) -> PaymentMethodUsed | None:
    """How money recorded outside Stripe came in, as the receipt names it ("Cheque, reference 1234")."""
    payment = next((p for p in ledger.get_invoice_payments(invoice_id) if p.key == payment_id), None)
    if payment is None or payment.offline is None:
        return None
    return PaymentMethodUsed(kind=payment.offline.method.value, reference=payment.offline.reference or None)
