"""`payportal webhooks list` and `payportal webhooks replay`: the Stripe events a stage kept, and a replay.

Both go through the stage's operator API (`GET /v1/stripe-events`, `POST /v1/stripe-events/{id}/replay`),
signed with the operator's own AWS credentials (SigV4), as any operator request is:
- the Stripe secret key stays in the stack: the operator API function already reads it, so the laptop
  never holds it, and the replay re-fetches the event from Stripe there;
- the replay runs through the same path as the webhook (`record_stripe_event`), exactly once;
- the caller's IAM identity is checked by API Gateway and logged with the replay;
- the local stack (`make dev`, `--stage local`) answers the same requests on its own API port.

Nothing here prints more than what the API answers: ids, types, outcomes and their reasons, never payloads.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol
from urllib.parse import quote

from cli.stripe_setup import SetupError

DEFAULT_LIST_LIMIT: Final = 50
_PAGE: Final = 100  # the API's largest page
# What a replay answers, and whether the event is now settled (exit 0) or still waits on someone (exit 1).
_REPLAY_SAYS: Final[Mapping[str, str]] = {
    "applied": "applied",
    "no_change": "applied: the ledger was already at that state",
    "duplicate_event": "already applied before: nothing changed",
    "ignored": "not an event payportal acts on: nothing changed",
    "flagged": "flagged again: it still does not match what we recorded (see its detail); nothing moved",
    "retry_later": "not applied: its payment's success is not recorded yet; replay that event first",
}


@dataclass(frozen=True, slots=True)
class ApiReply:
    status: int
    body: Any  # the JSON the API answered (None when it was not JSON)


class OperatorApi(Protocol):
    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> ApiReply:
        """One signed request to the stage's operator API (`body`: sent as JSON)."""
        ...


def list_events(api: OperatorApi, *, outcome: str | None, limit: int, say: Callable[[str], None]) -> int:
    """Print up to `limit` kept events, newest first, one a line; how many were printed."""
    printed, cursor = 0, None
    while printed < limit:
        query = {"limit": str(min(_PAGE, limit - printed))}
        if outcome:
            query["outcome"] = outcome
        if cursor:
            query["cursor"] = cursor
        page = _ok(api.request("GET", "/v1/stripe-events", query=query), "list the Stripe events")
        for event in page.get("data") or []:
            say(describe_event(event))
            printed += 1
        cursor = page.get("next_cursor")
        if not cursor:
            break
    if not printed:
        say(f"no {outcome} Stripe events kept" if outcome else "no Stripe events kept")
    return printed


def describe_event(event: Mapping[str, Any]) -> str:
    detail = f"  ({event['detail']})" if event.get("detail") else ""
    return (
        f"{event.get('id')}  {event.get('outcome')}  {event.get('type')}  {event.get('object_id')}  "
        f"{event.get('received_at')}{detail}"
    )


def replay_event(api: OperatorApi, event_id: str, *, say: Callable[[str], None]) -> bool:
    """Replay one event; whether it is settled now (False: flagged again)."""
    path = f"/v1/stripe-events/{quote(event_id, safe='')}/replay"
    # A fresh key per run: a replay is exactly-once by the event's own record, whatever the key.
    reply = _ok(api.request("POST", path, idempotency_key=uuid.uuid4().hex), f"replay {event_id}")
    outcome = str(reply.get("outcome"))
    before = reply.get("previous_outcome") or "never received"
    say(f"{reply.get('id')}  {reply.get('type')}: {_REPLAY_SAYS.get(outcome, outcome)} (before: {before})")
    return outcome not in ("flagged", "retry_later")


def _ok(reply: ApiReply, doing: str) -> dict[str, Any]:
    body = reply.body if isinstance(reply.body, dict) else {}
    if 200 <= reply.status < 300:
        return body
    error: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
    message = error.get("message") or body.get("message") or "no details"
    code = f" {error['code']}" if error.get("code") else ""
    hint = " (is your IAM identity allowed to call the operator API?)" if reply.status == 403 else ""
    raise SetupError(f"could not {doing}: HTTP {reply.status}{code}: {message}{hint}")
