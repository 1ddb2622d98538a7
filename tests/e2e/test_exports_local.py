"""Stripe's fee on the local stack: a card payment through Checkout, reconciliation reading the fee from the
local Stripe's balance transaction, and the accounting exports showing it (docs/integrations.md, Fees)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from local.fake_stripe.fees import card_fee, dispute_fee
from local.stack import LocalStack
from tests.e2e.test_money_loop_http import eventually, invoice_state, new_invoice, pay_on_checkout

pytestmark = pytest.mark.e2e


def test_a_card_payments_fee_is_read_by_reconciliation_and_exported(local_stack: LocalStack) -> None:
    # Given an invoice of 125.00 paid in full by card
    _, invoice = new_invoice(local_stack)
    redirect = requests.post(f"{invoice['pay_url']}/checkout", allow_redirects=False, timeout=20)
    assert pay_on_checkout(redirect.headers["Location"], "4242 4242 4242 4242").status_code == 303
    paid = eventually(lambda: (s := invoice_state(local_stack, invoice["id"]))["status"] == "paid" and s)
    [payment] = paid["payments"]
    assert payment["fee"] is None  # not read yet
    # When reconciliation runs
    fired = local_stack.post("/_local/schedules/reconcile/run")
    assert fired.status_code == 200, fired.text
    # Then the payment carries Stripe's fee, from its charge's balance transaction
    [payment] = invoice_state(local_stack, invoice["id"])["payments"]
    fee = card_fee(12_500, "usd")
    assert payment["fee"]["amount"] == fee and payment["fee"]["currency"] == "USD"
    assert payment["fee"]["balance_transaction"].startswith("txn_")
    # And today's QuickBooks file has the payment in and the fee out, after it
    today = datetime.now(UTC).date().isoformat()
    query = f"from={today}&to={today}&timezone=UTC&currency=USD&format=quickbooks"
    exported = local_stack.signed("GET", f"/v1/exports/payments?{query}")
    assert exported.status_code == 200, exported.text
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    mine = [row for row in rows if invoice["number"] in row["Description"]]
    assert [(row["Description"].split(" INV")[0], Decimal(row["Amount"])) for row in mine] == [
        ("Payment", Decimal("125.00")),
        ("Stripe fee", -Decimal(fee).scaleb(-2)),
    ]
    # And the full CSV has it in the payment's own line
    full = local_stack.signed("GET", f"/v1/exports/payments?from={today}&to={today}&timezone=UTC")
    [line] = [row for row in csv.DictReader(io.StringIO(full.text)) if row["invoice_number"] == invoice["number"]]
    assert (Decimal(line["fee"]), line["fee_currency"], Decimal(line["net"])) == (
        Decimal(fee).scaleb(-2),
        "USD",
        Decimal(12_500 - fee).scaleb(-2),
    )
    # When the cardholder disputes the payment and the dispute is lost
    opened = requests.post(f"{local_stack.stripe_url}/_front/payment_intents/{payment['id']}/dispute", timeout=10)
    assert opened.status_code == 200, opened.text
    closed = requests.post(
        f"{local_stack.stripe_url}/_front/disputes/{opened.json()['id']}/close", json={"status": "lost"}, timeout=10
    )
    assert closed.status_code == 200, closed.text
    eventually(lambda: invoice_state(local_stack, invoice["id"])["hold"])
    # Then the chargeback is a line with the dispute's fee, read from the dispute's own balance transaction
    full = local_stack.signed("GET", f"/v1/exports/payments?from={today}&to={today}&timezone=UTC")
    [lost] = [
        row
        for row in csv.DictReader(io.StringIO(full.text))
        if row["invoice_number"] == invoice["number"] and row["type"] == "dispute_lost"
    ]
    assert (Decimal(lost["amount"]), Decimal(lost["fee"])) == (
        Decimal("-125.00"),
        Decimal(dispute_fee("usd")).scaleb(-2),
    )
