"""The customer's saved payment methods from the account: listed for every customer record of the session, and
added (Checkout in setup mode), removed or chosen (the one autopay and installment plans charge) behind step-up,
through the same use cases as everywhere (shared/services/payment_methods.py). One step-up code
(StepUpAction.PAYMENT_METHOD) confirms one change."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.clock import Clock
from shared.domain.account import AccountSession, StepUpAction
from shared.domain.errors import NotFound
from shared.domain.languages import served_language
from shared.services import step_up
from shared.services.account_codes import CodeAsked
from shared.services.account_ports import AccountStore
from shared.services.account_statement import owned_customers
from shared.services.checkout import CheckoutConfig
from shared.services.gateway import PaymentGateway
from shared.services.payment_methods import (
    PaymentMethodsView,
    choose_payment_method,
    list_payment_methods,
    remove_payment_method,
)
from shared.services.ports import Ledger
from shared.services.saved_cards import open_account_setup_session
from shared.services.stripe_events.facts import SetupPurpose

PAGE = "/account/payment-methods"


@dataclass(frozen=True, slots=True)
class CustomerMethods:
    customer_id: str
    name: str
    methods: PaymentMethodsView


@dataclass(frozen=True, slots=True)
class MethodsPage:
    locale: str
    customers: tuple[CustomerMethods, ...]

    @property
    def lang(self) -> str:
        return served_language(self.locale)


class MethodChangeKind(StrEnum):
    ADD = "add"  # save a new one (Checkout in setup mode)
    REMOVE = "remove"
    CHOOSE = "choose"  # the one autopay and installment plans charge


@dataclass(frozen=True, slots=True)
class MethodChange:
    """Add a payment method, or remove a saved one or choose it for autopay and plans, for one of the session's
    customer records (`payment_method_id` is "" when adding)."""

    customer_id: str
    payment_method_id: str
    kind: MethodChangeKind


def methods_page(ledger: Ledger, gateway: PaymentGateway, session: AccountSession) -> MethodsPage:
    customers = owned_customers(ledger, session)
    return MethodsPage(
        locale=customers[0].locale if customers else "en",
        customers=tuple(CustomerMethods(c.id, c.name, list_payment_methods(ledger, gateway, c.id)) for c in customers),
    )


def _check(session: AccountSession, change: MethodChange) -> None:
    if not session.opens(change.customer_id):
        raise NotFound("no such customer")
    if change.kind is MethodChangeKind.ADD:
        return
    if not change.payment_method_id or len(change.payment_method_id) > 255:
        raise NotFound("no such payment method")


def ask_code(
    store: AccountStore, clock: Clock, session: AccountSession, change: MethodChange, *, source_ip: str
) -> CodeAsked:
    _check(session, change)
    return step_up.ask(store, clock, session, StepUpAction.PAYMENT_METHOD, source_ip=source_ip)


def apply(
    store: AccountStore,
    ledger: Ledger,
    gateway: PaymentGateway,
    session_clock: Clock,
    clock: Clock,
    config: CheckoutConfig,
    session: AccountSession,
    change: MethodChange,
    *,
    code: str,
    source_ip: str,
) -> str:
    """The code, then the change (PaymentMethodStillNeeded: the only method autopay or a plan charges); where the
    browser goes next: Checkout in setup mode to add one, else the page back."""
    _check(session, change)
    step_up.confirm(store, session_clock, session, StepUpAction.PAYMENT_METHOD, code=code, source_ip=source_ip)
    if change.kind is MethodChangeKind.ADD:
        return _start_adding(ledger, gateway, clock, config, change.customer_id)
    if change.kind is MethodChangeKind.REMOVE:
        remove_payment_method(ledger, gateway, clock, change.customer_id, change.payment_method_id, actor=session.actor)
        return f"{PAGE}?done=removed"
    choose_payment_method(ledger, gateway, clock, change.customer_id, change.payment_method_id, actor=session.actor)
    return f"{PAGE}?done=chosen"


def _start_adding(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, config: CheckoutConfig, customer_id: str
) -> str:
    """Checkout in setup mode for the customer's Stripe customer: Stripe saves what they enter to it, and the page
    lists it from Stripe (nothing moves in the ledger; the webhook passes such sessions by). Back to the page,
    saying so, or without a word when cancelled; a double click gets the same session."""
    customer = ledger.get_customer(customer_id)
    if customer is None:
        raise NotFound("no such customer")
    return open_account_setup_session(
        ledger, gateway, clock, config, customer, purpose=SetupPurpose.ADD_METHOD, back_to=PAGE, returned="done=added"
    )
