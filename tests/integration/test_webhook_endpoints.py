"""The webhook endpoints API over moto: registered with its secret shown once, listed, changed, deleted,
the secret rotated with an overlap; hostile URLs and event lists refused with a 422 naming the field."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from standardwebhooks import Webhook

from shared.clock import FixedClock
from tests.integration.conftest import Aws
from tests.integration.helpers import operator
from tests.support import json_body

COLLECTION = "/v1/webhook-endpoints"
ONE = "/v1/webhook-endpoints/{endpoint_id}"


def call(method: str, suffix: str = "", body: Any = None, key: str | None = None, **kwargs: Any) -> dict[str, Any]:
    endpoint_id, _, rest = suffix.partition("/")
    resource = COLLECTION if not endpoint_id else ONE + (f"/{rest}" if rest else "")
    path = COLLECTION + (f"/{suffix}" if suffix else "")
    params = {"endpoint_id": endpoint_id} if endpoint_id else None
    headers = {"Idempotency-Key": key or uuid.uuid4().hex} if method == "POST" else None
    return operator(method, path, resource, params=params, body=body, headers=headers, **kwargs)


def register(**overrides: Any) -> dict[str, Any]:
    body = {"url": "https://hooks.example.com/payportal", "events": ["invoice.paid"], "description": "CRM"} | overrides
    response = call("POST", body=body)
    assert response["statusCode"] == 201, response["body"]
    return dict(json_body(response))


def test_registering_returns_the_secret_once_and_reads_never_show_it(aws: Aws, clock: FixedClock) -> None:
    # Given / When: an endpoint is registered
    created = register()
    # Then: the reply carries a Standard Webhooks secret, and no read shows it again
    assert created["secret"].startswith("whsec_") and Webhook(created["secret"])
    assert created["events"] == ["invoice.paid"] and created["enabled"] is True
    shown = json_body(call("GET", created["id"]))
    listed = json_body(call("GET"))["webhook_endpoints"]
    assert "secret" not in shown and [e["id"] for e in listed] == [created["id"]] and "secret" not in listed[0]
    assert created["secret"] not in str(aws.items("WEBHOOKENDPOINT#"))  # the audit trail keeps no secret
    trail = aws.items("WEBHOOKENDPOINT#" + created["id"])
    assert [i["action"] for i in trail] == ["webhook_endpoint.created"] and trail[0]["actor"].startswith("arn:")


def test_the_same_key_and_body_replays_the_first_reply(aws: Aws, clock: FixedClock) -> None:
    body = {"url": "https://hooks.example.com/a", "events": ["*"]}
    first = call("POST", body=body, key="k-1")
    again = call("POST", body=body, key="k-1")
    assert first["statusCode"] == again["statusCode"] == 201
    assert json_body(first)["id"] == json_body(again)["id"] and json_body(again)["secret"] == json_body(first)["secret"]
    assert len(json_body(call("GET"))["webhook_endpoints"]) == 1
    other = call("POST", body=body | {"description": "else"}, key="k-1")
    assert other["statusCode"] == 422 and json_body(other)["error"]["code"] == "idempotency_key_reused"
    missing = operator("POST", COLLECTION, COLLECTION, body=body)
    assert missing["statusCode"] == 400 and json_body(missing)["error"]["code"] == "idempotency_key_required"


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",  # not https
        "http://127.0.0.1:8080/hook",  # loopback http: only on the local stack
        "https://user:pass@hooks.example.com/x",  # credentials in the URL
        "https://@hooks.example.com/x",
        "https:///nohost",
        "ftp://hooks.example.com/x",
        "https://hooks.example.com/" + "a" * 2048,  # too long
        "https://hooks.example.com/a b",
        "https://hooks.example.com/\x00",
        "https://hooks.example.com:99999/",
        "https://hooks.example.com/#frag",
        "javascript:alert(1)",
        "",
    ],
)
def test_a_url_deliveries_must_not_go_to_is_a_422_naming_it(aws: Aws, clock: FixedClock, url: str) -> None:
    response = call("POST", body={"url": url, "events": ["invoice.paid"]})
    assert response["statusCode"] == 422, response["body"]
    assert json_body(response)["error"]["fields"][0]["field"] == "url"
    assert json_body(call("GET"))["webhook_endpoints"] == []


def test_on_the_local_stack_loopback_http_is_allowed(
    aws: Aws, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared import wiring

    monkeypatch.setenv("PAYPORTAL_LOCAL_STACK", "1")
    wiring.reset()
    assert register(url="http://127.0.0.1:8080/hook")["url"] == "http://127.0.0.1:8080/hook"
    refused = call("POST", body={"url": "http://10.0.0.1/hook", "events": ["*"]})
    assert refused["statusCode"] == 422


@pytest.mark.parametrize(
    "events",
    [[], ["invoice.nope"], ["*", "invoice.paid"], "invoice.paid", [1], ["x" * 65], ["invoice.paid"] * 101, None],
)
def test_an_event_list_that_is_not_known_types_is_a_422(aws: Aws, clock: FixedClock, events: Any) -> None:
    response = call("POST", body={"url": "https://hooks.example.com/x", "events": events})
    assert response["statusCode"] == 422, response["body"]
    assert json_body(response)["error"]["fields"][0]["field"].startswith("events")


def test_patch_changes_events_and_disables_then_enables(aws: Aws, clock: FixedClock) -> None:
    created = register()
    changed = call(
        "PATCH", created["id"], body={"events": ["payment.succeeded", "payment.succeeded"], "enabled": False}
    )
    assert changed["statusCode"] == 200, changed["body"]
    shown = json_body(changed)
    assert shown["events"] == ["payment.succeeded"] and shown["enabled"] is False
    assert shown["disabled_reason"] == "operator"
    enabled = json_body(call("PATCH", created["id"], body={"enabled": True}))
    assert enabled["enabled"] is True and enabled["disabled_reason"] is None
    assert call("PATCH", created["id"], body={"url": "https://else.example.com/"})["statusCode"] == 422
    assert call("PATCH", created["id"], body={"enabled": "yes"})["statusCode"] == 422
    assert call("PATCH", "whe_missing", body={"enabled": True})["statusCode"] == 404


def test_delete_removes_it(aws: Aws, clock: FixedClock) -> None:
    created = register()
    assert call("DELETE", created["id"])["statusCode"] == 200
    assert call("GET", created["id"])["statusCode"] == 404
    assert call("DELETE", created["id"])["statusCode"] == 404
    assert json_body(call("GET"))["webhook_endpoints"] == []


def test_rotating_shows_the_new_secret_once_and_keeps_the_old_one_a_day(aws: Aws, clock: FixedClock) -> None:
    created = register()
    rotated = call("POST", f"{created['id']}/rotate-secret", key="rot-1")
    assert rotated["statusCode"] == 200, rotated["body"]
    new = json_body(rotated)
    assert new["secret"].startswith("whsec_") and new["secret"] != created["secret"]
    assert new["secret_rotating_until"].startswith("2027-03-02T15:00")  # the clock's 2027-03-01 15:00 + 24 h
    again = json_body(call("POST", f"{created['id']}/rotate-secret", key="rot-1"))
    assert again["secret"] == new["secret"]  # the same key: the same rotation, not another
    stored = aws.items("WEBHOOKS")[0]
    assert len(stored["secrets"]) == 2
    assert call("POST", "whe_missing/rotate-secret")["statusCode"] == 404
