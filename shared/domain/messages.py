"""What must happen once a state change commits: an email to send or a domain event to publish.

Each kind of message is a type with one producer shape and one consumer. Emails carry the ids and the
facts they need; addresses and links are resolved at delivery, so no email address or pay-link token waits
in the table. Events carry the detail documented in docs/events.md.

`encode` and `decode` turn a message into its stored form (kind, name, data of JSON values) and back;
the adapter stores only that form, the same one earlier versions stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from shared.domain.invoices import InvoiceStatus, PaymentStatus
from shared.domain.records import REMINDER_CHANNEL_EMAIL, Payment, ReminderAttribution, ReminderLine, new_id

if TYPE_CHECKING:
    from shared.domain.digest import Digest


class EventName(StrEnum):
    """Every domain event payportal publishes (its EventBridge detail-type)."""

    INVOICE_CREATED = "invoice.created"
    INVOICE_VOIDED = "invoice.voided"
    INVOICE_PAYMENT_RECORDED = "invoice.payment_recorded"
    INVOICE_CREDITED = "invoice.credited"
    INVOICE_CORRECTED = "invoice.corrected"
    INVOICE_PAY_LINKS_REVOKED = "invoice.pay_links_revoked"
    INVOICE_PARTIALLY_PAID = "invoice.partially_paid"
    INVOICE_PAID = "invoice.paid"
    INVOICE_OVERPAID = "invoice.overpaid"
    INVOICE_REMINDER_SENT = "invoice.reminder_sent"
    INVOICE_PROMISE_TO_PAY = "invoice.promise_to_pay"
    INVOICE_OVERDUE = "invoice.overdue"
    INVOICE_UNCOLLECTIBLE = "invoice.uncollectible"
    INVOICE_DISPUTED = "invoice.disputed"
    INVOICE_DISPUTE_CLOSED = "invoice.dispute_closed"
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_REFUNDED = "payment.refunded"
    PAYMENT_REVERSED = "payment.reversed"
    REFUND_FAILED = "refund.failed"
    PLAN_CREATED = "plan.created"
    PLAN_INSTALLMENT_PAID = "plan.installment_paid"
    PLAN_INSTALLMENT_FAILED = "plan.installment_failed"
    PLAN_COMPLETED = "plan.completed"
    PLAN_DEFAULTED = "plan.defaulted"
    AUTOPAY_ENABLED = "autopay.enabled"
    AUTOPAY_DISABLED = "autopay.disabled"
    RECURRING_INVOICED = "recurring.invoiced"
    CUSTOMER_EMAIL_UNDELIVERABLE = "customer.email_undeliverable"
    CUSTOMER_ERASED = "customer.erased"
    CUSTOMER_RESTRICTED = "customer.restricted"
    CUSTOMER_UNRESTRICTED = "customer.unrestricted"
    RECONCILE_COMPLETED = "reconcile.completed"


_PAYMENT_STATUS_EVENTS = {
    InvoiceStatus.PARTIALLY_PAID: EventName.INVOICE_PARTIALLY_PAID,
    InvoiceStatus.PAID: EventName.INVOICE_PAID,
}


def invoice_paid_event(status: InvoiceStatus) -> EventName:
    """The event a payment that left the invoice in `status` announces (partially paid, or paid)."""
    return _PAYMENT_STATUS_EVENTS[status]


def payment_event_detail(payment: Payment, stripe_event_id: str) -> dict[str, Any]:
    """The detail of `payment.succeeded` and `payment.failed` (docs/events.md)."""
    detail: dict[str, Any] = {
        "payment_id": payment.key,
        "invoice_id": payment.invoice_id,
        "customer_id": payment.customer_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "status": payment.status.value,
        "stripe_event_id": stripe_event_id,
    }
    if payment.status is PaymentStatus.FAILED:
        detail["failure_reason"] = payment.failure_reason
    if payment.reminder is not None:  # paid on a session opened through this reminder's pay link
        detail["reminder"] = payment.reminder.details()
    return detail


@dataclass(frozen=True, slots=True)
class Event:
    """A domain event for other systems (EventBridge, and signed webhooks)."""

    name: EventName
    detail: Mapping[str, Any]


class PlanNews(StrEnum):
    """What a plan_update email tells the customer."""

    RETRYING = "retrying"  # a soft decline: the charge is tried again on a date
    ACTION_REQUIRED = "action_required"  # the bank wants the customer to authenticate: pay it on the page
    DEFAULTED = "defaulted"  # the plan ended: the invoice is owed in full again
    CARD_EXPIRING = "card_expiring"  # the saved card expires before the next installment


@dataclass(frozen=True, slots=True)
class InvoiceIssuedEmail:
    template: ClassVar[str] = "invoice_issued"
    invoice_id: str


@dataclass(frozen=True, slots=True)
class ReminderEmail:
    template: ClassVar[str] = "reminder"
    invoice_id: str
    step: str  # the dunning step's key
    step_template: str  # which reminder copy the step uses
    sent_at: datetime | None = None  # when the dunning run sent it (None: queued before attribution was kept)


@dataclass(frozen=True, slots=True)
class GroupedReminderEmail:
    """Every reminder a dunning run sent one customer, in one email: each invoice with its step and its own pay
    link, and one link to pay them together. Addressed from `invoice_id` (the first of them)."""

    template: ClassVar[str] = "grouped_reminder"
    invoice_id: str
    lines: tuple[ReminderLine, ...]


@dataclass(frozen=True, slots=True)
class ReceiptEmail:
    template: ClassVar[str] = "receipt"
    invoice_id: str
    payment_id: str  # the PaymentIntent (how the customer paid is read from Stripe when it is sent)
    amount: int
    paid_at: datetime


@dataclass(frozen=True, slots=True)
class CombinedReceiptEmail:
    """One receipt for a payment of several invoices, listing each invoice and its share. Addressed from
    `invoice_id` (the first of them); the shares are read from the combined payment `combined_ref`."""

    template: ClassVar[str] = "combined_receipt"
    invoice_id: str
    combined_ref: str
    paid_at: datetime


@dataclass(frozen=True, slots=True)
class CombinedPaymentFailedEmail:
    """A delayed payment of several invoices that Checkout accepted failed later: one email listing them."""

    template: ClassVar[str] = "combined_payment_failed"
    invoice_id: str
    combined_ref: str


@dataclass(frozen=True, slots=True)
class PaymentFailedEmail:
    """A delayed payment (a bank debit) that Checkout accepted failed later: the customer is told, with a
    link to pay another way."""

    template: ClassVar[str] = "payment_failed"
    invoice_id: str
    payment_id: str
    amount: int


@dataclass(frozen=True, slots=True)
class AutopayNoticeEmail:
    template: ClassVar[str] = "autopay_notice"
    invoice_id: str
    amount: int
    charge_at: datetime


@dataclass(frozen=True, slots=True)
class PlanUpdateEmail:
    template: ClassVar[str] = "plan_update"
    invoice_id: str
    plan_id: str
    installment: int
    amount: int
    news: PlanNews
    next_attempt_at: datetime | None = None
    due_on: date | None = None


@dataclass(frozen=True, slots=True)
class RefundEmail:
    """Money is on its way back to the customer: one email per refund."""

    template: ClassVar[str] = "refund"
    invoice_id: str
    payment_id: str
    refund_id: str
    amount: int


@dataclass(frozen=True, slots=True)
class InvoiceCorrectedEmail:
    """What the customer owes changed (a credit note, or a corrected amount): the corrected invoice."""

    template: ClassVar[str] = "invoice_corrected"
    invoice_id: str
    amount_before: int  # amount_due before the change
    amount_after: int  # and after it
    credit_note_id: str = ""  # when a credit note made the change


@dataclass(frozen=True, slots=True)
class InvoiceVoidedEmail:
    """The invoice was cancelled: nothing is owed on it any more."""

    template: ClassVar[str] = "invoice_voided"
    invoice_id: str


@dataclass(frozen=True, slots=True)
class PaymentReversedEmail:
    """Money recorded outside Stripe came back (a cheque bounced): it is owed again."""

    template: ClassVar[str] = "payment_reversed"
    invoice_id: str
    payment_id: str
    amount: int


@dataclass(frozen=True, slots=True)
class DigestEmail:
    """The operator's morning digest: to the addresses configured (payportal:digestRecipients), resolved when
    it is sent; the figures were read when the digest run made it."""

    template: ClassVar[str] = "digest"
    digest: Digest


@dataclass(frozen=True, slots=True)
class AccountCodeEmail:
    """A one-time code for the customer's account (sign-in or step-up). It carries no code and no address:
    the code is minted when the email is sent (its hash written onto the challenge), and the address is the
    customer's; a challenge for an address no customer has is never sent."""

    template: ClassVar[str] = "account_code"
    challenge_key: str
    challenge_id: str


