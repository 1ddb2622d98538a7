"""`payportal incident affected` and `payportal incident notify` over moto: the customers a window touched, read
from the audit trail's time index (no Scan), and a notice to each of them through the outbox, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.integration.conftest import Aws
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver, operator
from tests.integration.test_cli_operations import Run, cloudformation, run

START = datetime(2027, 3, 1, 15, tzinfo=UTC)


def incident(aws: Aws, *argv: str) -> Run:
    return run("incident", *argv, clients={"cloudformation": cloudformation(), "dynamodb": aws.dynamodb})


def no_scans(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**_: Any) -> None:
        raise AssertionError("the incident tools never scan the table")

    monkeypatch.setattr(aws.dynamodb, "scan", refuse)


@pytest.fixture
def touched(aws: Aws, clock: FixedClock) -> dict[str, str]:
    """Given: Ada's invoice created before the window, Bea and her invoice inside it, Cy's record read by an export
    inside it, and Dan created after it."""
    ada = create_customer(name="Ada", email="ada@example.com")
    cy = create_customer(name="Cy", email="cy@example.com")
    create_invoice(ada["id"], number="INV-ADA")
    clock.instant = START + timedelta(hours=2)
    bea = create_customer(name="Bea", email="bea@example.com")
    create_invoice(bea["id"], number="INV-BEA")
    path = f"/v1/customers/{cy['id']}/export"
    assert (
        operator("GET", path, "/v1/customers/{customer_id}/export", params={"customer_id": cy["id"]})["statusCode"]
        == 200
    )
    clock.instant = START + timedelta(days=2)
    dan = create_customer(name="Dan", email="dan@example.com")
    aws.drain_outbox()
    return {"ada": ada["id"], "bea": bea["id"], "cy": cy["id"], "dan": dan["id"]}


WINDOW = ("--since", "2027-03-01T16:00:00Z", "--until", "2027-03-02T16:00:00Z")


def test_affected_lists_exactly_the_customers_the_window_touched_with_counts_per_kind(
    aws: Aws, touched: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    no_scans(aws, monkeypatch)

    result = incident(aws, "affected", *WINDOW, "--json")

    assert result.code == 0, result.err
    rows = {row["customer_id"]: row for row in json.loads(result.out)["customers"]}
    assert set(rows) == {touched["bea"], touched["cy"]}
    assert rows[touched["bea"]]["changed"] == 2 and rows[touched["bea"]]["read"] == 0  # customer and invoice created
    assert rows[touched["cy"]] == {"customer_id": touched["cy"], "changed": 0, "read": 1, "stripe_event": 0}


def test_affected_prints_a_table_of_ids_and_counts_and_no_names_or_addresses(aws: Aws, touched: dict[str, str]) -> None:
    result = incident(aws, "affected", *WINDOW)

    assert result.code == 0, result.err
    assert (
        result.out.splitlines()[0]
        == "2 customer(s) touched between 2027-03-01T16:00:00+00:00 and 2027-03-02T16:00:00+00:00"
    )
    assert touched["bea"] in result.out and touched["cy"] in result.out and touched["ada"] not in result.out
    assert "@" not in result.out and "Bea" not in result.out


@pytest.mark.parametrize(
    "window",
    [
        ("--since", "yesterday", "--until", "2027-03-02T16:00:00Z"),
        ("--since", "2027-03-01T16:00:00", "--until", "2027-03-02T16:00:00Z"),  # no offset
        ("--since", "2027-03-02T16:00:00Z", "--until", "2027-03-01T16:00:00Z"),  # backwards
        ("--since", "2026-01-01T00:00:00Z", "--until", "2027-03-02T16:00:00Z"),  # over 92 days
    ],
)
def test_a_window_that_is_not_one_is_refused_in_one_line(aws: Aws, window: tuple[str, ...]) -> None:
    result = incident(aws, "affected", *window)

    assert result.code != 0 and result.err.startswith("payportal: ") and result.out == ""


def test_notify_emails_each_affected_customer_once_and_a_rerun_sends_nothing_new(
    aws: Aws, touched: dict[str, str], tmp_path: Path
) -> None:
    template = tmp_path / "notice.txt"
    template.write_text("Incident notice from {{ business_name }}\n\nDear {{ customer.name }}, something happened "
                        "between {{ since_text }} and {{ until_text }}.\n\n{{ business_name }}\n")  # fmt: skip

    first = incident(aws, "notify", *WINDOW, "--template", str(template), "--incident", "inc-2027-03")
    aws.drain_outbox()
    second = incident(aws, "notify", *WINDOW, "--template", str(template), "--incident", "inc-2027-03")
    aws.drain_outbox()

    assert first.code == 0 and second.code == 0, first.err + second.err
    assert "notice queued for 2 customer(s); 0 had it already" in first.out
    assert "notice queued for 0 customer(s); 2 had it already" in second.out
    notices = [e for e in aws.emails() if e.subject.startswith("Incident notice")]
    assert sorted(e.to[0] for e in notices) == ["bea@example.com", "cy@example.com"]
    assert {e.subject for e in notices} == {"Incident notice from payportal"}
    assert sorted(e.text.split(",")[0] for e in notices) == ["Dear Bea", "Dear Cy"]
    assert "between 1 Mar 2027, 16:00:00 and 2 Mar 2027, 16:00:00" in notices[0].text and "<p" in notices[0].html


def test_the_default_notice_is_in_the_customers_language(aws: Aws, clock: FixedClock) -> None:
    clock.instant = START + timedelta(hours=2)
    create_customer(name="Lena", email="lena@example.com", locale="de-DE", timezone="Europe/Berlin")

    result = incident(aws, "notify", *WINDOW)
    aws.drain_outbox()

    assert result.code == 0, result.err
    (notice,) = aws.emails()[-1:]
    assert notice.to == ["lena@example.com"] and "Guten Tag Lena" in notice.text


def test_a_dry_run_lists_who_would_get_it_and_queues_nothing(aws: Aws, touched: dict[str, str]) -> None:
    before = aws.items("OUTBOX#")

    result = incident(aws, "notify", *WINDOW, "--dry-run")

    assert result.code == 0, result.err
    assert "2 customer(s) would get the notice (dry run: nothing sent)" in result.out
    assert aws.items("OUTBOX#") == before and aws.items("INCIDENT#") == []


def test_a_template_that_does_not_parse_stops_before_anything_is_queued(
    aws: Aws, touched: dict[str, str], tmp_path: Path
) -> None:
    template = tmp_path / "broken.txt"
    template.write_text("Subject {{ customer.name\n")

    result = incident(aws, "notify", *WINDOW, "--template", str(template))

    assert result.code != 0 and "does not parse" in result.err
    assert aws.items("INCIDENT#") == []


def test_a_payment_a_stripe_event_applied_in_the_window_counts_for_its_customer(
    aws: Aws, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    payer = create_customer(name="Pat", email="pat@example.com")
    unpaid = create_invoice(payer["id"], amount_due=10_000)
    clock.instant = START + timedelta(hours=3)
    assert deliver(completed(checkout_for(unpaid, 10_000)))["statusCode"] == 200
    no_scans(aws, monkeypatch)

    result = incident(aws, "affected", *WINDOW, "--json")

    assert result.code == 0, result.err
    [row] = json.loads(result.out)["customers"]
    assert row["customer_id"] == payer["id"] and row["stripe_event"] >= 1 and row["read"] == 0


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Subject {{ customer.name\n", "does not parse"),
        ("Subject\n\n{{ customer.email_address }}\n", "does not render"),
        ("Subject\n\n{{ customer.__class__.__mro__ }}\n", "does not render"),
        ("Only a subject\n", "needs a subject"),
    ],
)
def test_a_template_that_would_fail_at_delivery_stops_the_run(
    aws: Aws, touched: dict[str, str], tmp_path: Path, text: str, says: str
) -> None:
    template = tmp_path / "notice.txt"
    template.write_text(text)

    result = incident(aws, "notify", *WINDOW, "--template", str(template))

    assert result.code != 0 and says in result.err
    assert aws.items("INCIDENT#") == [] and not [i for i in aws.items("OUTBOX#") if i["name"] == "incident_notice"]
