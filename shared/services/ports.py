"""Ports: what the use cases need from the outside world. Adapters implement them over DynamoDB,
Stripe, SES and EventBridge; unit tests pass in-memory fakes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Protocol

from shared.domain.errors import DomainError

if TYPE_CHECKING:  # annotations only: the webhook's cold path does not load the dunning rules
    from collections.abc import Callable

    from shared.domain.dunning import DunningPolicy
    from shared.domain.imports import ChunkResult, ImportJob, ImportRow, RejectedRow, RowError
    from shared.domain.invoices import Invoice
    from shared.domain.messages import OutboxMessage
    from shared.domain.subject_access import EmailSent
from shared.domain.records import (
    AuditEntry,
    AuditSubject,
    CheckoutAttempt,
    CombinedCheckout,
    Customer,
    Dispute,
    Drift,
    OpenCheckout,
    PayLink,
    Payment,
    PayTogetherLink,
    Plan,
    ReconcileCursor,
    RecurringCharge,
    Refund,
    ReminderLine,
    ReminderOpening,
    ReturnKind,
    StripeEventRecord,
)


@dataclass(frozen=True, slots=True)
class Tally:
    """Counter increments on one counter item (`scope`, `bucket`), written in the transaction of the Change
    that carries them: `deltas` maps a field to how much it moves (minor units or a count; negative to
    lower it). Tallies on the same item in one Change are merged into one write."""

    scope: str  # what is counted, e.g. "owed#USD" (a partition: its buckets are read together)
    bucket: str  # where in it, e.g. "D#2026-03-31"; buckets of a scope sort as strings
    deltas: dict[str, int]
    # When the item may go (epoch seconds; DynamoDB's TTL deletes it some time after): derived from the bucket,
    # so every write of the item sets the same instant. None: kept for good.
    expires_at: int | None = None


@dataclass(frozen=True, slots=True)
class PolicyReplacement:
    """A new dunning policy, to be written only over the stored revision it was edited from
    (shared.domain.dunning.policy_revision)."""

    policy: DunningPolicy
    over_revision: str


@dataclass(frozen=True, slots=True)
class LostDispute:
    payment: Payment
    dispute: Dispute


@dataclass(slots=True)
class Change:
    """One atomic state change: everything in it is written in one transaction, or nothing is."""

    new_customer: Customer | None = None
    customer_update: Customer | None = None  # written only if the stored version is `version - 1`
    # A corrected external id taken for the customer: written only if no customer holds it (the old one is
    # released after the commit, Ledger.release_external_id)
    claimed_external_id: Customer | None = None
    # (customer id, instant): commit only if the customer is neither on hold nor unreachable at that instant
    customer_reachable_at: tuple[str, datetime] | None = None
    new_invoice: Invoice | None = None
    invoice_update: Invoice | None = None  # written only if the stored version is `version - 1`
    pay_link: PayLink | None = None
    # A reminder's pay link opened for the first time (opened_at set): written only over the stored link not
    # yet opened, so a link opened twice, or in two tabs at once, is recorded once
    pay_link_opened: PayLink | None = None
    # ... and the first opening of any of its reminder's links: written only if that reminder has none yet, so a
    # reminder whose email went out twice counts one opening
    reminder_opening: ReminderOpening | None = None
    # A customer's pay-together link (a grouped reminder's): written only if new
    pay_together_link: PayTogetherLink | None = None
    # Reminders a dunning run sent, each waiting for its customer's one email of the run: written only if new
    reminder_lines: list[ReminderLine] = field(default_factory=list)
    # ... and emailed: each written only over its line not yet emailed, so a line goes in one email
    reminder_lines_emailed: list[ReminderLine] = field(default_factory=list)
    checkout: CheckoutAttempt | None = None
    # The invoice's one payable session: written only if the stored version is `version - 1` (none for 1)
    open_checkout: OpenCheckout | None = None
    # A combined payment: opened (version 0: written, with one checkout attempt per invoice, only if new or the
    # same session), or its outcome (written only if the stored version is `version - 1`)
    combined_checkout: CombinedCheckout | None = None
    payment: Payment | None = None  # written only if it moves the stored payment's status forward
    # A succeeded payment's refunds: written only if the stored refund_version is `refund_version - 1`
    payment_refunds: Payment | None = None
    # ... or its fee looked up at Stripe, versioned with its refunds: written only if the stored refund_version
    # is `refund_version - 1` and its TTL is the one it was read with (retained_until)
    payment_fee: Payment | None = None
    # An offline payment reversed (a bounced cheque): written only over the same payment not yet reversed
    payment_reversal: Payment | None = None
    dispute: Dispute | None = None  # written only if it moves the stored dispute forward (open -> closed)
    # A dispute lost, with the payment it took money back from: its entry in the returns list (the accounting
    # export), unconditional, guarded by the dispute's own write
    lost_dispute: LostDispute | None = None
    new_plan: Plan | None = None  # written only if no plan with that id exists
    plan_update: Plan | None = None  # written only if the stored version is `version - 1`
    new_recurring: RecurringCharge | None = None
    recurring_update: RecurringCharge | None = None  # written only if the stored version is `version - 1`
    # Written only if the event id is new or its record says failed (with `replay`, or flagged): see
    # StripeEventRecord
    stripe_event: StripeEventRecord | None = None
    dunning_policy: DunningPolicy | None = None  # replaces the stored policy
    # ... or replaces it only if the stored one is the revision it was edited from (none stored, or one stored
    # before revisions were: the caller compares first), so a stale edit never overwrites another
    dunning_policy_replacement: PolicyReplacement | None = None
    outbox: list[OutboxMessage] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    # Counter increments (shared.services.aggregates derives them). A change carrying any must also carry a
    # write in GUARDED_FIELDS, whose guard refuses a repeat or a race, so a change is never counted twice.
    tallies: list[Tally] = field(default_factory=list)


# Fields whose guard refuses both a second commit of the same change and a change planned from the same state
# as one that committed: what makes a change's tallies count once. (A checkout, the dunning policy, outbox
# messages and audit entries are not: the same session may be recorded again; the others have fresh ids. Nor is
# a combined checkout: opened, it may be recorded again too, and its outcome moves no counter.)
GUARDED_FIELDS: Final = (
    "stripe_event", "new_customer", "customer_update", "new_invoice", "invoice_update", "open_checkout",
    "payment", "payment_refunds", "payment_reversal", "payment_fee", "new_plan", "plan_update", "new_recurring",
    "recurring_update", "dispute",
    "pay_link_opened",  # a reminder's link opened: its first opening only
    "reminder_opening",  # a reminder opened through any of its links: the first only (the opening's counter)
)  # fmt: skip


def merged_tallies(tallies: list[Tally]) -> list[Tally]:
    """One Tally per counter item (a transaction may touch an item once), its deltas summed; fields that sum
    to zero, and items left with nothing to move, dropped. In the order each item first appears.
    Raises ValueError for a change with tallies but no guarded write (see GUARDED_FIELDS)."""
    merged: dict[tuple[str, str], dict[str, int]] = {}
    expiries: dict[tuple[str, str], int | None] = {}
    for tally in tallies:
        key = (tally.scope, tally.bucket)
        if expiries.setdefault(key, tally.expires_at) != tally.expires_at:
            raise ValueError(f"tallies on {tally.scope}/{tally.bucket} disagree on when the item expires")
        deltas = merged.setdefault(key, {})
        for name, delta in tally.deltas.items():
            if type(delta) is not int:  # money is an int, never a float (nor a bool)
                raise TypeError(f"tally {tally.scope}/{tally.bucket} field {name}: {delta!r} is not an int")
            deltas[name] = deltas.get(name, 0) + delta
    moving = [(key, {n: d for n, d in deltas.items() if d}) for key, deltas in merged.items()]
    return [Tally(scope, bucket, deltas, expiries[(scope, bucket)]) for (scope, bucket), deltas in moving if deltas]


def check_tallies_guarded(change: Change) -> None:
    """Raises ValueError when the change carries tallies but nothing that would refuse its repeat."""
    if change.tallies and not any(getattr(change, name) for name in GUARDED_FIELDS):
        raise ValueError(
            "a change with tallies must carry a guarded write (see GUARDED_FIELDS), or it could count twice"
        )


class Rejection(StrEnum):
    """Which guard of a Change failed. When several fail at once, the first in Change's field order is named."""

    DUPLICATE_EVENT = "duplicate_event"  # stripe_event: that event id was recorded already, with a final outcome
    EXISTS = "exists"  # new_customer, new_invoice, pay_link, new_recurring, outbox, audit: the item is there already
    # new_customer, claimed_external_id: another customer has that external id
    DUPLICATE_EXTERNAL_ID = "duplicate_external_id"
    STALE_CUSTOMER = "stale_customer"  # customer_update: no such customer, or it changed since it was read
    CUSTOMER_PAUSED = "customer_paused"  # customer_reachable_at: the customer is on hold or unreachable then
    DUPLICATE_NUMBER = "duplicate_number"  # new_invoice: another invoice has that number
    STALE_INVOICE = "stale_invoice"  # invoice_update: no such invoice, or it changed since it was read
    ALREADY_OPENED = "already_opened"  # pay_link_opened: no such link, or its first opening is recorded already
    REMINDER_OPENED = "reminder_opened"  # reminder_opening: another link of that reminder was opened first
    REMINDER_EMAILED = "reminder_emailed"  # reminder_lines_emailed: no such line, or it was emailed already
    CHECKOUT_CONFLICT = "checkout_conflict"  # checkout: that ref is recorded with another session
    STALE_OPEN_CHECKOUT = "stale_open_checkout"  # open_checkout: another session was opened or closed meanwhile
    COMBINED_CONFLICT = "combined_conflict"  # combined_checkout opened: that ref is recorded with another session
    STALE_COMBINED = "stale_combined"  # combined_checkout outcome: none stored, or it changed since it was read
    PAYMENT_NOT_FORWARD = "payment_not_forward"  # payment: the stored payment is as far along or further
    STALE_REFUNDS = "stale_refunds"  # payment_refunds: no such succeeded payment, or its refunds changed
    ALREADY_REVERSED = "already_reversed"  # payment_reversal: no such offline payment, or it was reversed
    PLAN_EXISTS = "plan_exists"  # new_plan: a plan with that id exists
    STALE_PLAN = "stale_plan"  # plan_update: no such plan, or it changed since it was read
    STALE_RECURRING = "stale_recurring"  # recurring_update: no such recurring charge, or it changed
    DISPUTE_NOT_FORWARD = "dispute_not_forward"  # dispute: the stored dispute is as far along (open, closed)
    STALE_POLICY = "stale_policy"  # dunning_policy_replacement: the stored policy changed since it was read
    # webhook endpoints (shared.services.webhook_ports): no such endpoint, or it changed since it was read
    STALE_WEBHOOK_ENDPOINT = "stale_webhook_endpoint"


