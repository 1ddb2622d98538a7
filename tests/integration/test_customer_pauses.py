"""Customer-level pauses: an operator's hold, and an address SES says bounced or complained.

Either way no reminder goes out, for any of the customer's invoices, and lifting the pause (releasing the
hold, correcting the address) resumes dunning with the latest applicable step.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.integration.conftest import Aws
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver, operator
from tests.support import FakeLambdaContext, json_body

ADDRESS = "erin@example.com"


@pytest.fixture
def customer(aws: Aws, clock: FixedClock) -> dict[str, Any]:
    return create_customer(timezone="America/New_York", locale="en-US", email=ADDRESS)


@pytest.fixture
def invoices(customer: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        create_invoice(customer["id"], number="INV-81", amount_due=10_000, due_date="2027-03-15"),
        create_invoice(customer["id"], number="INV-82", amount_due=20_000, due_date="2027-03-15"),
    ]


def run() -> dict[str, Any]:
    from functions.reminders.handler import lambda_handler

    return lambda_handler({"source": "aws.scheduler", "detail": {}}, FakeLambdaContext())


def subjects(aws: Aws) -> list[str]:
    aws.drain_outbox()
    return sorted(e.subject for e in aws.emails())


def customer_call(method: str, customer_id: str, suffix: str = "", body: dict[str, Any] | None = None) -> Any:
    response = operator(
        method, f"/v1/customers/{customer_id}{suffix}", f"/v1/customers/{{customer_id}}{suffix}",
        params={"customer_id": customer_id}, body=body,
    )  # fmt: skip
    return response


def ses_event(kind: str, customer_id: str, address: str = ADDRESS, **details: Any) -> dict[str, Any]:
    """What SNS hands the email_feedback function for one SES sending event of the configuration set."""
    message: dict[str, Any] = {
        "eventType": kind,
        "mail": {
            "messageId": "0100018c-0000",
            "destination": [address],
            "tags": {"customer_id": [customer_id], "ses:configuration-set": ["payportal"]},
        },
    }
    if kind == "Bounce":
        message["bounce"] = {
            "bounceType": details.get("bounce_type", "Permanent"),
            "bounceSubType": details.get("subtype", "General"),
            "bouncedRecipients": [{"emailAddress": address}],
        }
    elif kind == "Complaint":
        message["complaint"] = {"complainedRecipients": [{"emailAddress": address}], "complaintFeedbackType": "abuse"}
    return {"Records": [{"EventSource": "aws:sns", "Sns": {"Type": "Notification", "Message": json.dumps(message)}}]}


def feedback(event: dict[str, Any]) -> dict[str, Any]:
    from functions.email_feedback.handler import lambda_handler

    return dict(lambda_handler(event, FakeLambdaContext()))


def test_a_customer_hold_pauses_every_invoice_until_released_then_the_latest_step_goes_out(
    aws: Aws, clock: FixedClock, customer: dict[str, Any], invoices: list[dict[str, Any]]
) -> None:
    held = customer_call("POST", customer["id"], "/hold", {"reason": "insolvency proceedings"})
    assert held["statusCode"] == 200, held["body"]
    assert json_body(held)["hold"] == {"reason": "insolvency proceedings", "until": None}
    clock.instant = datetime(2027, 3, 8, 15, tzinfo=UTC)  # the upcoming step for both
    report = run()
    assert report["sent"] == 0 and report["withheld"] == 2
    clock.instant = datetime(2027, 3, 20, 15, tzinfo=UTC)
    assert run()["examined"] == 0  # open-ended: both left the due index
    assert subjects(aws) == []

    released = customer_call("DELETE", customer["id"], "/hold")
    assert released["statusCode"] == 200 and json_body(released)["hold"] is None
    assert run()["sent"] == 2
    assert subjects(aws) == ["Reminder: 2 invoices to pay"]  # one email per customer per run
    withheld = [a for a in aws.items("INVOICE#") if a.get("action") == "invoice.reminder_withheld"]
    assert {a["details"]["reason"] for a in withheld} == {"customer_hold"}


def test_a_customer_hold_until_a_date_ends_by_itself(
    aws: Aws, clock: FixedClock, customer: dict[str, Any], invoices: list[dict[str, Any]]
) -> None:
    customer_call("POST", customer["id"], "/hold", {"reason": "paying after audit", "until": "2027-03-18T00:00:00Z"})
    clock.instant = datetime(2027, 3, 15, 15, tzinfo=UTC)
    assert run()["withheld"] == 2
    clock.instant = datetime(2027, 3, 18, 15, tzinfo=UTC)  # hold over: +3 is the latest step
    assert run()["sent"] == 2
    assert subjects(aws) == ["Reminder: 2 invoices to pay"]  # one email per customer per run


def test_a_hold_placed_while_a_run_is_sending_stops_the_reminder_it_had_not_committed(
    aws: Aws,
    clock: FixedClock,
    customer: dict[str, Any],
    invoices: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shared.wiring import ledger

    clock.instant = datetime(2027, 3, 8, 15, tzinfo=UTC)
    store = ledger()
    real = store.due_invoices

    def read_then_hold(*args: Any, **kwargs: Any) -> Any:
        page = real(*args, **kwargs)
        if page.items:
            monkeypatch.setattr(store, "due_invoices", real)
            assert customer_call("POST", customer["id"], "/hold", {"reason": "called us"})["statusCode"] == 200
        return page

    monkeypatch.setattr(store, "due_invoices", read_then_hold)
    report = run()
    assert report["sent"] == 0 and report["withheld"] == 2
    assert subjects(aws) == []


def test_customer_holds_refuse_bad_input(aws: Aws, clock: FixedClock, customer: dict[str, Any]) -> None:
    assert (
        customer_call("POST", customer["id"], "/hold", {"reason": "x", "until": "2020-01-01T00:00:00Z"})["statusCode"]
        == 422
    )
    assert customer_call("POST", customer["id"], "/hold", {"reason": ""})["statusCode"] == 422
    assert customer_call("POST", "cust_nope", "/hold", {"reason": "x"})["statusCode"] == 404
    assert customer_call("DELETE", "cust_nope", "/hold")["statusCode"] == 404
    unheld = customer_call("DELETE", customer["id"], "/hold")  # releasing what is not held changes nothing
    assert unheld["statusCode"] == 200 and json_body(unheld)["hold"] is None


def test_a_permanent_bounce_marks_the_address_once_and_tells_other_systems(
    aws: Aws, clock: FixedClock, customer: dict[str, Any]
) -> None:
    assert feedback(ses_event("Bounce", customer["id"])) == {"marked": 1}
    assert feedback(ses_event("Bounce", customer["id"])) == {"marked": 0}  # SNS redelivers: nothing twice
    shown = json_body(customer_call("GET", customer["id"]))["email_undeliverable"]
    assert shown["reason"] == "bounce" and shown["detail"] == "Permanent/General"
    aws.drain_outbox()
    events = [e for e in aws.domain_events() if e["detail-type"] == "customer.email_undeliverable"]
    assert len(events) == 1
    assert events[0]["detail"]["customer_id"] == customer["id"] and events[0]["detail"]["reason"] == "bounce"
    assert ADDRESS not in json.dumps(events[0])  # ids only, never the address


def test_feedback_that_says_nothing_about_the_current_address_changes_nothing(
    aws: Aws, clock: FixedClock, customer: dict[str, Any]
) -> None:
    assert feedback(ses_event("Bounce", customer["id"], bounce_type="Transient", subtype="MailboxFull")) == {
        "marked": 0
    }
    assert feedback(ses_event("Bounce", customer["id"], address="old@example.com")) == {"marked": 0}
    assert feedback(ses_event("Delivery", customer["id"])) == {"marked": 0}
    assert feedback(ses_event("Complaint", "cust_unknown")) == {"marked": 0}
    assert json_body(customer_call("GET", customer["id"]))["email_undeliverable"] is None


def test_a_complaint_stops_reminders_and_receipts_until_the_address_is_corrected(
    aws: Aws, clock: FixedClock, customer: dict[str, Any], invoices: list[dict[str, Any]]
) -> None:
    assert feedback(ses_event("Complaint", customer["id"])) == {"marked": 1}
    clock.instant = datetime(2027, 3, 8, 15, tzinfo=UTC)
    report = run()
    assert report["sent"] == 0 and report["withheld"] == 2
    deliver(completed(checkout_for(invoices[0], 10_000)))  # paid: its receipt is suppressed too
    assert subjects(aws) == []

    corrected = customer_call("PATCH", customer["id"], body={"email": "erin.new@example.com"})
    assert corrected["statusCode"] == 200, corrected["body"]
    assert json_body(corrected)["email_undeliverable"] is None
    assert run()["sent"] == 1  # the unpaid one, with the latest applicable step
    aws.drain_outbox()
    [email] = aws.emails()
    assert email.to == ["erin.new@example.com"] and "INV-82" in email.subject


def test_correcting_a_customer_refuses_bad_input(aws: Aws, clock: FixedClock, customer: dict[str, Any]) -> None:
    assert customer_call("PATCH", customer["id"], body={})["statusCode"] == 422
    assert customer_call("PATCH", customer["id"], body={"email": "not-an-address"})["statusCode"] == 422
    assert customer_call("PATCH", customer["id"], body={"timezone": "Mars/Olympus"})["statusCode"] == 422
    assert customer_call("PATCH", customer["id"], body={"locale": "not a locale!"})["statusCode"] == 422
    assert customer_call("PATCH", customer["id"], body={"stripe_customer_id": "cus_x"})["statusCode"] == 422
    assert customer_call("PATCH", "cust_nope", body={"name": "X"})["statusCode"] == 404
    renamed = customer_call("PATCH", customer["id"], body={"name": "Erin Example"})
    assert renamed["statusCode"] == 200 and json_body(renamed)["name"] == "Erin Example"


def test_emails_carry_the_customer_tag_and_the_configuration_set() -> None:
    from shared.adapters.notifications import SesMailer
    from shared.services.ports import Email

    sent: list[dict[str, Any]] = []

    class Recorder:
        def send_raw_email(self, **request: Any) -> dict[str, str]:
            sent.append(request)
            return {"MessageId": "0100018c-ses"}  # what SES answers

    provider_id = SesMailer(Recorder(), "billing@example.com", "payportal-events").send(
        Email(to=ADDRESS, subject="s", text="t", html="<p>h</p>", customer_id="cust_abc123"), message_id="msg_1"
    )
    assert provider_id == "0100018c-ses"  # kept with the delivery
    [request] = sent
    assert request["ConfigurationSetName"] == "payportal-events"
    assert {"Name": "customer_id", "Value": "cust_abc123"} in request["Tags"]
