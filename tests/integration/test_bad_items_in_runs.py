"""A dunning policy is validated in full, and one bad item (the policy, an invoice, a customer) never stops a
scheduled run: it is skipped, logged and counted (`BadItemsSkipped`, alarmed), and the rest are sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.integration.conftest import TABLE, Aws
from tests.integration.helpers import create_customer, create_invoice, operator
from tests.support import FakeLambdaContext, json_body

STEPS = [{"offset_days": -7, "template": "upcoming"}, {"offset_days": 3, "template": "overdue"}]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """The metrics the run adds (Powertools' metrics are switched off in these tests)."""
    from shared.observability import metrics

    added: dict[str, float] = {}

    def add_metric(*, name: str, value: float, **_: Any) -> None:
        added[name] = added.get(name, 0) + value

    monkeypatch.setattr(metrics, "add_metric", add_metric)
    return added


def run_reminders() -> dict[str, Any]:
    from functions.reminders.handler import lambda_handler

    return lambda_handler({"source": "aws.scheduler", "detail": {}}, FakeLambdaContext())


def put_policy(body: dict[str, Any]) -> dict[str, Any]:
    return operator("PUT", "/v1/dunning-policy", "/v1/dunning-policy", body=body)


@pytest.mark.parametrize(
    ("window", "field"),
    [
        ({"window_start": "09:00+05:00"}, "window_start"),
        ({"window_end": "18:00Z"}, "window_end"),
        ({"window_start": "09:00:00-03:00", "window_end": "18:00:00-03:00"}, "window_start"),
        ({"window_start": "09:00:30"}, "window_start"),
    ],
)
def test_a_sending_window_with_an_offset_or_seconds_is_a_422_and_changes_nothing(
    aws: Aws, window: dict[str, str], field: str
) -> None:
    response = put_policy({"steps": STEPS, **window})
    assert response["statusCode"] == 422, response["body"]
    fields = [f["field"] for f in json_body(response)["error"]["fields"]]
    assert fields[0] == field
    stored = json_body(operator("GET", "/v1/dunning-policy", "/v1/dunning-policy"))
    assert (stored["window_start"], len(stored["steps"])) == ("09:00:00", 6)  # still the default


def test_a_window_in_whole_minutes_with_seconds_written_out_is_accepted(aws: Aws) -> None:
    response = put_policy({"steps": STEPS, "window_start": "08:30:00", "window_end": "18:00:00"})
    assert response["statusCode"] == 200, response["body"]
    assert json_body(response)["window_start"] == "08:30:00"


def _two_invoices_due_for_their_first_reminder(clock: FixedClock) -> list[dict[str, Any]]:
    invoices = []
    for n in range(2):
        customer = create_customer(email=f"payer{n}@example.com", timezone="America/New_York", locale="en-US")
        invoices.append(create_invoice(customer["id"], amount_due=10_000 + n, due_date="2027-03-15"))
    clock.instant = datetime(2027, 3, 8, 15, tzinfo=UTC)  # a week before, 10:00 in New York
    return invoices


def test_a_stored_policy_that_no_longer_reads_is_skipped_and_everyone_still_gets_a_reminder(
    aws: Aws, clock: FixedClock, counted: dict[str, float], caplog: pytest.LogCaptureFixture
) -> None:
    # Given a policy stored before offsets were refused (what PUT accepted then), and two invoices due
    invoices = _two_invoices_due_for_their_first_reminder(clock)
    assert put_policy({"steps": STEPS})["statusCode"] == 200
    aws.dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "SETTINGS#dunning_policy"}, "sk": {"S": "SETTINGS"}},
        UpdateExpression="SET window_start = :start",
        ExpressionAttributeValues={":start": {"S": "09:00+05:00"}},
    )
    # When the dunning run fires
    summary = run_reminders()
    # Then it does not crash: each invoice gets its reminder (under the built-in policy), and the bad
    # policy is counted and logged for someone to fix
    assert (summary["sent"], summary["skipped"]) == (2, 1)
    assert counted["BadItemsSkipped"] == 1
    [logged] = [r for r in caplog.records if r.getMessage().startswith("bad item skipped")]
    assert (getattr(logged, "item_kind", None), getattr(logged, "reason", None)) == ("dunning_policy", "InvalidPolicy")
    aws.drain_outbox()
    assert sorted(e.to[0] for e in aws.emails()) == ["payer0@example.com", "payer1@example.com"]
    assert all(i["id"] for i in invoices)


@pytest.mark.parametrize(
    ("update", "values"),
    [
        ("REMOVE amount_due", None),  # does not read as an invoice
        ("SET customer_timezone = :zone", {":zone": {"S": "Mars/Olympus_Mons"}}),  # reads, then fails
        ("SET due_date = :day", {":day": {"S": "the fifteenth"}}),
    ],
)
def test_one_corrupt_invoice_is_skipped_and_the_others_are_reminded(
    aws: Aws, clock: FixedClock, counted: dict[str, float], update: str, values: dict[str, Any] | None
) -> None:
    # Given three invoices due for a reminder, one of them corrupt in the table
    invoices = _two_invoices_due_for_their_first_reminder(clock)
    bad_customer = create_customer(email="bad@example.com", timezone="America/New_York", locale="en-US")
    bad = create_invoice(bad_customer["id"], amount_due=7_000, due_date="2027-03-15")
    extra = {"ExpressionAttributeValues": values} if values else {}
    aws.dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": f"INVOICE#{bad['id']}"}, "sk": {"S": "INVOICE"}},
        UpdateExpression=update,
        **extra,
    )
    # When the dunning run fires
    summary = run_reminders()
    # Then the two good invoices are reminded, the bad one is skipped, counted and left for the next run
    assert (summary["sent"], summary["skipped"]) == (2, 1)
    assert counted["BadItemsSkipped"] == 1
    aws.drain_outbox()
    assert sorted(e.to[0] for e in aws.emails()) == ["payer0@example.com", "payer1@example.com"]
    assert len(invoices) == 2