class ChangeRejected(Exception):
    """A guard in a Change failed and nothing of it was written; `reason` says which guard."""

    def __init__(self, reason: Rejection) -> None:
        super().__init__(str(reason))
        self.reason = reason


class InvalidCursor(DomainError):
    """A listing's cursor that this listing did not hand out (altered, or from another listing)."""

    code = "invalid_cursor"


@dataclass(frozen=True, slots=True)
class PaymentContext:
    invoice: Invoice | None
    checkout: CheckoutAttempt | None
    payment: Payment | None
    plan: Plan | None = None
    open_checkout: OpenCheckout | None = None


@dataclass(frozen=True, slots=True)
class SkippedItem:
    """A record a scheduled run could not work on. It is left as it is, the run goes on with the rest, and
    the handler logs it and counts it (`BadItemsSkipped`, an alarm); the next run looks at it again."""

    kind: str  # "invoice", "plan", "recurring_charge", "dunning_policy"...
    id: str
    reason: str  # the error's type, never its message: that could carry a customer's data


class UnreadableRecord(Exception):
    """A stored record that no longer reads as one (written by older code, or by hand)."""

    def __init__(self, skipped: SkippedItem) -> None:
        super().__init__(f"{skipped.kind} {skipped.id}: {skipped.reason}")
        self.skipped = skipped


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]  # the records; a due-work page holds a SkippedItem in place of one that does not read
    next_cursor: str | None


