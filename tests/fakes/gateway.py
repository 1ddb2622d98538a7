"""A PaymentGateway that records what it was asked and answers as Stripe does to a retry: the same
request under the same idempotency key gets the same session or charge back, and a session that is
expired or complete stays so."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared.domain.errors import RefundRefused
from shared.domain.records import Customer, ProcessorFee, RefundStatus
from shared.services.gateway import (
    ChargeOutcome,
    CheckoutSession,
    CheckoutSessionRequest,
    CheckoutSessionState,
    EventListPage,
    ListedEvent,
    OffSessionCharge,
    PaymentMethodUsed,
    RefundCreated,
    RefundRequest,
    SavedPaymentMethod,
    SavedPaymentMethods,
    SessionClosed,
    SetupSessionRequest,
)

if TYPE_CHECKING:
    from shared.services.gateway import PaymentGateway
    from shared.services.stripe_events.facts import StripeFact
    from shared.services.stripe_events.replay import StripeEvents

CHECKOUT_BASE_URL = "https://checkout.example.test/c/pay/"


@dataclass
class FakeGateway:
    """Charges succeed unless a test queues other outcomes in `charge_outcomes` (taken one per new charge)."""

    charge_outcomes: deque[ChargeOutcome] = field(default_factory=deque)
    stripe_customers: dict[str, str] = field(default_factory=dict)  # our customer id -> Stripe's
    checkout_requests: list[CheckoutSessionRequest] = field(default_factory=list)
    setup_requests: list[SetupSessionRequest] = field(default_factory=list)
    charges: list[OffSessionCharge] = field(default_factory=list)
    # What paid each PaymentIntent, as Stripe would say; unknown ones are paid by a Visa ending in 4242
    payment_methods: dict[str, PaymentMethodUsed | None] = field(default_factory=dict)
    # Each session's status as Stripe has it: open, complete or expired (tests complete them with `pay`)
    session_status: dict[str, str] = field(default_factory=dict)
    # A complete session's payment_status when not paid (a bank debit processing: "unpaid")
    session_payment_status: dict[str, str] = field(default_factory=dict)
    expire_requests: list[str] = field(default_factory=list)
    refund_requests: list[RefundRequest] = field(default_factory=list)
    refund_status: RefundStatus = RefundStatus.SUCCEEDED  # what a new refund's status is
    refuse_refunds: bool = False  # Stripe refuses (a charge disputed, say)
    # Events Stripe holds (what retrieve_event answers): tests put the facts a webhook would have parsed
    held_events: dict[str, StripeFact] = field(default_factory=dict)
    event_requests: list[str] = field(default_factory=list)
    # Stripe's event list, in the order the events were created (tests add them with `add_event`)
    events: list[ListedEvent] = field(default_factory=list)
    event_list_requests: list[dict[str, object]] = field(default_factory=list)
    intent_status: dict[str, str] = field(default_factory=dict)  # PaymentIntents Stripe knows, by id
    refund_statuses: dict[str, str] = field(default_factory=dict)  # refunds Stripe knows, by id
    fees: dict[str, ProcessorFee] = field(default_factory=dict)  # balance transactions' fees, by PaymentIntent
    fee_lookups: list[str] = field(default_factory=list)  # PaymentIntents whose fee was asked for
    # Each Stripe customer's saved payment methods, newest first, and the one chosen for charges
    saved: dict[str, list[SavedPaymentMethod]] = field(default_factory=dict)
    default_method: dict[str, str] = field(default_factory=dict)
    detached: list[str] = field(default_factory=list)
    # What each Stripe customer was last updated with (name, email, preferred locale, external id), and those deleted
    customer_updates: dict[str, dict[str, str]] = field(default_factory=dict)
    deleted_customers: list[str] = field(default_factory=list)
    fail_customer_updates: bool = False  # Stripe unreachable for customer updates
    _replies: dict[str, CheckoutSession | ChargeOutcome | RefundCreated] = field(default_factory=dict)

    def ensure_customer(self, customer: Customer) -> str:
        if customer.stripe_customer_id:
            return customer.stripe_customer_id
        return self.stripe_customers.setdefault(customer.id, f"cus_fake_{len(self.stripe_customers) + 1}")

    def update_customer(self, stripe_customer_id: str, customer: Customer) -> None:
        if self.fail_customer_updates:
            raise ConnectionError("Stripe is unreachable")
        if stripe_customer_id not in self.deleted_customers:
            self.customer_updates[stripe_customer_id] = {
                "name": customer.name,
                "email": customer.email,
                "preferred_locale": customer.locale,
                "external_id": customer.external_id or "",
            }

    def delete_customer(self, stripe_customer_id: str) -> None:
        if stripe_customer_id not in self.deleted_customers:
            self.deleted_customers.append(stripe_customer_id)
        self.saved.pop(stripe_customer_id, None)
        self.default_method.pop(stripe_customer_id, None)

    def create_checkout_session(self, request: CheckoutSessionRequest) -> CheckoutSession:
        self.checkout_requests.append(request)
        return self._session(f"{request.idempotency_scope}:{request!r}", "cs_fake")

    def expire_checkout_session(self, session_id: str) -> SessionClosed:
        self.expire_requests.append(session_id)
        status = self.session_status.get(session_id, "expired")
        if status == "complete":
            return SessionClosed.COMPLETE
        self.session_status[session_id] = "expired"
        return SessionClosed.EXPIRED

    def retrieve_event(self, event_id: str) -> StripeFact | None:
        self.event_requests.append(event_id)
        return self.held_events.get(event_id)

    def pay(self, session_id: str) -> None:
        """The customer completes the session on Stripe's page (an expired one cannot be)."""
        assert self.session_status.get(session_id) == "open", f"{session_id} is not open"
        self.session_status[session_id] = "complete"

    def create_setup_session(self, request: SetupSessionRequest) -> CheckoutSession:
        self.setup_requests.append(request)
        return self._session(f"{request.idempotency_scope}:{request!r}", "cs_fake_setup")

    def save_card(self, stripe_customer_id: str, last4: str = "4242", brand: str = "visa") -> SavedPaymentMethod:
        """A card the customer saved (through Checkout in setup mode), newest first."""
        card = SavedPaymentMethod(
            id=f"pm_fake_{sum(map(len, self.saved.values())) + 1}",
            kind="card",
            brand=brand,
            last4=last4,
            exp_month=12,
            exp_year=2030,
        )
        self.saved.setdefault(stripe_customer_id, []).insert(0, card)
        return card

    def saved_payment_methods(self, stripe_customer_id: str) -> SavedPaymentMethods:
        methods = tuple(self.saved.get(stripe_customer_id, ()))
        return SavedPaymentMethods(methods=methods, default_id=self.default_method.get(stripe_customer_id))

    def detach_payment_method(self, payment_method_id: str) -> None:
        self.detached.append(payment_method_id)
        for customer, methods in self.saved.items():
            self.saved[customer] = [m for m in methods if m.id != payment_method_id]
            if self.default_method.get(customer) == payment_method_id:
                del self.default_method[customer]  # as Stripe clears a detached default

    def choose_payment_method(self, stripe_customer_id: str, payment_method_id: str) -> None:
        self.default_method[stripe_customer_id] = payment_method_id

    def charge_off_session(self, request: OffSessionCharge) -> ChargeOutcome:
        self.charges.append(request)
        reply = self._replies.get(request.idempotency_key)
        if not isinstance(reply, ChargeOutcome):
            reply = self.charge_outcomes.popleft() if self.charge_outcomes else None
            reply = reply or ChargeOutcome(payment_intent_id=f"pi_fake_{len(self._replies) + 1}", status="succeeded")
            self._replies[request.idempotency_key] = reply
        return reply

    def create_refund(self, request: RefundRequest) -> RefundCreated:
        self.refund_requests.append(request)
        if self.refuse_refunds:
            raise RefundRefused("Stripe refused the refund: charge_disputed")
        reply = self._replies.get(request.idempotency_key)
        if not isinstance(reply, RefundCreated):
            reply = RefundCreated(f"re_fake_{len(self._replies) + 1}", request.amount, self.refund_status)
            self._replies[request.idempotency_key] = reply
        return reply

    def payment_intent_status(self, payment_intent_id: str) -> str | None:
        return self.intent_status.get(payment_intent_id)

    def refund_status_at_stripe(self, refund_id: str) -> str | None:
        return self.refund_statuses.get(refund_id)

    def payment_fee(self, payment_intent_id: str) -> ProcessorFee | None:
        self.fee_lookups.append(payment_intent_id)
        return self.fees.get(payment_intent_id)

    def checkout_session_status(self, session_id: str) -> CheckoutSessionState | None:
        status = self.session_status.get(session_id)
        if status is None:
            return None
        paid = "paid" if status == "complete" else "unpaid"
        return CheckoutSessionState(status, self.session_payment_status.get(session_id, paid))

    def add_event(self, event: ListedEvent) -> None:
        self.events.append(event)

    def list_events(
        self,
        *,
        types: tuple[str, ...],
        created_gte: int,
        created_lt: int,
        starting_after: str | None = None,
        limit: int = 100,
    ) -> EventListPage:
        """As Stripe lists them: newest first (the later-made first among events of the same second)."""
        self.event_list_requests.append(
            {"types": types, "gte": created_gte, "lt": created_lt, "starting_after": starting_after, "limit": limit}
        )
        newest_first = sorted(enumerate(self.events), key=lambda pair: (pair[1].created, pair[0]), reverse=True)
        found = [e for _, e in newest_first if created_gte <= e.created < created_lt and e.type in types]
        if starting_after is not None:
            ids = [e.id for e in found]
            found = found[ids.index(starting_after) + 1 :] if starting_after in ids else []
        return EventListPage(events=found[:limit], has_more=len(found) > limit)

    def payment_method_used(self, payment_intent_id: str) -> PaymentMethodUsed | None:
        return self.payment_methods.get(payment_intent_id, PaymentMethodUsed("card", brand="visa", last4="4242"))

    def _session(self, idempotency_key: str, prefix: str) -> CheckoutSession:
        reply = self._replies.get(idempotency_key)
        if not isinstance(reply, CheckoutSession):
            session_id = f"{prefix}_{len(self._replies) + 1}"
            reply = CheckoutSession(id=session_id, url=f"{CHECKOUT_BASE_URL}{session_id}")
            self._replies[idempotency_key] = reply
            self.session_status[session_id] = "open"
        return reply


if TYPE_CHECKING:
    _port: PaymentGateway = FakeGateway()
    _events_port: StripeEvents = FakeGateway()
