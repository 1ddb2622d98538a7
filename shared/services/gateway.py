"""The payment gateway's port: what the use cases ask of Stripe (Checkout, off-session charges, refunds, the
event list) and the typed requests and replies it speaks. Apart from ports.py, so that the webhook's cold path,
which never calls Stripe, does not create these types (README, Benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from shared.domain.records import Customer, ProcessorFee, RefundStatus


@dataclass(frozen=True, slots=True)
class CheckoutLine:
    """One line of a Checkout Session paying several invoices: one invoice and what is paid of it."""

    description: str
    amount: int


@dataclass(frozen=True, slots=True)
class CheckoutSessionRequest:
    stripe_customer_id: str
    amount: int
    currency: str
    description: str
    payment_method_types: tuple[str, ...]
    success_url: str
    cancel_url: str
    metadata: dict[str, str]
    # Names the request; the adapter adds a digest of every parameter sent, so a key is never reused
    # with other parameters (Stripe refuses that) and a retry of the same request gets the same session.
    idempotency_scope: str
    save_card: bool = False  # keep the payment method for off-session charges (installments, autopay)
    # Several lines (a combined payment), summing to `amount`; none: one line of `amount` named `description`
    lines: tuple[CheckoutLine, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    id: str
    url: str


@dataclass(frozen=True, slots=True)
class CheckoutSessionState:
    """A Checkout Session as Stripe has it now: `status` open, complete or expired; `payment_status` paid,
    unpaid (a bank debit still processing) or no_payment_required."""

    status: str
    payment_status: str


@dataclass(frozen=True, slots=True)
class OffSessionCharge:
    """Charge a customer's saved card without them present (an installment, autopay)."""

    stripe_customer_id: str
    amount: int
    currency: str
    description: str
    metadata: dict[str, str]
    idempotency_key: str  # derived from what is charged and the attempt: a retry never charges twice


@dataclass(frozen=True, slots=True)
class ChargeOutcome:
    """What Stripe said when the PaymentIntent was created. The ledger changes only by webhook."""

    payment_intent_id: str | None  # None: no saved card to charge
    status: str  # succeeded | processing | failed | no_payment_method
    code: str | None = None  # Stripe's error code, e.g. card_declined, authentication_required
    decline_code: str | None = None
    card_expires: tuple[int, int] | None = None  # (year, month) of the card charged


@dataclass(frozen=True, slots=True)
class SetupSessionRequest:
    """Checkout in setup mode: the customer saves a card for later off-session charges."""

    stripe_customer_id: str
    success_url: str
    cancel_url: str
    metadata: dict[str, str]
    idempotency_scope: str  # as CheckoutSessionRequest's


@dataclass(frozen=True, slots=True)
class PaymentMethodUsed:
    """How a payment was made, as a receipt names it: never more than a brand or bank and the last four."""

    kind: str  # Stripe's payment method type: card, sepa_debit, us_bank_account, ...
    brand: str | None = None  # a card's network, e.g. visa
    bank_name: str | None = None  # a bank debit's bank, when Stripe knows it
    last4: str | None = None
    reference: str | None = None  # money received outside Stripe: the cheque number, the transfer's reference


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """Refund part or all of a PaymentIntent. The idempotency key is derived from the operator's request
    (caller and Idempotency-Key) and the amount: a timed-out call and its retry never refund twice."""

    payment_intent_id: str
    amount: int
    currency: str
    reason: str  # Stripe's: duplicate, fraudulent or requested_by_customer
    metadata: dict[str, str]
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class RefundCreated:
    """What Stripe answered: the refund and its status (its events follow, and change nothing more)."""

    id: str
    amount: int
    status: RefundStatus


@dataclass(frozen=True, slots=True)
class ListedEvent:
    """One event of Stripe's event list, as Stripe sent it: the caller reads `payload` with the webhook's own
    parser (shared.adapters.stripe_events.parse_event), so both paths read an event alike."""

    id: str
    created: int  # Unix seconds at Stripe
    type: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventListPage:
    """One page of Stripe's event list, newest first, as Stripe pages it."""

    events: list[ListedEvent]
    has_more: bool  # older events lie beyond the last one (pass its id as `starting_after`)


