"""Autopay on or off from the customer's account, behind step-up: the fresh code typed is checked and used up
first, then the same autopay use cases as the pay page's (shared/services/autopay.py) run."""

from __future__ import annotations

from dataclasses import dataclass

from shared.clock import Clock
from shared.domain.account import AccountSession, StepUpAction
from shared.domain.errors import NotFound
from shared.domain.records import Customer
from shared.services import step_up
from shared.services.account_codes import CodeAsked
from shared.services.account_ports import AccountStore
from shared.services.autopay import disable_autopay, start_autopay_setup_for
from shared.services.checkout import CheckoutConfig
from shared.services.gateway import PaymentGateway
from shared.services.ports import Ledger

ACCOUNT_PATH = "/account"


@dataclass(frozen=True, slots=True)
class AutopayChange:
    """What the customer asked: autopay on or off, for one of the session's customer records."""

    customer_id: str
    on: bool

    @property
    def action(self) -> StepUpAction:
        return StepUpAction.AUTOPAY_ON if self.on else StepUpAction.AUTOPAY_OFF


def _owned(ledger: Ledger, session: AccountSession, customer_id: str) -> Customer:
    customer = ledger.get_customer(customer_id) if session.opens(customer_id) else None
    if customer is None:
        raise NotFound("no such customer")
    return customer


def ask_code(
    store: AccountStore, ledger: Ledger, clock: Clock, session: AccountSession, change: AutopayChange, *, source_ip: str
) -> CodeAsked:
    """Step one: a fresh code for this change, by email."""
    _owned(ledger, session, change.customer_id)
    return step_up.ask(store, clock, session, change.action, source_ip=source_ip)


def apply(
    store: AccountStore,
    ledger: Ledger,
    gateway: PaymentGateway,
    session_clock: Clock,
    clock: Clock,
    config: CheckoutConfig,
    session: AccountSession,
    change: AutopayChange,
    *,
    code: str,
    source_ip: str,
) -> str:
    """Step two: the code, then the change; where the browser goes next (Checkout in setup mode to turn it on,
    the statement once it is off)."""
    customer = _owned(ledger, session, change.customer_id)
    step_up.confirm(store, session_clock, session, change.action, code=code, source_ip=source_ip)
    if change.on:
        return start_autopay_setup_for(ledger, gateway, clock, config, customer, back_to=ACCOUNT_PATH)
    disable_autopay(ledger, clock, customer.id, actor=session.actor)
    return f"{ACCOUNT_PATH}?autopay=off"