# ----- what a list reads: one partition of one listing, a key range in it (shared/services/lists.py plans it)


@dataclass(frozen=True, slots=True)
class InvoiceListing:
    """Invoices from one listing, oldest due first (`newest_first`: the reverse), due in [due_from, due_until)
    where given.

    `by`: "number" (the one invoice with `number`), "customer" (`customer_id`'s, oldest created first, no
    range), "status" (`status` in `currency`), or a flag list of `currency`: "owed" (open or partially paid,
    something owed; in every currency when `currency` is ""), "held", "promised", "disputed"."""

    by: str
    currency: str = ""
    status: str = ""
    customer_id: str = ""
    number: str = ""
    due_from: date | None = None
    due_until: date | None = None
    newest_first: bool = False  # the same key range read backwards (a customer's: newest created first)
    # The filters as asked, when the range comes partly from the clock (overdue: due before today): what a
    # cursor is bound to, so the next page is still this listing's tomorrow, when the range has moved on a day.
    asked: str = ""


@dataclass(frozen=True, slots=True)
class PaymentListing:
    """Payments received (created) in [since, until), newest first: every one, those of one `state`, one
    `currency` or one `method`, or one customer's (`customer_id`)."""

    since: datetime
    until: datetime
    state: str = ""
    customer_id: str = ""
    currency: str = ""
    method: str = ""
    asked: str = ""  # the filters as asked (`until` defaults to now): what a cursor is bound to, as above


