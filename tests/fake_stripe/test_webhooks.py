"""Webhook delivery from the fake Stripe: retried until the endpoint accepts it, and redelivered on request."""

from __future__ import annotations

import requests
import stripe

from tests.fake_stripe.helpers import (
    Front,
    WebhookInbox,
    assert_signed_by_stripe_scheme,
    front_events,
    session_params,
)

# -- webhook delivery --------------------------------------------------------------------------------------


def test_a_failed_delivery_is_retried_until_the_endpoint_accepts_it(
    front: Front, client: stripe.StripeClient, inbox: WebhookInbox
) -> None:
    # Given a webhook endpoint that fails the next delivery
    inbox.fail_next = 1
    # When an event is sent
    session = client.v1.checkout.sessions.create(params=session_params())
    client.v1.checkout.sessions.expire(session.id)
    # Then it is delivered on the second attempt, and the front's log of events says so
    delivery = inbox.event("checkout.session.expired", session.id)
    with inbox.lock:
        answers = [d.answered for d in inbox.deliveries if d.event["id"] == delivery.event["id"]]
    assert answers == [500, 200]
    record = next(e for e in front_events(front) if e["id"] == delivery.event["id"])
    assert (record["attempts"], record["last_status_code"], record["delivered"]) == (2, 200, True)


def test_an_event_can_be_redelivered_with_the_same_id_to_prove_deduplication(
    front: Front, client: stripe.StripeClient, inbox: WebhookInbox
) -> None:
    # Given an event already delivered
    session = client.v1.checkout.sessions.create(params=session_params())
    client.v1.checkout.sessions.expire(session.id)
    first = inbox.event("checkout.session.expired", session.id)
    # When the test asks the front to send it again
    event_id = first.event["id"]
    reply = requests.post(f"{front.url}/_front/events/{event_id}/resend", timeout=5)
    assert reply.status_code == 202
    # Then the very same event arrives again, freshly and validly signed
    deliveries = inbox.wait_for(lambda d: d.event["id"] == event_id, count=2)
    assert deliveries[1].body == first.body
    assert_signed_by_stripe_scheme(deliveries[1])
    # And the front lists it once, newest last, with both attempts counted
    listed = front_events(front)
    assert [e["id"] for e in listed].count(event_id) == 1
    assert listed[-1]["id"] == event_id
    assert listed[-1]["attempts"] >= 2
