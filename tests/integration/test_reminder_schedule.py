"""Invoices with reminder work sit in the sparse, sharded due_work index; settled ones leave it."""

from __future__ import annotations

from typing import Any

from shared import schema
from tests.integration.conftest import Aws
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver, operator


def index_entry(aws: Aws, invoice_id: str) -> dict[str, Any] | None:
    [item] = [i for i in aws.items(f"INVOICE#{invoice_id}") if i["sk"] == "INVOICE"]
    if schema.DUE_WORK_PK not in item:
        return None
    return {k: item[k] for k in ("next_action_at", schema.DUE_WORK_PK, schema.DUE_WORK_SK)}


def test_a_new_invoice_is_scheduled_for_its_first_reminder_at_nine_in_the_customers_zone(aws: Aws) -> None:
    customer = create_customer(timezone="America/New_York")
    invoice = create_invoice(customer["id"], due_date="2027-03-15")
    entry = index_entry(aws, invoice["id"])
    # Due 15 March: the "upcoming" step is a week before, 09:00 EST = 14:00 UTC
    assert entry is not None
    assert entry["next_action_at"] == "2027-03-08T14:00:00Z"
    assert entry[schema.DUE_WORK_PK] in {f"DUE#{n}" for n in range(schema.DUE_WORK_SHARDS)}
    assert entry[schema.DUE_WORK_SK] == f"2027-03-08T14:00:00Z#{invoice['id']}"


def test_invoices_spread_over_the_shards(aws: Aws) -> None:
    customer = create_customer()
    shards = set()
    for _ in range(24):
        entry = index_entry(aws, create_invoice(customer["id"], due_date="2027-01-10")["id"])
        assert entry is not None
        shards.add(entry[schema.DUE_WORK_PK])
    assert len(shards) >= 4


def test_a_voided_invoice_leaves_the_index(aws: Aws) -> None:
    customer = create_customer()
    invoice = create_invoice(customer["id"], due_date="2027-01-10")
    operator(
        "POST",
        f"/v1/invoices/{invoice['id']}/void",
        "/v1/invoices/{invoice_id}/void",
        params={"invoice_id": invoice["id"]},
    )
    assert index_entry(aws, invoice["id"]) is None


def test_a_paid_invoice_leaves_the_index_and_a_partly_paid_one_stays(aws: Aws) -> None:
    customer = create_customer()
    invoice = create_invoice(customer["id"], due_date="2027-01-10", allow_partial=True, min_partial_amount=100)
    deliver(completed(checkout_for(invoice, 5_000)))
    assert index_entry(aws, invoice["id"]) is not None
    deliver(completed(checkout_for(invoice, 7_500)))
    assert index_entry(aws, invoice["id"]) is None
