"""An in-memory Ledger and OutboxStore with DynamoLedger's guards, rejections, orders and cursors.

tests/contracts/ledger_contract.py holds the two to the same behaviour. Where the table keeps less than a
record carries, this keeps the same: scheduled instants and customer hold ends to the whole second (they are
index keys and condition operands there), outbox data and audit details as the attribute codec stores them.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, TypeVar

from shared import schema
from shared.clock import wall_clock_now
from shared.domain import messages
from shared.domain.dunning import DunningPolicy, policy_revision
from shared.domain.invoices import PAYMENT_STATUS_RANK, Invoice, InvoiceStatus, PaymentStatus
from shared.domain.messages import OutboxMessage
from shared.domain.records import (
    DISPUTE_STATUS_RANK,
    EVENT_FAILED,
    EVENT_FLAGGED,
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
    RefundStatus,
    ReminderLine,
    ReminderOpening,
    ReturnKind,
    StripeEventRecord,
)
from shared.domain.subject_access import EmailSent
from shared.domain.text import search_text
from shared.services import aggregates
from shared.services.audit import unaudited
from shared.services.ports import (
    Change,
    ChangeRejected,
    Claim,
    CustomerListing,
    InvalidCursor,
    InvoiceListing,
    LostDispute,
    OutboxBusy,
    Page,
    PaymentContext,
    PaymentListing,
    Rejection,
    Returned,
    ReturnListing,
    check_tallies_guarded,
    listing_identity,
    merged_tallies,
)

if TYPE_CHECKING:
    from shared.services.ports import Ledger, OutboxStore

MAX_WRITES: Final = 100  # DynamoDB's limit on the items of one transaction

PENDING, CLAIMED, DELIVERED = "pending", "claimed", "delivered"
_Scheduled = TypeVar("_Scheduled", Invoice, Plan, RecurringCharge)


class UntalliedChange(AssertionError):
    """A use case committed a change to an invoice without the counters (services.aggregates) it moves."""


class UnauditedChange(AssertionError):
    """A use case committed a state change without the audit entry that records it."""


@dataclass(slots=True)
class OutboxEntry:
    """An outbox message and where its delivery stands."""

    message: OutboxMessage
    status: str = PENDING
    attempts: int = 0
    claim_expires: int | None = None  # epoch seconds
    claim_token: str | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    provider_id: str | None = None  # the mail provider's id for the accepted message


class InMemoryLedger:
    """Implements the Ledger and OutboxStore ports in memory. Leases use `wall_clock` (the real time unless
    a test passes another), never the business clock, as DynamoDB's do."""

    def __init__(self, *, wall_clock: Callable[[], datetime] = wall_clock_now, require_audit: bool = True) -> None:
        self._wall_clock = wall_clock
        # A change a use case (shared.services) commits must carry an audit entry for each record it moves
        self.require_audit = require_audit
        self.customers: dict[str, Customer] = {}
        self.invoices: dict[str, Invoice] = {}
        self.invoice_numbers: dict[str, str] = {}  # number -> invoice id
        self.external_ids: dict[str, str] = {}  # a customer's external id -> customer id
        self.pay_links: dict[str, PayLink] = {}
        self.reminder_openings: dict[tuple[str, str, str], ReminderOpening] = {}
        self.checkouts: dict[tuple[str, str], CheckoutAttempt] = {}  # (invoice id, ref)
        self.open_checkouts: dict[str, OpenCheckout] = {}  # invoice id -> its one payable session
        self.combined: dict[str, CombinedCheckout] = {}  # ref -> a combined payment
        self.pay_together_links: dict[str, PayTogetherLink] = {}  # token hash -> link
        self.reminder_lines: dict[tuple[str, str, str], ReminderLine] = {}  # (customer, sent at, invoice)
        self.combined_intents: dict[str, str] = {}  # a combined payment's PaymentIntent id -> its ref
        self.payments: dict[tuple[str, str], Payment] = {}  # (invoice id, payment key)
        self.payment_intents: dict[str, str] = {}  # PaymentIntent id -> invoice id
        self.plans: dict[tuple[str, str], Plan] = {}  # (invoice id, plan id)
        self.recurring: dict[str, RecurringCharge] = {}
        self.disputes: dict[tuple[str, str], Dispute] = {}  # (invoice id, dispute id)
        self.lost_disputes: dict[tuple[str, str], LostDispute] = {}  # their entries in the returns list
        self.stripe_events: dict[str, StripeEventRecord] = {}
        self.dunning_policy: DunningPolicy | None = None
        self.outbox: dict[str, OutboxEntry] = {}
        self.emails_sent: dict[tuple[str, datetime], EmailSent] = {}  # what the outbox records it sent
        self.audit: list[AuditEntry] = []  # in commit order
        self.commits = 0  # changes committed (rejected ones are not counted)
        self.reconcile_cursor: ReconcileCursor | None = None
        self.drift: dict[tuple[str, str], Drift] = {}  # (kind, object id)
        self.tallies: dict[tuple[str, str], dict[str, int]] = {}  # (scope, bucket) -> field -> value
        self.tally_expiries: dict[tuple[str, str], int] = {}  # (scope, bucket) -> epoch seconds (the table's TTL)
        self.snapshots: dict[tuple[str, date], dict[str, dict[str, int]]] = {}  # (kind, day)
        # A ledger made here is a table created by this code: its counters were ready from the start
        # (a test of a table from before them sets None and seeds uncounted invoices: seed_uncounted)
        self.counters_ready_since: date | None = date.min

    def _stored(self, record: object) -> object | None:
        """The stored version of a record a change writes (None: new)."""
        if isinstance(record, Customer):
            return self.customers.get(record.id)
        if isinstance(record, Invoice):
            return self.invoices.get(record.id)
        if isinstance(record, Plan):
            return self.plans.get((record.invoice_id, record.id))
        if isinstance(record, RecurringCharge):
            return self.recurring.get(record.id)
        if isinstance(record, Payment):
            return self.payments.get((record.invoice_id, record.key))
        if isinstance(record, Dispute):
            return self.disputes.get((record.invoice_id, record.id))
        return None

    # -- for assertions in tests

    def outbox_messages(self, status: str = PENDING) -> list[OutboxMessage]:
        return [e.message for e in self.outbox.values() if e.status == status]

    def audit_actions(self, subject_id: str | None = None) -> list[str]:
        return [a.action for a in self.audit if subject_id is None or a.subject_id == subject_id]

    # -- writes

    def commit(self, change: Change) -> None:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if self.require_audit and caller.startswith("shared.services"):
            missing = unaudited(change, self._stored)
            if missing:  # a test that seeds the ledger itself may; a use case may not
                raise UnauditedChange(f"{caller} committed a change to {', '.join(missing)} without an audit entry")
        if caller.startswith("shared.services"):
            self._check_owed_tallies(change, caller)
        check_tallies_guarded(change)
        writes = _identities(change) + [("tally", t.scope, t.bucket) for t in merged_tallies(change.tallies)]
        if len(writes) != len(set(writes)):
            raise ValueError("one change writes the same item twice (DynamoDB refuses such a transaction)")
        if len(writes) > MAX_WRITES:
            raise ValueError(f"one change writes {len(writes)} items; a transaction holds at most {MAX_WRITES}")
        if not writes:
            return
        outbox = [_message_as_stored(m) for m in change.outbox]
        audit = [replace(a, details=_as_stored(a.details)) for a in change.audit]
        rejection = next(self._failed_guards(change), None)
        if rejection is not None:
            raise ChangeRejected(rejection)
        self._apply(change, outbox, audit)
        self.commits += 1

    def _check_owed_tallies(self, change: Change, caller: str) -> None:
        """A use case that moves what an invoice owes carries the tallies aggregates derives for it."""
        after = change.new_invoice or change.invoice_update
        if after is None:
            return
        before = None if change.new_invoice is not None else self.invoices.get(after.id)
        if before is not None and before.version != after.version - 1:
            return  # stale: the commit is rejected anyway
        owed = lambda tallies: {  # noqa: E731
            (t.scope, t.bucket, tuple(sorted(t.deltas.items())))
            for t in merged_tallies([t for t in tallies if t.scope.startswith("owed#")])
        }
        expected = owed(aggregates.tallies_for(before, after, wall_clock_now()))
        if owed(change.tallies) != expected:
            raise UntalliedChange(f"{caller} moved what invoice {after.id} owes without the tallies of it")

    def _failed_guards(self, c: Change) -> Iterator[Rejection]:
        """Every guard of the change that fails, in Change's field order (DynamoLedger names the first)."""
        if c.stripe_event and not _event_writable(self.stripe_events.get(c.stripe_event.event_id), c.stripe_event):
            yield Rejection.DUPLICATE_EVENT
        if c.new_customer and c.new_customer.id in self.customers:
            yield Rejection.EXISTS
        if c.new_customer and c.new_customer.external_id in self.external_ids:
            yield Rejection.DUPLICATE_EXTERNAL_ID
        if c.customer_update and not _follows(self.customers.get(c.customer_update.id), c.customer_update.version):
            yield Rejection.STALE_CUSTOMER
        if c.claimed_external_id and c.claimed_external_id.external_id in self.external_ids:
            yield Rejection.DUPLICATE_EXTERNAL_ID
        if c.customer_reachable_at and not self._reachable(*c.customer_reachable_at):
            yield Rejection.CUSTOMER_PAUSED
        if c.new_invoice and c.new_invoice.id in self.invoices:
            yield Rejection.EXISTS
        if c.new_invoice and c.new_invoice.number in self.invoice_numbers:
            yield Rejection.DUPLICATE_NUMBER
        if c.invoice_update and not _follows(self.invoices.get(c.invoice_update.id), c.invoice_update.version):
            yield Rejection.STALE_INVOICE
        if c.pay_link and c.pay_link.token_hash in self.pay_links:
            yield Rejection.EXISTS
        if c.pay_link_opened:
            stored_link = self.pay_links.get(c.pay_link_opened.token_hash)
            if stored_link is None or stored_link.opened_at is not None:
                yield Rejection.ALREADY_OPENED
        if c.reminder_opening and _opening_identity(c.reminder_opening) in self.reminder_openings:
            yield Rejection.REMINDER_OPENED
        if c.pay_together_link and c.pay_together_link.token_hash in self.pay_together_links:
            yield Rejection.EXISTS
        if any(_line_identity(line) in self.reminder_lines for line in c.reminder_lines):
            yield Rejection.EXISTS
        for line in c.reminder_lines_emailed:
            stored_line = self.reminder_lines.get(_line_identity(line))
            if stored_line is None or stored_line.emailed:
                yield Rejection.REMINDER_EMAILED
                break
        if c.checkout:
            stored_checkout = self.checkouts.get((c.checkout.invoice_id, c.checkout.ref))
            if stored_checkout and stored_checkout.session_id != c.checkout.session_id:
                yield Rejection.CHECKOUT_CONFLICT
        if c.open_checkout:
            stored_open = self.open_checkouts.get(c.open_checkout.invoice_id)
            if (stored_open.version if stored_open else 0) != c.open_checkout.version - 1:
                yield Rejection.STALE_OPEN_CHECKOUT
        if c.combined_checkout:
            stored_combined = self.combined.get(c.combined_checkout.ref)
            if c.combined_checkout.version == 0:
                sid = c.combined_checkout.session_id
                stored_attempts = [self.checkouts.get((a.invoice_id, a.ref)) for a in c.combined_checkout.attempts()]
                if (stored_combined and (stored_combined.session_id != sid or stored_combined.version != 0)) or any(
                    a and (a.session_id != sid or a.payment_status is not None) for a in stored_attempts
                ):
                    yield Rejection.COMBINED_CONFLICT
            elif not _follows(stored_combined, c.combined_checkout.version):
                yield Rejection.STALE_COMBINED
        if c.payment:
            stored_payment = self.payments.get((c.payment.invoice_id, c.payment.key))
            if stored_payment and PAYMENT_STATUS_RANK[stored_payment.status] >= PAYMENT_STATUS_RANK[c.payment.status]:
                yield Rejection.PAYMENT_NOT_FORWARD
        for versioned in (c.payment_refunds, c.payment_fee):
            if versioned is None:
                continue
            stored = self.payments.get((versioned.invoice_id, versioned.key))
            if (
                stored is None
                or stored.status is not PaymentStatus.SUCCEEDED
                or stored.refund_version != versioned.refund_version - 1
                or (versioned is c.payment_fee and stored.retained_until != versioned.retained_until)
            ):
                yield Rejection.STALE_REFUNDS
        if c.payment_reversal:
            stored = self.payments.get((c.payment_reversal.invoice_id, c.payment_reversal.key))
            if stored is None or stored.offline is None or stored.reversed:
                yield Rejection.ALREADY_REVERSED
        if c.new_plan and (c.new_plan.invoice_id, c.new_plan.id) in self.plans:
            yield Rejection.PLAN_EXISTS
        if c.plan_update:
            stored_plan = self.plans.get((c.plan_update.invoice_id, c.plan_update.id))
            if not _follows(stored_plan, c.plan_update.version):
                yield Rejection.STALE_PLAN
        if c.new_recurring and c.new_recurring.id in self.recurring:
            yield Rejection.EXISTS
        if c.recurring_update and not _follows(self.recurring.get(c.recurring_update.id), c.recurring_update.version):
            yield Rejection.STALE_RECURRING
        if c.dispute:
            stored_dispute = self.disputes.get((c.dispute.invoice_id, c.dispute.id))
            if stored_dispute and DISPUTE_STATUS_RANK[stored_dispute.status] >= DISPUTE_STATUS_RANK[c.dispute.status]:
                yield Rejection.DISPUTE_NOT_FORWARD
        replacing = c.dunning_policy_replacement
        if replacing and self.dunning_policy and policy_revision(self.dunning_policy) != replacing.over_revision:
            yield Rejection.STALE_POLICY
        if any(m.id in self.outbox for m in c.outbox):
            yield Rejection.EXISTS
        audited = {_audit_identity(a) for a in self.audit}
        if any(_audit_identity(a) in audited for a in c.audit):
            yield Rejection.EXISTS

    def _reachable(self, customer_id: str, at: datetime) -> bool:
        """Neither unreachable nor on hold at `at`, compared to the second; an unknown customer passes."""
        customer = self.customers.get(customer_id)
        if customer is None:
            return True
        if customer.email_undeliverable is not None or customer.contact_stopped:
            return False
        if customer.hold is None:
            return True
        return customer.hold.until is not None and _to_the_second(customer.hold.until) <= _to_the_second(at)

    def _apply(self, c: Change, outbox: list[OutboxMessage], audit: list[AuditEntry]) -> None:
        if c.stripe_event:
            self.stripe_events[c.stripe_event.event_id] = replace(c.stripe_event, replay=False)
        for customer in (c.new_customer, c.customer_update):
            if customer:
                self.customers[customer.id] = _stored_customer(customer)
        for claimer in (c.new_customer, c.claimed_external_id):
            if claimer and claimer.external_id is not None:
                self.external_ids[claimer.external_id] = claimer.id
        if c.new_invoice:
            self.invoice_numbers[c.new_invoice.number] = c.new_invoice.id
        for invoice in (c.new_invoice, c.invoice_update):
            if invoice:
                self.invoices[invoice.id] = _stored_schedule(invoice)
        for link in (c.pay_link, c.pay_link_opened):
            if link:
                self.pay_links[link.token_hash] = link
        if c.reminder_opening:
            self.reminder_openings[_opening_identity(c.reminder_opening)] = c.reminder_opening
        if c.pay_together_link:
            self.pay_together_links[c.pay_together_link.token_hash] = c.pay_together_link
        for line in [*c.reminder_lines, *c.reminder_lines_emailed]:
            self.reminder_lines[_line_identity(line)] = line
        if c.checkout:
            self.checkouts[(c.checkout.invoice_id, c.checkout.ref)] = c.checkout
        if c.open_checkout:
            self.open_checkouts[c.open_checkout.invoice_id] = c.open_checkout
        if c.combined_checkout:
            self.combined[c.combined_checkout.ref] = c.combined_checkout
            if c.combined_checkout.version == 0:
                for attempt in c.combined_checkout.attempts():
                    self.checkouts[(attempt.invoice_id, attempt.ref)] = attempt
        if c.payment:
            self.payments[(c.payment.invoice_id, c.payment.key)] = c.payment
            if c.payment.combined_ref:  # the PaymentIntent names the combined payment; the share's id its invoice
                if c.payment.payment_intent_id:
                    self.combined_intents[c.payment.payment_intent_id] = c.payment.combined_ref
                self.payment_intents[c.payment.key] = c.payment.invoice_id
            elif c.payment.payment_intent_id:
                self.payment_intents[c.payment.payment_intent_id] = c.payment.invoice_id
            if c.payment.offline is not None:  # an offline payment's id names its invoice, as a PaymentIntent's
                self.payment_intents[c.payment.key] = c.payment.invoice_id
        if c.payment_refunds:
            self.payments[(c.payment_refunds.invoice_id, c.payment_refunds.key)] = c.payment_refunds
        if c.payment_fee:
            self.payments[(c.payment_fee.invoice_id, c.payment_fee.key)] = c.payment_fee
        if c.payment_reversal:
            self.payments[(c.payment_reversal.invoice_id, c.payment_reversal.key)] = c.payment_reversal
        for plan in (c.new_plan, c.plan_update):
            if plan:
                self.plans[(plan.invoice_id, plan.id)] = _stored_schedule(plan)
        for recurring in (c.new_recurring, c.recurring_update):
            if recurring:
                self.recurring[recurring.id] = _stored_schedule(recurring)
        if c.dispute:
            self.disputes[(c.dispute.invoice_id, c.dispute.id)] = c.dispute
        if c.lost_dispute:
            self.lost_disputes[(c.lost_dispute.dispute.invoice_id, c.lost_dispute.dispute.id)] = c.lost_dispute
        if c.dunning_policy:
            self.dunning_policy = c.dunning_policy
        if c.dunning_policy_replacement:
            self.dunning_policy = c.dunning_policy_replacement.policy
        for message in outbox:
            self.outbox[message.id] = OutboxEntry(message)
        self.audit.extend(audit)
        for tally in merged_tallies(c.tallies):
            counters = self.tallies.setdefault((tally.scope, tally.bucket), {})
            if tally.expires_at is not None:
                self.tally_expiries[(tally.scope, tally.bucket)] = tally.expires_at
            for name, delta in tally.deltas.items():
                counters[name] = counters.get(name, 0) + delta

    def remember_stripe_customer(self, customer_id: str, stripe_customer_id: str) -> None:
        customer = self.customers.get(customer_id)
        if customer is not None and customer.stripe_customer_id is None:
            self.customers[customer_id] = replace(
                customer, stripe_customer_id=stripe_customer_id, version=customer.version + 1
            )

    def release_external_id(self, external_id: str, customer_id: str) -> None:
        if self.external_ids.get(external_id) == customer_id:
            del self.external_ids[external_id]

    def redact_audit(self, entries: list[AuditEntry]) -> None:
        redacted = {_audit_identity(e): e for e in entries}
        self.audit = [
            replace(a, details=_as_stored(redacted[_audit_identity(a)].details))
            if _audit_identity(a) in redacted
            else a
            for a in self.audit
        ]

    # -- the outbox store

    def claim(self, message_id: str, lease_seconds: int, token: str) -> Claim | None:
        entry = self.outbox.get(message_id)
        if entry is None:
            return None
        now = int(self._wall_clock().timestamp())
        lease_free = entry.status == PENDING or (
            entry.status == CLAIMED and (entry.claim_expires is None or entry.claim_expires < now)
        )
        if lease_free or (entry.status == CLAIMED and entry.claim_token == token):
            taken_over = entry.status == CLAIMED and entry.claim_token != token
            entry.status, entry.claim_expires, entry.claim_token = CLAIMED, now + lease_seconds, token
            entry.attempts += 1
            return Claim(_message_as_stored(entry.message), taken_over=taken_over)
        if entry.status == CLAIMED:
            raise OutboxBusy(f"outbox {message_id} is being delivered by another worker")
        return None  # delivered

    def mark_delivered(self, message_id: str, token: str, provider_id: str | None = None) -> bool:
        entry = self.outbox.get(message_id)
        if entry is None or entry.claim_token != token:
            return False
        entry.status, entry.delivered_at, entry.provider_id = DELIVERED, self._wall_clock(), provider_id
        entry.claim_expires = entry.claim_token = None
        return True

    def record_email_sent(self, sent: EmailSent) -> None:
        self.emails_sent[(sent.message_id, sent.sent_at)] = sent

    def release(self, message_id: str, token: str, error: str) -> None:
        entry = self.outbox.get(message_id)
        if entry is None or entry.status != CLAIMED or entry.claim_token != token:
            return  # another delivery's lease now, or gone: theirs to finish
        entry.status, entry.last_error = PENDING, error[:200]
        entry.claim_expires = entry.claim_token = None

    # -- reads

    def get_customer(self, customer_id: str) -> Customer | None:
        return self.customers.get(customer_id)

    def get_customers(self, customer_ids: list[str]) -> dict[str, Customer]:
        return {c: self.customers[c] for c in customer_ids if c in self.customers}

    def customer_by_external_id(self, external_id: str) -> Customer | None:
        customer_id = self.external_ids.get(external_id)
        return self.customers.get(customer_id) if customer_id else None

    def get_invoice(self, invoice_id: str) -> Invoice | None:
        return self.invoices.get(invoice_id)

    def get_invoice_and_customer(self, invoice_id: str, customer_id: str) -> tuple[Invoice | None, Customer | None]:
        return self.invoices.get(invoice_id), self.customers.get(customer_id)

    def invoice_for_payment_intent(self, payment_intent_id: str) -> str | None:
        return self.payment_intents.get(payment_intent_id)

    def combined_for_payment_intent(self, payment_intent_id: str) -> str | None:
        return self.combined_intents.get(payment_intent_id)

    def get_combined_checkout(self, ref: str) -> CombinedCheckout | None:
        return self.combined.get(ref)

    def get_pay_together_link(self, token_hash: str) -> PayTogetherLink | None:
        return self.pay_together_links.get(token_hash)

    def pending_reminder_lines(self, customer_id: str) -> list[ReminderLine]:
        lines = [line for line in self.reminder_lines.values() if line.customer_id == customer_id and not line.emailed]
        return sorted(lines, key=lambda line: (line.reminder.sent_at, line.invoice_id))

    def reminder_lines_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        waiting = [line for line in self.reminder_lines.values() if not line.emailed]
        due = _due(((line.customer_id, line.check_at, line) for line in waiting), shard, until)
        return _page(f"reminder lines due in shard {shard}", due, limit, cursor, newest_first=False)

    def get_dispute_context(self, invoice_id: str, dispute_id: str) -> tuple[Invoice | None, Dispute | None]:
        return self.invoices.get(invoice_id), self.disputes.get((invoice_id, dispute_id))

    def get_dunning_policy(self) -> DunningPolicy | None:
        return self.dunning_policy

    def get_pay_link(self, token_hash: str) -> PayLink | None:
        return self.pay_links.get(token_hash)

    def get_checkout(self, invoice_id: str, ref: str) -> CheckoutAttempt | None:
        return self.checkouts.get((invoice_id, ref))

    def get_open_checkout(self, invoice_id: str) -> OpenCheckout | None:
        return self.open_checkouts.get(invoice_id)

    def get_checkout_outcome(self, invoice_id: str, ref: str) -> tuple[Invoice | None, CheckoutAttempt | None]:
        return self.invoices.get(invoice_id), self.checkouts.get((invoice_id, ref))

    def get_payment_context(
        self, invoice_id: str, checkout_ref: str | None, payment_key: str | None, plan_id: str | None = None
    ) -> PaymentContext:
        return PaymentContext(
            invoice=self.invoices.get(invoice_id),
            checkout=self.checkouts.get((invoice_id, checkout_ref)) if checkout_ref else None,
            payment=self.payments.get((invoice_id, payment_key)) if payment_key else None,
            plan=self.plans.get((invoice_id, plan_id)) if plan_id else None,
            open_checkout=self.open_checkouts.get(invoice_id) if checkout_ref else None,
        )

    def get_plan(self, invoice_id: str, plan_id: str) -> Plan | None:
        return self.plans.get((invoice_id, plan_id))

    def get_recurring(self, recurring_id: str) -> RecurringCharge | None:
        return self.recurring.get(recurring_id)

    def get_invoice_payments(self, invoice_id: str) -> list[Payment]:
        """Newest first; payments made at the same instant in the order of their keys."""
        payments = sorted((p for (i, _), p in self.payments.items() if i == invoice_id), key=lambda p: p.key)
        return sorted(payments, key=lambda p: p.created_at, reverse=True)

    # -- listings: the same order as the table's index, the same page sizes, their own cursors

    def list_customer_invoices(self, customer_id: str, limit: int, cursor: str | None) -> Page:
        ordered = self._customer_invoices(customer_id)
        return _page(f"invoices of {customer_id}", ordered, limit, cursor, newest_first=False)

    def list_customer_recurring(self, customer_id: str, limit: int, cursor: str | None) -> Page:
        ordered = sorted(
            ((_created_order(r.created_at, r.id), r) for r in self.recurring.values() if r.customer_id == customer_id),
            key=_sort_key,
        )
        return _page(f"recurring charges of {customer_id}", ordered, limit, cursor, newest_first=False)

    def list_customer_payments(self, customer_id: str, limit: int, cursor: str | None) -> Page:
        ordered = sorted(
            ((_created_order(p.created_at, p.key), p) for p in self.payments.values() if p.customer_id == customer_id),
            key=_sort_key,
        )
        return _page(f"payments of {customer_id}", ordered, limit, cursor, newest_first=True)

    def due_invoices(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        due = _due(((i.id, i.next_action_at, i) for i in self.invoices.values()), shard, until)
        return _page(f"reminders due in shard {shard}", due, limit, cursor, newest_first=False)

    def due_plans(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        # A plan with a charge in flight waits in reconciliation's partition instead (items.plan_item).
        waiting = ((p.id, None if p.outcome_check_at else p.next_action_at, p) for p in self.plans.values())
        due = _due(waiting, shard, until)
        return _page(f"charges due in shard {shard}", due, limit, cursor, newest_first=False)

    def charges_in_flight_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        due = _due(((p.id, p.outcome_check_at, p) for p in self.plans.values()), shard, until)
        return _page(f"charges in flight due in shard {shard}", due, limit, cursor, newest_first=False)

    def open_checkouts_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        due = _due(((o.invoice_id, o.check_at, o) for o in self.open_checkouts.values()), shard, until)
        return _page(f"open checkouts due in shard {shard}", due, limit, cursor, newest_first=False)

    def pending_payments_due(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        due = _due(((p.key, p.check_at, p) for p in self.payments.values()), shard, until)
        return _page(f"pending payments due in shard {shard}", due, limit, cursor, newest_first=False)

    def due_recurring(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        due = _due(((r.id, r.next_action_at, r) for r in self.recurring.values()), shard, until)
        return _page(f"recurring periods due in shard {shard}", due, limit, cursor, newest_first=False)

    def get_stripe_event(self, event_id: str) -> StripeEventRecord | None:
        return self.stripe_events.get(event_id)

    def list_stripe_events(self, limit: int, cursor: str | None, *, outcome: str | None = None) -> Page:
        kept = [(_event_order(e), e) for e in self.stripe_events.values() if outcome is None or e.outcome == outcome]
        listing = "stripe_events" if outcome is None else f"stripe_events:{outcome}"
        return _page(listing, sorted(kept, key=_sort_key), limit, cursor, newest_first=True)

    def list_audit(self, subject: AuditSubject, subject_id: str, limit: int, cursor: str | None) -> Page:
        trail = [
            (f"{a.at.isoformat()}#{a.id}", a) for a in self.audit if a.subject is subject and a.subject_id == subject_id
        ]
        listing = f"audit:{subject.value}:{subject_id}"
        return _page(listing, sorted(trail, key=_sort_key), limit, cursor, newest_first=True)

    def list_invoices(self, listing: InvoiceListing, limit: int, cursor: str | None) -> Page:
        if listing.by == "number":
            if cursor:
                raise InvalidCursor("the cursor is not valid for this listing", field="cursor")
            invoice_id = self.invoice_numbers.get(listing.number)
            return Page(items=[self.invoices[invoice_id]] if invoice_id in self.invoices else [], next_cursor=None)
        if listing.by == "customer":
            owned = self._customer_invoices(listing.customer_id)
            return _page(listing_identity(listing), owned, limit, cursor, newest_first=listing.newest_first)
        listed = _INVOICE_LISTS.get(listing.by, lambda i: i.status.value == listing.status)
        ordered = sorted(
            (
                (f"{i.due_date.isoformat()}#{i.id}", i)
                for i in self.invoices.values()
                if (i.currency == listing.currency or (listing.by == "owed" and not listing.currency))
                and listed(i)
                and (listing.due_from is None or i.due_date >= listing.due_from)
                and (listing.due_until is None or i.due_date < listing.due_until)
            ),
            key=_sort_key,
        )
        return _page(listing_identity(listing), ordered, limit, cursor, newest_first=listing.newest_first)

    def _customer_invoices(self, customer_id: str) -> list[tuple[str, Invoice]]:
        return sorted(
            ((_created_order(i.created_at, i.id), i) for i in self.invoices.values() if i.customer_id == customer_id),
            key=_sort_key,
        )

    def list_payments(self, listing: PaymentListing, limit: int, cursor: str | None) -> Page:
        # As the table's keys: to the second, the window's end second left out; then exactly.
        low, high = _to_the_second(listing.since), _to_the_second(listing.until)
        ordered = sorted(
            (
                (f"{_to_the_second(p.created_at)}#{p.key}", p)
                for p in self.payments.values()
                if (not listing.customer_id or p.customer_id == listing.customer_id)
                and (not listing.state or p.state == listing.state)
                and (not listing.currency or p.currency == listing.currency)
                and (not listing.method or p.method == listing.method)
                and low <= f"{_to_the_second(p.created_at)}#{p.key}" <= high
                and listing.since <= p.created_at < listing.until
            ),
            key=_sort_key,
        )
        return _page(listing_identity(listing), ordered, limit, cursor, newest_first=True)

    def list_returns(self, listing: ReturnListing, limit: int, cursor: str | None) -> Page:
        payments = list(self.payments.values())
        returned = [Returned(p, ReturnKind.REFUND, r) for p in payments for r in p.refunds]
        returned += [
            Returned(p, ReturnKind.REFUND_FAILED, r)
            for p in payments
            for r in p.refunds
            if r.status in (RefundStatus.FAILED, RefundStatus.CANCELED)
        ]
        returned += [Returned(p, ReturnKind.REVERSAL) for p in payments if p.reversed]
        lost = self.lost_disputes.values()
        returned += [Returned(x.payment, ReturnKind.DISPUTE_LOST, dispute=x.dispute) for x in lost]
        low, high = _to_the_second(listing.since), _to_the_second(listing.until)
        ordered = sorted(
            (
                (
                    f"{_to_the_second(r.at)}#{r.payment.key}#{r.kind.value}#{_returned_id(r)}",
                    r,
                )
                for r in returned
                if low <= _to_the_second(r.at) <= high and listing.since <= r.at < listing.until
            ),
            key=_sort_key,
        )
        return _page(listing_identity(listing), ordered, limit, cursor, newest_first=False)

    def list_customers(self, listing: CustomerListing, limit: int, cursor: str | None) -> Page:
        if listing.by == "all":
            everyone = sorted(
                ((_created_order(c.created_at, c.id), ("name", c)) for c in self.customers.values()), key=_sort_key
            )
            return _page(listing_identity(listing), everyone, limit, cursor, newest_first=True)
        prefix = listing.prefix + "#" if listing.by == "email" else listing.prefix
        entries = [
            (f"{search_text(text)}#{c.id}", (under, c))
            for c in self.customers.values()
            for under, text in (("name", c.name), ("email", c.email))
        ]
        found = sorted(((k, entry) for k, entry in entries if k.startswith(prefix)), key=_sort_key)
        return _page(listing_identity(listing), found, limit, cursor, newest_first=False)

    def open_balances(self) -> dict[str, tuple[int, int]]:
        """Currency -> (amount still to collect, invoices), over open and partially paid invoices."""
        totals: dict[str, tuple[int, int]] = {}
        for invoice in self.invoices.values():
            collecting = invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)
            if collecting and invoice.amount_remaining > 0:
                total, count = totals.get(invoice.currency, (0, 0))
                totals[invoice.currency] = (total + invoice.amount_remaining, count + 1)
        return totals

    def get_reconcile_cursor(self) -> ReconcileCursor | None:
        return self.reconcile_cursor

    def advance_reconcile_cursor(self, cursor: ReconcileCursor) -> None:
        stored = replace(cursor, through=_whole_second(cursor.through) or cursor.through)
        if self.reconcile_cursor is None or self.reconcile_cursor.through < stored.through:
            self.reconcile_cursor = stored

    def list_drift(self) -> list[Drift]:
        return sorted(self.drift.values(), key=lambda d: (d.first_seen, d.kind, d.object_id))

    def record_drift(self, drift: Drift) -> None:
        known = self.drift.get((drift.kind, drift.object_id))
        self.drift[(drift.kind, drift.object_id)] = replace(drift, first_seen=known.first_seen) if known else drift

    def resolve_drift(self, kind: str, object_id: str) -> None:
        self.drift.pop((kind, object_id), None)

    def save_snapshot(self, kind: str, day: date, data: dict[str, dict[str, int]], keep_until: datetime) -> None:
        _as_stored(data)  # only plain values (a float is refused as DynamoDB refuses it)
        self.snapshots[(kind, day)] = {outer: dict(inner) for outer, inner in data.items()}

    def get_snapshot(self, kind: str, day: date) -> dict[str, dict[str, int]] | None:
        found = self.snapshots.get((kind, day))
        return None if found is None else {outer: dict(inner) for outer, inner in found.items()}

    def counters_ready(self) -> date | None:
        return self.counters_ready_since

    def mark_counters_ready(self, since: date) -> None:
        if self.counters_ready_since is None:
            self.counters_ready_since = since

    def seed_uncounted(self, invoice: Invoice) -> Invoice:
        """Store `invoice` as a table from before the aggregates holds it: not counted, no counters moved,
        and the ledger's counters not ready."""
        stored = replace(invoice, counted=False)
        self.invoices[invoice.id] = stored
        self.invoice_numbers[invoice.number] = invoice.id
        self.counters_ready_since = None
        return stored

    def every_invoice(self) -> list[Invoice]:
        """What a Scan of the table would return of its invoices (the counters backfill reads them)."""
        return list(self.invoices.values())

    def open_invoice_balances(self) -> list[tuple[str, str, date, int]]:
        return [
            (i.customer_id, i.currency, i.due_date, i.amount_remaining)
            for i in self.invoices.values()
            if i.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID) and i.amount_remaining > 0
        ]

    def read_tallies(
        self, scope: str, *, buckets: list[str] | None = None, between: tuple[str, str] | None = None
    ) -> dict[str, dict[str, int]]:
        if (buckets is None) == (between is None):
            raise ValueError("name the buckets or give a range of them, not both nor neither")
        wanted = (
            (lambda bucket: bucket in buckets)
            if buckets is not None
            else (lambda bucket: between is not None and between[0] <= bucket <= between[1])
        )
        found = {b: dict(v) for (s, b), v in self.tallies.items() if s == scope and wanted(b)}
        return dict(sorted(found.items()))


# The invoice lists beside the one by status (shared/schema.py): what puts an invoice in each.
_INVOICE_LISTS: Final[dict[str, Callable[[Invoice], bool]]] = {
    "owed": lambda i: i.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID) and i.amount_remaining > 0,
    "held": lambda i: i.hold is not None,
    "promised": lambda i: i.promised_at is not None,
    "disputed": lambda i: bool(i.open_disputes),
}
# The list entries an invoice write puts (the owed list has two: one per currency, one across them).
_ENTRIES: Final = _INVOICE_LISTS | {"owed in any currency": _INVOICE_LISTS["owed"]}


# ----- what the table keeps ------------------------------------------------------------------------------


def _to_the_second(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _whole_second(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC).replace(microsecond=0)


def _stored_schedule(record: _Scheduled) -> _Scheduled:
    return replace(record, next_action_at=_whole_second(record.next_action_at))


def _stored_customer(customer: Customer) -> Customer:
    if customer.hold is None or customer.hold.until is None:
        return customer
    return replace(customer, hold=replace(customer.hold, until=_whole_second(customer.hold.until)))


def _message_as_stored(message: OutboxMessage) -> OutboxMessage:
    """The message as the table keeps it and gives it back: in its stored form, with plain values only."""
    kind, name, data = messages.encode(message.body)
    return replace(message, body=messages.decode(kind, name, _as_stored(data)))


def _as_stored(value: Any) -> Any:
    """A map of plain values as the table gives it back: None left out of maps, tuples as lists, whole
    Decimals as ints. Anything else (a float, a datetime) cannot be stored: TypeError, as at commit there."""
    if isinstance(value, bool | str | int) or value is None:
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _as_stored(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_as_stored(v) for v in value]
    raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB (money is an int, never a float)")


def _follows(stored: Customer | Invoice | Plan | RecurringCharge | CombinedCheckout | None, version: int) -> bool:
    """An update is written only over the version it was made from."""
    return stored is not None and stored.version == version - 1


def _event_writable(stored: StripeEventRecord | None, new: StripeEventRecord) -> bool:
    """New, or over a failed record; a replay also over a flagged one (writes.py's conditions)."""
    if stored is None or stored.outcome == EVENT_FAILED:
        return True
    return new.replay and stored.outcome == EVENT_FLAGGED


def _event_order(event: StripeEventRecord) -> str:
    return f"{event.received_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{event.event_id}"


def _line_identity(line: ReminderLine) -> tuple[str, str, str]:
    return line.customer_id, _to_the_second(line.reminder.sent_at), line.invoice_id


def _opening_identity(opening: ReminderOpening) -> tuple[str, str, str]:
    """One per reminder: its invoice, its step and when the run sent it."""
    return opening.invoice_id, opening.reminder.step, opening.reminder.sent_at.isoformat()


def _audit_identity(entry: AuditEntry) -> tuple[str, str, str, str]:
    return entry.subject.value, entry.subject_id, entry.at.isoformat(), entry.id


def _identities(c: Change) -> list[tuple[str, ...]]:
    """One name per item the change writes or checks: DynamoDB allows one operation per item."""
    names: list[tuple[str, ...]] = []
    if c.stripe_event:
        names.append(("event", c.stripe_event.event_id))
    names += [("customer", x.id) for x in (c.new_customer, c.customer_update) if x]
    names += [("customer email list", x.id) for x in (c.new_customer, c.customer_update) if x]
    names += [("external id", x.external_id) for x in (c.new_customer, c.claimed_external_id) if x and x.external_id]
    if c.customer_reachable_at:
        names.append(("customer", c.customer_reachable_at[0]))
    if c.new_invoice:
        names += [("invoice", c.new_invoice.id), ("invoice number", c.new_invoice.number)]
        names += [("invoice list", c.new_invoice.id, n) for n, listed in _ENTRIES.items() if listed(c.new_invoice)]
    if c.invoice_update:
        names.append(("invoice", c.invoice_update.id))
        names += [("invoice list", c.invoice_update.id, n) for n in _ENTRIES]
    names += [("pay link", x.token_hash) for x in (c.pay_link, c.pay_link_opened) if x]
    if c.reminder_opening:
        names.append(("reminder opening", *_opening_identity(c.reminder_opening)))
    if c.pay_together_link:
        names.append(("pay together link", c.pay_together_link.token_hash))
    names += [("reminder line", *_line_identity(line)) for line in [*c.reminder_lines, *c.reminder_lines_emailed]]
    if c.checkout:
        names.append(("checkout", c.checkout.invoice_id, c.checkout.ref))
    if c.open_checkout:
        names.append(("open checkout", c.open_checkout.invoice_id))
    if c.combined_checkout:
        names.append(("combined", c.combined_checkout.ref))
        if c.combined_checkout.version == 0:
            names += [("checkout", a.invoice_id, a.ref) for a in c.combined_checkout.attempts()]
    if c.payment:
        names.append(("payment", c.payment.invoice_id, c.payment.key))
        if c.payment.payment_intent_id:
            names.append(("payment intent", c.payment.payment_intent_id))
        if c.payment.combined_ref:
            names.append(("payment intent", c.payment.key))
        if c.payment.offline is not None:
            names.append(("payment intent", c.payment.key))
    if c.payment_refunds:
        names.append(("payment", c.payment_refunds.invoice_id, c.payment_refunds.key))
    if c.payment_reversal:
        names.append(("payment", c.payment_reversal.invoice_id, c.payment_reversal.key))
    if c.payment_fee:
        names.append(("payment", c.payment_fee.invoice_id, c.payment_fee.key))
    moved = [p for p in (c.payment, c.payment_refunds, c.payment_reversal, c.payment_fee) if p]
    names += [(f"payment {by} list", p.invoice_id, p.key) for p in moved for by in ("state", "currency", "method")]
    if c.payment_refunds:  # the refunds the change moved (stamped with its instant), in the returns list
        p = c.payment_refunds
        names += [("returns list", p.invoice_id, r.id) for r in p.refunds if r.updated_at == p.updated_at]
        names += [
            ("returns list", p.invoice_id, "failed", r.id)
            for r in p.refunds
            if r.updated_at == p.updated_at and r.status in (RefundStatus.FAILED, RefundStatus.CANCELED)
        ]
    if c.payment_reversal:
        names.append(("returns list", c.payment_reversal.invoice_id, "reversal", c.payment_reversal.key))
    names += [("plan", x.invoice_id, x.id) for x in (c.new_plan, c.plan_update) if x]
    names += [("recurring", x.id) for x in (c.new_recurring, c.recurring_update) if x]
    if c.dispute:
        names.append(("dispute", c.dispute.invoice_id, c.dispute.id))
    if c.lost_dispute:
        names.append(("returns list", c.lost_dispute.dispute.invoice_id, "dispute", c.lost_dispute.dispute.id))
    if c.dunning_policy or c.dunning_policy_replacement:
        names.append(("dunning policy",))
    names += [("outbox", m.id) for m in c.outbox]
    names += [("audit", *_audit_identity(a)) for a in c.audit]
    return names


# ----- listings ----------------------------------------------------------------------------------------------


def _returned_id(r: Returned) -> str:
    if r.dispute is not None:
        return r.dispute.id
    return r.refund.id if r.refund is not None else r.payment.key


def _sort_key(pair: tuple[str, Any]) -> str:
    return pair[0]


def _created_order(created_at: datetime, entity_id: str) -> str:
    """The by_owner index sorts a customer's items by creation time as written (ISO 8601), then id."""
    return f"{created_at.isoformat()}#{entity_id}"


def _due(candidates: Iterable[tuple[str, datetime | None, Any]], shard: int, until: datetime) -> list[tuple[str, Any]]:
    """Records of one shard whose scheduled instant is at or before `until`, to the second, soonest first."""
    deadline = _to_the_second(until)
    due = [
        (f"{_to_the_second(at)}#{entity_id}", record)
        for entity_id, at, record in candidates
        if at is not None
        and schema.shard_of(entity_id, schema.DUE_WORK_SHARDS) == shard
        and _to_the_second(at) <= deadline
    ]
    return sorted(due, key=_sort_key)


def _page(listing: str, ordered: list[tuple[str, Any]], limit: int, cursor: str | None, *, newest_first: bool) -> Page:
    """One page of `ordered` (ascending (sort key, record) pairs) after the cursor's position. The next cursor
    is given only when more items follow (DynamoDB may give one at the exact end too: then the next page is
    empty; callers handle both)."""
    if newest_first:
        ordered = ordered[::-1]
    if cursor:
        after = _decode_cursor(cursor, listing)
        ordered = [(k, r) for k, r in ordered if (k < after if newest_first else k > after)]
    page, rest = ordered[:limit], ordered[limit:]
    next_cursor = _encode_cursor(listing, page[-1][0]) if page and rest else None
    return Page(items=[record for _, record in page], next_cursor=next_cursor)


def _encode_cursor(listing: str, after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([listing, after]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, listing: str) -> str:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        decoded = None
    if not (isinstance(decoded, list) and len(decoded) == 2 and decoded[0] == listing and isinstance(decoded[1], str)):
        raise InvalidCursor("the cursor is not valid for this listing", field="cursor")
    return decoded[1]


if TYPE_CHECKING:
    _ledger_port: Ledger = InMemoryLedger()
    _outbox_port: OutboxStore = InMemoryLedger()
