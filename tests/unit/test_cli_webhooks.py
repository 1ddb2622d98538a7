"""`payportal webhooks list` and `replay` over a stand-in operator API: pages followed up to the limit,
outcomes said in words, the API's errors as one line, and the exit status a script can act on."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from cli.__main__ import main
from cli.webhooks import ApiReply
from functions.operator_api.views import replay_out
from shared.services.stripe_events.engine import Outcome
from shared.services.stripe_events.replay import Replayed


def an_event(n: int, outcome: str = "applied", detail: str | None = None) -> dict[str, Any]:
    return {
        "id": f"evt_{n}", "type": "checkout.session.completed", "object_id": f"cs_{n}", "outcome": outcome,
        "detail": detail, "received_at": f"2027-03-01T15:{n:02d}:00+00:00",
    }  # fmt: skip


@dataclass
class StandInApi:
    """Answers GET /v1/stripe-events from `events` (newest first) in pages, and replays with `replies`."""

    events: list[dict[str, Any]] = field(default_factory=list)
    replies: list[ApiReply] = field(default_factory=list)
    calls: list[tuple[str, str, dict[str, str], str | None]] = field(default_factory=list)

    def request(
        self, method: str, path: str, *, query: Mapping[str, str] | None = None, idempotency_key: str | None = None
    ) -> ApiReply:
        self.calls.append((method, path, dict(query or {}), idempotency_key))
        if method == "POST":
            return self.replies.pop(0)
        asked = dict(query or {})
        wanted = [e for e in self.events if "outcome" not in asked or e["outcome"] == asked["outcome"]]
        start, size = int(asked.get("cursor", "0")), int(asked["limit"])
        page = wanted[start : start + size]
        more = start + size < len(wanted)
        return ApiReply(200, {"data": page, "next_cursor": str(start + size) if more else None})


def run(api: StandInApi, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([*argv, "--stage", "prod", "--url", "https://api.example.com/prod/"], stdout=out, stderr=err,
                environ={}, operator_api=lambda url, region: api)  # fmt: skip
    return code, out.getvalue(), err.getvalue()


def test_the_list_follows_pages_up_to_the_limit_and_prints_one_event_a_line() -> None:
    api = StandInApi(events=[an_event(n) for n in range(250)])

    code, out, _ = run(api, "webhooks", "list", "--limit", "120")

    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 120 and lines[0].startswith("evt_0  applied  checkout.session.completed  cs_0")
    assert [call[2] for call in api.calls] == [{"limit": "100"}, {"limit": "20", "cursor": "100"}]


def test_the_flagged_list_asks_for_those_only_and_shows_why() -> None:
    api = StandInApi(events=[an_event(1), an_event(2, "flagged", "amount 1250 does not match 12500")])

    code, out, _ = run(api, "webhooks", "list", "--flagged")

    assert code == 0
    assert out.strip() == (
        "evt_2  flagged  checkout.session.completed  cs_2  2027-03-01T15:02:00+00:00"
        "  (amount 1250 does not match 12500)"
    )
    assert api.calls[0][2] == {"limit": "50", "outcome": "flagged"}
    assert run(StandInApi(), "webhooks", "list", "--failed")[1].strip() == "no failed Stripe events kept"


def test_flagged_and_failed_cannot_be_asked_for_together_nor_a_limit_of_nothing() -> None:
    for argv in (("--flagged", "--failed"), ("--limit", "0"), ("--limit", "many")):
        with pytest.raises(SystemExit) as usage:
            run(StandInApi(), "webhooks", "list", *argv)
        assert usage.value.code == 2


@pytest.mark.parametrize(
    ("reply", "code", "said"),
    [
        ({"id": "evt_1", "type": "t", "outcome": "applied", "previous_outcome": "flagged"}, 0,
         "applied (before: flagged)"),
        ({"id": "evt_1", "type": "t", "outcome": "duplicate_event", "previous_outcome": "applied"}, 0,
         "already applied before: nothing changed"),
        ({"id": "evt_1", "type": "t", "outcome": "applied"}, 0, "applied (before: never received)"),
        ({"id": "evt_1", "type": "t", "outcome": "flagged", "previous_outcome": "flagged"}, 1, "flagged again"),
        ({"id": "evt_1", "type": "t", "outcome": "retry_later"}, 1, "replay that event first"),
    ],
)  # fmt: skip
def test_a_replay_says_what_it_did_and_exits_1_while_the_event_stays_flagged(
    reply: dict[str, Any], code: int, said: str
) -> None:
    api = StandInApi(replies=[ApiReply(200, reply)])

    result = run(api, "webhooks", "replay", "evt_1")

    assert result[0] == code and said in result[1]
    [(method, path, _, key)] = api.calls
    assert (method, path) == ("POST", "/v1/stripe-events/evt_1/replay") and key


def test_an_event_id_is_sent_as_one_path_segment_and_api_errors_are_one_line() -> None:
    missing = {"error": {"code": "not_found", "message": "Stripe has no event evt_x", "fields": []}}
    api = StandInApi(replies=[ApiReply(404, missing), ApiReply(403, {"message": "User is not authorized"})])

    code, _, err = run(api, "webhooks", "replay", "../customers/x?y")
    assert code == 1 and err.strip() == (
        "payportal: could not replay ../customers/x?y: HTTP 404 not_found: Stripe has no event evt_x"
    )
    assert api.calls[0][1] == "/v1/stripe-events/..%2Fcustomers%2Fx%3Fy/replay"
    code, _, err = run(api, "webhooks", "replay", "evt_1")
    assert code == 1 and "HTTP 403: User is not authorized (is your IAM identity allowed" in err


def test_the_api_can_say_a_replay_must_wait_for_its_payment() -> None:
    """Found in review: the reply model refused retry_later, so such a replay answered 500."""
    reply = replay_out(Replayed("evt_1", "refund.updated", Outcome.RETRY_LATER, None))
    assert reply.outcome == "retry_later"
