"""Autopay: turned on from the pay page (a card saved on Checkout), future invoices charged on the due date
after a notice, every email saying how to turn it off, and off from the pay page or the operator API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.clock import FixedClock, SystemClock, use_clock
from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, create_invoice, deliver, get_invoice, operator, token_of
from tests.integration.test_installment_charges import FakeStripe, settle
from tests.integration.test_installment_plans import page
from tests.integration.test_pay_pages import headers
from tests.support import FakeLambdaContext, json_body, stripe_event


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    fixed = FixedClock(datetime(2027, 1, 10, 15, tzinfo=UTC))
    use_clock(fixed)
    yield fixed
    use_clock(SystemClock())


@pytest.fixture
def fake_stripe(stripe: str, monkeypatch: pytest.MonkeyPatch) -> FakeStripe:
    from shared import wiring

    fake = FakeStripe(checkout=wiring.gateway())
    monkeypatch.setattr(wiring, "gateway", lambda: fake)
    return fake


@pytest.fixture
def customer(aws: Aws, clock: FixedClock, fake_stripe: FakeStripe) -> dict[str, Any]:
    """A customer who turned autopay on from the pay page of a first invoice."""
    created = create_customer(timezone="UTC", email="ida@example.com")
    first = create_invoice(created["id"], number="INV-A0", amount_due=1_000, due_date="2027-01-20")
    token = token_of(first["pay_url"])
    assert "Turn on autopay" in page("GET", token)["body"]
    response = page("POST", token, "/autopay")
    assert response["statusCode"] == 303 and "/checkout/" in headers(response)["location"]
    assert json_body(customer_call("GET", created["id"]))["autopay_enabled_at"] is None  # not until Stripe says
    assert setup_completed(created["id"], "evt_autopay_setup") == "applied"
    return created


def customer_call(method: str, customer_id: str, suffix: str = "") -> dict[str, Any]:
    return operator(
        method, f"/v1/customers/{customer_id}{suffix}", f"/v1/customers/{{customer_id}}{suffix}",
        params={"customer_id": customer_id},
    )  # fmt: skip


def setup_completed(customer_id: str, event_id: str) -> str:
    session = {
        "id": "cs_setup_autopay",
        "object": "checkout.session",
        "mode": "setup",
        "status": "complete",
        "setup_intent": "seti_1",
        "metadata": {"customer_id": customer_id, "purpose": "autopay"},
    }
    event = stripe_event("checkout.session.completed", session, event_id=event_id)
    return str(json_body(deliver(event))["outcome"])


def charges() -> dict[str, Any]:
    from functions.charges.handler import lambda_handler

    return dict(lambda_handler({"source": "aws.scheduler", "detail": {}}, FakeLambdaContext()))


def reminders() -> dict[str, Any]:
    from functions.reminders.handler import lambda_handler

    return dict(lambda_handler({"source": "aws.scheduler", "detail": {}}, FakeLambdaContext()))


def test_turning_autopay_on_is_recorded_once_and_announced(aws: Aws, customer: dict[str, Any]) -> None:
    assert json_body(customer_call("GET", customer["id"]))["autopay_enabled_at"] is not None
    assert setup_completed(customer["id"], "evt_autopay_setup") == "duplicate_event"
    aws.drain_outbox()
    assert [e["detail-type"] for e in aws.domain_events()].count("autopay.enabled") == 1


def test_a_new_invoice_is_announced_then_charged_on_its_due_date(
    aws: Aws, clock: FixedClock, customer: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    invoice = create_invoice(customer["id"], number="INV-A1", amount_due=4_200, due_date="2027-02-15")
    assert get_invoice(invoice["id"])["plan"]["kind"] == "autopay"
    clock.instant = datetime(2027, 2, 8, 10, tzinfo=UTC)  # the upcoming reminder's day: autopay needs none
    reminders()
    aws.drain_outbox()
    assert not [e for e in aws.emails() if "INV-A1" in e.subject]
    clock.instant = datetime(2027, 2, 12, 10, tzinfo=UTC)  # three days before, 10:00
    assert charges()["notices"] == 1 and fake_stripe.calls == []
    aws.drain_outbox()
    [notice] = [e for e in aws.emails() if "will be charged" in e.subject]
    assert notice.subject == "Invoice INV-A1: US$42.00 will be charged on 15 February 2027"  # en-GB
    assert "turn off autopay" in notice.text and "/pay/" in notice.text
    assert charges()["charged"] == 0  # told once, charged on the day

    clock.instant = datetime(2027, 2, 15, 10, tzinfo=UTC)
    assert charges()["charged"] == 1
    [charge] = fake_stripe.calls
    assert charge.amount == 4_200 and charge.metadata["invoice_id"] == invoice["id"]
    assert settle(charge, "pi_autopay_1") == "applied"
    assert get_invoice(invoice["id"])["status"] == "paid"
    aws.drain_outbox()
    [receipt] = [e for e in aws.emails() if "INV-A1" in e.text and "Amount paid" in e.text]
    assert "You are on autopay. To turn it off:" in receipt.text


def test_autopay_charges_what_is_owed_on_the_day(
    aws: Aws, clock: FixedClock, customer: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    from tests.integration.helpers import checkout_for, completed

    invoice = create_invoice(customer["id"], number="INV-A2", amount_due=5_000, due_date="2027-02-15",
                             allow_partial=True)  # fmt: skip
    deliver(completed(checkout_for(invoice, 2_000)))  # the customer paid part of it by hand
    for day in (12, 15):
        clock.instant = datetime(2027, 2, day, 10, tzinfo=UTC)
        charges()
    [charge] = fake_stripe.calls
    assert charge.amount == 3_000


def test_turning_autopay_off_cancels_the_coming_charge_and_dunning_resumes(
    aws: Aws, clock: FixedClock, customer: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    invoice = create_invoice(customer["id"], number="INV-A3", amount_due=4_200, due_date="2027-02-15")
    token = token_of(invoice["pay_url"])
    assert "Turn off autopay" in page("GET", token)["body"]
    response = page("POST", token, "/autopay/off")
    assert response["statusCode"] == 303
    assert json_body(customer_call("GET", customer["id"]))["autopay_enabled_at"] is None
    shown = get_invoice(invoice["id"])
    assert shown["active_plan"] is None and shown["next_reminder_at"] is not None
    clock.instant = datetime(2027, 2, 15, 10, tzinfo=UTC)
    assert charges()["charged"] == 0 and fake_stripe.calls == []
    reminders()  # back to normal dunning
    aws.drain_outbox()
    # one email for the customer's reminders of the run: INV-A3 due today (and INV-A0, overdue since January)
    [email] = [e for e in aws.emails() if "INV-A3" in e.text]
    assert email.subject == "Reminder: 2 invoices to pay" and "Invoice INV-A3: US$42.00, due today" in email.text
    aws.drain_outbox()
    assert [e["detail-type"] for e in aws.domain_events()].count("autopay.disabled") == 1


def test_operators_can_turn_autopay_off(aws: Aws, clock: FixedClock, customer: dict[str, Any]) -> None:
    response = customer_call("DELETE", customer["id"], "/autopay")
    assert response["statusCode"] == 200 and json_body(response)["autopay_enabled_at"] is None
    assert get_invoice(create_invoice(customer["id"], due_date="2027-03-01")["id"])["active_plan"] is None
    assert customer_call("DELETE", "cust_nope", "/autopay")["statusCode"] == 404


def test_an_invoice_emailed_to_a_customer_on_autopay_says_how_to_turn_it_off(
    aws: Aws, clock: FixedClock, customer: dict[str, Any]
) -> None:
    create_invoice(customer["id"], number="INV-A4", amount_due=4_200, due_date="2027-02-15", notify=True)
    aws.drain_outbox()
    [issued] = [e for e in aws.emails() if "INV-A4" in e.text]
    assert "You are on autopay" in issued.text and "turn off autopay" in issued.text
