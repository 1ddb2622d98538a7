"""Request and response models of the webhook endpoints routes (functions/operator_api/webhooks.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from functions.operator_api.schemas import FreeText
from shared.domain.webhooks import MAX_DESCRIPTION_LENGTH, MAX_URL_LENGTH

EventTypes = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=100)]
_EVENTS_DESCRIPTION = 'domain event types (docs/events.md), or ["*"] for every event'


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NewWebhookEndpoint(_Strict):
    url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="https; no user name or password; where it resolves is checked at every delivery",
        examples=["https://hooks.example.com/payportal"],
    )
    events: EventTypes = Field(description=_EVENTS_DESCRIPTION, examples=[["invoice.paid", "payment.succeeded"]])
    description: FreeText = Field(default="", max_length=MAX_DESCRIPTION_LENGTH)


class WebhookEndpointChanges(_Strict):
    events: EventTypes | None = Field(default=None, description=_EVENTS_DESCRIPTION)
    enabled: StrictBool | None = Field(default=None, description="false stops deliveries; true resumes them")
    description: FreeText | None = Field(default=None, max_length=MAX_DESCRIPTION_LENGTH)


class WebhookEndpointOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: Literal["operator", "failing"] | None = Field(
        description="why deliveries stopped: the operator disabled it, or too many deliveries in a row failed"
    )
    consecutive_failures: int = Field(description="deliveries in a row that failed for good")
    secret_rotating_until: datetime | None = Field(
        description="while set, deliveries are also signed with the previous secret, until then"
    )
    created_at: datetime
    updated_at: datetime


class WebhookEndpointWithSecret(WebhookEndpointOut):
    secret: str | None = Field(
        description="the signing secret (whsec_...): shown in this reply only, keep it safe; null when a "
        "repeat of the request comes after that secret expired"
    )


class WebhookEndpointsPage(BaseModel):
    webhook_endpoints: list[WebhookEndpointOut]


class FailedDeliveryOut(BaseModel):
    id: str
    event_type: str
    event_id: str = Field(description="the webhook-id it was sent with (the event's id)")
    attempts: int
    last_status: int | None = Field(description="the last answer's HTTP status; null: no answer came")
    last_error: str = Field(description="at most 200 characters of the last answer, or why there was none")
    failed_at: datetime


class FailedDeliveriesPage(BaseModel):
    deliveries: list[FailedDeliveryOut]
    next_cursor: str | None


class DeliveryRetryOut(BaseModel):
    delivery_id: str
    status: Literal["queued"] = Field(description="queued again, with a fresh retry schedule")
