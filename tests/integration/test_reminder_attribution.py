"""Reminder attribution over moto and the local Stripe, through the real handlers: the dunning run, the outbox,
the pay page, Checkout and the webhook. The payment names the reminder whose link it was paid through."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.clock import FixedClock
from tests.integration.conftest import Aws
from tests.integration.helpers import completed, create_customer, create_invoice, deliver, get_invoice, operator
from tests.support import FakeLambdaContext, api_event, json_body

SENT_AT = datetime(2027, 3, 8, 15, tzinfo=UTC)  # 10:00 in New York, a week before the due date
PAY_URL = re.compile(r"https://pay\.example\.com/pay/([A-Za-z0-9_-]+)")


def run_reminders() -> dict[str, Any]:
    from functions.reminders.handler import lambda_handler

    return lambda_handler({"source": "aws.scheduler", "detail": {}}, FakeLambdaContext())


def page(method: str, token: str, suffix: str = "", **kwargs: Any) -> dict[str, Any]:
    from functions.checkout.handler import lambda_handler

    event = api_event(
        method,
        f"/pay/{token}{suffix}",
        resource="/pay/{token}" + suffix,
        path_parameters={"token": token},
        operator=False,
        **kwargs,
    )
    return lambda_handler(event, FakeLambdaContext())


def reminder_token(aws: Aws) -> str:
    """The pay link in the reminder email the outbox sent."""
    aws.drain_outbox()
    [email] = [e for e in aws.emails() if e.subject.startswith("Reminder:")]
    found = PAY_URL.search(email.text)
    assert found is not None
    return found.group(1)


def audit(invoice_id: str) -> list[dict[str, Any]]:
    path = f"/v1/invoices/{invoice_id}/audit"
    response = operator("GET", path, "/v1/invoices/{invoice_id}/audit", params={"invoice_id": invoice_id})
    assert response["statusCode"] == 200, response["body"]
    return list(json_body(response)["data"])


def reminded_invoice(clock: FixedClock) -> dict[str, Any]:
    """Given an invoice due on 15 March whose "upcoming" reminder the dunning run sent on 8 March."""
    customer = create_customer(timezone="America/New_York", locale="en-US", email="dana@example.com")
    invoice = create_invoice(customer["id"], number="INV-77", amount_due=25_000, due_date="2027-03-15")
    clock.instant = SENT_AT
    assert run_reminders()["sent"] == 1
    return invoice


EXPECTED = {"step": "-7:upcoming", "template": "upcoming", "channel": "email", "sent_at": SENT_AT.isoformat()}


def test_opening_the_reminders_link_twice_is_recorded_once(aws: Aws, clock: FixedClock) -> None:
    invoice = reminded_invoice(clock)
    token = reminder_token(aws)
    # When the customer opens the reminder's link, and again an hour later
    clock.instant = SENT_AT + timedelta(hours=2)
    assert page("GET", token)["statusCode"] == 200
    clock.instant = SENT_AT + timedelta(hours=3)
    assert page("GET", token)["statusCode"] == 200
    # Then the invoice's audit trail shows one opening, naming the reminder
    opened = [e for e in audit(invoice["id"]) if e["action"] == "invoice.pay_link_opened"]
    assert [(e["at"], e["actor"], e["details"]) for e in opened] == [
        ("2027-03-08T17:00:00Z", "customer", {"reminder": EXPECTED})
    ]
    [link] = [i for i in aws.items("PAYLINK#") if i.get("reminder")]
    assert link["opened_at"] == (SENT_AT + timedelta(hours=2)).isoformat()


def test_the_payment_through_the_reminders_link_names_the_reminder(stripe: str, aws: Aws, clock: FixedClock) -> None:
    from shared.adapters.dynamodb.items import checkout_from

    invoice = reminded_invoice(clock)
    token = reminder_token(aws)
    # When the customer pays in full through the reminder's link and Stripe says the session was paid
    clock.instant = SENT_AT + timedelta(days=1)
    assert page("POST", token, "/checkout", form={})["statusCode"] == 303
    [item] = [i for i in aws.items(f"INVOICE#{invoice['id']}") if i["sk"].startswith("CHECKOUT#")]
    attempt = checkout_from(item)
    assert attempt.reminder is not None and attempt.reminder.step == "-7:upcoming"
    assert deliver(completed(attempt))["statusCode"] == 200
    # Then the invoice is paid, and its payment names the reminder, in the API and in the audit trail
    shown = get_invoice(invoice["id"])
    assert shown["status"] == "paid"
    [payment] = shown["payments"]
    assert payment["reminder"] == EXPECTED | {"sent_at": "2027-03-08T15:00:00Z"}
    [entry] = [e for e in audit(invoice["id"]) if e["action"] == "payment.succeeded"]
    assert entry["details"]["reminder"] == EXPECTED
    # And the payment.succeeded event other systems receive names it too
    aws.drain_outbox()
    [event] = [e for e in aws.domain_events() if e["detail-type"] == "payment.succeeded"]
    assert event["detail"]["reminder"] == EXPECTED


def test_a_payment_through_the_invoices_own_link_names_no_reminder(stripe: str, aws: Aws, clock: FixedClock) -> None:
    from shared.adapters.dynamodb.items import checkout_from

    # Given an invoice paid through the link its creation handed out (no reminder's)
    customer = create_customer()
    invoice = create_invoice(customer["id"])
    token = invoice["pay_url"].rsplit("/pay/", 1)[1]
    assert page("GET", token)["statusCode"] == 200
    assert page("POST", token, "/checkout", form={})["statusCode"] == 303
    [item] = [i for i in aws.items(f"INVOICE#{invoice['id']}") if i["sk"].startswith("CHECKOUT#")]
    assert deliver(completed(checkout_from(item)))["statusCode"] == 200
    # Then nothing of an opening is recorded, and the payment belongs to no reminder
    [payment] = get_invoice(invoice["id"])["payments"]
    assert payment["reminder"] is None
    assert not [e for e in audit(invoice["id"]) if e["action"] == "invoice.pay_link_opened"]


def report(query: dict[str, str]) -> dict[str, Any]:
    return operator("GET", "/v1/reports/reminders", "/v1/reports/reminders", query=query)


def test_the_reminders_report_counts_what_the_reminder_achieved(stripe: str, aws: Aws, clock: FixedClock) -> None:
    from shared.adapters.dynamodb.items import checkout_from

    # Given the reminder's link opened twice and the invoice paid through it the next day
    invoice = reminded_invoice(clock)
    token = reminder_token(aws)
    clock.instant = SENT_AT + timedelta(days=1)
    assert page("GET", token)["statusCode"] == 200
    assert page("POST", token, "/checkout", form={})["statusCode"] == 303
    [item] = [i for i in aws.items(f"INVOICE#{invoice['id']}") if i["sk"].startswith("CHECKOUT#")]
    assert deliver(completed(checkout_from(item)))["statusCode"] == 200
    # When the operator asks for the week's report
    response = report({"from": "2027-03-08", "to": "2027-03-14"})
    # Then the send day's row counts one sent, one opened, one invoice paid in full within 7 days
    assert response["statusCode"] == 200, response["body"]
    figures = {
        "step": "-7:upcoming",
        "template": "upcoming",
        "sent": 1,
        "opened": 1,
        "paid_within_7_days": [{"currency": "USD", "payments": 1, "amount": 25_000, "invoices_paid": 1}],
    }
    assert json_body(response) == {
        "from": "2027-03-08",
        "to": "2027-03-14",
        "rows": [{"day": "2027-03-08"} | figures],
        "totals": [{"day": None} | figures],
    }
    # And as CSV, one line per send day, step, template and currency paid in
    spreadsheet = report({"from": "2027-03-08", "to": "2027-03-14", "format": "csv"})
    assert spreadsheet["body"].splitlines() == [
        "day,step,template,sent,opened,currency,payments,amount,invoices_paid",
        "2027-03-08,'-7:upcoming,upcoming,1,1,USD,1,25000,1",
    ]
    # And a range without reminders is empty
    assert json_body(report({"from": "2027-03-09", "to": "2027-03-09"}))["rows"] == []


def test_the_reminders_report_refuses_what_it_cannot_answer(aws: Aws) -> None:
    unknown = report({"from": "2027-03-08", "to": "2027-03-14", "currency": "USD"})
    assert unknown["statusCode"] == 400
    assert json_body(unknown)["error"]["code"] == "unknown_parameter"
    assert [f["field"] for f in json_body(unknown)["error"]["fields"]] == ["currency"]
    for query, field in [
        ({"from": "2027-02-30", "to": "2027-03-14"}, "from"),
        ({"from": "2027-03-08"}, "to"),
        ({"from": "2027-03-14", "to": "2027-03-08"}, "from"),
        ({"from": "2026-01-01", "to": "2027-02-05"}, "to"),
    ]:
        refused = report(query)
        assert refused["statusCode"] == 422, (query, refused["body"])
        assert field in [f["field"] for f in json_body(refused)["error"]["fields"]], refused["body"]
