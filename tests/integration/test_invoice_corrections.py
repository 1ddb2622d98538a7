"""Money outside Stripe, credit notes, corrections and pay-link control through the operator API over moto:
what the operator gets back, what GET /v1/invoices/{id} shows, the emails and events that go out, and a
clear 4xx for every hostile request."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.fakes.gateway import FakeGateway
from tests.integration.conftest import Aws
from tests.integration.helpers import (
    checkout_for,
    completed,
    create_customer,
    create_invoice,
    deliver,
    get_invoice,
    operator,
    token_of,
)
from tests.support import FakeLambdaContext, api_event, json_body

TODAY = "2027-03-01"  # the clock fixture's day


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> FakeGateway:
    from shared import wiring

    fake = FakeGateway()
    monkeypatch.setattr(wiring, "gateway", lambda: fake)
    return fake


@pytest.fixture
def invoice(aws: Aws, clock: FixedClock, gateway: FakeGateway) -> dict[str, Any]:
    customer = create_customer(timezone="UTC", email="bo@example.com")
    return create_invoice(customer["id"], amount_due=20_000, due_date="2027-03-15", allow_partial=True)


def post(path: str, resource: str, params: dict[str, str], body: Any, key: str | None) -> dict[str, Any]:
    headers = {"Idempotency-Key": key} if key is not None else None
    return operator("POST", path, resource, params=params, body=body, headers=headers)


def record(invoice_id: str, body: Any, key: str | None = "k1") -> dict[str, Any]:
    path = f"/v1/invoices/{invoice_id}/payments"
    return post(path, "/v1/invoices/{invoice_id}/payments", {"invoice_id": invoice_id}, body, key)


def reverse(payment_id: str, body: Any, key: str | None = "r1") -> dict[str, Any]:
    path = f"/v1/payments/{payment_id}/reversal"
    return post(path, "/v1/payments/{payment_id}/reversal", {"payment_id": payment_id}, body, key)


def credit(invoice_id: str, body: Any, key: str | None = "c1") -> dict[str, Any]:
    path = f"/v1/invoices/{invoice_id}/credit-notes"
    return post(path, "/v1/invoices/{invoice_id}/credit-notes", {"invoice_id": invoice_id}, body, key)


def patch(invoice_id: str, body: Any) -> dict[str, Any]:
    return operator(
        "PATCH", f"/v1/invoices/{invoice_id}", "/v1/invoices/{invoice_id}", params={"invoice_id": invoice_id}, body=body
    )


def pay_links(method: str, invoice_id: str, body: Any = None, key: str | None = "p1") -> dict[str, Any]:
    headers = {"Idempotency-Key": key} if key is not None else None
    return operator(
        method,
        f"/v1/invoices/{invoice_id}/pay-links",
        "/v1/invoices/{invoice_id}/pay-links",
        params={"invoice_id": invoice_id},
        body=body,
        headers=headers,
    )


def pay_page(token: str) -> dict[str, Any]:
    from functions.checkout.handler import lambda_handler

    event = api_event("GET", f"/pay/{token}", resource="/pay/{token}", path_parameters={"token": token}, operator=False)
    return lambda_handler(event, FakeLambdaContext())


def bus(aws: Aws) -> dict[str, list[dict[str, Any]]]:
    events: dict[str, list[dict[str, Any]]] = {}
    for event in aws.domain_events():
        events.setdefault(event["detail-type"], []).append(event["detail"])
    return events


def emails(aws: Aws, subject_start: str) -> list[str]:
    return [m.text for m in aws.emails() if m.subject.startswith(subject_start)]


CHEQUE = {"amount": 20_000, "method": "check", "reference": "1234", "received_on": TODAY}


def test_a_cheque_pays_the_invoice_once_per_key_with_a_receipt_that_says_so(aws: Aws, invoice: dict[str, Any]) -> None:
    made = record(invoice["id"], CHEQUE)
    again = record(invoice["id"], CHEQUE)

    assert made["statusCode"] == 201, made["body"]
    assert json_body(again) == json_body(made)
    body = json_body(made)
    assert (body["invoice_status"], body["invoice_amount_remaining"]) == ("paid", 0)
    shown = get_invoice(invoice["id"])
    [payment] = shown["payments"]
    assert payment["offline"] == {
        "method": "check", "reference": "1234", "received_on": TODAY, "reversed_at": None, "reversal_reason": "",
    }  # fmt: skip
    assert shown["status"] == "paid" and shown["next_reminder_at"] is None  # dunning stops
    assert aws.drain_outbox()["batchItemFailures"] == []
    [receipt] = emails(aws, "Receipt:")
    assert "Payment method: Cheque, reference 1234" in receipt
    events = bus(aws)
    assert events["invoice.payment_recorded"][0]["method"] == "check" and "invoice.paid" in events
    other = record(invoice["id"], CHEQUE | {"amount": 10_000})
    assert other["statusCode"] == 422 and json_body(other)["error"]["code"] == "idempotency_key_reused"


def test_a_bounced_cheque_is_owed_again_and_only_offline_payments_are_reversed(
    aws: Aws, invoice: dict[str, Any]
) -> None:
    payment_id = json_body(record(invoice["id"], CHEQUE))["payment"]["id"]
    aws.drain_outbox()

    reversed_ = reverse(payment_id, {"reason": "cheque returned unpaid"})
    again = reverse(payment_id, {"reason": "cheque returned unpaid"})
    twice = reverse(payment_id, {"reason": "cheque returned unpaid"}, key="another")

    assert reversed_["statusCode"] == 200, reversed_["body"]
    assert json_body(again) == json_body(reversed_)
    assert twice["statusCode"] == 409 and json_body(twice)["error"]["code"] == "payment_already_reversed"
    shown = get_invoice(invoice["id"])
    assert (shown["status"], shown["amount_remaining"]) == ("open", 20_000)
    assert shown["payments"][0]["status"] == "reversed" and shown["next_reminder_at"] is not None
    aws.drain_outbox()
    [told] = emails(aws, "Payment returned:")
    assert "Remaining balance: US$200.00" in told and "/pay/" in told
    [event] = bus(aws)["payment.reversed"]
    assert event["reversed_at"] and event["amount_remaining"] == 20_000 and "cheque returned" not in str(event)


def test_a_stripe_payment_cannot_be_reversed_and_a_cheque_cannot_be_refunded(aws: Aws, invoice: dict[str, Any]) -> None:
    event = completed(checkout_for(invoice, 5_000))
    assert json_body(deliver(event))["outcome"] == "applied"
    intent = str(event["data"]["object"]["payment_intent"])
    cheque = json_body(record(invoice["id"], CHEQUE | {"amount": 5_000}))["payment"]["id"]

    stripe_paid = reverse(intent, {"reason": "bounced"})
    refunded = post(
        f"/v1/payments/{cheque}/refunds", "/v1/payments/{payment_id}/refunds", {"payment_id": cheque}, {}, "x"
    )

    assert stripe_paid["statusCode"] == 409 and json_body(stripe_paid)["error"]["code"] == "payment_not_offline"
    assert refunded["statusCode"] == 409 and json_body(refunded)["error"]["code"] == "payment_is_offline"
    assert reverse("off_unknown", {"reason": "bounced"})["statusCode"] == 404
    assert reverse("off_" + "x" * 3000, {"reason": "bounced"}, key="long")["statusCode"] == 404


HOSTILE_PAYMENTS: list[tuple[Any, str]] = [
    (CHEQUE | {"method": "barter"}, "validation_error"),
    (CHEQUE | {"amount": -100}, "validation_error"),
    (CHEQUE | {"amount": 0}, "validation_error"),
    (CHEQUE | {"amount": 10.5}, "validation_error"),
    (CHEQUE | {"amount": "100"}, "validation_error"),
    (CHEQUE | {"amount": 10**40}, "validation_error"),
    (CHEQUE | {"received_on": "2027-03-05"}, "invalid_date"),
    (CHEQUE | {"received_on": "yesterday"}, "validation_error"),
    (CHEQUE | {"reference": "x" * 101}, "validation_error"),
    (CHEQUE | {"unknown": 1}, "validation_error"),
    ({k: v for k, v in CHEQUE.items() if k != "method"}, "validation_error"),
]


def test_hostile_offline_payments_get_a_422_and_record_nothing(aws: Aws, invoice: dict[str, Any]) -> None:
    # One invoice for every case: each is refused before anything is written
    for body, code in HOSTILE_PAYMENTS:
        response = record(invoice["id"], body, key=uuid.uuid4().hex)

        assert response["statusCode"] == 422, (body, response["body"])
        assert json_body(response)["error"]["code"] == code, body
    assert get_invoice(invoice["id"])["payments"] == []


def test_no_key_is_a_400_and_an_unknown_invoice_a_404(aws: Aws, invoice: dict[str, Any]) -> None:
    missing = record(invoice["id"], CHEQUE, key=None)
    assert missing["statusCode"] == 400 and json_body(missing)["error"]["code"] == "idempotency_key_required"
    assert record("inv_unknown", CHEQUE)["statusCode"] == 404
    assert credit(invoice["id"], {"amount": 100, "reason": "x"}, key=None)["statusCode"] == 400
    assert pay_links("POST", invoice["id"], {}, key=None)["statusCode"] == 400


def test_a_credit_note_lowers_what_is_owed_and_is_shown_on_the_invoice(aws: Aws, invoice: dict[str, Any]) -> None:
    issued = credit(invoice["id"], {"amount": 5_000, "reason": "goodwill discount"})
    too_much = credit(invoice["id"], {"amount": 15_001, "reason": "too much"}, key="c2")

    assert issued["statusCode"] == 201, issued["body"]
    assert too_much["statusCode"] == 422 and json_body(too_much)["error"]["code"] == "credit_exceeds_remaining"
    shown = get_invoice(invoice["id"])
    assert (shown["amount_due"], shown["amount_original"], shown["amount_credited"]) == (15_000, 20_000, 5_000)
    [note] = shown["credit_notes"]
    assert (note["amount"], note["reason"]) == (5_000, "goodwill discount")
    assert json_body(issued)["credit_note"]["id"] == note["id"]
    aws.drain_outbox()
    [told] = emails(aws, "Corrected invoice")
    assert "Corrected amount: US$150.00" in told
    assert bus(aws)["invoice.credited"][0]["amount_due"] == 15_000


def test_a_credit_note_that_settles_the_invoice_stops_dunning(aws: Aws, invoice: dict[str, Any]) -> None:
    record(invoice["id"], CHEQUE | {"amount": 15_000})

    settled = credit(invoice["id"], {"amount": 5_000, "reason": "rounding"})

    assert settled["statusCode"] == 201, settled["body"]
    shown = get_invoice(invoice["id"])
    assert shown["status"] == "paid" and shown["next_reminder_at"] is None and shown["amount_remaining"] == 0


def test_patch_corrects_the_amount_while_nothing_is_paid_and_tells_the_customer(
    aws: Aws, invoice: dict[str, Any]
) -> None:
    corrected = patch(invoice["id"], {"amount_due": 18_000, "due_date": "2027-04-30", "description": "Corrected"})

    assert corrected["statusCode"] == 200, corrected["body"]
    body = json_body(corrected)
    assert (body["amount_due"], body["due_date"], body["description"]) == (18_000, "2027-04-30", "Corrected")
    assert body["next_reminder_at"] > invoice["next_reminder_at"]  # re-planned from the new due date
    aws.drain_outbox()
    assert len(emails(aws, "Corrected invoice")) == 1
    [event] = bus(aws)["invoice.corrected"]
    assert event["changes"]["amount_due"] == {"from": 20_000, "to": 18_000}
    assert event["fields"] == ["amount_due", "description", "due_date"] and "Corrected" not in str(event)


def test_hostile_patches_get_a_422(aws: Aws, invoice: dict[str, Any]) -> None:
    for body in (
        {},
        {"amount_due": -1},
        {"amount_due": 1.5},
        {"due_date": "2027-02-30"},
        {"number": "INV-2"},
        {"status": "paid"},
    ):
        response = patch(invoice["id"], body)

        assert response["statusCode"] == 422, (body, response["body"])
    assert get_invoice(invoice["id"])["amount_due"] == 20_000


def test_patching_the_amount_after_a_payment_is_a_409(aws: Aws, invoice: dict[str, Any]) -> None:
    record(invoice["id"], CHEQUE | {"amount": 1_000})

    response = patch(invoice["id"], {"amount_due": 15_000})

    assert response["statusCode"] == 409 and json_body(response)["error"]["code"] == "invoice_has_payments"
    assert patch(invoice["id"], {"description": "still fine"})["statusCode"] == 200


def test_revoked_links_say_so_and_a_fresh_one_is_emailed(aws: Aws, invoice: dict[str, Any]) -> None:
    old = token_of(invoice["pay_url"])
    assert pay_page(old)["statusCode"] == 200

    revoked = pay_links("DELETE", invoice["id"])
    fresh = pay_links("POST", invoice["id"], {"send": True})

    assert revoked["statusCode"] == 200, revoked["body"]
    dead = pay_page(old)
    assert dead["statusCode"] == 404 and "not valid" in dead["body"] and invoice["number"] not in dead["body"]
    assert fresh["statusCode"] == 201, fresh["body"]
    assert json_body(fresh)["sent"] is True and pay_page(token_of(json_body(fresh)["pay_url"]))["statusCode"] == 200
    aws.drain_outbox()
    [emailed] = [m.text for m in aws.emails() if m.subject.startswith(f"Invoice {invoice['number']}")]
    emailed_token = emailed.split("/pay/", 1)[1].split()[0]
    assert pay_page(emailed_token)["statusCode"] == 200
    assert "invoice.pay_links_revoked" in bus(aws)


def test_voiding_sends_a_cancellation_email(aws: Aws, invoice: dict[str, Any]) -> None:
    voided = post(
        f"/v1/invoices/{invoice['id']}/void",
        "/v1/invoices/{invoice_id}/void",
        {"invoice_id": invoice["id"]},
        None,
        None,
    )

    assert voided["statusCode"] == 200, voided["body"]
    aws.drain_outbox()
    assert len(emails(aws, f"Invoice {invoice['number']} is cancelled")) == 1


def test_hostile_credit_notes_get_a_422_and_credit_nothing(aws: Aws, invoice: dict[str, Any]) -> None:
    for body in (
        {"amount": -1, "reason": "x"},
        {"amount": 0, "reason": "x"},
        {"amount": 99.5, "reason": "x"},
        {"amount": 100},
        {"amount": 100, "reason": "   "},
        {"amount": 100, "reason": "x", "currency": "EUR"},
        {"amount": 100_000_000, "reason": "x"},
    ):
        response = credit(invoice["id"], body, key=uuid.uuid4().hex)

        assert response["statusCode"] == 422, (body, response["body"])
    assert get_invoice(invoice["id"])["credit_notes"] == []


def test_a_credit_note_key_reused_with_another_body_is_refused(aws: Aws, invoice: dict[str, Any]) -> None:
    assert credit(invoice["id"], {"amount": 1_000, "reason": "a"})["statusCode"] == 201
    assert credit(invoice["id"], {"amount": 1_000, "reason": "a"})["statusCode"] == 201  # a replay

    reused = credit(invoice["id"], {"amount": 2_000, "reason": "a"})

    assert reused["statusCode"] == 422 and json_body(reused)["error"]["code"] == "idempotency_key_reused"
    assert get_invoice(invoice["id"])["amount_due"] == 19_000


def test_hostile_reversals_get_a_422_and_reverse_nothing(aws: Aws, invoice: dict[str, Any]) -> None:
    payment_id = json_body(record(invoice["id"], CHEQUE))["payment"]["id"]

    for body in ({}, {"reason": ""}, {"reason": "x" * 201}, {"reason": "bounced", "amount": 1}):
        response = reverse(payment_id, body, key=uuid.uuid4().hex)

        assert response["statusCode"] == 422, (body, response["body"])
    assert get_invoice(invoice["id"])["status"] == "paid"
