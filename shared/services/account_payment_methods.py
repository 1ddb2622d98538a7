"""The customer's saved payment methods from the account: listed for every customer record of the session, and
removed or chosen (the one autopay and installment plans charge) behind step-up, through the same use cases as
everywhere (shared/services/payment_methods.py). One step-up code (StepUpAction.PAYMENT_METHOD) confirms one
change."""

from __future__ import annotations

from dataclasses import dataclass

from shared.clock import Clock
from shared.domain.account import AccountSession, StepUpAction
from shared.domain.errors import NotFound
from shared.domain.languages import served_language
from shared.services import step_up
from shared.services.account_codes import CodeAsked
from shared.services.account_ports import AccountStore
from shared.services.account_statement import owned_customers
from shared.services.gateway import PaymentGateway
from shared.services.payment_methods import (
    PaymentMethodsView,
    choose_payment_method,
    list_payment_methods,
    remove_payment_method,
)
from shared.services.ports import Ledger

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


@dataclass(frozen=True, slots=True)
class MethodChange:
    """Remove a saved method, or choose it for autopay and plans, for one of the session's customer records."""

    customer_id: str
    payment_method_id: str
    remove: bool


def methods_page(ledger: Ledger, gateway: PaymentGateway, session: AccountSession) -> MethodsPage:
    customers = owned_customers(ledger, session)
    return MethodsPage(
        locale=customers[0].locale if customers else "en",
        customers=tuple(CustomerMethods(c.id, c.name, list_payment_methods(ledger, gateway, c.id)) for c in customers),
    )


def _check(session: AccountSession, change: MethodChange) -> None:
    if not session.opens(change.customer_id) or not change.payment_method_id or len(change.payment_method_id) > 255:
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
    session: AccountSession,
    change: MethodChange,
    *,
    code: str,
    source_ip: str,
) -> str:
    """The code, then the change (PaymentMethodStillNeeded: the only method autopay or a plan charges); the page
    to go back to."""
    _check(session, change)
    step_up.confirm(store, session_clock, session, StepUpAction.PAYMENT_METHOD, code=code, source_ip=source_ip)
    if change.remove:
        remove_payment_method(ledger, gateway, clock, change.customer_id, change.payment_method_id, actor=session.actor)
        return f"{PAGE}?done=removed"
    choose_payment_method(ledger, gateway, clock, change.customer_id, change.payment_method_id, actor=session.actor)
    return f"{PAGE}?done=chosen"
