"""Stripe through its SDK: the only module that imports stripe (lazily: it is heavy)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from shared.adapters.stripe_events import STRIPE_REFUND_STATUS, NotAStripeEvent, parse_event
from shared.domain.errors import RefundRefused, StripeEventUnreadable
from shared.domain.records import Customer, ProcessorFee, RefundStatus
from shared.domain.stripe_amounts import NotRepresentable, from_stripe, to_stripe
from shared.services.gateway import (
    ChargeOutcome,
    CheckoutLine,
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
from shared.services.stripe_events.facts import StripeFact

if TYPE_CHECKING:  # annotations only: stripe is imported lazily
    from stripe.params import CustomerUpdateParams


class StripeGateway:
    def __init__(self, api_key: str, api_base: str | None = None) -> None:
        import stripe  # lazy: the SDK costs about half a second of cold start

        options: dict[str, Any] = {"max_network_retries": 2}
        if api_base:
            options["base_addresses"] = {"api": api_base}
        self._client = stripe.StripeClient(api_key, **options)

    def ensure_customer(self, customer: Customer) -> str:
        created = self._client.v1.customers.create(
            params={
                "email": customer.email,
                "name": customer.name,
                "metadata": {"payportal_customer_id": customer.id},
            },
            options={"idempotency_key": f"payportal-customer-{customer.id}"},
        )
        return str(created.id)

    def update_customer(self, stripe_customer_id: str, customer: Customer) -> None:
        import stripe  # lazy: as in __init__

        # Stripe takes "en-US" as a preferred locale; "" removes the external id from metadata.
        params: CustomerUpdateParams = {
            "name": customer.name,
            "email": customer.email,
            "preferred_locales": [customer.locale],
            "metadata": {"payportal_customer_id": customer.id, "payportal_external_id": customer.external_id or ""},
        }
        try:
            self._client.v1.customers.update(stripe_customer_id, params=params)  # same values again: harmless
        except stripe.InvalidRequestError as error:
            # Deleted at Stripe (an erasure): nothing to correct there.
            if error.code != "resource_missing" and error.http_status != 404:
                raise

    def delete_customer(self, stripe_customer_id: str) -> None:
        import stripe  # lazy: as in __init__

        try:
            self._client.v1.customers.delete(stripe_customer_id)
        except stripe.InvalidRequestError as error:
            # Deleted already (a retry): what was asked is so.
            if error.code != "resource_missing" and error.http_status != 404:
                raise

    def create_checkout_session(self, request: CheckoutSessionRequest) -> CheckoutSession:
        params: dict[str, Any] = {
            "mode": "payment",
            "customer": request.stripe_customer_id,
            "payment_method_types": list(request.payment_method_types),
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": to_stripe(line.amount, request.currency),
                        "product_data": {"name": line.description[:250]},
                    },
                }
                for line in request.lines or (CheckoutLine(request.description, request.amount),)
            ],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "metadata": request.metadata,
            "payment_intent_data": {"metadata": request.metadata}
            | ({"setup_future_usage": "off_session"} if request.save_card else {}),
            "client_reference_id": request.metadata.get("invoice_id") or request.metadata.get("combined_ref"),
        }
        session = self._client.v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key(request.idempotency_scope, params)},
        )
        return CheckoutSession(id=str(session.id), url=str(session.url))

    def expire_checkout_session(self, session_id: str) -> SessionClosed:
        """Stripe expires only an open session; for one that is not, its status says which it is."""
        import stripe  # lazy: as in __init__

        try:
            self._client.v1.checkout.sessions.expire(session_id)
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return SessionClosed.EXPIRED  # Stripe does not know it: nothing can be paid on it
            session = self._client.v1.checkout.sessions.retrieve(session_id)
            if session.status == "complete":
                return SessionClosed.COMPLETE
            if session.status != "expired":
                raise
        return SessionClosed.EXPIRED

    def charge_off_session(self, request: OffSessionCharge) -> ChargeOutcome:
        """One off-session PaymentIntent on the payment method the customer chose, else their newest saved one.
        The idempotency key makes a repeated call return the same PaymentIntent instead of charging again."""
        import stripe  # lazy: as in __init__

        method = self.saved_payment_methods(request.stripe_customer_id).charged
        if method is None:
            return ChargeOutcome(payment_intent_id=None, status="no_payment_method")
        expires = (method.exp_year, method.exp_month) if method.exp_year and method.exp_month else None
        try:
            intent = self._client.v1.payment_intents.create(
                params={
                    "amount": to_stripe(request.amount, request.currency),
                    "currency": request.currency.lower(),
                    "customer": request.stripe_customer_id,
                    "payment_method": method.id,
                    "off_session": True,
                    "confirm": True,
                    "description": request.description[:250],
                    "metadata": request.metadata,
                },
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.CardError as error:
            failed = error.error
            intent_obj = getattr(failed, "payment_intent", None) if failed else None
            return ChargeOutcome(
                payment_intent_id=str(intent_obj["id"]) if intent_obj else None,
                status="failed",
                code=getattr(failed, "code", None) if failed else None,
                decline_code=getattr(failed, "decline_code", None) if failed else None,
                card_expires=expires,
            )
        return ChargeOutcome(payment_intent_id=str(intent.id), status=str(intent.status), card_expires=expires)

    def create_refund(self, request: RefundRequest) -> RefundCreated:
        """One refund of the PaymentIntent; the same idempotency key returns the same refund."""
        import stripe  # lazy: as in __init__

        try:
            refund = self._client.v1.refunds.create(
                params={
                    "payment_intent": request.payment_intent_id,
                    "amount": to_stripe(request.amount, request.currency),
                    "reason": request.reason,
                    "metadata": request.metadata,
                },
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.InvalidRequestError as error:
            # e.g. charge_already_refunded, charge_disputed, amount beyond what Stripe still holds
            raise RefundRefused(f"Stripe refused the refund: {error.code or 'invalid_request'}") from error
        return RefundCreated(
            id=str(refund.id),
            amount=from_stripe(int(refund.amount), request.currency),
            status=STRIPE_REFUND_STATUS.get(str(refund.status), RefundStatus.PENDING),
        )

    def payment_method_used(self, payment_intent_id: str) -> PaymentMethodUsed | None:
        """One request (the PaymentIntent with its payment method expanded). A receipt is worth more on time
        than complete: when Stripe does not answer, it goes out without the method."""
        import stripe  # lazy: as in __init__

        try:
            # No retries: the outbox's own redelivery is the retry for anything that matters more.
            once: Any = {"max_network_retries": 0}
            intent = self._client.v1.payment_intents.retrieve(
                payment_intent_id, params={"expand": ["payment_method"]}, options=once
            )
            method = intent.payment_method
            if isinstance(method, str):  # not expanded (some Stripe stand-ins ignore expand)
                method = self._client.v1.payment_methods.retrieve(method, options=once)
        except stripe.StripeError:
            return None
        if method is None:
            return None
        kind = str(method.type)
        details = getattr(method, kind, None)
        return PaymentMethodUsed(
            kind=kind,
            brand=_text(getattr(details, "brand", None)),
            bank_name=_text(getattr(details, "bank_name", None)),
            last4=_text(getattr(details, "last4", None)),
        )

    def retrieve_event(self, event_id: str) -> StripeFact | None:
        """The event as Stripe holds it, parsed as the webhook parses one (`parse_event`)."""
        import stripe  # lazy: as in __init__

        try:
            event = self._client.v1.events.retrieve(event_id)
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:  # no such event, or older than Stripe keeps (30 days)
                return None
            raise
        try:
            return parse_event(event.to_dict())
        except NotAStripeEvent as error:
            raise StripeEventUnreadable(f"Stripe's event {event_id} does not read as one: {error}") from error

    def create_setup_session(self, request: SetupSessionRequest) -> CheckoutSession:
        params: dict[str, Any] = {
            "mode": "setup",
            "customer": request.stripe_customer_id,
            "payment_method_types": ["card"],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "metadata": request.metadata,
            "setup_intent_data": {"metadata": request.metadata},
        }
        session = self._client.v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key(request.idempotency_scope, params)},
        )
        return CheckoutSession(id=str(session.id), url=str(session.url))

    def saved_payment_methods(self, stripe_customer_id: str) -> SavedPaymentMethods:
        """Two requests: the customer's payment methods (every type, newest first) and the customer's default."""
        listed = self._client.v1.payment_methods.list(params={"customer": stripe_customer_id, "limit": 20})
        customer = self._client.v1.customers.retrieve(stripe_customer_id)
        settings = getattr(customer, "invoice_settings", None)
        default = getattr(settings, "default_payment_method", None) if settings else None
        default_id = default if isinstance(default, str) or default is None else str(default.id)
        return SavedPaymentMethods(methods=tuple(_saved_method(m) for m in listed.data), default_id=default_id)

    def detach_payment_method(self, payment_method_id: str) -> None:
        import stripe  # lazy: as in __init__

        try:
            self._client.v1.payment_methods.detach(
                payment_method_id, options={"idempotency_key": idempotency_key("detach", {"id": payment_method_id})}
            )
        except stripe.InvalidRequestError as error:
            # Detached already (a retry after a lost reply, another tab): what was asked is so.
            if error.code not in ("payment_method_not_attached", "resource_missing"):
                raise

    def choose_payment_method(self, stripe_customer_id: str, payment_method_id: str) -> None:
        # Setting the same default again changes nothing, so a retry is safe without a key of ours (a key
        # derived from the choice would replay an older answer after the customer chose another one meanwhile).
        self._client.v1.customers.update(
            stripe_customer_id, params={"invoice_settings": {"default_payment_method": payment_method_id}}
        )

    def payment_intent_status(self, payment_intent_id: str) -> str | None:
        import stripe  # lazy: as in __init__

        try:
            intent = self._client.v1.payment_intents.retrieve(payment_intent_id)
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return None
            raise
        return str(intent.status)

    def refund_status_at_stripe(self, refund_id: str) -> str | None:
        import stripe  # lazy: as in __init__

        try:
            refund = self._client.v1.refunds.retrieve(refund_id)
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return None
            raise
        return str(refund.status)

    def payment_fee(self, payment_intent_id: str) -> ProcessorFee | None:
        import stripe  # lazy: as in __init__

        try:
            intent = self._client.v1.payment_intents.retrieve(
                payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]}
            )
            charge: Any = intent.latest_charge
            if isinstance(charge, str):  # not expanded (some Stripe stand-ins ignore expand)
                charge = self._client.v1.charges.retrieve(charge, params={"expand": ["balance_transaction"]})
            transaction: Any = getattr(charge, "balance_transaction", None) if charge is not None else None
            if isinstance(transaction, str):
                transaction = self._client.v1.balance_transactions.retrieve(transaction)
        except (stripe.InvalidRequestError, stripe.PermissionError):
            # Unknown to Stripe, or a restricted key without balance reads: an answer that will not change,
            # so a lookup counted (the caller gives up after its last). Faults (network, 5xx, throttling) raise.
            return None
        if transaction is None:
            return None
        return _fee(transaction)

    def checkout_session_status(self, session_id: str) -> CheckoutSessionState | None:
        import stripe  # lazy: as in __init__

        try:
            session = self._client.v1.checkout.sessions.retrieve(session_id)
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return None
            raise
        return CheckoutSessionState(status=str(session.status), payment_status=str(session.payment_status))

    def list_events(
        self,
        *,
        types: tuple[str, ...],
        created_gte: int,
        created_lt: int,
        starting_after: str | None = None,
        limit: int = 100,
    ) -> EventListPage:
        """One page of `GET /v1/events`, each event as the webhook would have received it."""
        params: dict[str, Any] = {
            "types": list(types),
            "created": {"gte": created_gte, "lt": created_lt},
            "limit": limit,
        }
        if starting_after:
            params["starting_after"] = starting_after
        page = self._client.v1.events.list(params=params)  # type: ignore[arg-type]
        return EventListPage(events=[_listed(event.to_dict()) for event in page.data], has_more=bool(page.has_more))


def _listed(payload: dict[str, Any]) -> ListedEvent:
    created = payload.get("created")
    return ListedEvent(
        id=str(payload.get("id") or ""),
        created=created if isinstance(created, int) else 0,
        type=str(payload.get("type") or ""),
        payload=payload,
    )


def idempotency_key(scope: str, params: dict[str, Any]) -> str:
    """`scope` and a digest of every parameter sent: the same request always gets the same key, and no two
    different requests share one (Stripe answers a key reused with other parameters with an error)."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f"{scope}-{digest[:32]}"[:255]  # Stripe's limit on a key's length


