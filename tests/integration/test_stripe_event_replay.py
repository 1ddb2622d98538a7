"""Kept Stripe events and audit trails through the real entry points over moto: the webhook keeps a flagged
event, the operator lists it (API and `payportal webhooks list`), fixes the cause and replays it (applied
once, through the webhook's path; a second replay changes nothing), and the invoice's audit trail shows
what changed and which event caused it. Hostile requests get a clear 4xx."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from cli.__main__ import main
from cli.webhooks import ApiReply
from shared.adapters import secrets
from shared.adapters.stripe_events import parse_event
from shared.routes import ROUTES
from shared.services.stripe_events.facts import StripeFact
from tests.integration.conftest import REGION, STRIPE_KEY, WEBHOOK_SECRET, Aws
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver, operator
from tests.support import OPERATOR_ARN, json_body


@dataclass
class StripeHolding:
    """Stripe's side of a replay: the events it holds, read by id and parsed as the adapter parses them."""

    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def retrieve_event(self, event_id: str) -> StripeFact | None:
        self.asked.append(event_id)
        payload = self.events.get(event_id)
        return parse_event(payload) if payload is not None else None


@pytest.fixture
def stripe_holding(monkeypatch: pytest.MonkeyPatch) -> StripeHolding:
    from shared import wiring

    holding = StripeHolding()
    monkeypatch.setattr(wiring, "stripe_events", lambda: holding)
    return holding


def resource_of(path: str) -> tuple[str, dict[str, str]]:
    """The API Gateway resource a path matches, and its path parameters (literal segments first, as there)."""
    for route in ROUTES:
        pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(route.path))
        found = re.fullmatch(pattern, path)
        if found and route.function == "operator_api":
            return route.path, found.groupdict()
    raise AssertionError(f"no route for {path}")


@dataclass
class InProcessApi:
    """The operator API as the CLI reaches it, with the handler run here over moto."""

    calls: list[tuple[str, str, Mapping[str, str] | None]] = field(default_factory=list)

    def request(
        self, method: str, path: str, *, query: Mapping[str, str] | None = None, idempotency_key: str | None = None
    ) -> ApiReply:
        self.calls.append((method, path, query))
        resource, params = resource_of(path.split("?")[0])
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        reply = operator(
            method, path, resource, params=params or None, query=dict(query or {}) or None, headers=headers
        )
        return ApiReply(reply["statusCode"], json.loads(reply["body"]))


