"""Outbound webhook deliveries: every domain event on the bus fans out to one delivery per subscribed endpoint,
and each delivery is one signed POST, retried on its own with backoff until it succeeds or its time is up.

The body is the bus event's detail (docs/events.md) under Standard Webhooks' envelope, `{"type", "timestamp",
"data"}`; `webhook-id` is the event's id (the outbox message id, `data.id` too), the same on every attempt and
for every endpoint, so a receiver drops a repeat by it. `webhook-timestamp` is the attempt's wall-clock time,
which is what receivers check against theirs, so it is never the business clock.

An endpoint deleted or disabled meanwhile gets nothing more. The schedule of waits after a failed attempt
(RETRY_DELAYS) spans more than three days; after the last attempt the delivery has failed for good.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from shared.clock import Clock
from shared.domain.webhooks import WebhookEndpoint, signature
from shared.services.ports import ChangeRejected
from shared.services.webhook_ports import SendResult, WebhookEndpoints, WebhookSender, subscribed

EVENT_SOURCE: Final = "payportal"
# Seconds to wait after failed attempt n (1-based): 1 min, 5 min, 30 min, 2 h, 6 h, then 12 h (SQS's longest
# visibility timeout) six times: 80.6 hours from the first attempt to the twelfth and last.
RETRY_DELAYS: Final = (60, 300, 1800, 7200, 21600, *(43200,) * 6)
MAX_ATTEMPTS: Final = len(RETRY_DELAYS) + 1
USER_AGENT: Final = "payportal-webhooks/1"


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A domain event as webhooks carry it."""

    type: str
    id: str
    timestamp: str  # when the event was published (ISO 8601, UTC)
    data: dict[str, Any]

    def body(self) -> str:
        envelope = {"type": self.type, "timestamp": self.timestamp, "data": self.data}
        return json.dumps(envelope, separators=(",", ":"), sort_keys=True, ensure_ascii=False)

    def as_message(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "timestamp": self.timestamp, "data": self.data}

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> WebhookEvent:
        return cls(
            type=str(message["type"]),
            id=str(message["id"]),
            timestamp=str(message["timestamp"]),
            data=dict(message["data"]),
        )


def event_from_bus(bus_event: dict[str, Any]) -> WebhookEvent | None:
    """The webhook event of an EventBridge event as the rule hands it to SQS; None for anything that is not a
    payportal domain event with an id."""
    detail = bus_event.get("detail")
    if bus_event.get("source") != EVENT_SOURCE or not isinstance(detail, dict) or not detail.get("id"):
        return None
    return WebhookEvent(
        type=str(bus_event.get("detail-type", "")), id=str(detail["id"]), timestamp=str(bus_event["time"]), data=detail
    )


@dataclass(frozen=True, slots=True)
class DeliveryTask:
    endpoint_id: str
    event: WebhookEvent

    def as_message(self) -> dict[str, Any]:
        return {"endpoint_id": self.endpoint_id, "event": self.event.as_message()}

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> DeliveryTask:
        return cls(endpoint_id=str(message["endpoint_id"]), event=WebhookEvent.from_message(message["event"]))


def fan_out(endpoints: WebhookEndpoints, event: WebhookEvent) -> list[DeliveryTask]:
    """One delivery per endpoint subscribed to the event's type: each is retried on its own, so one
    endpoint failing never holds back another."""
    return [DeliveryTask(e.id, event) for e in subscribed(endpoints.all(), event.type)]


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # try again in `retry_in` seconds
    FAILED = "failed"  # the last attempt failed: failed for good
    DROPPED = "dropped"  # the endpoint is gone or disabled


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: Outcome
    sent: SendResult | None = None
    retry_in: int | None = None


def signed_headers(endpoint: WebhookEndpoint, event: WebhookEvent, body: str, clock: Clock) -> dict[str, str]:
    now = clock.now()
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature(endpoint.live_secrets(now), event.id, now, body),
    }


def deliver(
    endpoints: WebhookEndpoints, sender: WebhookSender, wall_clock: Clock, task: DeliveryTask, *, attempt: int
) -> DeliveryResult:
    """Attempt `attempt` (1-based) of one delivery."""
    endpoint = endpoints.get(task.endpoint_id)
    if endpoint is None or not endpoint.subscribes_to(task.event.type):
        return DeliveryResult(Outcome.DROPPED)
    body = task.event.body()
    sent = sender.post(endpoint.url, body.encode(), signed_headers(endpoint, task.event, body, wall_clock))
    if sent.ok:
        if endpoint.consecutive_failures:
            with contextlib.suppress(ChangeRejected):  # changed meanwhile: the next success resets it
                endpoints.update(endpoint.next_version(wall_clock.now(), consecutive_failures=0), None)
        return DeliveryResult(Outcome.DELIVERED, sent)
    if attempt < MAX_ATTEMPTS:
        return DeliveryResult(Outcome.RETRY, sent, RETRY_DELAYS[attempt - 1])
    return DeliveryResult(Outcome.FAILED, sent)