@dataclass(frozen=True, slots=True)
class ReturnListing:
    """Money given back in [since, until), oldest first: refunds by when they were booked, offline payments
    by when they were reversed."""

    since: datetime
    until: datetime


@dataclass(frozen=True, slots=True)
class Returned:
    """One entry of the returns list: a refund booked or failed, or the reversal of an offline payment."""

    payment: Payment
    kind: ReturnKind
    refund: Refund | None = None  # for the refund kinds
    dispute: Dispute | None = None  # for a dispute lost

    @property
    def at(self) -> datetime:
        if self.kind is ReturnKind.DISPUTE_LOST:
            assert self.dispute is not None
            return self.dispute.updated_at  # when payportal recorded it lost
        if self.kind is ReturnKind.REVERSAL:
            assert self.payment.offline is not None and self.payment.offline.reversed_at is not None
            return self.payment.offline.reversed_at
        assert self.refund is not None
        return self.refund.booked_at if self.kind is ReturnKind.REFUND else self.refund.updated_at

    @property
    def amount(self) -> int:
        if self.dispute is not None:
            return self.dispute.amount
        return self.refund.amount if self.refund is not None else self.payment.amount


def listing_identity(listing: InvoiceListing | PaymentListing | CustomerListing | ReturnListing) -> str:
    """What a list's cursor is bound to: the filters as asked where the listing carries them (its range may
    move with the clock between two pages), else the listing itself (partition, range and filters)."""
    asked = getattr(listing, "asked", "")
    return f"{type(listing).__name__}:{asked}" if asked else repr(listing)


@dataclass(frozen=True, slots=True)
class CustomerListing:
    """Customers: every one, newest first (`by` "all"); or by name or email starting with `prefix` (a
    search_text), in that text's order ("prefix"), or with exactly that email ("email")."""

    by: str
    prefix: str = ""