def cli(api: InProcessApi, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([*argv, "--stage", "test", "--url", "https://api.example.com/test/"], stdout=out, stderr=err,
                environ={}, operator_api=lambda url, region: api)  # fmt: skip
    return code, out.getvalue(), err.getvalue()


def live_stack() -> None:
    """The operator's fix: the stage's Stripe secret now holds the live key the account really uses."""
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(
        SecretId="payportal/test/stripe",
        SecretString=json.dumps({"api_key": STRIPE_KEY.replace("_test_", "_live_"), "webhook_secret": WEBHOOK_SECRET}),
    )
    secrets.clear_cache()


def audit_of(invoice_id: str, **query: str) -> dict[str, Any]:
    return operator(
        "GET", f"/v1/invoices/{invoice_id}/audit", "/v1/invoices/{invoice_id}/audit",
        params={"invoice_id": invoice_id}, query=query or None,
    )  # fmt: skip


def test_a_flagged_event_is_listed_replayed_once_after_the_fix_and_audited(
    aws: Aws, stripe_holding: StripeHolding
) -> None:
    # Given a live-mode payment delivered to a stage whose Stripe key is still the test one: kept, flagged
    customer = create_customer(timezone="UTC")
    invoice = create_invoice(customer["id"], amount_due=12_500)
    event = completed(checkout_for(invoice, 12_500)) | {"livemode": True}
    assert json_body(deliver(event))["outcome"] == "flagged"
    stripe_holding.events[event["id"]] = event
    api = InProcessApi()

    # When the operator lists the flagged events
    code, out, _ = cli(api, "webhooks", "list", "--flagged")
    # Then it is there, with why
    assert code == 0
    assert event["id"] in out and "flagged" in out and "live-mode event on a test-mode stack" in out
    assert api.calls[-1] == ("GET", "/v1/stripe-events", {"limit": "50", "outcome": "flagged"})

    # When they fix the key and replay it
    live_stack()
    code, out, err = cli(api, "webhooks", "replay", event["id"])
    # Then it is applied, once: the invoice is paid, and the event is no longer flagged
    assert code == 0, err
    assert "applied (before: flagged)" in out
    assert stripe_holding.asked == [event["id"]]
    details = operator("GET", f"/v1/invoices/{invoice['id']}", "/v1/invoices/{invoice_id}",
                       params={"invoice_id": invoice["id"]})  # fmt: skip
    assert json_body(details)["status"] == "paid"
    code, out, _ = cli(api, "webhooks", "list", "--flagged")
    assert (code, out.strip()) == (0, "no flagged Stripe events kept")
    kept = operator("GET", f"/v1/stripe-events/{event['id']}", "/v1/stripe-events/{event_id}",
                    params={"event_id": event["id"]})  # fmt: skip
    assert json_body(kept)["outcome"] == "applied"

    # And the invoice's trail says what changed, newest first, caused by that event
    trail = json_body(audit_of(invoice["id"]))
    assert [e["action"] for e in trail["data"]] == ["payment.succeeded", "invoice.created"]
    assert trail["data"][0]["caused_by"] == {"kind": "stripe_event", "id": event["id"]}
    assert trail["data"][0]["details"]["replayed_by"] == OPERATOR_ARN  # who replayed it, in the same transaction
    assert trail["data"][1]["caused_by"] == {"kind": "operator", "id": OPERATOR_ARN}
    receipts = len([m for m in aws.items("OUTBOX#") if m.get("kind") == "email"])

    # When they replay it again; Then nothing changes
    code, out, _ = cli(api, "webhooks", "replay", event["id"])
    assert code == 0 and "already applied before: nothing changed" in out
    assert len(json_body(audit_of(invoice["id"]))["data"]) == 2
    assert len([m for m in aws.items("OUTBOX#") if m.get("kind") == "email"]) == receipts


def test_a_replay_whose_cause_is_not_fixed_flags_it_again_and_exits_1(aws: Aws, stripe_holding: StripeHolding) -> None:
    customer = create_customer(timezone="UTC")
    invoice = create_invoice(customer["id"], amount_due=12_500)
    event = completed(checkout_for(invoice, 12_500)) | {"livemode": True}
    deliver(event)
    stripe_holding.events[event["id"]] = event

    code, out, _ = cli(InProcessApi(), "webhooks", "replay", event["id"])

    assert code == 1 and "flagged again" in out


def test_audit_trails_page_newest_first_and_refuse_what_they_did_not_hand_out(aws: Aws) -> None:
    # Given a customer held and released, and an invoice created and held
    customer = create_customer(timezone="UTC")
    invoice = create_invoice(customer["id"])
    hold, held = f"/v1/customers/{customer['id']}/hold", "/v1/customers/{customer_id}/hold"
    operator("POST", hold, held, params={"customer_id": customer["id"]}, body={"reason": "dispute"})
    operator("DELETE", hold, held, params={"customer_id": customer["id"]})
    operator("POST", f"/v1/invoices/{invoice['id']}/hold", "/v1/invoices/{invoice_id}/hold",
             params={"invoice_id": invoice["id"]}, body={"reason": "checking"})  # fmt: skip

    # When the customer's trail is read a page at a time
    path, resource = f"/v1/customers/{customer['id']}/audit", "/v1/customers/{customer_id}/audit"
    first = json_body(operator("GET", path, resource, params={"customer_id": customer["id"]}, query={"limit": "2"}))
    rest = json_body(operator("GET", path, resource, params={"customer_id": customer["id"]},
                              query={"limit": "2", "cursor": first["next_cursor"]}))  # fmt: skip
    # Then it holds what happened to the customer record, newest first; the invoice's are on the invoice
    actions = [e["action"] for e in first["data"] + rest["data"]]
    assert actions == ["customer.hold_released", "customer.hold_placed", "customer.created"]
    assert rest["next_cursor"] is None
    assert all(e["caused_by"] == {"kind": "operator", "id": OPERATOR_ARN} for e in first["data"] + rest["data"])
    invoice_trail = json_body(audit_of(invoice["id"]))["data"]
    assert [e["action"] for e in invoice_trail] == ["invoice.hold_placed", "invoice.created"]
    assert invoice_trail[0]["details"]["changes"]["hold"] == {"to": {"reason": "checking"}}  # from none: null

    # And another trail's cursor, noise, a bad limit or an unknown subject are clear 4xx
    invoice_cursor = json_body(audit_of(invoice["id"], limit="1"))["next_cursor"]
    refused = [
        (audit_of(invoice["id"], cursor=first["next_cursor"]), 400, "invalid_cursor"),
        (operator("GET", path, resource, params={"customer_id": customer["id"]}, query={"cursor": invoice_cursor}),
         400, "invalid_cursor"),
        (audit_of(invoice["id"], cursor="%%%not-base64"), 400, "invalid_cursor"),
        (audit_of(invoice["id"], limit="0"), 422, "validation_error"),
        (audit_of(invoice["id"], limit="ten"), 422, "validation_error"),
        (audit_of("inv_nope"), 404, "not_found"),
        (operator("GET", "/v1/customers/cus_nope/audit", resource, params={"customer_id": "cus_nope"}), 404,
         "not_found"),
    ]  # fmt: skip
    for response, status, code in refused:
        assert (response["statusCode"], json_body(response)["error"]["code"]) == (status, code), response["body"]


def test_hostile_event_requests_are_clear_4xx_and_never_reach_stripe(aws: Aws, stripe_holding: StripeHolding) -> None:
    replay = "/v1/stripe-events/{event_id}/replay"
    answers = [
        (operator("POST", "/v1/stripe-events/evt_1/replay", replay, params={"event_id": "evt_1"}), 400,
         "idempotency_key_required"),
        (operator("POST", "/v1/stripe-events/x/replay", replay, params={"event_id": "<script>"},
                  headers={"Idempotency-Key": "k"}), 404, "not_found"),
        (operator("POST", "/v1/stripe-events/evt_gone/replay", replay, params={"event_id": "evt_gone"},
                  headers={"Idempotency-Key": "k2"}), 404, "not_found"),
        (operator("GET", "/v1/stripe-events", "/v1/stripe-events", query={"outcome": "applied"}), 422,
         "validation_error"),
        (operator("GET", "/v1/stripe-events", "/v1/stripe-events", query={"cursor": "eyJ4IjoxfQ"}), 400,
         "invalid_cursor"),
        (operator("GET", "/v1/stripe-events/evt_nope", "/v1/stripe-events/{event_id}",
                  params={"event_id": "evt_nope"}), 404, "not_found"),
    ]  # fmt: skip
    for response, status, error in answers:
        assert (response["statusCode"], json_body(response)["error"]["code"]) == (status, error), response["body"]
    assert stripe_holding.asked == ["evt_gone"]
    code, _, err = cli(InProcessApi(), "webhooks", "replay", "evt_gone")
    assert code == 1 and "HTTP 404 not_found" in err


def test_an_event_whose_processing_failed_is_kept_as_failed_until_stripes_retry_applies_it(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.webhooks import handler

    customer = create_customer(timezone="UTC")
    invoice = create_invoice(customer["id"], amount_due=12_500)
    event = completed(checkout_for(invoice, 12_500))

    # Given the table throttles while the webhook applies the event
    def throttled(*args: Any, **kwargs: Any) -> Any:
        raise TimeoutError("DynamoDB did not answer for cus_private")

    with monkeypatch.context() as patched:
        patched.setattr(handler, "record_stripe_event", throttled)
        assert deliver(event)["statusCode"] == 500

    # Then it is listed as failed, with the error's type only
    failed = json_body(operator("GET", "/v1/stripe-events", "/v1/stripe-events", query={"outcome": "failed"}))
    assert [(e["id"], e["outcome"], e["detail"]) for e in failed["data"]] == [(event["id"], "failed", "TimeoutError")]
    # When Stripe retries it; Then it applies, and nothing is left failed
    assert json_body(deliver(event))["outcome"] == "applied"
    failed = json_body(operator("GET", "/v1/stripe-events", "/v1/stripe-events", query={"outcome": "failed"}))
    every = json_body(operator("GET", "/v1/stripe-events", "/v1/stripe-events"))
    assert failed["data"] == [] and [(e["id"], e["outcome"]) for e in every["data"]] == [(event["id"], "applied")]
