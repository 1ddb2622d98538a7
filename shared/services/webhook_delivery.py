"""Outbound webhook deliveries: every domain event on the bus fans out to one delivery per subscribed endpoint,
and each delivery is one signed POST, retried on its own with backoff until it succeeds or its time is up.

The body is the bus event's detail (docs/events.md) under Standard Webhooks' envelope, `{"type", "timestamp",
"data"}`; `webhook-id` is the event's id (the outbox message id, `data.id` too), the same on every attempt and
for every endpoint, so a receiver drops a repeat by it. `webhook-timestamp` is the attempt's wall-clock time,
which is what receivers check against theirs, so it is never the business clock.

An endpoint deleted meanwhile gets nothing more. The schedule of waits after a failed attempt (RETRY_DELAYS)
spans more than three days; after the last attempt the delivery has failed for good: it is kept on the
endpoint (`GET /v1/webhook-endpoints/{id}/deliveries?status=failed`) for the operator to replay, and counts
against the endpoint, which is disabled after DISABLE_AFTER_FAILURES in a row (a delivery that succeeds starts
the count anew). A delivery whose endpoint was disabled while it waited is kept the same way, unsent.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from shared.clock import Clock
from shared.domain.errors import InvalidStateTransition, NotFound
from shared.domain.records import AuditEntry, AuditSubject
from shared.domain.webhooks import (
    FailedDelivery,
    WebhookEndpoint,
    failed_delivery_id,
    failed_once_more,
    signature,
)
from shared.services.once import scoped_key
from shared.services.ports import ChangeRejected, Page, Rejection, RunOnce
from shared.services.webhook_endpoints import get_endpoint
from shared.services.webhook_ports import DeliveryQueue, SendResult, WebhookEndpoints, WebhookSender, subscribed

EVENT_SOURCE: Final = "payportal"
# Seconds to wait after failed attempt n (1-based): 1 min, 5 min, 30 min, 2 h, 6 h, then 12 h (SQS's longest
# visibility timeout) six times: 80.6 hours from the first attempt to the twelfth and last.
RETRY_DELAYS: Final = (60, 300, 1800, 7200, 21600, *(43200,) * 6)
MAX_ATTEMPTS: Final = len(RETRY_DELAYS) + 1
USER_AGENT: Final = "payportal-webhooks/1"
DELIVERY_ACTOR: Final = "job:webhook_delivery"
_RECORD_ATTEMPTS: Final = 5  # re-reads of an endpoint that changed while a failure was being recorded


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
    disabled_endpoint: bool = False  # this failure disabled the endpoint


def signed_headers(endpoint: WebhookEndpoint, event: WebhookEvent, body: str, clock: Clock) -> dict[str, str]:
    now = clock.now()
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature(endpoint.live_secrets(now), event.id, now, body),
    }


@dataclass(frozen=True, slots=True)
class Attempt:
    """Which attempt this is (1-based), of which queued message (its id and when it was first queued, in ms):
    together they name the delivery if it fails for good."""

    number: int
    message_id: str
    first_queued_ms: int


def deliver(
    endpoints: WebhookEndpoints,
    sender: WebhookSender,
    clock: Clock,
    task: DeliveryTask,
    attempt: Attempt,
    *,
    wall_clock: Clock,
) -> DeliveryResult:
    """One attempt of one delivery: signed at `wall_clock`'s time (what receivers compare with theirs),
    recorded at `clock`'s (the business clock every other record keeps)."""
    endpoint = endpoints.get(task.endpoint_id)
    if endpoint is None:
        return DeliveryResult(Outcome.DROPPED)
    if not endpoint.enabled:  # disabled while this waited: kept for a replay once it is enabled again
        unsent = SendResult(None, "not sent: the endpoint is disabled")
        return record_failure(endpoints, clock, task, attempt, unsent, count=False)
    if not endpoint.subscribes_to(task.event.type):
        return DeliveryResult(Outcome.DROPPED)  # unsubscribed meanwhile: nothing owed
    body = task.event.body()
    sent = sender.post(endpoint.url, body.encode(), signed_headers(endpoint, task.event, body, wall_clock))
    if sent.ok:
        if endpoint.consecutive_failures:
            with contextlib.suppress(ChangeRejected):  # changed meanwhile: the next success resets it
                endpoints.update(endpoint.next_version(clock.now(), consecutive_failures=0), None)
        return DeliveryResult(Outcome.DELIVERED, sent)
    if attempt.number < MAX_ATTEMPTS:
        return DeliveryResult(Outcome.RETRY, sent, RETRY_DELAYS[attempt.number - 1])
    return record_failure(endpoints, clock, task, attempt, sent, count=True)


