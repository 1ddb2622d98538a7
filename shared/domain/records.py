"""The records payportal keeps, as plain values. Adapters map them to and from storage."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.domain.invoices import Hold, Invoice, PaymentStatus


def _random_hex() -> str:
    """128 random bits as 32 hex digits (what uuid4().hex gave, without importing uuid on cold paths)."""
    return os.urandom(16).hex()


def new_id(prefix: str) -> str:
    return f"{prefix}_{_random_hex()}"


@dataclass(frozen=True, slots=True)
class EmailUndeliverable:
    """SES reported a permanent bounce or a complaint for the customer's address: nothing more is sent to it."""

    reason: str  # "bounce" | "complaint"
    at: datetime
    detail: str = ""  # e.g. the bounce subtype, never the address


@dataclass(frozen=True, slots=True)
class Autopay:
    """The customer asked for their future invoices to be charged on the due date to their saved card."""

    enabled_at: datetime


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    email: str
    name: str
    external_id: str | None
    timezone: str
    locale: str
    created_at: datetime
    stripe_customer_id: str | None = None
    hold: Hold | None = None  # reminders for all the customer's invoices are paused while this is set
    email_undeliverable: EmailUndeliverable | None = None
    autopay: Autopay | None = None
    version: int = 0  # updates are written only over the version they read
    # Erased (GDPR Art. 17): name, email and external id are placeholders; nothing is ever sent to them again.
    erased_at: datetime | None = None
    # Processing restricted (Art. 18): the records are kept, but used only for what the law or the customer's
    # own payments need (their receipts); no reminders, notices, or data to integrations.
    restricted_at: datetime | None = None
    # A correction not yet pushed to the Stripe customer (its push failed): pushed on the next use (decision 131).
    stripe_push_pending: bool = False

    @property
    def contact_stopped(self) -> bool:
        """Erased or restricted: no reminder, notice or marketing-like email may go to them."""
        return self.erased_at is not None or self.restricted_at is not None

    def reminders_paused_at(self, instant: datetime) -> bool:
        """No reminder may go to this customer now: erased, restricted, on hold, or their address bounced or
        complained."""
        if self.contact_stopped or self.email_undeliverable is not None:
            return True
        return self.hold is not None and self.hold.active_at(instant)

    def reminders_resume_at(self, instant: datetime) -> datetime | None:
        """When a pause seen at `instant` ends by itself; None when it lasts until someone acts."""
        if self.contact_stopped or self.email_undeliverable is not None or self.hold is None:
            return None
        return self.hold.until


# The channel a reminder went out on (email is the only one so far; the field keeps room for SMS, letters).
REMINDER_CHANNEL_EMAIL = "email"


@dataclass(frozen=True, slots=True)
class ReminderAttribution:
    """The reminder a pay link was minted for: one dunning step of one invoice, sent once (the dunning run
    never sends an (invoice, step) twice). Carried from the link to the Checkout Session opened through it and
    to the payment that session produces, so a payment belongs to exactly one reminder, or to none."""

    step: str  # the dunning step's key, e.g. "7:overdue"
    template: str  # the reminder copy the step used
    channel: str  # how it was sent: REMINDER_CHANNEL_EMAIL
    sent_at: datetime  # when the dunning run sent it (committed the reminder)

    def details(self) -> dict[str, str]:
        """As audit entries and events name it."""
        return {
            "step": self.step,
            "template": self.template,
            "channel": self.channel,
            "sent_at": self.sent_at.isoformat(),
        }


# A run's reminder lines are emailed by that run; one still waiting this long after (the run died between its
# reminders and its emails) is emailed by the next run's sweep.
REMINDER_LINE_GRACE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class ReminderLine:
    """One invoice's reminder, sent by a dunning run (its invoice already records the step), waiting to go out
    in that customer's one email of the run: every reminder of a customer due in a run goes in one email."""

    customer_id: str
    invoice_id: str
    reminder: ReminderAttribution
    emailed: bool = False  # its email is queued (written once, over the line not yet emailed)

    @property
    def check_at(self) -> datetime:
        """When the sweep emails it if its run did not."""
        return self.reminder.sent_at + REMINDER_LINE_GRACE