@dataclass(frozen=True, slots=True)
class SavedPaymentMethod:
    """A card or bank account the customer saved at Stripe, as the account lists it: never more than its brand
    or bank, the last four and a card's expiry."""

    id: str  # Stripe's PaymentMethod id (pm_...): a reference, useless without our Stripe key
    kind: str  # Stripe's type: card, sepa_debit, us_bank_account, ...
    brand: str | None = None
    bank_name: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None


@dataclass(frozen=True, slots=True)
class SavedPaymentMethods:
    methods: tuple[SavedPaymentMethod, ...]  # newest first
    default_id: str | None  # what off-session charges use (the customer's invoice_settings default at Stripe)

    @property
    def charged(self) -> SavedPaymentMethod | None:
        """What autopay and installment plans charge: the one chosen, else the newest saved."""
        chosen = next((m for m in self.methods if m.id == self.default_id), None)
        return chosen or (self.methods[0] if self.methods else None)


class SessionClosed(StrEnum):
    """What a Checkout Session is once it can no longer be paid."""

    EXPIRED = "expired"  # nothing was paid on it, and nothing can be any more
    COMPLETE = "complete"  # the customer completed it: a payment is made or on its way


class PaymentGateway(Protocol):
    def ensure_customer(self, customer: Customer) -> str: ...
    def update_customer(self, stripe_customer_id: str, customer: Customer) -> None:
        """Send the customer's name, email, locale and external id (as metadata) to their Stripe customer:
        the same values again change nothing, so a retry is safe. A customer deleted at Stripe is left so."""
        ...

    def delete_customer(self, stripe_customer_id: str) -> None:
        """Delete the customer at Stripe (an erasure; Stripe keeps its own records of their payments). One
        deleted already is what was asked."""
        ...

    def create_checkout_session(self, request: CheckoutSessionRequest) -> CheckoutSession: ...
    def expire_checkout_session(self, session_id: str) -> SessionClosed:
        """Close the session at Stripe unless it is complete already; say which it is now."""
        ...

    def charge_off_session(self, request: OffSessionCharge) -> ChargeOutcome: ...
    def create_setup_session(self, request: SetupSessionRequest) -> CheckoutSession: ...
    def saved_payment_methods(self, stripe_customer_id: str) -> SavedPaymentMethods:
        """The customer's saved cards and bank accounts, newest first, and the one chosen for charges."""
        ...

    def detach_payment_method(self, payment_method_id: str) -> None:
        """Remove it from the customer at Stripe (it can never be charged again)."""
        ...

    def choose_payment_method(self, stripe_customer_id: str, payment_method_id: str) -> None:
        """Make it the one off-session charges use (the customer's invoice_settings.default_payment_method)."""
        ...

    def payment_method_used(self, payment_intent_id: str) -> PaymentMethodUsed | None:
        """What paid the PaymentIntent; None when Stripe cannot say (or cannot be asked just now)."""
        ...

    def create_refund(self, request: RefundRequest) -> RefundCreated:
        """Raises RefundRefused (shared.domain.errors) when Stripe refuses it for what the payment is."""
        ...

    def payment_intent_status(self, payment_intent_id: str) -> str | None:
        """Stripe's status of the PaymentIntent (`processing`, `succeeded`, ...); None when Stripe does not
        know it. One request."""
        ...

    def refund_status_at_stripe(self, refund_id: str) -> str | None:
        """Stripe's status of the refund; None when Stripe does not know it. One request."""
        ...

    def payment_fee(self, payment_intent_id: str) -> ProcessorFee | None:
        """The fee on the balance transaction of the PaymentIntent's charge, for the whole charge; None when
        Stripe has none (yet), does not know the PaymentIntent or refuses the key the read. One request, up to
        three where Stripe (or a stand-in) does not expand what is asked. Raises on a fault (network, 5xx,
        throttling)."""
        ...

    def checkout_session_status(self, session_id: str) -> CheckoutSessionState | None:
        """The Checkout Session as Stripe has it; None when Stripe does not know it. One request."""
        ...

    def list_events(
        self,
        *,
        types: tuple[str, ...],
        created_gte: int,
        created_lt: int,
        starting_after: str | None = None,
        limit: int = 100,
    ) -> EventListPage:
        """One page of the events Stripe created in [created_gte, created_lt) of these types, newest first;
        the next (older) page starts after the last event's id. One request."""
        ...
