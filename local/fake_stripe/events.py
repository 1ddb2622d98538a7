"""Webhook events as Stripe sends them: a JSON event signed with the endpoint secret, delivered in the
background right after the state change, retried with backoff on connection errors and non-2xx.

Every event is kept (in memory, oldest first) with its delivery status so tests can see what was sent
and redeliver one to prove the receiver deduplicates. Delivery can be switched off (an outage of the
receiver, or Stripe giving up): events made meanwhile are kept, listed by `GET /v1/events`, and never sent
unless resent one by one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from local.fake_stripe.ids import random_id
from local.fake_stripe.signature import stripe_signature

API_VERSION = "2024-06-20"

logger = logging.getLogger("local.fake_stripe.events")


@dataclass(slots=True)
class EventRecord:
    event: dict[str, Any]
    # Serialized once: a redelivery sends the very same bytes under a fresh signature, as Stripe does.
    body: bytes
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = None
    delivered: bool = False
    delivering: bool = False

    @property
    def id(self) -> str:
        return str(self.event["id"])

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.event["type"],
            "created": self.event["created"],
            "object_id": self.event["data"]["object"].get("id"),
            "attempts": self.attempts,
            "last_status_code": self.last_status_code,
            "last_error": self.last_error,
            "delivered": self.delivered,
            "delivering": self.delivering,
            "event": self.event,
        }


def build_event(event_type: str, obj: dict[str, Any], *, now: int) -> dict[str, Any]:
    return {
        "id": random_id("evt_"),
        "object": "event",
        "api_version": API_VERSION,
        "created": now,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


class WebhookSender:
    def __init__(
        self,
        url: str,
        secret: str,
        *,
        max_attempts: int = 5,
        first_backoff_s: float = 0.5,
        timeout_s: float = 10.0,
    ) -> None:
        self.url = url
        self._secret = secret
        self._max_attempts = max_attempts
        self._first_backoff_s = first_backoff_s
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._records: dict[str, EventRecord] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        self.delivery_enabled = True

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    def records(self) -> list[EventRecord]:
        return list(self._records.values())

    def publish(self, event_type: str, obj: dict[str, Any]) -> EventRecord:
        """Record the event and deliver it in the background (the caller's reply does not wait)."""
        event = build_event(event_type, obj, now=int(time.time()))
        record = EventRecord(event=event, body=json.dumps(event, indent=2).encode())
        self._records[record.id] = record
        logger.info("event %s %s for %s", record.id, event_type, obj.get("id"))
        if self.delivery_enabled:
            self._deliver_in_background(record)
        return record

    def get(self, event_id: str) -> EventRecord | None:
        return self._records.get(event_id)

    def resend(self, event_id: str) -> EventRecord | None:
        record = self._records.get(event_id)
        if record is not None:
            self._deliver_in_background(record)
        return record

    def _deliver_in_background(self, record: EventRecord) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, record: EventRecord) -> None:
        record.delivering = True
        record.delivered = False
        try:
            for attempt in range(1, self._max_attempts + 1):
                if await self._attempt(record):
                    record.delivered = True
                    return
                if attempt < self._max_attempts:
                    await asyncio.sleep(self._first_backoff_s * 2 ** (attempt - 1))
            logger.warning("event %s not delivered after %d attempts", record.id, self._max_attempts)
        finally:
            record.delivering = False

    async def _attempt(self, record: EventRecord) -> bool:
        assert self._http is not None, "WebhookSender.start() was not awaited"
        # Each attempt is signed at its own time, so a late retry still passes the receiver's tolerance.
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": stripe_signature(record.body, self._secret, int(time.time())),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        record.attempts += 1
        try:
            async with self._http.post(self.url, data=record.body, headers=headers) as reply:
                record.last_status_code = reply.status
                record.last_error = None
                # Stripe ignores the response body; reading it just frees the connection.
                with contextlib.suppress(aiohttp.ClientError):
                    await reply.read()
        except (TimeoutError, aiohttp.ClientError) as error:
            record.last_status_code = None
            record.last_error = type(error).__name__
            logger.info("event %s attempt %d: %s", record.id, record.attempts, record.last_error)
            return False
        ok = 200 <= reply.status < 300
        logger.info("event %s attempt %d: HTTP %d", record.id, record.attempts, reply.status)
        return ok