@dataclass(frozen=True, slots=True)
class PayTogetherLink:
    """A link to pay several invoices of one customer together (a grouped reminder's): only the SHA-256 of its
    256-bit token is stored; scoped to exactly these invoices and this customer, expiring and revocable. Each
    invoice's pay-link generation is kept, so revoking an invoice's links takes it off this one too."""

    token_hash: str
    customer_id: str
    invoice_ids: tuple[str, ...]
    generations: tuple[int, ...]  # each invoice's pay-link generation when minted
    reminders: tuple[ReminderAttribution | None, ...]  # each invoice's reminder that minted it
    expires_at: datetime
    created_at: datetime
    revoked: bool = False

    def usable_at(self, instant: datetime) -> bool:
        return not self.revoked and instant < self.expires_at

    def still_covers(self, invoice: Invoice) -> bool:
        """The invoice is one of the link's, and its links were not revoked since it was minted."""
        if invoice.id not in self.invoice_ids or invoice.customer_id != self.customer_id:
            return False
        return self.generations[self.invoice_ids.index(invoice.id)] >= invoice.pay_link_generation

    def reminder_for(self, invoice_id: str) -> ReminderAttribution | None:
        return self.reminders[self.invoice_ids.index(invoice_id)] if invoice_id in self.invoice_ids else None


@dataclass(frozen=True, slots=True)
class ReminderOpening:
    """The first opening of any pay link minted for one reminder. An email delivered twice (a delivery that
    died after the provider accepted it is sent again) carries two links of the same reminder: each link records
    its own opening, and the reminder counts one (reminder_report.OPENED), whichever link is opened first."""

    invoice_id: str
    reminder: ReminderAttribution
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class PayLink:
    """A pay link: only the SHA-256 of its token is ever stored."""

    token_hash: str
    invoice_id: str
    customer_id: str
    expires_at: datetime
    created_at: datetime
    revoked: bool = False
    # The invoice's pay-link generation when the link was minted: revoking an invoice's links moves the
    # invoice's generation on, and every link minted before is dead (Invoice.pay_link_generation).
    generation: int = 0
    reminder: ReminderAttribution | None = None  # minted for this reminder's email; None: any other email or call
    opened_at: datetime | None = None  # a reminder's link: when its page was first opened (recorded once)

    @staticmethod
    def new_token() -> str:
        import secrets  # lazy: minting links is the pay pages' and the outbox's, not the webhook's cold path

        return secrets.token_urlsafe(32)  # 256 bits

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def usable_at(self, instant: datetime) -> bool:
        return not self.revoked and instant < self.expires_at

    def usable_for(self, invoice: Invoice, instant: datetime) -> bool:
        """Usable now, and not revoked with the rest of the invoice's links since it was minted."""
        return self.usable_at(instant) and self.generation >= invoice.pay_link_generation


@dataclass(frozen=True, slots=True)
class CheckoutAttempt:
    """A Checkout Session we created: what we expect Stripe to tell us about it, and what it became."""

    ref: str
    invoice_id: str
    customer_id: str
    session_id: str
    amount: int
    currency: str
    created_at: datetime
    url: str = ""
    # The invoice's OpenCheckout version that opened it (0: opened before invoices had one).
    opened_as: int = 0
    # Stripe's session closes at this instant unless paid (None: opened before we set it).
    expires_at: datetime | None = None
    # What the session's payment has become, written with the payment itself, so one consistent read
    # of the invoice and the attempt tells the return page what happened (None: nothing yet).
    payment_status: PaymentStatus | None = None
    # The reminder whose pay link opened this session (None: another link, or the operator's call). A session
    # handed out again through another link keeps the reminder it was opened for.
    reminder: ReminderAttribution | None = None


