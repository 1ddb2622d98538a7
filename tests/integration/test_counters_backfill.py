"""`payportal reports backfill` over moto: on a table holding invoices from before the running aggregates, the
reports wait (503 counters_not_ready) until the command has counted every invoice once, even with a live change
racing it; then they equal what the invoices owe."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.adapters.dynamodb import DynamoLedger, items
from shared.adapters.dynamodb.codec import serialize, wire_key
from shared.adapters.dynamodb.counters import scan_invoices
from shared.clock import AdjustableClock, SystemClock, use_clock
from shared.domain.invoices import Invoice, InvoiceStatus
from shared.services.aggregates import owed_by, tallied
from shared.services.counters_backfill import backfill_counters
from shared.services.ports import Change
from tests.integration.conftest import TABLE, Aws
from tests.integration.helpers import create_customer, create_invoice, operator
from tests.integration.test_cli_operations import cloudformation, run
from tests.support import json_body

TODAY = "2027-03-01"


@pytest.fixture
def clock() -> Iterator[AdjustableClock]:
    moving = AdjustableClock()
    moving.set(datetime(2027, 3, 1, 15, tzinfo=UTC))
    use_clock(moving)
    yield moving
    use_clock(SystemClock())


def as_before_the_aggregates(aws: Aws) -> None:
    """Turn the table into what the code before the aggregates wrote: no counters, no marker, and invoices that
    do not say they are counted."""
    for item in aws.items(""):
        key = wire_key(item["pk"], item["sk"])
        if item["pk"].startswith(items.TALLY_PREFIX) or (item["pk"], item["sk"]) == items.COUNTERS_READY_KEY:
            aws.dynamodb.delete_item(TableName=TABLE, Key=key)
        elif item.get("type") == "invoice":
            aws.dynamodb.put_item(TableName=TABLE, Item=serialize({k: v for k, v in item.items() if k != "counted"}))
    from shared import wiring

    wiring.reset()  # a new container: nothing cached of the table


def owed_in_table(aws: Aws, currency: str) -> int:
    invoices = [items.invoice_from(i) for i in aws.items("INVOICE#") if i.get("type") == "invoice"]
    return sum(owed_by(i) for i in invoices if i.currency == currency)


def stage(aws: Aws) -> dict[str, Any]:
    """The deployed stage the command talks to: the stack's outputs, and the table in moto."""
    return {"cloudformation": cloudformation(), "dynamodb": aws.dynamodb}


def aging() -> dict[str, Any]:
    return operator("GET", "/v1/reports/aging", "/v1/reports/aging", query={"as_of": TODAY})


def old_table(aws: Aws) -> list[str]:
    customer = create_customer()
    ids = [
        create_invoice(customer["id"], amount_due=10_000, due_date="2027-02-20")["id"],
        create_invoice(customer["id"], amount_due=20_000, due_date="2026-10-01")["id"],
        create_invoice(customer["id"], amount_due=2_500, currency="EUR", due_date="2027-04-01")["id"],
    ]
    as_before_the_aggregates(aws)
    return ids


def pay(ledger: DynamoLedger, invoice: Invoice, amount: int, at: datetime) -> None:
    """A live change moving money on the invoice, as a use case commits it (tallied over what it read)."""
    paid = replace(invoice, amount_paid=invoice.amount_paid + amount, status=InvoiceStatus.PARTIALLY_PAID)
    change = Change(invoice_update=replace(paid, version=invoice.version + 1))
    ledger.commit(tallied(change, at, invoice_before=invoice))


def test_the_command_counts_an_old_table_once_and_the_reports_then_answer(aws: Aws, clock: AdjustableClock) -> None:
    # Given a table holding invoices from before the aggregates
    old_table(aws)

    # Then the aging refuses, saying why
    refused = aging()
    assert refused["statusCode"] == 503
    assert json_body(refused)["error"]["code"] == "counters_not_ready"

    # When the command runs (a dry run first), twice
    dry = run("reports", "backfill", "--dry-run", clients=stage(aws))
    assert dry.code == 0 and "would count 3" in dry.out
    assert aging()["statusCode"] == 503
    first = run("reports", "backfill", clients=stage(aws))
    again = run("reports", "backfill", clients=stage(aws))

    # Then it counted each invoice once, and the aging equals what the invoices owe, to the cent
    assert first.code == 0 and "counted 3" in first.out and "counters ready" in first.out, first.out
    assert "counted 0, 3 counted already" in again.out, again.out
    answered = aging()
    assert answered["statusCode"] == 200, answered
    totals = {line["currency"]: line["total"] for line in json_body(answered)["currencies"]}
    assert (
        totals == {"USD": owed_in_table(aws, "USD"), "EUR": owed_in_table(aws, "EUR")} == {"USD": 30_000, "EUR": 2_500}
    )
    assert all(i.get("counted") for i in aws.items("INVOICE#") if i.get("type") == "invoice")


def test_a_live_change_racing_the_backfill_is_counted_once(aws: Aws, clock: AdjustableClock) -> None:
    # Given an old table, and a payment landing on an invoice between the backfill's read of it and its write
    first_id, *_ = old_table(aws)
    ledger = DynamoLedger(aws.dynamodb, TABLE)

    def scanned() -> Iterator[Invoice]:
        for invoice in scan_invoices(aws.dynamodb, TABLE, page_size=1):
            if invoice.id == first_id:
                pay(ledger, invoice, 4_000, clock.now())  # it counts the invoice itself, under its version guard
            yield invoice

    # When the backfill goes on with what it read
    report = backfill_counters(ledger, scanned(), clock)

    # Then its write of that invoice was refused, read again and found counted; nothing counted twice
    assert (report.retried, report.counted, report.counted_already, report.ready) == (1, 2, 1, True)
    answered = aging()
    totals = {line["currency"]: line["total"] for line in json_body(answered)["currencies"]}
    assert (
        totals == {"USD": owed_in_table(aws, "USD"), "EUR": owed_in_table(aws, "EUR")} == {"USD": 26_000, "EUR": 2_500}
    )


def test_a_new_table_answers_without_the_command(aws: Aws, clock: AdjustableClock) -> None:
    customer = create_customer()
    create_invoice(customer["id"], amount_due=10_000, due_date="2027-02-20")
    answered = aging()
    assert answered["statusCode"] == 200
    assert [line["total"] for line in json_body(answered)["currencies"]] == [10_000]
