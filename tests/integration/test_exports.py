"""GET /v1/exports/payments over moto: a window's payments in, refunds and reversals out, each on the day it
was booked in the operator's zone, every refund once (a refund that then fails comes back on its own day),
summing to what was received less what was given back; QuickBooks' and Xero's files; hostile requests a 4xx."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from shared.clock import FixedClock
from shared.domain.records import ProcessorFee
from tests.fakes.gateway import FakeGateway
from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, create_invoice, operator
from tests.integration.test_invoice_corrections import record, reverse
from tests.integration.test_reconcile import run
from tests.integration.test_refunds import charge_refunded, outcome, pay, refund_event, refund_object
from tests.support import json_body

MARCH_1 = datetime(2027, 3, 1, 15, tzinfo=UTC)


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> FakeGateway:
    from shared import wiring

    fake = FakeGateway()
    monkeypatch.setattr(wiring, "gateway", lambda: fake)
    return fake


def export(**params: str) -> dict[str, Any]:
    return operator("GET", "/v1/exports/payments", "/v1/exports/payments", query=params)


def header(reply: dict[str, Any], name: str) -> str:
    return str(reply["multiValueHeaders"][name][-1])


def lines(reply: dict[str, Any]) -> list[dict[str, str]]:
    assert reply["statusCode"] == 200, reply["body"]
    assert header(reply, "Content-Type").startswith("text/csv")
    return list(csv.DictReader(io.StringIO(reply["body"])))


@pytest.fixture
def history(aws: Aws, clock: FixedClock, gateway: FakeGateway) -> dict[str, Any]:
    """March 1: a card payment of 200.00 and a cheque of 80.00; March 2: two refunds of the card payment are
    booked (30.00 and 20.00); March 3: the cheque bounces and the first refund succeeds; March 4: the second
    refund fails. And a EUR payment on March 1, and a card payment on March 5 (outside the window)."""
    customer = create_customer(timezone="UTC", email="rae@example.com", name="Rae Ortiz")
    card = create_invoice(customer["id"], number="INV-X1", amount_due=20_000, due_date="2027-03-15")
    cheque = create_invoice(customer["id"], number="INV-X2", amount_due=8_000, due_date="2027-03-15")
    euros = create_invoice(customer["id"], number="INV-X3", amount_due=5_000, due_date="2027-03-15", currency="EUR")
    intent = pay(card, 20_000)
    cheque_id = json_body(
        record(cheque["id"], {"amount": 8_000, "method": "check", "reference": "CHQ 77", "received_on": "2027-03-01"})
    )["payment"]["id"]
    pay(euros, 5_000)

    clock.instant = MARCH_1 + timedelta(days=1)
    first, second = (refund_object("re_x1", intent, 3_000, "pending"), refund_object("re_x2", intent, 2_000, "pending"))
    assert outcome(charge_refunded(intent, "evt_x_ch1", first, second)) == "applied"
    clock.instant = MARCH_1 + timedelta(days=2)
    assert reverse(cheque_id, {"reason": "cheque returned unpaid"})["statusCode"] == 200
    assert outcome(refund_event("updated", refund_object("re_x1", intent, 3_000, "succeeded"), "evt_x_r1")) == "applied"
    clock.instant = MARCH_1 + timedelta(days=3)
    assert outcome(refund_event("updated", refund_object("re_x2", intent, 2_000, "failed"), "evt_x_r2")) == "applied"
    clock.instant = MARCH_1 + timedelta(days=4)
    later = create_invoice(customer["id"], number="INV-X4", amount_due=1_000, due_date="2027-03-15")
    pay(later, 1_000)
    return {"customer": customer, "intent": intent, "cheque_id": cheque_id}


def test_every_line_once_on_its_own_day_and_the_sum_is_received_less_given_back(history: dict[str, Any]) -> None:
    found = lines(export(**{"from": "2027-03-01", "to": "2027-03-04", "timezone": "UTC"}))
    shown = [(line["date"], line["type"], line["amount"], line["currency"], line["invoice_number"]) for line in found]
    assert sorted(shown) == sorted([
        ("2027-03-01", "payment", "200.00", "USD", "INV-X1"),
        ("2027-03-01", "payment", "80.00", "USD", "INV-X2"),
        ("2027-03-01", "payment", "50.00", "EUR", "INV-X3"),
        ("2027-03-02", "refund", "-30.00", "USD", "INV-X1"),
        ("2027-03-02", "refund", "-20.00", "USD", "INV-X1"),
        ("2027-03-03", "reversal", "-80.00", "USD", "INV-X2"),
        ("2027-03-04", "refund_failed", "20.00", "USD", "INV-X1"),
    ])  # fmt: skip
    assert [line["booked_at"] for line in found] == sorted(line["booked_at"] for line in found)  # oldest first
    usd = [int(line["amount_minor"]) for line in found if line["currency"] == "USD"]
    assert sum(usd) == 20_000 + 8_000 - 3_000 - 2_000 - 8_000 + 2_000  # 170.00: kept of what came in
    refunds = {line["refund_id"]: line for line in found if line["type"] == "refund"}
    assert set(refunds) == {"re_x1", "re_x2"} and refunds["re_x1"]["reference"] == "re_x1"
    [bounced] = [line for line in found if line["type"] == "reversal"]
    assert (bounced["method"], bounced["reference"], bounced["customer_name"]) == ("check", "CHQ 77", "Rae Ortiz")
    assert all(line["fee"] == "" for line in found)

    # A window of the last two days holds only what happened in them
    late = lines(export(**{"from": "2027-03-03", "to": "2027-03-04", "timezone": "UTC"}))
    assert sorted(line["type"] for line in late) == ["refund_failed", "reversal"]


def test_stripes_fees_looked_up_by_reconciliation_are_in_the_columns_and_the_statements(
    history: dict[str, Any], gateway: FakeGateway
) -> None:
    # Given Stripe kept 6.10 of the card payment; the EUR payment's balance transaction is not there yet
    gateway.fees[history["intent"]] = ProcessorFee(610, "USD", "txn_x1")
    window = {"from": "2027-03-01", "to": "2027-03-04", "timezone": "UTC"}
    before = lines(export(**window))
    assert all(line["fee"] == "" for line in before)
    # When reconciliation runs
    report = run()
    # Then it asked for the fee of each Stripe payment (not the cheque's), and recorded the one Stripe had
    assert (report["fees_recorded"], report["fees_not_yet"]) == (1, 2)
    assert history["intent"] in gateway.fee_lookups and len(set(gateway.fee_lookups)) == 3
    # And the full CSV shows it on the payment's line, with what reached the balance; no line more
    found = lines(export(**window))
    assert len(found) == len(before)
    [card] = [line for line in found if line["type"] == "payment" and line["invoice_number"] == "INV-X1"]
    assert (card["fee"], card["fee_currency"], card["net"], card["amount"]) == ("6.10", "USD", "193.90", "200.00")
    assert all(line["fee"] == "" for line in found if line is not card)
    # And a bank statement has the fee as money out on the payment's day, summing to what the balance kept
    statement = {**window, "currency": "USD"}
    rows = lines(export(**statement, format="quickbooks"))
    assert {"Date": "03/01/2027", "Description": "Stripe fee INV-X1", "Amount": "-6.10"} in rows
    assert sum(Decimal(row["Amount"]) for row in rows) == Decimal("163.90")
    xero = lines(export(**statement, format="xero"))
    [fee] = [row for row in xero if row["Description"].startswith("Stripe fee")]
    assert fee == {
        "Date": "01/03/2027", "Amount": "-6.10", "Payee": "Stripe", "Description": "Stripe fee INV-X1",
        "Reference": "txn_x1", "Cheque Number": "",
    }  # fmt: skip
    # And a rerun asks Stripe for nothing it knows: the recorded fee is not asked again
    gateway.fee_lookups.clear()
    assert run()["fees_recorded"] == 0 and history["intent"] not in gateway.fee_lookups


def test_the_days_are_the_operators(history: dict[str, Any]) -> None:
    # 15:00 UTC on March 1 is 00:00 on March 2 in Tokyo: the payments of that instant fall on March 2 there
    tokyo = lines(export(**{"from": "2027-03-02", "to": "2027-03-02", "timezone": "Asia/Tokyo"}))
    assert sorted(line["type"] for line in tokyo) == ["payment", "payment", "payment"]
    assert {line["booked_at"][:19] for line in tokyo} == {"2027-03-02T00:00:00"}


def test_quickbooks_and_xero_bank_statements_of_one_currency(history: dict[str, Any]) -> None:
    window = {"from": "2027-03-01", "to": "2027-03-04", "timezone": "UTC", "currency": "USD"}
    quickbooks = export(**window, format="quickbooks")
    assert quickbooks["body"].splitlines()[0] == "Date,Description,Amount"
    rows = lines(quickbooks)
    assert (
        len(rows) == 6
        and {"Date": "03/02/2027", "Description": "Refund INV-X1 (Rae Ortiz)", "Amount": "-30.00"} in rows
    )
    disposition = header(quickbooks, "Content-Disposition")
    assert disposition == 'attachment; filename="payments-quickbooks-2027-03-01-2027-03-04.csv"'
    xero = lines(export(**window, format="xero"))
    [bounced] = [row for row in xero if row["Amount"] == "-80.00"]
    assert bounced == {
        "Date": "03/03/2027", "Amount": "-80.00", "Payee": "Rae Ortiz", "Description": "Payment reversed INV-X2",
        "Reference": "CHQ 77", "Cheque Number": "CHQ 77",
    }  # fmt: skip
    assert sum(Decimal(row["Amount"]) for row in xero) == Decimal("170.00")


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"from": "2027-03-04", "to": "2027-03-01"}, 422, "to"),
        ({"from": "2027-01-01", "to": "2027-04-30"}, 422, "to"),  # more than 92 days
        ({"from": "2027-03-01", "to": "2027-03-04", "format": "quickbooks"}, 422, "currency"),
        ({"from": "2027-03-01", "to": "2027-03-04", "timezone": "Mars/Olympus"}, 422, "timezone"),
        ({"from": "2027-03-01", "to": "2027-03-04", "timezone": "America"}, 422, "timezone"),  # a folder of zones
        ({"from": "2027-03-01", "to": "2027-03-04", "format": "excel"}, 422, "format"),
        ({"from": "2027-03-01", "to": "not a day"}, 422, "to"),
        ({"from": "2027-03-01"}, 422, "to"),
        ({"from": "2027-03-01", "to": "2027-03-04", "form": "csv"}, 400, None),
    ],
)
def test_hostile_requests_are_a_clear_4xx(aws: Aws, params: dict[str, str], status: int, field: str | None) -> None:
    reply = export(**params)
    assert reply["statusCode"] == status, reply["body"]
    if field:
        assert field in {problem["field"] for problem in json_body(reply)["error"]["fields"]}, reply["body"]


def test_a_refund_kept_before_its_booking_day_was_stays_on_the_day_it_was_booked(
    aws: Aws, clock: FixedClock, gateway: FakeGateway
) -> None:
    from shared import wiring
    from shared.domain.records import Refund, RefundStatus
    from shared.services.ports import Change

    # Given a refund recorded pending on March 2 by the code before refunds kept created_at
    customer = create_customer(timezone="UTC", email="old@example.com", name="Old Refund")
    invoice = create_invoice(customer["id"], number="INV-OLD", amount_due=20_000, due_date="2027-03-15")
    intent = pay(invoice, 20_000)
    ledger = wiring.ledger()
    [payment] = ledger.get_invoice_payments(invoice["id"])
    march_2 = MARCH_1 + timedelta(days=1)
    legacy = Refund("re_old", 3_000, RefundStatus.PENDING, False, "requested_by_customer", march_2)
    ledger.commit(Change(payment_refunds=replace(payment, refunds=(legacy,), refund_version=1, updated_at=march_2)))
    # When it succeeds on March 3
    clock.instant = MARCH_1 + timedelta(days=2)
    assert outcome(refund_event("updated", refund_object("re_old", intent, 3_000, "succeeded"), "evt_old")) == "applied"

    # Then it is on March 2 only, once
    def refunds_on(day: str) -> list[str]:
        found = lines(export(**{"from": day, "to": day, "timezone": "UTC"}))
        return [line["refund_id"] for line in found if line["type"] == "refund"]

    assert refunds_on("2027-03-02") == ["re_old"]
    assert refunds_on("2027-03-03") == []


def test_a_dispute_lost_is_a_chargeback_line_on_the_day_it_was_lost(
    aws: Aws, clock: FixedClock, gateway: FakeGateway
) -> None:
    # Given a card payment of 150.00 on March 1, disputed and lost for 150.00 on March 3
    from tests.integration.test_disputes import dispute
    from tests.integration.test_disputes import pay as paid

    customer = create_customer(timezone="UTC", email="kit@example.com", name="Kit Lane")
    invoice = create_invoice(customer["id"], number="INV-D1", amount_due=15_000, due_date="2027-03-15")
    intent = paid(invoice, 15_000)
    clock.instant = MARCH_1 + timedelta(days=1)
    assert dispute("created", intent, 15_000, fee=1_500) == "applied"
    clock.instant = MARCH_1 + timedelta(days=2)
    assert dispute("closed", intent, 15_000, status="lost", fee=1_500) == "applied"
    # and Stripe tells of the lost dispute again: nothing more is listed
    assert dispute("closed", intent, 15_000, status="lost", fee=1_500) != "applied"

    # When March is exported
    rows = lines(export(**{"from": "2027-03-01", "to": "2027-03-31", "format": "csv", "timezone": "UTC"}))

    # Then the payment is in on March 1 and the chargeback out on March 3, once, naming the dispute
    assert [(r["date"], r["type"], r["amount"], r["reference"]) for r in rows] == [
        ("2027-03-01", "payment", "150.00", intent),
        ("2027-03-03", "dispute_lost", "-150.00", "dp_test_1"),
    ]
    # And the dispute's fee, from its balance transaction, is on the chargeback's line, and its own in a statement
    assert (rows[1]["fee"], rows[1]["fee_currency"], rows[1]["net"]) == ("15.00", "USD", "-165.00")
    quickbooks = export(**{"from": "2027-03-01", "to": "2027-03-31", "format": "quickbooks", "currency": "USD"})
    assert lines(quickbooks)[1:] == [
        {"Date": "03/03/2027", "Description": "Chargeback (dispute lost) INV-D1 (Kit Lane)", "Amount": "-150.00"},
        {"Date": "03/03/2027", "Description": "Stripe dispute fee INV-D1", "Amount": "-15.00"},
    ]


def test_a_restricted_customers_name_leaves_the_export_and_their_money_stays(history: dict[str, Any]) -> None:
    customer_id = history["customer"]["id"]
    restricted = operator(
        "POST", f"/v1/customers/{customer_id}/restriction", "/v1/customers/{customer_id}/restriction",
        {"customer_id": customer_id}, headers={"Idempotency-Key": "restrict"},
    )  # fmt: skip
    assert restricted["statusCode"] == 200, restricted["body"]
    reply = export(**{"from": "2027-03-01", "to": "2027-03-04", "timezone": "UTC"})
    found = lines(reply)
    assert len(found) == 7 and {line["customer_id"] for line in found} == {customer_id}
    assert "Rae Ortiz" not in reply["body"] and {line["customer_name"] for line in found} == {""}