# Stripe expires a Checkout Session within minutes of its `expires_at` and sends checkout.session.expired.
CHECKOUT_EXPIRY_GRACE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class OpenCheckout:
    """The one Checkout Session of an invoice that may still be paid, if any.

    Every new session moves `version` on; the one it replaces was expired at Stripe first. The webhook
    closes it (current None) when the session completes or expires."""

    invoice_id: str
    version: int
    current: CheckoutAttempt | None = None
    identity: str = ""  # what the current session was opened for (amount, purpose): a repeat reuses it

    def payable_at(self, now: datetime) -> CheckoutAttempt | None:
        """The session that may still be paid at `now` (Stripe closes it at `expires_at`)."""
        current = self.current
        if current is None or (current.expires_at is not None and current.expires_at <= now):
            return None
        return current

    @property
    def check_at(self) -> datetime | None:
        """When reconciliation asks Stripe about the current session if no event closed it yet: a little after
        its expiry (Stripe expires a session within minutes of `expires_at`). None: nothing open."""
        current = self.current
        if current is None or current.expires_at is None:
            return None
        return current.expires_at + CHECKOUT_EXPIRY_GRACE

    def supersedes(self, attempt: CheckoutAttempt) -> bool:
        """Whether `attempt` was replaced (so expired at Stripe) before it was paid."""
        return attempt.opened_as != 0 and self.version > attempt.opened_as and attempt.payment_status is None


# At most this many invoices in one combined payment. Opening it writes the combined record and one checkout
# attempt and one audit entry per invoice in one transaction (2n + 1 of DynamoDB's 100 items), and Stripe takes
# at most 100 line items; each invoice's share is then applied in a transaction of its own.
MAX_COMBINED_INVOICES = 40


@dataclass(frozen=True, slots=True)
class Allocation:
    """One invoice's share of a combined payment, fixed when the session is opened."""

    invoice_id: str
    invoice_number: str
    amount: int
    reminder: ReminderAttribution | None = None  # the reminder whose pay-together link opened it, if one did


@dataclass(frozen=True, slots=True)
class CombinedCheckout:
    """One Checkout Session paying several invoices of one customer in one currency: what each invoice gets
    (`allocations`) is recorded here before the session is handed out; Stripe's metadata carries only `ref`.

    Each invoice also gets a CheckoutAttempt under the same ref (`attempts`), so its share is recorded as a
    single invoice's payment is, by the same rules and guards. `payment_status` only moves forward: the guard
    that sends the one receipt listing every share."""

    ref: str  # "cmb_...": in the session's and its PaymentIntent's metadata
    customer_id: str
    currency: str
    allocations: tuple[Allocation, ...]
    session_id: str
    created_at: datetime
    url: str = ""
    expires_at: datetime | None = None
    payment_status: PaymentStatus | None = None
    payment_intent_id: str | None = None  # once an event named it
    failure_told: bool = False  # the customer was told a delayed payment of it failed (once)
    version: int = 0  # 0 when opened; each outcome written only over the version it was decided from

    @property
    def amount(self) -> int:
        return sum(a.amount for a in self.allocations)

    def allocation(self, invoice_id: str) -> Allocation | None:
        return next((a for a in self.allocations if a.invoice_id == invoice_id), None)

    def share_key(self, invoice_id: str) -> str:
        """The payment id of one invoice's share: the same whichever event records it first, and unique
        across invoices (the PaymentIntent is shared by every share)."""
        return "cpay_" + hashlib.sha256(f"{self.ref}:{invoice_id}".encode()).hexdigest()[:32]

    def attempts(self) -> list[CheckoutAttempt]:
        """Each invoice's checkout attempt for its share (opened_as 0: never an invoice's one open session)."""
        return [
            CheckoutAttempt(
                ref=self.ref,
                invoice_id=a.invoice_id,
                customer_id=self.customer_id,
                session_id=self.session_id,
                amount=a.amount,
                currency=self.currency,
                created_at=self.created_at,
                url=self.url,
                expires_at=self.expires_at,
                reminder=a.reminder,
            )
            for a in self.allocations
        ]


