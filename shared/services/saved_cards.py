"""Checkout in setup mode: the customer saves a card for off-session charges (autopay, or the coming
installments of a plan). No money moves; Stripe keeps the card, and the webhook says when it is saved."""

from __future__ import annotations

from shared.clock import Clock
from shared.domain.double_click import click_window
from shared.domain.records import Customer
from shared.services.checkout import CheckoutConfig, PayPage, setup_return_path
from shared.services.customers import ensure_stripe_customer
from shared.services.gateway import PaymentGateway, SetupSessionRequest
from shared.services.ports import Ledger
from shared.services.stripe_events.facts import SetupPurpose


def open_setup_session(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    config: CheckoutConfig,
    *,
    page: PayPage,
    purpose: SetupPurpose,
    returned: str,
) -> str:
    """The Checkout URL where the customer saves a card; back on the pay page with `?{returned}` after
    (through a return URL that carries no secret). A double click within the window opens the same session
    (one idempotency key); no money moves on it, so it needs no guard against a second one."""
    customer = page.customer
    stripe_customer_id = ensure_stripe_customer(ledger, gateway, customer)
    key = "autopay" if purpose is SetupPurpose.AUTOPAY else "card"  # kept: keys already sent to Stripe
    session = gateway.create_setup_session(
        SetupSessionRequest(
            stripe_customer_id=stripe_customer_id,
            success_url=f"{config.base_url}{setup_return_path(page.invoice.id)}?{returned}",
            cancel_url=f"{config.base_url}{setup_return_path(page.invoice.id)}",
            metadata={"customer_id": customer.id, "invoice_id": page.invoice.id, "purpose": purpose.value},
            idempotency_scope=f"payportal-{key}-{customer.id}-{click_window(clock.now())}",
        )
    )
    return session.url


def open_account_setup_session(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    config: CheckoutConfig,
    customer: Customer,
    *,
    purpose: SetupPurpose,
    back_to: str,
    returned: str,
) -> str:
    """As `open_setup_session`, from the customer's account rather than an invoice's pay page: back to `back_to`
    (a path of ours that carries no secret) with `?{returned}`, or without it when cancelled."""
    session = gateway.create_setup_session(
        SetupSessionRequest(
            stripe_customer_id=ensure_stripe_customer(ledger, gateway, customer),
            success_url=f"{config.base_url}{back_to}?{returned}",
            cancel_url=f"{config.base_url}{back_to}",
            metadata={"customer_id": customer.id, "purpose": purpose.value},
            idempotency_scope=f"payportal-{purpose.value}-account-{customer.id}-{click_window(clock.now())}",
        )
    )
    return session.url