def _text(value: object) -> str | None:
    return str(value) if value else None


def _saved_method(method: Any) -> SavedPaymentMethod:
    """Only what the account shows of a payment method: its kind, brand or bank, last four and expiry."""
    kind = str(method.type)
    details = getattr(method, kind, None)
    if kind == "card" and details is not None:
        return SavedPaymentMethod(
            id=str(method.id),
            kind=kind,
            brand=str(details.brand) if getattr(details, "brand", None) else None,
            last4=str(details.last4) if getattr(details, "last4", None) else None,
            exp_month=int(details.exp_month) if getattr(details, "exp_month", None) else None,
            exp_year=int(details.exp_year) if getattr(details, "exp_year", None) else None,
        )
    bank = getattr(details, "bank_name", None) if details is not None else None
    last4 = getattr(details, "last4", None) if details is not None else None
    return SavedPaymentMethod(
        id=str(method.id), kind=kind, bank_name=str(bank) if bank else None, last4=str(last4) if last4 else None
    )


def _fee(transaction: Any) -> ProcessorFee | None:
    """A balance transaction's fee in our minor units of its currency; None when it is not one we can hold
    (a fraction of our minor unit)."""
    fee, currency, transaction_id = transaction.fee, str(transaction.currency).upper(), str(transaction.id)
    if not isinstance(fee, int) or isinstance(fee, bool):
        return None
    try:
        return ProcessorFee(from_stripe(fee, currency), currency, transaction_id)
    except NotRepresentable:
        return None