class Ledger(Protocol):
    def commit(self, change: Change) -> None: ...
    def get_customer(self, customer_id: str) -> Customer | None: ...
    def get_customers(self, customer_ids: list[str]) -> dict[str, Customer]:
        """The customers of these ids that exist, by id (the ids may repeat)."""
        ...

    def customer_by_external_id(self, external_id: str) -> Customer | None: ...
    def remember_stripe_customer(self, customer_id: str, stripe_customer_id: str) -> None: ...
    def release_external_id(self, external_id: str, customer_id: str) -> None:
        """Free an external id (corrected or erased): only while it still names this customer; a repeat is
        harmless."""
        ...

    def redact_audit(self, entries: list[AuditEntry]) -> None:
        """Write these stored entries' details over again (an erasure's redaction, the only change an audit
        entry ever sees); entries not stored are skipped."""
        ...

    def list_customer_recurring(self, customer_id: str, limit: int, cursor: str | None) -> Page:
        """The customer's recurring charges (RecurringCharge), oldest first, from the by_owner index."""
        ...

    def get_invoice(self, invoice_id: str) -> Invoice | None: ...
    def get_invoice_and_customer(self, invoice_id: str, customer_id: str) -> tuple[Invoice | None, Customer | None]: ...
    def get_invoice_payments(self, invoice_id: str) -> list[Payment]: ...
    def get_pay_link(self, token_hash: str) -> PayLink | None: ...
    def get_checkout(self, invoice_id: str, ref: str) -> CheckoutAttempt | None: ...
    def get_open_checkout(self, invoice_id: str) -> OpenCheckout | None: ...
    def get_checkout_outcome(self, invoice_id: str, ref: str) -> tuple[Invoice | None, CheckoutAttempt | None]:
        """The invoice and one of its checkout attempts as of one instant (never one without the other's
        last change), for the page the customer returns to from Checkout."""
        ...

    def get_payment_context(
        self, invoice_id: str, checkout_ref: str | None, payment_key: str | None, plan_id: str | None = None
    ) -> PaymentContext: ...
    def get_plan(self, invoice_id: str, plan_id: str) -> Plan | None: ...
    def due_plans(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page: ...
    def get_recurring(self, recurring_id: str) -> RecurringCharge | None: ...
    def due_recurring(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page: ...
    def list_customer_payments(self, customer_id: str, limit: int, cursor: str | None) -> Page: ...
    def list_customer_invoices(self, customer_id: str, limit: int, cursor: str | None) -> Page: ...
    def due_invoices(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page: ...
    def pending_payments_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        """Payments with something pending (the payment, a bank debit; or a refund) past their `check_at`,
        soonest first."""
        ...

    def open_checkouts_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        """Invoices' OpenCheckouts whose current session is past its `check_at` (its expiry and a grace) with
        no completed or expired event recorded, soonest first."""
        ...

    def charges_in_flight_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        """Plans with a charge in flight (created at Stripe, no outcome recorded) past their `outcome_check_at`,
        soonest first. They are not in `due_plans` meanwhile: the charge run has nothing to do for them."""
        ...

    def get_dunning_policy(self) -> DunningPolicy | None: ...
    def invoice_for_payment_intent(self, payment_intent_id: str) -> str | None: ...
    def combined_for_payment_intent(self, payment_intent_id: str) -> str | None:
        """The combined payment (its ref) whose shares that PaymentIntent paid; None for any other."""
        ...

    def get_combined_checkout(self, ref: str) -> CombinedCheckout | None: ...
    def get_pay_together_link(self, token_hash: str) -> PayTogetherLink | None: ...
    def pending_reminder_lines(self, customer_id: str) -> list[ReminderLine]:
        """The customer's reminder lines not yet emailed, oldest first."""
        ...

    def reminder_lines_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        """Reminder lines not yet emailed past their `check_at` (their run died before emailing them)."""
        ...

    def get_dispute_context(self, invoice_id: str, dispute_id: str) -> tuple[Invoice | None, Dispute | None]: ...
    def open_balances(self) -> dict[str, tuple[int, int]]:
        """Currency -> (amount still to collect in minor units, number of invoices collecting it)."""
        ...

    def get_stripe_event(self, event_id: str) -> StripeEventRecord | None: ...
    def list_stripe_events(self, limit: int, cursor: str | None, *, outcome: str | None = None) -> Page:
        """Kept Stripe events (StripeEventRecord), newest first; `outcome` "failed" or "flagged": only those."""
        ...

    def list_audit(self, subject: AuditSubject, subject_id: str, limit: int, cursor: str | None) -> Page:
        """A subject's audit trail (AuditEntry), newest first."""
        ...

    def list_invoices(self, listing: InvoiceListing, limit: int, cursor: str | None) -> Page:
        """One page of Invoices of the listing, reading one item per invoice; the cursor is bound to it."""
        ...

    def list_payments(self, listing: PaymentListing, limit: int, cursor: str | None) -> Page:
        """One page of Payments of the listing (each with its invoice number), one item read per payment."""
        ...

    def list_returns(self, listing: ReturnListing, limit: int, cursor: str | None) -> Page:
        """One page of Returned (refunds and reversals) in the window, oldest first, one item read each."""
        ...

    def list_customers(self, listing: CustomerListing, limit: int, cursor: str | None) -> Page:
        """One page of the listing's (listed under, Customer) pairs, listed under "name" or "email": a
        search lists each customer under both, so a caller can tell a customer met twice."""
        ...

    # Reconciliation's own state (functions/reconcile): one cursor and the drift it found, read by key.
    def get_reconcile_cursor(self) -> ReconcileCursor | None: ...
    def advance_reconcile_cursor(self, cursor: ReconcileCursor) -> None:
        """Store the cursor if it is ahead of the stored one; otherwise nothing (a slower run never moves
        it back, and a retry of this call is harmless)."""
        ...

    def list_drift(self) -> list[Drift]:
        """Every unresolved drift, oldest first_seen first."""
        ...

    def record_drift(self, drift: Drift) -> None:
        """Note the drift (or that it is still there): a stored one keeps its first_seen."""
        ...

    def resolve_drift(self, kind: str, object_id: str) -> None:
        """It is settled: forget it (nothing if it was not recorded)."""
        ...

    # Counters written by Change.tallies, read by key, never by a scan.
    def read_tallies(
        self, scope: str, *, buckets: list[str] | None = None, between: tuple[str, str] | None = None
    ) -> dict[str, dict[str, int]]:
        """Bucket -> field -> value of one scope's counters: the `buckets` named (at most 100 per call are
        read in one request), or every bucket from `between[0]` to `between[1]` inclusive (one Query).
        A bucket never written is absent; exactly one of `buckets` and `between` is given."""
        ...

    def save_snapshot(self, kind: str, day: date, data: dict[str, dict[str, int]], keep_until: datetime) -> None:
        """Keep `data` (e.g. currency -> aging bucket -> amount) as the `kind` snapshot of `day`, replacing any
        earlier one of that day; DynamoDB's TTL deletes it after `keep_until`."""
        ...

    def get_snapshot(self, kind: str, day: date) -> dict[str, dict[str, int]] | None: ...

    def counters_ready(self) -> date | None:
        """The first day the running aggregates hold every invoice (date.min for a table that had them from
        its start), or None while invoices written before them may be uncounted (`payportal reports backfill`)."""
        ...

    def mark_counters_ready(self, since: date) -> None:
        """Record that the aggregates hold every invoice from `since` on; an earlier mark is kept."""
        ...

    def open_invoice_balances(self) -> Iterable[tuple[str, str, date, int]]:
        """(customer id, currency, due date, amount still owed) of every invoice being collected, from the
        open_balances index (a few attributes per open invoice, never the table)."""
        ...


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    customer_id: str = ""  # tagged on the message, so SES bounce and complaint events name the customer
    also_to: tuple[str, ...] = ()  # further recipients of the same message (the operator's digest)


class Mailer(Protocol):
    def send(self, email: Email, *, message_id: str) -> str | None:
        """Send it; the provider's id for the accepted message, when it gives one."""
        ...


@dataclass(frozen=True, slots=True)
class DomainEvent:
    id: str
    detail_type: str
    detail: dict[str, Any]


class EventPublisher(Protocol):
    def publish(self, event: DomainEvent) -> None: ...


class RunOnce(Protocol):
    """Runs `work` once per key. A repeat with the same key and the same fingerprint (the request as sent,
    as JSON) returns the first result; a repeat with another fingerprint is refused."""

    def __call__(self, key: str, fingerprint: dict[str, Any], work: Callable[[], dict[str, str]]) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class Claim:
    """A message leased for delivery."""

    message: OutboxMessage
    # An earlier delivery's lease ran out without an outcome: it may have sent the message already.
    taken_over: bool = False


class OutboxBusy(Exception):
    """Another delivery holds the message's lease: it may yet send it, or it died mid-send. Either way
    this delivery must not report it handled; the stream retries it (and dead-letters it if it stays so)."""


class OutboxStore(Protocol):
    def claim(self, message_id: str, lease_seconds: int, token: str) -> Claim | None:
        """Take the lease on a pending message (or one whose lease ran out). The same token claims again
        (a retried request whose first try did land). None: delivered already, or no such message;
        OutboxBusy: another token holds a live lease."""
        ...

    def mark_delivered(self, message_id: str, token: str, provider_id: str | None = None) -> bool:
        """Record the delivery made under `token`'s lease (and the provider's id for it). False: the lease
        is no longer this token's (it ran out and another delivery took the message), or no such message."""
        ...

    def release(self, message_id: str, token: str, error: str) -> None:
        """Give the message back for another try, if `token` still holds its lease; otherwise nothing."""
        ...

    def record_email_sent(self, sent: EmailSent) -> None:
        """Keep that an email went to a customer (template, subject, when: the export lists them). The same
        message and instant write the same record."""
        ...


class ImportStore(Protocol):
    """Bulk imports (shared/services/imports.py): each job, its checked rows in chunks, and each chunk's result."""

    def save_rows(self, import_id: str, chunk: int, rows: list[ImportRow], expires_at: datetime) -> None:
        """Keep one chunk's rows (the same chunk again writes the same rows)."""
        ...

    def create_job(self, job: ImportJob, expires_at: datetime) -> bool:
        """Store the job; False (and nothing changed) when a job with its id is stored already."""
        ...

    def get_job(self, import_id: str) -> ImportJob | None: ...
    def get_rows(self, import_id: str, chunk: int) -> list[ImportRow]: ...
    def record_chunk(self, import_id: str, result: ChunkResult, expires_at: datetime) -> bool:
        """Add the chunk's counts to its job and keep its rejected rows, once: False when the chunk was
        recorded already (a redelivered message), and nothing is counted twice."""
        ...

    def rejected_rows(self, import_id: str) -> list[RejectedRow]:
        """Every rejected row of the job's recorded chunks, by line."""
        ...

    def mark_checked(self, import_id: str, total_rows: int, chunks: int, sha256: str) -> bool:
        """An uploaded file's rows passed the check and are kept: the job runs. False when it was checked before."""
        ...

    def mark_invalid(self, import_id: str, problem: str, errors: list[RowError], sha256: str) -> bool:
        """An uploaded file did not pass the check: nothing will be imported. False when it was checked before."""
        ...


@dataclass(frozen=True, slots=True)
class UploadForm:
    """Where and how to upload a file: an HTTPS form POST of `fields` then the file (an S3 presigned POST)."""

    url: str
    fields: dict[str, str]


class ImportFiles(Protocol):
    """Files uploaded for a bulk import (S3), each under a key of its own, gone a day after it was uploaded."""

    def upload_form(self, key: str, max_bytes: int, expires_in_seconds: int) -> UploadForm:
        """A form that uploads one file of at most `max_bytes` to `key`, for the next `expires_in_seconds`."""
        ...

    def exists(self, key: str) -> bool: ...
    def read(self, key: str, max_bytes: int) -> bytes | None:
        """The file; None when there is none. ImportFileTooLarge (shared.domain.imports) above `max_bytes`."""
        ...

    def delete(self, key: str) -> None: ...


class WorkQueue(Protocol):
    def send(self, bodies: Sequence[dict[str, Any]]) -> None:
        """Every body as one message, or an error."""
        ...
