"""The console's Review page through its handler over moto: a flagged Stripe event is listed with what did not
match; a collector or an admin replays it once its cause is fixed (applied once, however often it is posted,
audited as them); a viewer sees no Replay button and a forged post is refused; an event we do not keep is a
404 page, and Stripe is never asked about it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from shared.domain.console_roles import Role
from tests.integration.console_browser import ConsoleBrowser, signed_in
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver, get_invoice
from tests.integration.test_stripe_event_replay import StripeHolding, live_stack, stripe_holding
from tests.support import json_body

__all__ = ["stripe_holding"]  # the fixture, shared with the operator API's replay tests


@pytest.fixture
def flagged(console: str, stripe_holding: StripeHolding) -> dict[str, Any]:
    """Given a live-mode payment delivered to a stage still on its test key: kept as flagged, nothing moved.
    Stripe holds the event, as a replay fetches it."""
    invoice = create_invoice(create_customer(timezone="UTC")["id"], amount_due=12_500)
    event = completed(checkout_for(invoice, 12_500)) | {"livemode": True}
    assert json_body(deliver(event))["outcome"] == "flagged"
    stripe_holding.events[event["id"]] = event
    return {"event": event, "invoice": invoice}


def replay_path(event_id: str) -> str:
    return f"/console/review/{event_id}/replay"


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.ADMIN])
def test_a_collector_or_an_admin_replays_a_flagged_event_once_fixed_and_the_page_shows_the_outcome(
    flagged: dict[str, Any], stripe_holding: StripeHolding, role: Role
) -> None:
    event, invoice = flagged["event"], flagged["invoice"]
    browser = signed_in(role)
    # The page lists it, with what did not match, and a Replay button
    page = browser.get("/console/review")
    assert page.status == 200 and event["id"] in page.body
    assert "a live-mode event on a test-mode stack" in page.body and f'aria-label="Replay {event["id"]}"' in page.body

    # When the stage's key is fixed and they replay it
    live_stack()
    replied = browser.post(replay_path(event["id"]))
    # Then it is applied once, and the page says so, naming who replayed it
    assert replied.status == 303 and replied.location.endswith(
        f"/console/review?replayed={event['id']}&outcome=applied"
    )
    shown = browser.follow()
    assert shown.status == 200 and "applied. Kept now as applied" in shown.body
    assert "by staff:" in shown.body and f"{role.value}@payportal.local: applied" in shown.body
    assert get_invoice(invoice["id"])["status"] == "paid"
    assert stripe_holding.asked == [event["id"]]
    # And the invoice's timeline names the event and who replayed it
    timeline = browser.get(f"/console/invoices/{invoice['id']}").body
    assert re.search(
        rf"payment\.succeeded by stripe \(replayed by staff:[^)]*{role.value}@payportal\.local\)", timeline
    )


def test_a_replay_posted_twice_applies_once(flagged: dict[str, Any], stripe_holding: StripeHolding) -> None:
    event, invoice = flagged["event"], flagged["invoice"]
    browser = signed_in(Role.ADMIN)
    live_stack()
    browser.get("/console/review")
    form = {"csrf": browser.csrf()}
    first = browser.post(replay_path(event["id"]), form, csrf=False)
    second = browser.post(replay_path(event["id"]), form, csrf=False)  # a double click, or the form resent

    assert first.location.endswith("outcome=applied") and second.location.endswith("outcome=duplicate_event")
    assert "it was applied before, so nothing changed" in browser.follow().body
    details = get_invoice(invoice["id"])
    assert (details["status"], details["amount_paid"], len(details["payments"])) == ("paid", 12_500, 1)
    assert stripe_holding.asked == [event["id"], event["id"]]


def test_a_replay_before_the_fix_flags_it_again_and_keeps_it_listed(flagged: dict[str, Any]) -> None:
    event, invoice = flagged["event"], flagged["invoice"]
    browser = signed_in(Role.COLLECTOR)
    browser.get("/console/review")

    assert browser.post(replay_path(event["id"])).location.endswith("outcome=flagged")
    page = browser.follow()
    assert "flagged again" in page.body and page.body.count(f'aria-label="Replay {event["id"]}"') == 1
    assert get_invoice(invoice["id"])["status"] == "open"


def test_a_viewer_sees_no_replay_button_and_a_forged_post_is_refused(
    flagged: dict[str, Any], stripe_holding: StripeHolding
) -> None:
    event, invoice = flagged["event"], flagged["invoice"]
    browser = signed_in(Role.VIEWER)
    page = browser.get("/console/review")
    assert page.status == 200 and event["id"] in page.body
    assert ">Replay<" not in page.body and "/replay" not in page.body
    live_stack()

    forged = browser.post(replay_path(event["id"]))  # with the session's own CSRF token

    assert forged.status == 403 and "role does not allow" in forged.body
    assert stripe_holding.asked == [] and get_invoice(invoice["id"])["status"] == "open"


def test_a_replay_without_the_csrf_token_or_from_another_site_is_refused(
    flagged: dict[str, Any], stripe_holding: StripeHolding
) -> None:
    browser = signed_in(Role.ADMIN)
    browser.get("/console/review")
    path, token = replay_path(flagged["event"]["id"]), browser.csrf()
    assert browser.post(path, csrf=False).status == 403
    assert browser.post(path, {"csrf": "not-the-token"}, csrf=False).status == 403
    assert browser.post(path, {"csrf": token}, csrf=False, origin="https://evil.example").status == 403
    assert stripe_holding.asked == []


@pytest.mark.parametrize("event_id", ["evt_never_kept", "evt_", "cs_test_1", "evt%3Cscript%3E"])
def test_replaying_an_event_we_do_not_keep_is_a_404_page(
    flagged: dict[str, Any], stripe_holding: StripeHolding, event_id: str
) -> None:
    browser = signed_in(Role.ADMIN)
    browser.get("/console/review")
    reply = browser.post(replay_path(event_id))
    assert reply.status == 404 and "<h1>Not found</h1>" in reply.body
    assert stripe_holding.asked == []


def test_without_a_session_the_page_and_the_replay_lead_to_sign_in(flagged: dict[str, Any]) -> None:
    browser = ConsoleBrowser()
    assert browser.get("/console/review").location.endswith("/console/sign-in")
    assert browser.request("POST", replay_path(flagged["event"]["id"])).location.endswith("/console/sign-in")


def test_a_cursor_the_page_did_not_hand_out_is_a_400_page(flagged: dict[str, Any]) -> None:
    browser = signed_in(Role.VIEWER)
    reply = browser.get("/console/review?flagged=not-a-cursor")
    assert reply.status == 400 and "That page of the list is not valid" in reply.body
