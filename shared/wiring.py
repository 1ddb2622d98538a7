"""The composition root: real adapters, built once per container on first use."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from shared.config import settings

if TYPE_CHECKING:
    from shared.adapters.dynamodb import DynamoLedger
    from shared.adapters.notifications import EventBridgePublisher, SesMailer
    from shared.adapters.secrets import StripeCredentials
    from shared.adapters.stripe_gateway import StripeGateway


@cache
def ledger() -> DynamoLedger:
    from shared.adapters.aws import client
    from shared.adapters.dynamodb import DynamoLedger

    return DynamoLedger(client("dynamodb"), settings().table_name)


def stripe_credentials() -> StripeCredentials:
    from shared.adapters.secrets import stripe_credentials as load

    return load(settings().stripe_secret_id)  # cached by Powertools Parameters


def gateway() -> StripeGateway:
    # Keyed by the API key so a rotated key takes effect without a new container.
    return _gateway(stripe_credentials().api_key)


@cache
def _gateway(api_key: str) -> StripeGateway:
    from shared.adapters.stripe_gateway import StripeGateway

    return StripeGateway(api_key, settings().stripe_api_base)


@cache
def mailer() -> SesMailer:
    from shared.adapters.aws import client
    from shared.adapters.notifications import SesMailer

    return SesMailer(client("ses"), settings().sender_email)


@cache
def publisher() -> EventBridgePublisher:
    from shared.adapters.aws import client
    from shared.adapters.notifications import EventBridgePublisher

    return EventBridgePublisher(client("events"), settings().event_bus_name)
