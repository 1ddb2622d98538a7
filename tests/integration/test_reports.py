"""The aging report and the collections KPIs through the operator API over moto: counters written with each
change that moves money, snapshots kept by the balances run, and hostile query strings refused."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared.clock import AdjustableClock, SystemClock, use_clock
from shared.services.aggregates import owed_by
from tests.integration.conftest import Aws
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver, operator
from tests.support import FakeLambdaContext, json_body


@pytest.fixture
def clock() -> Iterator[AdjustableClock]:
    moving = AdjustableClock()
    moving.set(datetime(2027, 3, 1, 15, tzinfo=UTC))
    use_clock(moving)
    yield moving
    use_clock(SystemClock())


def report(path: str, query: dict[str, str]) -> dict[str, Any]:
    return operator("GET", path, path, query=query)


def run_balances() -> dict[str, Any]:
    from functions.balances.handler import lambda_handler

    return dict(lambda_handler({}, FakeLambdaContext()))


def owed_in_table(aws: Aws, currency: str) -> int:
    from shared.adapters.dynamodb import items

    invoices = [items.invoice_from(i) for i in aws.items("INVOICE#") if i.get("type") == "invoice"]
    return sum(owed_by(i) for i in invoices if i.currency == currency)


def test_the_aging_today_and_yesterday_equal_what_the_invoices_owe(aws: Aws, clock: AdjustableClock) -> None:
    # Given on 2027-03-01 invoices due in the past and future, one paid in part by card through the webhook
    customer = create_customer()
    create_invoice(customer["id"], amount_due=10_000, due_date="2027-02-20")
    create_invoice(customer["id"], amount_due=20_000, due_date="2026-10-01")
    partly = create_invoice(
        customer["id"], amount_due=8_000, due_date="2027-03-10", allow_partial=True, min_partial_amount=1_000
    )
    deliver(completed(checkout_for(partly, 3_000)))
    create_invoice(customer["id"], amount_due=2_500, currency="EUR", due_date="2027-01-01")

    # When the operator asks for the aging as of today
    today = report("/v1/reports/aging", {"as_of": "2027-03-01"})

    # Then each currency's buckets hold what is owed, and the totals equal the table's invoices
    assert today["statusCode"] == 200, today["body"]
    body = json_body(today)
    lines = {line["currency"]: line for line in body["currencies"]}
    assert lines["USD"] == {
        "currency": "USD", "current": 5_000, "days_1_30": 10_000, "days_31_60": 0, "days_61_90": 0,
        "days_91_plus": 20_000, "total": 35_000,
    }  # fmt: skip
    assert lines["USD"]["total"] == owed_in_table(aws, "USD")
    assert lines["EUR"]["days_31_60"] == 2_500 and body["as_of"] == "2027-03-01" and body["customers"] is None

    # And the next day, after the balances run kept the snapshot and a payment landed, March 1st reads the same
    clock.set(datetime(2027, 3, 2, 1, tzinfo=UTC))
    assert "2027-03-01" in run_balances()["snapshots"]
    deliver(completed(checkout_for(partly, 5_000)))
    yesterday = json_body(report("/v1/reports/aging", {"as_of": "2027-03-01", "currency": "USD"}))
    assert yesterday["currencies"] == [lines["USD"]]
    assert json_body(report("/v1/reports/aging", {"as_of": "2027-03-02"}))["currencies"][1]["current"] == 0


def test_the_aging_per_customer_reads_the_open_invoices(aws: Aws, clock: AdjustableClock) -> None:
    ada, bob = create_customer(), create_customer(email="bob@example.com", name="Bob")
    create_invoice(ada["id"], amount_due=1_000, due_date="2027-02-01")
    create_invoice(bob["id"], amount_due=2_000, due_date="2027-04-01")

    body = json_body(report("/v1/reports/aging", {"as_of": "2027-03-01", "group_by": "customer"}))

    by_customer = {c["customer_id"]: c["currencies"][0] for c in body["customers"]}
    assert by_customer[ada["id"]]["days_1_30"] == 1_000 and by_customer[bob["id"]]["current"] == 2_000


def test_collections_kpis_for_a_period(aws: Aws, clock: AdjustableClock) -> None:
    # Given the snapshot of February's end, then an invoice paid on time in March
    clock.set(datetime(2027, 3, 1, 1, tzinfo=UTC))
    run_balances()
    customer = create_customer()
    clock.set(datetime(2027, 3, 1, 9, tzinfo=UTC))
    invoice = create_invoice(customer["id"], amount_due=10_000, due_date="2027-03-20")
    clock.set(datetime(2027, 3, 11, 9, tzinfo=UTC))
    deliver(completed(checkout_for(invoice, 10_000)))
    create_invoice(customer["id"], amount_due=4_000, due_date="2027-04-10")

    response = report("/v1/reports/collections", {"from": "2027-03-01", "to": "2027-03-11", "currency": "USD"})

    assert response["statusCode"] == 200, response["body"]
    body = json_body(response)
    [line] = body["currencies"]
    assert (body["from"], body["to"], line["currency"]) == ("2027-03-01", "2027-03-11", "USD")
    assert line["inputs"]["invoiced"] == 14_000 and line["inputs"]["collected"] == 10_000
    assert line["figures"]["paid_on_time_share"] == 1.0
    assert line["figures"]["average_days_to_pay"] == 10.0
    assert line["figures"]["collection_rate"] == round(10_000 / 14_000, 4)


@pytest.mark.parametrize(
    ("path", "query", "status", "field"),
    [
        ("/v1/reports/aging", {"as_of": "2027-03-01", "surprise": "1"}, 400, "surprise"),
        ("/v1/reports/aging", {"as_of": "yesterday"}, 422, "as_of"),
        ("/v1/reports/aging", {}, 422, "as_of"),
        ("/v1/reports/aging", {"as_of": "2030-01-01"}, 422, "as_of"),
        ("/v1/reports/aging", {"as_of": "2026-01-01"}, 422, "as_of"),
        ("/v1/reports/aging", {"as_of": "2027-03-01", "currency": "XXQ"}, 422, "currency"),
        ("/v1/reports/aging", {"as_of": "2027-03-01", "group_by": "invoice"}, 422, "group_by"),
        ("/v1/reports/collections", {"from": "2027-03-01", "to": "2027-02-01"}, 422, "from"),
        ("/v1/reports/collections", {"from": "2025-01-01", "to": "2027-02-01"}, 422, "to"),
        ("/v1/reports/collections", {"from": "2027-03-01", "to": "2027-03-01", "format": "xlsx"}, 422, "format"),
        ("/v1/reports/collections", {"form": "2027-03-01", "to": "2027-03-01"}, 400, "form"),
        ("/v1/reports/collections", {"from": "0001-01-01", "to": "0001-01-31", "currency": "USD"}, 422, "from"),
        ("/v1/reports/aging", {"as_of": "0001-01-01"}, 422, "as_of"),
        ("/v1/reports/reminders", {"from": "0001-01-01", "to": "0001-01-02"}, 422, "from"),
    ],
)
def test_bad_report_parameters_are_refused_naming_them(
    aws: Aws, clock: AdjustableClock, path: str, query: dict[str, str], status: int, field: str
) -> None:
    response = report(path, query)

    assert response["statusCode"] == status, response["body"]
    error = json_body(response)["error"]
    named = [f["field"] for f in error.get("fields") or []] + [error.get("field")]
    assert field in named or field in error["message"]


def csv_rows(response: dict[str, Any]) -> list[dict[str, str]]:
    assert response["statusCode"] == 200, response["body"]
    assert response["multiValueHeaders"]["Content-Type"][0].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response["body"])))


def test_each_report_comes_as_csv_with_the_json_figures(aws: Aws, clock: AdjustableClock) -> None:
    # Given February's snapshot, then invoices owed by two customers in two currencies, one paid on time
    clock.set(datetime(2027, 3, 1, 1, tzinfo=UTC))
    run_balances()
    clock.set(datetime(2027, 3, 1, 15, tzinfo=UTC))
    ada, bob = create_customer(), create_customer(email="bob@example.com", name="Bob")
    create_invoice(ada["id"], amount_due=1_000, due_date="2027-02-01")
    create_invoice(bob["id"], amount_due=2_000, due_date="2027-04-01", currency="EUR")
    paid = create_invoice(ada["id"], amount_due=3_000, due_date="2027-03-20")
    deliver(completed(checkout_for(paid, 3_000)))
    aging = {"as_of": "2027-03-01"}

    # When each report is asked for as CSV, by format=csv or by the Accept header
    as_json = json_body(report("/v1/reports/aging", aging))
    by_format = csv_rows(report("/v1/reports/aging", aging | {"format": "csv"}))
    by_accept = csv_rows(
        operator("GET", "/v1/reports/aging", "/v1/reports/aging", query=aging, headers={"Accept": "text/csv"})
    )
    per_customer = csv_rows(report("/v1/reports/aging", aging | {"group_by": "customer", "format": "csv"}))
    period = {"from": "2027-03-01", "to": "2027-03-01"}
    kpis_json = json_body(report("/v1/reports/collections", period))
    kpis = csv_rows(report("/v1/reports/collections", period | {"format": "csv"}))

    # Then one row per currency (per customer and currency when grouped), each with the JSON's figures
    assert by_format == by_accept
    assert [{k: int(v) if k != "currency" else v for k, v in row.items()} for row in by_format] == as_json["currencies"]
    assert {(row["customer_id"], row["currency"], row["total"]) for row in per_customer} == {
        (ada["id"], "USD", "1000"), (bob["id"], "EUR", "2000"),
    }  # fmt: skip
    assert [row["currency"] for row in kpis] == [line["currency"] for line in kpis_json["currencies"]]
    usd = next(line for line in kpis_json["currencies"] if line["currency"] == "USD")
    usd_row = next(row for row in kpis if row["currency"] == "USD")
    assert float(usd_row["paid_on_time_share"]) == usd["figures"]["paid_on_time_share"] == 1.0
    assert usd_row["dso_capped"] in {"true", "false"}


def test_the_reports_are_documented(aws: Aws) -> None:
    from functions.operator_api.openapi import document

    paths = json.loads(document())["paths"]
    assert {"/v1/reports/aging", "/v1/reports/collections"} <= set(paths)
    assert date.fromisoformat("2027-03-01")  # the dates are ISO 8601 days
