"""`/_local/...`: what only the offline stack has, for developers and the end-to-end tests. No auth.

| route                                  | what                                                         |
|----------------------------------------|--------------------------------------------------------------|
| GET    /_local                         | this list                                                    |
| GET    /_local/emails                  | emails sent through SES (to, from, subject, text, html, ...) |
| DELETE /_local/emails                  | forget them                                                  |
| GET    /_local/events                  | domain events put on the event bus                           |
| DELETE /_local/events                  | forget them                                                  |
| GET    /_local/clock                   | the business clock                                           |
| POST   /_local/clock {"now": iso8601}  | fix the business clock at an instant (offset required)       |
| DELETE /_local/clock                   | back to real time                                            |
| GET    /_local/schedules               | scheduled functions that exist                               |
| POST   /_local/schedules/{name}/run    | run one now, with a Scheduler-like event at business "now",  |
|                                        | then any continuations it left on its queue                  |
| GET    /_local/stripe/delivery         | whether the local Stripe delivers webhooks                   |
| POST   /_local/stripe/delivery         | {"enabled": false} stops delivering them (events are still   |
|        {"enabled": bool}               | made and listed by GET /v1/events); true resumes             |
| GET    /_local/dead-letters            | outbox records that failed every delivery attempt            |
| POST   /_local/outbox/drain            | deliver everything on the outbox stream now                  |
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import requests

from local.api_server import HttpRequest, HttpResponse, json_response
from local.aws import ObservedEvents, SentEmails
from local.config import ACCOUNT_ID, REGION, SCHEDULES
from local.continuations import ContinuationQueues
from local.lambda_runtime import FunctionResolver
from local.outbox_poller import OutboxHandlerUnavailable, OutboxPoller
from shared.clock import AdjustableClock, wall_clock_now


class LocalClock(AdjustableClock):
    """The stack's business clock; also says whether a developer has fixed it."""

    def __init__(self) -> None:
        super().__init__()
        self.fixed = False

    def set(self, instant: datetime) -> None:
        super().set(instant)
        self.fixed = True

    def reset(self) -> None:
        super().reset()
        self.fixed = False

    def fixed_instant(self) -> datetime | None:
        """The instant a developer fixed the clock at, or None when it runs in real time (one read)."""
        with self._lock:
            return self._fixed


logger = logging.getLogger("local.control")

SCHEDULE_TIMEOUT_S = 900.0  # a scheduled Lambda may run its full 15 minutes