def record_failure(
    endpoints: WebhookEndpoints,
    clock: Clock,
    task: DeliveryTask,
    attempt: Attempt,
    sent: SendResult,
    *,
    count: bool,
) -> DeliveryResult:
    """The delivery kept as failed and, when `count`, counted against its endpoint, in one transaction: a
    message handled twice records (and counts) it once."""
    now = clock.now()
    delivery = FailedDelivery(
        id=failed_delivery_id(task.endpoint_id, task.event.id, attempt.message_id, attempt.first_queued_ms),
        endpoint_id=task.endpoint_id,
        event=task.event.as_message(),
        attempts=attempt.number if count else attempt.number - 1,
        last_status=sent.status,
        excerpt=sent.excerpt,
        failed_at=now,
    )
    for _ in range(_RECORD_ATTEMPTS):
        endpoint = endpoints.get(task.endpoint_id)
        if endpoint is None:
            return DeliveryResult(Outcome.DROPPED, sent)
        after = failed_once_more(endpoint, now) if count else endpoint.next_version(now)
        disabled = endpoint.enabled and not after.enabled
        audit = None
        if disabled:
            audit = AuditEntry(
                subject=AuditSubject.WEBHOOK_ENDPOINT,
                subject_id=endpoint.id,
                action="webhook_endpoint.disabled",
                actor=DELIVERY_ACTOR,
                at=now,
                details={"reason": "failing", "consecutive_failures": after.consecutive_failures},
            )
        try:
            endpoints.record_failure(delivery, after, audit)
        except ChangeRejected as rejected:
            if rejected.reason is Rejection.EXISTS:
                return DeliveryResult(Outcome.FAILED, sent)  # recorded by an earlier handling of this message
            continue  # the endpoint changed meanwhile: count against what it is now
        return DeliveryResult(Outcome.FAILED, sent, disabled_endpoint=disabled)
    raise ChangeRejected(Rejection.STALE_WEBHOOK_ENDPOINT)  # the message comes back and is recorded then


def list_failed(endpoints: WebhookEndpoints, endpoint_id: str, *, limit: int, cursor: str | None) -> Page:
    get_endpoint(endpoints, endpoint_id)
    return endpoints.failed_deliveries(endpoint_id, limit, cursor)


def retry_failed_once(
    endpoints: WebhookEndpoints,
    queue: DeliveryQueue,
    once: RunOnce,
    endpoint_id: str,
    delivery_id: str,
    *,
    key: str | None,
    actor: str,
) -> str:
    """A failed delivery queued again, with a fresh retry schedule, once per (caller, Idempotency-Key); its
    record leaves the failed list (it comes back if this replay fails for good too). Returns its id."""
    scoped = scoped_key(actor, f"{endpoint_id}|{delivery_id}|{key}" if key else key)

    def work() -> dict[str, str]:
        endpoint = get_endpoint(endpoints, endpoint_id)
        if not endpoint.enabled:
            raise InvalidStateTransition("the endpoint is disabled: enable it first (PATCH enabled=true)")
        delivery = endpoints.get_failed(endpoint_id, delivery_id)
        if delivery is None:
            raise NotFound(f"no failed delivery {delivery_id} on this endpoint", field="delivery_id")
        try:
            endpoints.take_failed(delivery)  # only one replay of it wins
        except ChangeRejected:
            raise NotFound(f"no failed delivery {delivery_id} on this endpoint", field="delivery_id") from None
        task = DeliveryTask(endpoint_id, WebhookEvent.from_message(dict(delivery.event)))
        try:
            queue.send([task.as_message()])
        except Exception:
            endpoints.restore_failed(delivery)
            raise
        return {"delivery_id": delivery_id}

    return once(scoped, {"endpoint_id": endpoint_id, "delivery_id": delivery_id}, work)["delivery_id"]
