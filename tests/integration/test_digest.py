"""The morning digest over moto, through the real handlers: the schedule's run, the outbox and SES."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.integration.conftest import Aws
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver
from tests.support import FakeLambdaContext

RECIPIENTS = "cfo@example.com, ar@example.com"


def run_digest() -> dict[str, Any]:
    from functions.digest.handler import lambda_handler

    return lambda_handler({"source": "aws.scheduler", "detail": {}}, FakeLambdaContext())


@pytest.fixture
def digest_settings(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared import wiring

    monkeypatch.setenv("PAYPORTAL_DIGEST_RECIPIENTS", RECIPIENTS)
    monkeypatch.setenv("PAYPORTAL_DIGEST_TIMEZONE", "America/New_York")
    wiring.reset()


def digests(aws: Aws) -> list[Any]:
    aws.drain_outbox()
    return [e for e in aws.emails() if "receivables" in e.subject]


def test_the_digest_reaches_the_operators_addresses_once_a_day(
    aws: Aws, clock: FixedClock, digest_settings: None
) -> None:
    # Given yesterday (New York) an overdue USD 250.00 invoice and another of USD 40.00 paid in full
    clock.instant = datetime(2027, 3, 9, 15, tzinfo=UTC)
    customer = create_customer(timezone="America/New_York", locale="en-US")
    create_invoice(customer["id"], number="INV-OLD", amount_due=25_000, due_date="2027-03-01")
    paid = create_invoice(customer["id"], number="INV-PAID", amount_due=4_000, due_date="2027-03-20")
    assert deliver(completed(checkout_for(paid, 4_000)))["statusCode"] == 200
    # When the schedule fires at 07:00 New York time, and fires again
    clock.instant = datetime(2027, 3, 10, 12, tzinfo=UTC)
    first, again = run_digest(), run_digest()
    # Then one digest is queued for 10 March, and the outbox sends it to both addresses in one message
    assert (first["day"], first["queued"], again["queued"], again["reason"]) == (
        "2027-03-10",
        True,
        False,
        "already_sent",
    )
    [email] = digests(aws)
    assert email.to == ["cfo@example.com", "ar@example.com"]
    assert email.subject == "payportal receivables, March 10, 2027"
    assert "USD: $250.00 outstanding" in email.text and "of which $250.00 overdue" in email.text
    assert "Payments received yesterday\n- $40.00\n- 1 USD invoice paid in full" in email.text
    assert "$250.00" in email.html
    # And the next morning's digest is another one
    clock.instant += timedelta(days=1)
    assert run_digest()["queued"] is True
    assert len(digests(aws)) == 2


def test_without_recipients_the_digest_runs_and_sends_nothing(aws: Aws, clock: FixedClock) -> None:
    summary = run_digest()
    assert (summary["queued"], summary["reason"]) == (False, "no_recipients")
    assert digests(aws) == []