# Emails to a customer about one of their invoices: addressed from the invoice when sent.
InvoiceEmailMessage = (
    InvoiceIssuedEmail
    | ReminderEmail
    | GroupedReminderEmail
    | ReceiptEmail
    | CombinedReceiptEmail
    | CombinedPaymentFailedEmail
    | PaymentFailedEmail
    | AutopayNoticeEmail
    | PlanUpdateEmail
    | RefundEmail
    | InvoiceCorrectedEmail
    | InvoiceVoidedEmail
    | PaymentReversedEmail
)
EmailMessage = InvoiceEmailMessage | DigestEmail | AccountCodeEmail
MessageBody = Event | EmailMessage


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A side effect to deliver after the transaction commits, written in that same transaction."""

    body: MessageBody
    created_at: datetime
    id: str = field(default_factory=lambda: new_id("msg"))

    @property
    def kind(self) -> str:
        return "event" if isinstance(self.body, Event) else "email"

    @property
    def name(self) -> str:
        """The event's detail-type, or the email's template."""
        return self.body.name.value if isinstance(self.body, Event) else self.body.template


def outgoing_event(name: EventName, detail: Mapping[str, Any], now: datetime) -> OutboxMessage:
    return OutboxMessage(Event(name, detail), now)


def outgoing_email(body: EmailMessage, now: datetime) -> OutboxMessage:
    return OutboxMessage(body, now)


# ----- the stored form -------------------------------------------------------------------------------


def encode(body: MessageBody) -> tuple[str, str, dict[str, Any]]:
    """(kind, name, data): what the table keeps. Instants and days as ISO 8601 text."""
    if isinstance(body, Event):
        return "event", body.name.value, dict(body.detail)
    if isinstance(body, DigestEmail):
        from shared.domain.digest import to_data  # lazy: only the digest's run sends one (webhook cold start)

        return "email", body.template, to_data(body.digest)
    if isinstance(body, AccountCodeEmail):
        return "email", body.template, {"challenge_key": body.challenge_key, "challenge_id": body.challenge_id}
    match body:
        case InvoiceIssuedEmail():
            data: dict[str, Any] = {"invoice_id": body.invoice_id}
        case ReminderEmail():
            data = {
                "invoice_id": body.invoice_id,
                "step": body.step,
                "template": body.step_template,
                "sent_at": body.sent_at.isoformat() if body.sent_at else None,
            }
        case GroupedReminderEmail():
            data = {
                "invoice_id": body.invoice_id,
                "lines": [
                    {
                        "customer_id": line.customer_id,
                        "invoice_id": line.invoice_id,
                        "step": line.reminder.step,
                        "template": line.reminder.template,
                        "sent_at": line.reminder.sent_at.isoformat(),
                    }
                    for line in body.lines
                ],
            }
        case ReceiptEmail():
            data = {
                "invoice_id": body.invoice_id,
                "payment_id": body.payment_id,
                "amount": body.amount,
                "paid_at": body.paid_at.isoformat(),
            }
        case CombinedReceiptEmail():
            data = {
                "invoice_id": body.invoice_id,
                "combined_ref": body.combined_ref,
                "paid_at": body.paid_at.isoformat(),
            }
        case CombinedPaymentFailedEmail():
            data = {"invoice_id": body.invoice_id, "combined_ref": body.combined_ref}
        case PaymentFailedEmail():
            data = {"invoice_id": body.invoice_id, "payment_id": body.payment_id, "amount": body.amount}
        case AutopayNoticeEmail():
            data = {"invoice_id": body.invoice_id, "amount": body.amount, "charge_at": body.charge_at.isoformat()}
        case PlanUpdateEmail():
            data = {
                "invoice_id": body.invoice_id,
                "plan_id": body.plan_id,
                "installment": body.installment,
                "amount": body.amount,
                "kind": body.news.value,
                "next_attempt_at": body.next_attempt_at.isoformat() if body.next_attempt_at else None,
                "due_on": body.due_on.isoformat() if body.due_on else None,
            }
        case RefundEmail():
            data = {
                "invoice_id": body.invoice_id,
                "payment_id": body.payment_id,
                "refund_id": body.refund_id,
                "amount": body.amount,
            }
        case InvoiceCorrectedEmail():
            data = {
                "invoice_id": body.invoice_id,
                "amount_before": body.amount_before,
                "amount_after": body.amount_after,
                "credit_note_id": body.credit_note_id or None,
            }
        case InvoiceVoidedEmail():
            data = {"invoice_id": body.invoice_id}
        case PaymentReversedEmail():
            data = {"invoice_id": body.invoice_id, "payment_id": body.payment_id, "amount": body.amount}
    return "email", body.template, data


def decode(kind: str, name: str, data: Mapping[str, Any]) -> MessageBody:
    """The message from its stored form. Raises ValueError for a kind or name payportal never wrote."""
    if kind == "event":
        return Event(EventName(name), dict(data))
    if kind != "email":
        raise ValueError(f"unknown outbox message kind {kind!r}")
    if name == DigestEmail.template:
        from shared.domain.digest import from_data  # lazy: only the digest's delivery reads one (as above)

        return DigestEmail(from_data(data))
    if name == AccountCodeEmail.template:
        return AccountCodeEmail(str(data["challenge_key"]), str(data["challenge_id"]))
    invoice_id = str(data["invoice_id"])
    if name == InvoiceIssuedEmail.template:
        return InvoiceIssuedEmail(invoice_id)
    if name == ReminderEmail.template:
        sent_at = data.get("sent_at")
        return ReminderEmail(
            invoice_id,
            str(data.get("step") or ""),
            str(data.get("template") or ""),
            datetime.fromisoformat(str(sent_at)) if sent_at else None,
        )
    if name == GroupedReminderEmail.template:
        lines = tuple(
            ReminderLine(
                customer_id=str(line["customer_id"]),
                invoice_id=str(line["invoice_id"]),
                reminder=ReminderAttribution(
                    str(line["step"]),
                    str(line.get("template") or ""),
                    REMINDER_CHANNEL_EMAIL,
                    datetime.fromisoformat(str(line["sent_at"])),
                ),
                emailed=True,
            )
            for line in data["lines"]
        )
        return GroupedReminderEmail(invoice_id, lines)
    if name == ReceiptEmail.template:
        return ReceiptEmail(
            invoice_id, str(data["payment_id"]), int(data["amount"]), datetime.fromisoformat(str(data["paid_at"]))
        )
    if name == CombinedReceiptEmail.template:
        return CombinedReceiptEmail(invoice_id, str(data["combined_ref"]), datetime.fromisoformat(str(data["paid_at"])))
    if name == CombinedPaymentFailedEmail.template:
        return CombinedPaymentFailedEmail(invoice_id, str(data["combined_ref"]))
    if name == PaymentFailedEmail.template:
        return PaymentFailedEmail(invoice_id, str(data["payment_id"]), int(data["amount"]))
    if name == AutopayNoticeEmail.template:
        return AutopayNoticeEmail(invoice_id, int(data["amount"]), datetime.fromisoformat(str(data["charge_at"])))
    if name == PlanUpdateEmail.template:
        next_attempt, due_on = data.get("next_attempt_at"), data.get("due_on")
        return PlanUpdateEmail(
            invoice_id=invoice_id,
            plan_id=str(data.get("plan_id") or ""),
            installment=int(data["installment"]),
            amount=int(data["amount"]),
            news=PlanNews(str(data["kind"])),
            next_attempt_at=datetime.fromisoformat(str(next_attempt)) if next_attempt else None,
            due_on=date.fromisoformat(str(due_on)) if due_on else None,
        )
    if name == RefundEmail.template:
        return RefundEmail(invoice_id, str(data["payment_id"]), str(data["refund_id"]), int(data["amount"]))
    if name == InvoiceCorrectedEmail.template:
        return InvoiceCorrectedEmail(
            invoice_id, int(data["amount_before"]), int(data["amount_after"]), str(data.get("credit_note_id") or "")
        )
    if name == InvoiceVoidedEmail.template:
        return InvoiceVoidedEmail(invoice_id)
    if name == PaymentReversedEmail.template:
        return PaymentReversedEmail(invoice_id, str(data["payment_id"]), int(data["amount"]))
    raise ValueError(f"unknown email template {name!r}")