class RefundStatus(StrEnum):
    """A Stripe refund's status (requires_action is waiting on the customer: pending, to us)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


# A refund only moves up this ladder, whatever order Stripe's events arrive in: pending, then succeeded,
# then (rarely, after succeeding) failed; canceled only ever follows pending.
REFUND_STATUS_RANK: dict[RefundStatus, int] = {
    RefundStatus.PENDING: 1,
    RefundStatus.SUCCEEDED: 2,
    RefundStatus.FAILED: 3,
    RefundStatus.CANCELED: 3,
}


@dataclass(frozen=True, slots=True)
class Refund:
    """A Stripe refund of one payment. Pending and succeeded refunds count as refunded, as Stripe's charge
    counts them in its `amount_refunded`; a failed or canceled one gives the money back to the payment."""

    id: str  # Stripe's refund id (re_...)
    amount: int
    status: RefundStatus
    reopens_balance: bool  # the refunded amount is owed again (payportal's refunds asked so; dashboard: no)
    reason: str
    updated_at: datetime
    request_ref: str = ""  # the operator's request that made it (its Idempotency-Key's); "" from the dashboard
    created_at: datetime | None = None  # when payportal first recorded it (None: recorded before it was kept)

    @property
    def booked_at(self) -> datetime:
        """When the refund entered the books: its first record (updated_at for those kept before created_at)."""
        return self.created_at or self.updated_at

    @property
    def counts(self) -> bool:
        return self.status in (RefundStatus.PENDING, RefundStatus.SUCCEEDED)


class ReturnKind(StrEnum):
    """What an entry of the returns list (money given back, for the accounting export) records."""

    REFUND = "refund"  # booked: the money went back (or is on its way)
    REFUND_FAILED = "refund_failed"  # a booked refund failed or was canceled: the money came back to us
    REVERSAL = "reversal"  # an offline payment reversed (a bounced cheque)
    DISPUTE_LOST = "dispute_lost"  # a chargeback lost: the bank took the disputed amount back


class OfflineMethod(StrEnum):
    """How money received outside Stripe came in."""

    CHECK = "check"
    BANK_TRANSFER = "bank_transfer"
    CASH = "cash"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class OfflineReceipt:
    """Money the operator received another way (a cheque, a bank transfer, cash) and recorded on the invoice.
    A reversal (a bounced cheque) takes it back off: it is owed again."""

    method: OfflineMethod
    reference: str  # the operator's: a cheque number, a transfer's reference ("" when none)
    received_on: date
    reversed_at: datetime | None = None
    reversal_reason: str = ""
    reversal_ref: str = ""  # the operator's reversal request (its Idempotency-Key's)


@dataclass(frozen=True, slots=True)
class ProcessorFee:
    """What Stripe kept of a payment: the fee on its charge's balance transaction (for one share of a combined
    payment, that share's part of it)."""

    amount: int  # in minor units of `currency`
    currency: str  # the balance's (settlement) currency: the payment's, unless Stripe converted it
    balance_transaction: str  # Stripe's txn_...


