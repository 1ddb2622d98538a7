"""`GET /v1/events` on the fake Stripe, as Stripe lists events; webhook delivery stopped and resumed; disputes
opened and closed on a payment, each with its event."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
import stripe

from local.fake_stripe.errors import StripeApiError
from local.fake_stripe.event_list import HISTORY_SECONDS, events_page
from tests.fake_stripe.helpers import API_KEY, Front, WebhookInbox, pay, session_params

NOW = 1_800_000_000


def event(n: int, event_type: str = "checkout.session.completed", created: int = NOW) -> dict[str, Any]:
    return {"id": f"evt_{n}", "type": event_type, "created": created}


def ids(page: dict[str, Any]) -> list[str]:
    return [e["id"] for e in page["data"]]


# -- the list, as a function ---------------------------------------------------------------------------------


def test_events_list_newest_first_in_pages_and_only_thirty_days_back() -> None:
    made = [event(0, created=NOW - HISTORY_SECONDS - 1)] + [event(n, created=NOW - 10 + n) for n in range(1, 6)]

    first = events_page(made, {"limit": "2"}, now=NOW)
    rest = events_page(made, {"limit": "2", "starting_after": "evt_4"}, now=NOW)
    back = events_page(made, {"limit": "2", "ending_before": "evt_3"}, now=NOW)

    assert (ids(first), first["has_more"]) == (["evt_5", "evt_4"], True)
    assert (ids(rest), rest["has_more"]) == (["evt_3", "evt_2"], True)
    assert ids(back) == ["evt_5", "evt_4"]
    assert "evt_0" not in ids(events_page(made, {"limit": "100"}, now=NOW))  # older than 30 days


def test_events_filter_by_created_and_types() -> None:
    made = [event(n, "refund.created" if n % 2 else "charge.refunded", created=NOW + n) for n in range(6)]

    def listed(query: dict[str, Any]) -> list[str]:
        return ids(events_page(made, query | {"limit": "100"}, now=NOW + 10))

    assert listed({"created": {"gte": str(NOW + 2), "lt": str(NOW + 4)}}) == ["evt_3", "evt_2"]
    assert listed({"created": {"gt": str(NOW + 2), "lte": str(NOW + 4)}}) == ["evt_4", "evt_3"]
    assert listed({"created": str(NOW + 5)}) == ["evt_5"]
    assert listed({"types": ["refund.created"]}) == ["evt_5", "evt_3", "evt_1"]
    assert listed({"type": "charge.*"}) == ["evt_4", "evt_2", "evt_0"]


@pytest.mark.parametrize(
    "query",
    [
        {"created": {"gte": "soon"}},
        {"created": {"after": "1"}},
        {"created": "-1"},
        {"types": "refund.created"},
        {"types": [f"t{n}" for n in range(21)]},
        {"type": "a", "types": ["b"]},
        {"limit": "0"},
        {"limit": "101"},
    ],
)
def test_a_bad_query_is_refused_as_stripe_refuses_it(query: dict[str, Any]) -> None:
    with pytest.raises(StripeApiError) as refused:
        events_page([event(1)], query, now=NOW)
    assert refused.value.status == 400


# -- over HTTP, with delivery off -----------------------------------------------------------------------------


def test_events_made_while_delivery_is_off_are_kept_listed_and_not_sent(
    front: Front, client: stripe.StripeClient, inbox: WebhookInbox
) -> None:
    # Given delivery is switched off
    assert requests.post(f"{front.url}/_front/delivery", json={"enabled": False}, timeout=5).json()["enabled"] is False
    try:
        # When a payment is made
        session = client.v1.checkout.sessions.create(params=session_params())
        assert pay(front, session.id, "4242424242424242").status_code == 303
        # Then Stripe lists its event, newest first, though it was never delivered
        since = int(time.time()) - 60
        listed = client.v1.events.list(params={"types": ["checkout.session.completed"], "created": {"gte": since}})
        [completed] = [e for e in listed.data if e.data.object.id == session.id]
        time.sleep(0.3)
        with inbox.lock:
            assert all(d.event["id"] != completed.id for d in inbox.deliveries)
        state = requests.get(f"{front.url}/_front/delivery", timeout=5).json()
        assert state["enabled"] is False and state["undelivered"] >= 1
    finally:
        requests.post(f"{front.url}/_front/delivery", json={"enabled": True}, timeout=5)
    # And after it is switched on, the next event is delivered again
    again = client.v1.checkout.sessions.create(params=session_params())
    client.v1.checkout.sessions.expire(again.id)
    inbox.event("checkout.session.expired", again.id)


def test_the_delivery_switch_refuses_what_is_not_a_flag(front: Front) -> None:
    refused = requests.post(f"{front.url}/_front/delivery", json={"enabled": "no"}, timeout=5)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "enabled"


def test_a_dispute_is_opened_and_closed_on_a_paid_intent_with_its_events(
    front: Front, client: stripe.StripeClient, inbox: WebhookInbox
) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    assert pay(front, session.id, "4242424242424242").status_code == 303
    intent = client.v1.checkout.sessions.retrieve(session.id).payment_intent

    opened = requests.post(f"{front.url}/_front/payment_intents/{intent}/dispute", timeout=5).json()
    closed = requests.post(f"{front.url}/_front/disputes/{opened['id']}/close", json={"status": "lost"}, timeout=5)

    assert (opened["payment_intent"], opened["amount"], opened["status"]) == (intent, 12_500, "needs_response")
    assert closed.json()["status"] == "lost"
    assert inbox.event("charge.dispute.created", opened["id"]).event["data"]["object"]["payment_intent"] == intent
    assert inbox.event("charge.dispute.closed", opened["id"]).event["data"]["object"]["status"] == "lost"
    again = requests.post(f"{front.url}/_front/disputes/{opened['id']}/close", json={"status": "won"}, timeout=5)
    assert again.status_code == 400
    unpaid = requests.post(f"{front.url}/_front/payment_intents/pi_none/dispute", timeout=5)
    assert unpaid.status_code == 400


def test_the_event_list_wants_the_api_key(front: Front) -> None:
    assert requests.get(f"{front.url}/v1/events", timeout=5).status_code == 401
    assert requests.get(f"{front.url}/v1/events", auth=(API_KEY, ""), timeout=5).status_code == 200


def test_a_bank_debit_shows_processing_until_the_bank_answers(front: Front, client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    url = f"{front.url}/_front/sessions/{session.id}"
    intent = requests.post(f"{url}/complete-delayed", timeout=10).json()["payment_intent"]

    assert client.v1.payment_intents.retrieve(intent).status == "processing"
    requests.post(f"{url}/async-result", json={"succeeded": True}, timeout=10)
    assert client.v1.payment_intents.retrieve(intent).status == "succeeded"
