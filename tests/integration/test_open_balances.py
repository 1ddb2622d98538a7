"""The open balance the dashboard shows: what is still to collect, per currency, read from the sparse
open_balances index by functions/balances."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import Aws
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver, operator
from tests.support import FakeLambdaContext


def run_balances() -> dict[str, Any]:
    from functions.balances.handler import lambda_handler

    return dict(lambda_handler({}, FakeLambdaContext()))


def test_only_what_is_still_owed_counts_per_currency(aws: Aws) -> None:
    customer = create_customer()
    open_usd = create_invoice(customer["id"], amount_due=10_000)
    partly_paid = create_invoice(customer["id"], amount_due=8_000, allow_partial=True, min_partial_amount=1_000)
    deliver(completed(checkout_for(partly_paid, 3_000)))
    paid = create_invoice(customer["id"], amount_due=5_000)
    deliver(completed(checkout_for(paid, 5_000)))
    voided = create_invoice(customer["id"], amount_due=7_000)
    void = operator(
        "POST", f"/v1/invoices/{voided['id']}/void", "/v1/invoices/{invoice_id}/void",
        params={"invoice_id": voided["id"]}, body={},
    )  # fmt: skip
    assert void["statusCode"] == 200, void["body"]
    create_invoice(customer["id"], amount_due=2_500, currency="EUR")

    balances = run_balances()["balances"]

    assert balances == {
        "USD": {"open_balance": open_usd["amount_due"] + 5_000, "open_invoices": 2},
        "EUR": {"open_balance": 2_500, "open_invoices": 1},
    }


def test_invoices_leave_the_index_when_settled_and_nothing_else_is_in_it(aws: Aws) -> None:
    customer = create_customer()
    invoice = create_invoice(customer["id"], amount_due=4_000)
    deliver(completed(checkout_for(invoice, 4_000)))

    assert run_balances()["balances"] == {}
    indexed = [i for i in aws.items("") if "gsi3pk" in i]
    assert indexed == []


def test_the_open_balance_is_a_metric_per_currency(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    customer = create_customer()
    create_invoice(customer["id"], amount_due=9_900, currency="GBP")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capsys.readouterr()

    run_balances()

    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [balance] = [b for b in blobs if "OpenBalance" in b]
    assert (balance["OpenBalance"], balance["currency"], balance["service"]) == ([9_900.0], "GBP", "payportal")
    [count] = [b for b in blobs if "OpenInvoices" in b]
    assert count["OpenInvoices"] == [1.0]
