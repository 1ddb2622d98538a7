"""Invoice and payment rules. Pure: no I/O, no clock, no AWS or Stripe."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from shared.domain.errors import AmountNotChargeable, CreditExceedsRemaining, InvalidStateTransition, InvoiceNotPayable
from shared.domain.payer_text import Amount, payer_text
from shared.domain.stripe_amounts import chargeable_increment, increment_text, is_chargeable_currency

if TYPE_CHECKING:  # annotations only: the webhook's cold path does not load the plan rules
    from shared.domain.plans import PlanOffer


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"  # written off by the dunning policy; money is still welcome


@dataclass(frozen=True, slots=True)
class LateFeeLine:
    """A late fee added to the invoice by a dunning step: its own line, counted in amount_due."""

    step: str
    amount: int


@dataclass(frozen=True, slots=True)
class CreditNote:
    """A credit note the operator issued: it lowers what the invoice owes (amount_due) by `amount`."""

    id: str
    amount: int
    reason: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Hold:
    """Reminders paused by the operator: until a moment, or (until None) until released."""

    reason: str
    until: datetime | None = None

    def active_at(self, instant: datetime) -> bool:
        return self.until is None or instant < self.until


class PaymentStatus(StrEnum):
    PENDING = "pending"  # delayed methods (bank debits): Checkout completed, money not yet confirmed
    FAILED = "failed"
    SUCCEEDED = "succeeded"


# Payment states only move up this ladder, whatever order Stripe's events arrive in: a success is final,
# and a late "pending" never hides a failure or a success.
PAYMENT_STATUS_RANK: dict[PaymentStatus, int] = {
    PaymentStatus.PENDING: 1,
    PaymentStatus.FAILED: 2,
    PaymentStatus.SUCCEEDED: 3,
}


def payment_status_moves_forward(current: PaymentStatus | None, new: PaymentStatus) -> bool:
    return current is None or PAYMENT_STATUS_RANK[new] > PAYMENT_STATUS_RANK[current]


# What the pay page says when an invoice was paid or voided while the customer looked at it.
NOT_PAYABLE_FOR_PAYER = payer_text("This invoice is already paid or cancelled, so it cannot be paid again.")


@dataclass(frozen=True, slots=True)
class Invoice:
    id: str
    customer_id: str
    number: str
    currency: str
    amount_due: int
    amount_paid: int
    status: InvoiceStatus
    due_date: date
    description: str
    allow_partial: bool
    min_partial_amount: int | None
    version: int
    created_at: datetime
    # Dunning: the customer's time zone (reminders go out in their hours), the steps already sent or
    # skipped, and when the reminder job should next look at this invoice (None: nothing to do).
    customer_timezone: str = "UTC"
    reminders_sent: frozenset[str] = frozenset()
    next_action_at: datetime | None = None
    hold: Hold | None = None
    late_fees: tuple[LateFeeLine, ...] = ()
    promised_at: datetime | None = None  # when the customer first promised to pay: one promise per invoice
    open_disputes: frozenset[str] = frozenset()  # Stripe disputes not yet closed: no dunning meanwhile
    plan_offer: PlanOffer | None = None  # installment plans the customer may choose on the pay page
    active_plan: str | None = None  # an installment plan is paying it off: no dunning meanwhile
    # Refunds of its payments (pending or succeeded), and the part of them owed again (reopen_balance).
    # amount_paid stays what was received; the rest of a refund is a credit: the invoice stays settled.
    amount_refunded: int = 0
    amount_reopened: int = 0
    credit_notes: tuple[CreditNote, ...] = ()  # oldest first; each lowered amount_due when it was issued
    # Moves on when the operator revokes the invoice's pay links: links minted under an older one are dead.
    pay_link_generation: int = 0
    # Whether what it owes is in the running aggregates (services.aggregates): True for every invoice this code
    # creates; False for one written before them, until a change or `payportal reports backfill` counts it.
    counted: bool = True
    # Whether the collections KPIs hold it already, so a payment settling it again (after a refund or a lost
    # dispute reopened it) counts nothing more: paid (invoices_paid, days_to_pay, paid_on_time: once, the first
    # time a payment settled it in full) and its one promise to pay kept (promises_kept: once). Set by
    # services.aggregates.tallied; an invoice counted late says what it held before the counters.
    counted_paid: bool = False
    counted_promise_kept: bool = False
    # When it may be deleted (its TTL): set by the change that first made it final (shared/domain/retention.py),
    # kept while it stays final, gone once it is reopened. Storage's bookkeeping, not what the invoice says: two
    # invoices differing only in it are equal (the in-memory ledger keeps none).
    retained_until: datetime | None = field(default=None, compare=False)

    @property
    def amount_credited(self) -> int:
        """What credit notes took off amount_due."""
        return sum(note.amount for note in self.credit_notes)

    @property
    def amount_original(self) -> int:
        """What was invoiced, before any late fee or credit note."""
        return self.amount_due - sum(line.amount for line in self.late_fees) + self.amount_credited

    def credit_note(self, note_id: str) -> CreditNote | None:
        return next((n for n in self.credit_notes if n.id == note_id), None)

    def with_credit_note(self, note: CreditNote) -> Invoice:
        """amount_due lowered by the note; settled by it, dunning has nothing more to do."""
        if note.amount <= 0 or note.amount > self.amount_remaining:
            raise CreditExceedsRemaining(
                f"a credit note of {note.amount} is more than the {self.amount_remaining} {self.currency} still owed",
                field="amount",
            )
        credited = replace(
            self,
            amount_due=self.amount_due - note.amount,
            credit_notes=(*self.credit_notes, note),
            version=self.version + 1,
        )
        credited = replace(credited, status=credited._settled_status())
        if credited.status is InvoiceStatus.PAID:
            return replace(credited, next_action_at=None)
        return credited

    def with_payment_reversed(self, amount: int) -> Invoice:
        """State after money recorded outside Stripe came back (a bounced cheque): it is owed again, less what
        of it the invoice's unrefunded credit still covers. A refund kept as credit (not reopened) that this
        money paid for is owed again too: the credit it came out of was never there."""
        owed = self.amount_remaining + max(0, amount - self.amount_credit)
        reversed_ = replace(self, amount_paid=max(0, self.amount_paid - amount), version=self.version + 1)
        if owed > 0:
            # settled = paid - reopened: reopen exactly what makes amount_remaining `owed`
            reopened = max(self.amount_reopened, reversed_.amount_paid - reversed_.amount_due + owed)
            reversed_ = replace(reversed_, amount_reopened=min(reopened, reversed_.amount_refunded))
        return replace(reversed_, status=reversed_._settled_status())

    def with_amount_due(self, amount_due: int) -> Invoice:
        """amount_due corrected: settled or owed as what was paid and credited now makes it (a credit note may
        have settled it at the old amount); settled, dunning has nothing more to do."""
        corrected = replace(self, amount_due=amount_due)
        corrected = replace(corrected, status=corrected._settled_status())
        return replace(corrected, next_action_at=None) if corrected.status is InvoiceStatus.PAID else corrected

    def with_late_fee(self, step: str, amount: int) -> Invoice:
        """Once per step: a second call for the same step changes nothing."""
        if amount <= 0 or any(line.step == step for line in self.late_fees):
            return self
        return replace(
            self, amount_due=self.amount_due + amount, late_fees=(*self.late_fees, LateFeeLine(step, amount))
        )

    @property
    def amount_settled(self) -> int:
        """What counts towards amount_due: received, less what was refunded to be owed again."""
        return self.amount_paid - self.amount_reopened

    @property
    def amount_remaining(self) -> int:
        return max(0, self.amount_due - self.amount_settled)

    @property
    def amount_credit(self) -> int:
        """What was paid beyond the amount due and not refunded: kept as the customer's credit, never dropped."""
        return max(0, self.amount_paid - self.amount_due - self.amount_refunded)

    def _settled_status(self) -> InvoiceStatus:
        if self.status in (InvoiceStatus.VOID, InvoiceStatus.UNCOLLECTIBLE):
            return self.status
        if self.amount_settled >= self.amount_due:
            return InvoiceStatus.PAID
        return InvoiceStatus.PARTIALLY_PAID if self.amount_settled > 0 else InvoiceStatus.OPEN

    def with_refunds(self, refunded: int, reopened: int, now: datetime) -> Invoice:
        """State after refunds moved: `refunded` more counted (less when one failed), `reopened` of it owed
        again. Owed again, dunning looks at it from `now`; settled again, it has nothing more to do."""
        moved = replace(
            self,
            amount_refunded=self.amount_refunded + refunded,
            amount_reopened=self.amount_reopened + reopened,
            version=self.version + 1,
        )
        moved = replace(moved, status=moved._settled_status())
        if moved.status in (InvoiceStatus.PAID, InvoiceStatus.VOID):
            return replace(moved, next_action_at=None)
        if reopened > 0 and moved.in_dunning:
            return replace(moved, next_action_at=now)
        return moved

    @property
    def accepts_payment(self) -> bool:
        payable = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.UNCOLLECTIBLE)
        return self.status in payable and self.amount_remaining > 0

    @property
    def in_dunning(self) -> bool:
        """Reminders go only to invoices still being collected, and never while a payment is disputed."""
        return (
            self.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)
            and self.amount_remaining > 0
            and not self.open_disputes
            and self.active_plan is None
        )

    def minimum_payment(self) -> int:
        """The least a customer may pay now: the whole remainder unless partial payments are allowed, and
        never less than Stripe can charge in the currency."""
        if not self.allow_partial:
            return self.amount_remaining
        increment = chargeable_increment(self.currency)
        floor = -(-(self.min_partial_amount or 1) // increment) * increment  # rounded up to a chargeable amount
        return min(floor, self.amount_remaining)

    def check_payable(self, amount: int) -> None:
        if not self.accepts_payment:
            raise InvoiceNotPayable(
                f"invoice {self.number} is {self.status.value} and cannot be paid", payer=NOT_PAYABLE_FOR_PAYER
            )
        if not is_chargeable_currency(self.currency):  # only an invoice made before creation checked it
            raise InvoiceNotPayable(
                f"invoice {self.number} is in {self.currency}, which cannot be charged",
                payer=payer_text("This invoice cannot be paid online. Please contact us."),
            )
        if amount > self.amount_remaining:
            raise InvoiceNotPayable(
                "the amount is more than what remains to pay",
                field="amount",
                payer=payer_text(
                    "Enter at most %(remaining)s, what remains to pay.",
                    remaining=Amount(self.amount_remaining, self.currency),
                ),
            )
        if amount < self.minimum_payment():
            if not self.allow_partial:
                raise InvoiceNotPayable(
                    "this invoice must be paid in full",
                    field="amount",
                    payer=payer_text("This invoice must be paid in full."),
                )
            raise InvoiceNotPayable(
                "the amount is below the minimum",
                field="amount",
                payer=payer_text("Enter at least %(minimum)s.", minimum=Amount(self.minimum_payment(), self.currency)),
            )
        if amount % chargeable_increment(self.currency):
            step = increment_text(self.currency)
            raise AmountNotChargeable(
                f"{self.currency} is paid in steps of {step}: enter a multiple of that",
                field="amount",
                payer=payer_text(
                    "Amounts in %(currency)s are paid in steps of %(step)s. Please enter a multiple of that.",
                    currency=self.currency,
                    step=step,
                ),
            )

    def with_payment(self, amount: int) -> Invoice:
        """State after a succeeded payment. Money is recorded even on a void or paid invoice (as credit)."""
        paid = self.amount_paid + amount
        status = self.status
        if status is not InvoiceStatus.VOID:
            settled = paid - self.amount_reopened
            status = InvoiceStatus.PAID if settled >= self.amount_due else InvoiceStatus.PARTIALLY_PAID
        next_action_at = None if status in (InvoiceStatus.PAID, InvoiceStatus.VOID) else self.next_action_at
        return replace(self, amount_paid=paid, status=status, version=self.version + 1, next_action_at=next_action_at)

    def with_dispute_lost(self, amount: int) -> Invoice:
        """State after a dispute is lost: the bank took `amount` back, so it no longer counts as paid."""
        moved = replace(self, amount_paid=max(0, self.amount_paid - amount), version=self.version + 1)
        if self.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID):
            # What still counts is what was received less what was refunded to be owed again, as after a
            # refund: a refund that reopened the balance, before or after the loss, ends the same.
            return replace(moved, status=moved._settled_status())
        return moved

    def voided(self) -> Invoice:
        if self.status is InvoiceStatus.VOID:
            return self
        if self.status is not InvoiceStatus.OPEN or self.amount_paid > 0:
            raise InvalidStateTransition(
                f"invoice {self.number} is {self.status.value}; only an open invoice with no payment can be voided"
            )
        return replace(self, status=InvoiceStatus.VOID, version=self.version + 1, next_action_at=None)


def invoice_event_detail(invoice: Invoice) -> dict[str, object]:
    """The invoice fields every invoice.* domain event carries (docs/events.md)."""
    return {
        "invoice_id": invoice.id,
        "customer_id": invoice.customer_id,
        "number": invoice.number,
        "status": invoice.status.value,
        "currency": invoice.currency,
        "amount_due": invoice.amount_due,
        "amount_paid": invoice.amount_paid,
        "amount_remaining": invoice.amount_remaining,
        "amount_credit": invoice.amount_credit,
        "amount_refunded": invoice.amount_refunded,
        "due_date": invoice.due_date.isoformat(),
    }
