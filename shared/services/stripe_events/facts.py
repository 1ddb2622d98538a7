"""What a Stripe event says, as typed facts. The adapter builds them from Stripe's JSON; the use cases read
nothing else, so no service sees an event's shape."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.domain.records import DisputeStatus, ProcessorFee, RefundStatus


@dataclass(frozen=True, slots=True)
class EventMeta:
    """The envelope: which event this is, and the id of the object it is about."""

    id: str
    type: str
    created: int  # Unix seconds at Stripe; 0 when absent
    object_id: str
    livemode: bool = False  # Stripe's live mode (real money), not test mode
    replay: bool = False  # re-fetched from Stripe by an operator: may be applied over a flagged record
    replayed_by: str = ""  # the replay's actor (an operator's IAM identity, staff:<sub>:<email>): audited


@dataclass(frozen=True, slots=True)
class Tags:
    """What payportal wrote into the Stripe object's metadata when it created it."""

    invoice_id: str | None = None
    customer_id: str | None = None
    checkout_ref: str | None = None
    plan_id: str | None = None
    installment: int | None = None  # which installment of `plan_id` this pays
    attempt: int | None = None  # which off-session attempt at that installment
    purpose: str | None = None  # of a setup-mode session: "autopay" or "card_update"
    combined_ref: str | None = None  # a session (and its PaymentIntent) paying several invoices at once

    @property
    def is_installment_charge(self) -> bool:
        """An off-session charge functions/charges made. A Checkout Session paying an installment carries
        the same plan tags (on its PaymentIntent too) and its checkout_ref: its PaymentIntent's events are the
        session's, recorded as Checkout payments are, whichever of them arrives first."""
        return bool(self.plan_id) and self.installment is not None and not self.checkout_ref


class SetupPurpose(StrEnum):
    """Why payportal opened a setup-mode Checkout Session (its `purpose` metadata)."""

    AUTOPAY = "autopay"  # the card autopay will charge
    CARD_UPDATE = "card_update"  # a new card for the coming installments
    ADD_METHOD = "add_method"  # a payment method the customer added from their account


class SessionState(StrEnum):
    COMPLETED = "completed"
    ASYNC_SUCCEEDED = "async_payment_succeeded"
    ASYNC_FAILED = "async_payment_failed"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class CheckoutSessionFact:
    """A Checkout Session in payment mode moved: completed (paid, or waiting on a bank debit), its delayed
    payment succeeded or failed, or it expired unpaid."""

    event: EventMeta
    state: SessionState
    session_id: str | None
    paid: bool  # Stripe's payment_status is "paid"
    payment_intent_id: str | None
    amount: int | None  # amount_total, minor units
    currency: str | None  # upper case
    tags: Tags


@dataclass(frozen=True, slots=True)
class SetupSessionFact:
    """A Checkout Session in setup mode moved: a card was saved for later (no money moves)."""

    event: EventMeta
    completed: bool
    session_id: str | None
    tags: Tags


@dataclass(frozen=True, slots=True)
class PaymentIntentFact:
    """A PaymentIntent succeeded or failed (off-session charges, and Checkout's own intents)."""

    event: EventMeta
    succeeded: bool
    payment_intent_id: str
    amount: int | None
    currency: str | None
    tags: Tags
    error_code: str | None = None  # Stripe's last_payment_error.code
    decline_code: str | None = None  # Stripe's last_payment_error.decline_code

    @property
    def failure_reason(self) -> str:
        return (self.decline_code or self.error_code or "payment_failed")[:64]


@dataclass(frozen=True, slots=True)
class DisputeFact:
    """A dispute (chargeback) was opened or closed on one of our PaymentIntents."""

    event: EventMeta
    dispute_id: str
    payment_intent_id: str
    status: DisputeStatus  # open on created; won or lost on closed
    amount: int | None
    currency: str | None
    reason: str
    fee: ProcessorFee | None = None  # the fees of its balance transactions, summed (None: none listed)


@dataclass(frozen=True, slots=True)
class RefundSeen:
    """One refund as an event shows it."""

    refund_id: str
    amount: int | None  # minor units
    currency: str | None  # upper case
    status: RefundStatus
    reason: str
    reopens_balance: bool  # payportal asked for the refunded amount to be owed again (its metadata)
    request_ref: str = ""  # the operator request payportal made it for (its metadata); "" from the dashboard
    invoice_id: str = ""  # the invoice payportal made it for (its metadata): which share of a combined payment


@dataclass(frozen=True, slots=True)
class RefundFact:
    """Refunds of one PaymentIntent moved: `refund.created`, `refund.updated` and `refund.failed` show one
    refund; `charge.refunded` shows the charge's refunds (when Stripe lists them) and its amount_refunded."""

    event: EventMeta
    payment_intent_id: str
    refunds: tuple[RefundSeen, ...]
    amount_refunded: int | None = None  # the charge's, on charge.refunded


@dataclass(frozen=True, slots=True)
class OtherEvent:
    """An event payportal does not act on."""

    event: EventMeta


StripeFact = CheckoutSessionFact | SetupSessionFact | PaymentIntentFact | DisputeFact | RefundFact | OtherEvent
