"""Installment plans on the pay page: choosing one opens Checkout for the first installment (saving the
card), and the webhook that records it starts the plan and takes the invoice out of dunning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.clock import FixedClock, SystemClock, use_clock
from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, create_invoice, deliver, get_invoice, token_of
from tests.integration.test_pay_pages import headers
from tests.support import FakeLambdaContext, api_event, json_body, session_object, stripe_event

OFFER = {"max_installments": 3, "min_installment_amount": 2_000, "frequencies": ["monthly"]}


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    fixed = FixedClock(datetime(2027, 1, 31, 15, tzinfo=UTC))
    use_clock(fixed)
    yield fixed
    use_clock(SystemClock())


@pytest.fixture
def invoice(aws: Aws, stripe: str, clock: FixedClock) -> dict[str, Any]:
    customer = create_customer(timezone="America/New_York", locale="en-US", email="gus@example.com")
    return create_invoice(customer["id"], number="INV-P1", amount_due=10_000, due_date="2027-02-15", installments=OFFER)


def page(
    method: str, token: str, suffix: str = "", form: dict[str, str] | None = None, query: dict[str, str] | None = None
) -> dict[str, Any]:
    from functions.checkout.handler import lambda_handler

    resource = "/pay/{token}" + suffix
    event = api_event(
        method, f"/pay/{token}{suffix}", resource=resource, path_parameters={"token": token}, form=form, query=query
    )
    return dict(lambda_handler(event, FakeLambdaContext()))


def plan_item(aws: Aws) -> dict[str, Any]:
    [plan] = [i for i in aws.items("INVOICE#") if i.get("type") == "plan"]
    return plan


def test_the_pay_page_offers_the_plans_with_their_dates_and_amounts(invoice: dict[str, Any]) -> None:
    body = page("GET", token_of(invoice["pay_url"]))["body"]
    assert 'value="monthly-2"' in body and 'value="monthly-3"' in body
    # Month ends are kept: January 31 -> February 28 -> March 31
    assert "$33.34 today, then $33.33 on February 28, 2027, $33.33 on March 31, 2027" in " ".join(body.split())


def test_choosing_a_plan_opens_checkout_for_the_first_installment_and_saves_the_card(
    aws: Aws, invoice: dict[str, Any]
) -> None:
    token = token_of(invoice["pay_url"])
    response = page("POST", token, "/plan", form={"plan": "monthly-3"})
    assert response["statusCode"] == 303, response["body"]
    plan = plan_item(aws)
    assert plan["status"] == "awaiting_first" and [i["amount"] for i in plan["installments"]] == [3_334, 3_333, 3_333]
    [checkout] = [i for i in aws.items("INVOICE#") if i.get("type") == "checkout"]
    assert checkout["amount"] == 3_334
    # A double click: the same plan and the same session
    again = page("POST", token, "/plan", form={"plan": "monthly-3"})
    assert headers(again)["location"] == headers(response)["location"]
    assert len([i for i in aws.items("INVOICE#") if i.get("type") == "plan"]) == 1


@pytest.mark.parametrize("choice", ["monthly-4", "weekly-2", "", "monthly-1"])
def test_a_plan_not_on_offer_is_refused_on_the_page(aws: Aws, invoice: dict[str, Any], choice: str) -> None:
    response = page("POST", token_of(invoice["pay_url"]), "/plan", form={"plan": choice})
    assert response["statusCode"] == 422 and 'role="alert"' in response["body"]
    assert not [i for i in aws.items("INVOICE#") if i.get("type") == "plan"]


def test_paying_the_first_installment_starts_the_plan_and_stops_dunning(aws: Aws, invoice: dict[str, Any]) -> None:
    token = token_of(invoice["pay_url"])
    page("POST", token, "/plan", form={"plan": "monthly-3"})
    [checkout] = [i for i in aws.items("INVOICE#") if i.get("type") == "checkout"]
    plan = plan_item(aws)
    session = session_object(
        session_id=checkout["session_id"], invoice_id=invoice["id"], checkout_ref=checkout["ref"], amount=3_334,
        payment_intent="pi_first_installment",
    )  # fmt: skip
    session["metadata"]["plan_id"] = plan["id"]
    assert json_body(deliver(stripe_event("checkout.session.completed", session)))["outcome"] == "applied"

    shown = get_invoice(invoice["id"])
    assert (shown["status"], shown["amount_paid"], shown["next_reminder_at"]) == ("partially_paid", 3_334, None)
    active = plan_item(aws)
    assert active["status"] == "active"
    assert [i["status"] for i in active["installments"]] == ["paid", "scheduled", "scheduled"]
    assert active["next_action_at"] == "2027-02-28T15:00:00Z"  # 10:00 in New York on the second due date
    assert active["gsi2pk"].startswith("CHARGE#")  # in the charge partitions, never the reminder ones
    aws.drain_outbox()
    names = [e["detail-type"] for e in aws.domain_events()]
    assert "plan.created" in names and "plan.installment_paid" in names
    body = page("GET", token)["body"]
    assert 'name="plan"' not in body and "Your installment plan" in body  # the schedule, no second plan offered


def test_operators_offer_plans_per_invoice_and_impossible_offers_are_refused(aws: Aws, clock: FixedClock) -> None:
    from tests.integration.helpers import operator

    customer = create_customer()
    offered = create_invoice(customer["id"], amount_due=10_000, installments=OFFER)
    assert get_invoice(offered["id"])["installments"] == OFFER
    for offer in (
        OFFER | {"min_installment_amount": 6_000},  # not even two installments fit
        OFFER | {"max_installments": 1},
        OFFER | {"frequencies": ["daily"]},
        OFFER | {"frequencies": []},
    ):
        body = {"customer_id": customer["id"], "number": "INV-X", "currency": "USD", "amount_due": 10_000,
                "due_date": "2027-02-15", "installments": offer}  # fmt: skip
        response = operator("POST", "/v1/invoices", "/v1/invoices", body=body, headers={"Idempotency-Key": str(offer)})
        assert response["statusCode"] == 422, (offer, response["body"])


def test_a_default_offer_in_the_policy_applies_to_invoices_that_set_none(aws: Aws, clock: FixedClock) -> None:
    from tests.integration.helpers import operator

    policy = json_body(operator("GET", "/v1/dunning-policy", "/v1/dunning-policy"))
    updated = operator("PUT", "/v1/dunning-policy", "/v1/dunning-policy", body=policy | {"default_installments": OFFER})
    assert updated["statusCode"] == 200, updated["body"]
    assert json_body(updated)["default_installments"] == OFFER
    customer = create_customer()
    assert get_invoice(create_invoice(customer["id"], amount_due=10_000)["id"])["installments"] == OFFER
    assert get_invoice(create_invoice(customer["id"], amount_due=3_000)["id"])["installments"] is None  # too small
    own = OFFER | {"max_installments": 2}
    assert get_invoice(create_invoice(customer["id"], amount_due=10_000, installments=own)["id"])["installments"] == own