def fee_shares(fee: int, shares: dict[str, int]) -> dict[str, int]:
    """A combined payment's fee split over its shares in proportion to their amounts, in whole minor units
    that add up to the fee exactly: each share its floor, the units left over to the largest remainders (ties:
    the lower id)."""
    total = sum(shares.values())
    if total <= 0:
        return {key: (fee if key == min(shares) else 0) for key in shares}
    parts = {key: fee * amount // total for key, amount in shares.items()}
    left = fee - sum(parts.values())
    for key in sorted(shares, key=lambda k: (-(fee * shares[k] % total), k))[:left]:
        parts[key] += 1
    return parts


# When reconciliation asks Stripe for a succeeded payment's fee: at its first run after the success, then again
# these long after each time Stripe had none yet (a balance transaction comes with the charge, rarely later);
# after the last, the fee stays unknown.
FEE_LOOKUP_AFTER = (timedelta(0), timedelta(hours=1), timedelta(hours=6), timedelta(days=1))

# Bank debits settle within days (ACH about 4 business days, SEPA up to 14): pending longer is worth a look.
PENDING_PAYMENT_EXPECTED = timedelta(days=14)
# Refunds to cards land in 5-10 business days; pending at Stripe for longer than this is worth a look.
PENDING_REFUND_EXPECTED = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Payment:
    """One payment, identified by its PaymentIntent (or session when Stripe gave none)."""

    key: str
    invoice_id: str
    customer_id: str
    amount: int
    currency: str
    status: PaymentStatus
    checkout_session_id: str | None
    payment_intent_id: str | None
    created_at: datetime
    updated_at: datetime
    failure_reason: str | None = None
    refunds: tuple[Refund, ...] = ()  # oldest first
    refund_version: int = 0  # moves on with every change to `refunds`: their writes are guarded by it
    offline: OfflineReceipt | None = None  # recorded by the operator, not taken through Stripe
    invoice_number: str = ""  # the invoice's (never changes): payment lists show it without reading the invoice
    reminder: ReminderAttribution | None = None  # paid on a session opened through this reminder's pay link
    # One invoice's share of a combined payment (CombinedCheckout.ref): `key` is the share's, and
    # `payment_intent_id` is shared with the other invoices' shares
    combined_ref: str = ""
    fee: ProcessorFee | None = None  # Stripe's, once reconciliation has looked it up (never for offline ones)
    fee_lookups: int = 0  # how often Stripe was asked for the fee and had none yet
    # The TTL the retention sweep stamped on it once its invoice was final (shared/domain/retention.py): kept by
    # a write of the payment alone (its fee), which carries no invoice to stamp it from
    retained_until: datetime | None = field(default=None, compare=False)

    @property
    def reversed(self) -> bool:
        return self.offline is not None and self.offline.reversed_at is not None

    @property
    def method(self) -> str:
        """How it was paid: through Stripe, or the offline method the operator recorded."""
        return self.offline.method.value if self.offline else "stripe"

    @property
    def check_at(self) -> datetime | None:
        """When reconciliation next asks Stripe about this payment: something of it pending longer than
        expected (the payment itself, a bank debit, or one of its refunds), or its fee still to look up. None:
        nothing to ask."""
        if self.status is PaymentStatus.PENDING:
            return self.created_at + PENDING_PAYMENT_EXPECTED
        pending = [r.updated_at + PENDING_REFUND_EXPECTED for r in self.refunds if r.status is RefundStatus.PENDING]
        if self.fee_due:
            pending.append(self.updated_at + FEE_LOOKUP_AFTER[self.fee_lookups])
        return min(pending) if pending else None

    @property
    def fee_due(self) -> bool:
        """Stripe's fee is still to be asked for: a Stripe payment that succeeded, whose fee is not known and
        whose lookups are not used up (FEE_LOOKUP_AFTER)."""
        return (
            self.status is PaymentStatus.SUCCEEDED
            and self.offline is None
            and bool(self.payment_intent_id)
            and self.fee is None
            and self.fee_lookups < len(FEE_LOOKUP_AFTER)
        )

    @property
    def amount_refunded(self) -> int:
        """As Stripe's charge counts it: every refund not failed or canceled."""
        return sum(r.amount for r in self.refunds if r.counts)

    @property
    def amount_refundable(self) -> int:
        if self.offline is not None:
            return 0  # Stripe never had this money: a bounced cheque is reversed instead
        return max(0, self.amount - self.amount_refunded) if self.status is PaymentStatus.SUCCEEDED else 0

    @property
    def state(self) -> str:
        """The status shown: the payment's own, how much of it was refunded, or that it was reversed."""
        if self.reversed:
            return "reversed"
        if self.status is PaymentStatus.SUCCEEDED and self.amount_refunded:
            return "refunded" if self.amount_refunded >= self.amount else "partially_refunded"
        return self.status.value

    def refund(self, refund_id: str) -> Refund | None:
        return next((r for r in self.refunds if r.id == refund_id), None)

    def refund_made_for(self, request_ref: str) -> Refund | None:
        return next((r for r in self.refunds if request_ref and r.request_ref == request_ref), None)


class DisputeStatus(StrEnum):
    OPEN = "open"
    WON = "won"  # closed with the money kept (won, or an inquiry closed without a chargeback)
    LOST = "lost"  # closed with the money taken back


# A dispute only moves from open to closed, whatever order Stripe's events arrive in.
DISPUTE_STATUS_RANK: dict[DisputeStatus, int] = {DisputeStatus.OPEN: 1, DisputeStatus.WON: 2, DisputeStatus.LOST: 2}


@dataclass(frozen=True, slots=True)
class Dispute:
    """A Stripe dispute (chargeback) of one of the invoice's payments."""

    id: str
    invoice_id: str
    payment_intent_id: str
    amount: int
    currency: str
    reason: str
    status: DisputeStatus
    updated_at: datetime
    # Stripe's dispute fee, from the dispute's balance transactions (what it withdrew, less what it reinstated)
    fee: ProcessorFee | None = None


# Outcomes of a kept Stripe event that are not final: the record may be written over (see StripeEventRecord).
EVENT_FAILED = "failed"  # processing raised (throttled, kept losing a race): Stripe's retry or a replay applies it
EVENT_FLAGGED = "flagged"  # did not match what we recorded: a replay applies it once the cause is fixed


@dataclass(frozen=True, slots=True)
class StripeEventRecord:
    """What we keep of each Stripe event: enough to audit and to replay from Stripe, no payload.

    Written only if the event id is new, or over a `failed` record; with `replay`, also over a `flagged`
    one. Any other outcome is final: the event is applied (or settled) exactly once."""

    event_id: str
    type: str
    object_id: str
    outcome: str  # applied | no_change | flagged | failed (ignored events are not kept)
    received_at: datetime
    detail: str = ""
    replay: bool = False  # written by an operator's replay: may replace a flagged record (not stored)

    @property
    def needs_attention(self) -> bool:
        return self.outcome in (EVENT_FAILED, EVENT_FLAGGED)


@dataclass(frozen=True, slots=True)
class ReconcileCursor:
    """How far reconciliation has read Stripe's event list: every event Stripe created before `through`
    has been applied (or was found unreadable and counted). It only moves forward."""

    through: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Drift:
    """Something reconciliation found the ledger and Stripe disagree on and could not settle by itself; kept
    with when it was first seen (an alarm fires when one stays unresolved for a day), cleared once settled."""

    kind: str  # "event": a listed Stripe event that could not be applied
    object_id: str  # the Stripe id it is about
    reason: str  # the error's type or the check that failed, never a payload
    first_seen: datetime
    last_seen: datetime


class AuditSubject(StrEnum):
    """What an audit entry is about; its trail is read per subject."""

    INVOICE = "invoice"
    CUSTOMER = "customer"
    RECURRING_CHARGE = "recurring_charge"
    DUNNING_POLICY = "dunning_policy"  # the one policy: its subject id is always DUNNING_POLICY_ID
    STRIPE_EVENT = "stripe_event"  # a kept Stripe event: who replayed it, and what became of it
    STAFF_MEMBER = "staff_member"  # a console user (their Cognito user name): invited, role changed, disabled...
    WEBHOOK_ENDPOINT = "webhook_endpoint"  # an outbound webhook endpoint: registered, changed, rotated, deleted


DUNNING_POLICY_ID = "dunning_policy"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who changed what, when and why: written in the same transaction as the change it records."""

    subject: AuditSubject
    subject_id: str
    action: str
    actor: str  # "stripe", "customer", the operator's IAM identity (ARN), "scheduler" or "job:<name>"
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)  # what changed: {"field": {"from": .., "to": ..}}, ids
    id: str = field(default_factory=_random_hex)
    cause: str = ""  # "stripe_event:evt_..." when a Stripe event caused it (stamped by the event engine)


class InstallmentStatus(StrEnum):
    SCHEDULED = "scheduled"
    CHARGING = "charging"  # an off-session PaymentIntent was (or is being) created for the current attempt
    PAID = "paid"
    FAILED = "failed"  # the last attempt failed; `retry_at` on the plan says when the next one is


@dataclass(frozen=True, slots=True)
class Installment:
    number: int  # 1-based
    due_on: date
    amount: int
    status: InstallmentStatus = InstallmentStatus.SCHEDULED
    attempts: int = 0  # off-session charge attempts made so far
    payment_intent_id: str | None = None  # the latest attempt's
    failure: str | None = None  # the latest failure's decline code


class PlanStatus(StrEnum):
    AWAITING_FIRST = "awaiting_first"  # chosen on the pay page; the first installment is being paid on Checkout
    ACTIVE = "active"
    COMPLETED = "completed"
    DEFAULTED = "defaulted"  # the last attempt failed, or a hard decline: the invoice is back in dunning
    CANCELLED = "cancelled"  # autopay turned off before the charge: the invoice is back in dunning


class PlanKind(StrEnum):
    INSTALLMENTS = "installments"  # chosen on the pay page, the first installment paid on Checkout
    AUTOPAY = "autopay"  # one charge on the due date, after a notice, for a customer on autopay


@dataclass(frozen=True, slots=True)
class Plan:
    """An installment plan for one invoice: the first installment paid on Checkout (saving the card), the
    rest charged off-session on their dates by functions/charges."""

    id: str
    invoice_id: str
    customer_id: str
    currency: str
    frequency: str
    installments: tuple[Installment, ...]
    status: PlanStatus
    created_at: datetime
    customer_timezone: str = "UTC"
    next_action_at: datetime | None = None  # when functions/charges should next look at it
    version: int = 1
    kind: PlanKind = PlanKind.INSTALLMENTS
    notice_sent: bool = False  # autopay: the customer was told before the charge

    @property
    def current(self) -> Installment | None:
        """The first installment not yet paid."""
        return next((i for i in self.installments if i.status is not InstallmentStatus.PAID), None)

    @property
    def charge_in_flight(self) -> Installment | None:
        """The current installment of an active plan, charging under a PaymentIntent Stripe created, whose
        outcome (payment_intent.succeeded or payment_failed) is not recorded yet. None: no such charge."""
        current = self.current
        if self.status is not PlanStatus.ACTIVE or current is None:
            return None
        return current if current.status is InstallmentStatus.CHARGING and current.payment_intent_id else None

    @property
    def outcome_check_at(self) -> datetime | None:
        """When reconciliation asks Stripe about the charge in flight if no outcome came: `next_action_at`,
        which the charge run set an hour after it created the charge (charges.SETTLE_WAIT)."""
        if self.charge_in_flight is None:
            return None
        return self.next_action_at or self.created_at


class RecurringStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class RecurringCharge:
    """A fixed amount billed on a schedule: one invoice per period, charged by autopay when the customer
    has it, otherwise emailed with its pay link."""

    id: str
    customer_id: str
    amount: int  # for the next period created (a change applies from then on)
    currency: str
    interval: str  # weekly | monthly | yearly
    start_date: date
    description: str
    status: RecurringStatus
    created_at: datetime
    end_date: date | None = None
    count: int | None = None  # periods in all, when limited by number
    periods_created: int = 0
    next_action_at: datetime | None = None  # when the next period's invoice is created
    version: int = 1