def scheduler_event(name: str, now: datetime) -> dict[str, Any]:
    """What an EventBridge Scheduler schedule with an EventBridge-style payload hands the function."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "payportal.local-scheduler",
        "account": ACCOUNT_ID,
        "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/default/payportal-local-{name}"],
        "detail": {},
    }


class LocalControl:
    def __init__(
        self,
        *,
        clock: LocalClock,
        emails: SentEmails,
        events: ObservedEvents,
        poller: OutboxPoller | None,
        resolver: FunctionResolver,
        schedules: tuple[str, ...] = SCHEDULES,
        continuations: ContinuationQueues | None = None,
        stripe_front_url: str | None = None,
    ) -> None:
        self._clock = clock
        self._clock_lock = threading.Lock()
        self._emails = emails
        self._events = events
        self._poller = poller
        self._resolver = resolver
        self._schedules = schedules
        self._continuations = continuations
        self._stripe_front_url = stripe_front_url

    def known_schedules(self) -> list[str]:
        return [name for name in self._schedules if self._resolver.exists(name)]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        parts = [part for part in request.path.split("/") if part][1:]  # after "_local"
        method = request.method
        match parts:
            case []:
                return self._only(method, "GET") or json_response(200, {"routes": (__doc__ or "").strip()})
            case ["emails"]:
                if method == "DELETE":
                    self._emails.clear()
                    return json_response(200, {"emails": []})
                return self._only(method, "GET") or json_response(200, {"emails": self._emails.list()})
            case ["events"]:
                if method == "DELETE":
                    self._events.clear()
                    return json_response(200, {"events": []})
                return self._only(method, "GET") or json_response(200, {"events": self._events.list()})
            case ["clock"]:
                return self._clock_route(method, request.body)
            case ["schedules"]:
                return self._only(method, "GET") or json_response(200, {"schedules": self.known_schedules()})
            case ["schedules", name, "run"]:
                return self._only(method, "POST") or self._run_schedule(name)
            case ["stripe", "delivery"]:
                if method not in ("GET", "POST"):
                    return json_response(405, {"message": "use GET or POST"}, [("Allow", "GET, POST")])
                return self._stripe_delivery(method, request.body)
            case ["dead-letters"]:
                dead = list(self._poller.dead_letters) if self._poller else []
                return self._only(method, "GET") or json_response(200, {"dead_letters": dead})
            case ["outbox", "drain"]:
                if rejected := self._only(method, "POST"):
                    return rejected
                try:
                    if self._poller is not None:
                        self._poller.drain()
                except (OutboxHandlerUnavailable, TimeoutError) as error:
                    return json_response(503, {"message": str(error)})
                return json_response(200, {"drained": True})
        return json_response(404, {"message": f"no local route {request.path}; see GET /_local"})

    @staticmethod
    def _only(method: str, allowed: str) -> HttpResponse | None:
        if method == allowed:
            return None
        return json_response(405, {"message": f"use {allowed}"}, [("Allow", allowed)])

    # -- clock -----------------------------------------------------------------------------------------------

    def _clock_state(self) -> dict[str, Any]:
        return {
            "now": self._clock.now().isoformat(),
            "fixed": self._clock.fixed,
            "wall_clock": wall_clock_now().isoformat(),
        }

    def _clock_route(self, method: str, body: bytes) -> HttpResponse:
        with self._clock_lock:
            if method == "GET":
                return json_response(200, self._clock_state())
            if method == "DELETE":
                self._clock.reset()
                logger.info("business clock back to real time")
                return json_response(200, self._clock_state())
            if method != "POST":
                return json_response(405, {"message": "use GET, POST or DELETE"}, [("Allow", "GET, POST, DELETE")])
            try:
                payload = json.loads(body or b"null")
                raw = payload["now"] if isinstance(payload, dict) else None
                if not isinstance(raw, str):
                    raise ValueError
                instant = datetime.fromisoformat(raw)
            except (ValueError, KeyError):
                return json_response(400, {"message": 'send {"now": "<ISO 8601 date and time with offset>"}'})
            if instant.tzinfo is None:
                return json_response(400, {"message": "the time needs a UTC offset, e.g. 2030-01-31T09:00:00+01:00"})
            self._clock.set(instant)
            logger.info("business clock fixed at %s", instant.isoformat())
            return json_response(200, self._clock_state())

    # -- the local Stripe's webhook delivery ------------------------------------------------------------------

    def _stripe_delivery(self, method: str, body: bytes) -> HttpResponse:
        """Passed on to the Stripe front's own control (`/_front/delivery`), which owns the switch."""
        if self._stripe_front_url is None:
            return json_response(503, {"message": "the local Stripe front is not running"})
        try:
            reply = requests.request(
                method,
                f"{self._stripe_front_url}/_front/delivery",
                data=body if method == "POST" else None,
                headers={"Content-Type": "application/json"},
                timeout=10,
            )
            return json_response(reply.status_code, reply.json())
        except (requests.RequestException, ValueError) as error:
            return json_response(502, {"message": f"the local Stripe front did not answer: {type(error).__name__}"})

    # -- schedules -------------------------------------------------------------------------------------------

    def _run_schedule(self, name: str) -> HttpResponse:
        known = self.known_schedules()
        if name not in known:
            return json_response(
                404,
                {
                    "message": f"no scheduled function {name!r}; known: {', '.join(known) or 'none yet'}",
                    "known_schedules": known,
                },
            )
        event = scheduler_event(name, self._clock.now())
        try:
            result = self._resolver.invoke(name, event, timeout_s=SCHEDULE_TIMEOUT_S)
        except Exception as error:
            logger.exception("scheduled function %s raised", name)
            return json_response(500, {"message": f"{name} failed: {type(error).__name__}: {error}"})
        continued = self._continuations.drain(name) if self._continuations else 0
        return json_response(200, {"schedule": name, "event": event, "result": result, "continuations": continued})
