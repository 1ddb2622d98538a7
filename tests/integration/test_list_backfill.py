"""`payportal lists backfill` over moto: items written before the lists index are listed once it has run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared import schema
from shared.adapters.dynamodb import DynamoLedger
from shared.adapters.dynamodb.backfill import backfill_list_entries
from shared.adapters.dynamodb.codec import deserialize, serialize
from shared.domain.records import Refund, RefundStatus, ReturnKind
from shared.services.ports import Change, CustomerListing, InvoiceListing, PaymentListing, ReturnListing
from tests.fakes.records import a_customer, a_payment, an_invoice

TABLE = "payportal-backfill"
NOW = datetime(2027, 3, 1, 15, tzinfo=UTC)
# What items written before the lists carried none of.
NEW_ATTRIBUTES = (schema.LISTS_PK, schema.LISTS_SK, "invoice_number")


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(**schema.create_table_kwargs(TABLE))
        yield dynamodb


def as_before_the_lists(client: Any) -> None:
    """Turn the table into what the code before the lists wrote: no list keys or entries, no customer in the
    CUSTOMERS partition, payments without their invoice's number."""
    for page in client.get_paginator("scan").paginate(TableName=TABLE):
        for raw in page["Items"]:
            item = deserialize(raw)
            if item["sk"].startswith("LIST#"):
                client.delete_item(TableName=TABLE, Key={"pk": raw["pk"], "sk": raw["sk"]})
                continue
            old = {k: v for k, v in item.items() if k not in NEW_ATTRIBUTES}
            if item["type"] == "customer":
                old = {k: v for k, v in old.items() if k not in (schema.BY_OWNER_PK, schema.BY_OWNER_SK)}
            client.put_item(TableName=TABLE, Item=serialize(old))


def test_the_backfill_lists_what_was_written_before_and_is_safe_to_repeat(client: Any) -> None:
    # Given invoices, a customer and a payment written by the code before the lists
    ledger = DynamoLedger(client, TABLE)
    ledger.commit(Change(new_customer=a_customer("cus_1", name="Ann Smith")))
    ledger.commit(Change(new_invoice=an_invoice("inv_1", number="N-1", due_date=date(2027, 1, 1))))
    ledger.commit(Change(new_invoice=an_invoice("inv_2", number="N-2", due_date=date(2027, 2, 1))))
    ledger.commit(Change(payment=a_payment("pi_1", invoice_id="inv_1", created_at=NOW)))
    refund = Refund("re_1", 500, RefundStatus.SUCCEEDED, False, "", NOW)  # kept before refunds had created_at
    refunded = replace(a_payment("pi_1", invoice_id="inv_1", created_at=NOW), refunds=(refund,), refund_version=1)
    ledger.commit(Change(payment_refunds=refunded))
    as_before_the_lists(client)
    owed = InvoiceListing("owed", "USD")
    window = PaymentListing(since=datetime(2027, 3, 1, tzinfo=UTC), until=datetime(2027, 3, 2, tzinfo=UTC))
    assert ledger.list_invoices(owed, 10, None).items == []
    assert ledger.list_customers(CustomerListing("all"), 10, None).items == []

    # When the backfill runs, twice
    said: list[str] = []
    for _ in range(2):
        report = backfill_list_entries(client, TABLE, now=NOW, dry_run=False, say=said.append)
        assert report.rewritten == {"invoice": 2, "customer": 1, "payment": 1}

    # Then every list finds them, once, the payment with its invoice's number
    assert [i.id for i in ledger.list_invoices(owed, 10, None).items] == ["inv_1", "inv_2"]
    assert [c.id for _, c in ledger.list_customers(CustomerListing("all"), 10, None).items] == ["cus_1"]
    assert len(ledger.list_customers(CustomerListing("prefix", "ann"), 10, None).items) == 1
    payments = ledger.list_payments(window, 10, None).items
    assert [(p.key, p.invoice_number) for p in payments] == [("pi_1", "N-1")]
    returns = ledger.list_returns(ReturnListing(since=window.since, until=window.until), 10, None).items
    assert [(r.kind, r.refund.id if r.refund else "", r.at) for r in returns] == [(ReturnKind.REFUND, "re_1", NOW)]
    assert "rewrote 2 invoice(s), 1 customer(s), 1 payment(s)" in said[-1]
    # And the records read back as before: nothing but the keys changed
    assert ledger.get_invoice("inv_1") == an_invoice("inv_1", number="N-1", due_date=date(2027, 1, 1))


def test_a_dry_run_writes_nothing(client: Any) -> None:
    DynamoLedger(client, TABLE).commit(Change(new_invoice=an_invoice("inv_1")))
    as_before_the_lists(client)
    report = backfill_list_entries(client, TABLE, now=NOW, dry_run=True, say=lambda _: None)
    assert report.rewritten["invoice"] == 1
    assert DynamoLedger(client, TABLE).list_invoices(InvoiceListing("owed", "USD"), 10, None).items == []


def test_a_record_changed_while_the_backfill_read_it_is_read_again_not_overwritten(client: Any) -> None:
    # Given an old invoice, and a live update landing between the backfill's read and its write
    ledger = DynamoLedger(client, TABLE)
    ledger.commit(Change(new_invoice=an_invoice("inv_1")))
    as_before_the_lists(client)
    real = client.transact_write_items
    raced = []

    def update_first(**request: Any) -> Any:
        if not raced:
            raced.append(True)
            stored = ledger.get_invoice("inv_1")
            assert stored is not None
            ledger.commit(Change(invoice_update=an_invoice("inv_1", version=2, description="changed meanwhile")))
        return real(**request)

    client.transact_write_items = update_first
    report = backfill_list_entries(client, TABLE, now=NOW, dry_run=False, say=lambda _: None)

    # Then the update is kept, and the invoice is listed
    assert report.retried == 1
    stored = ledger.get_invoice("inv_1")
    assert stored is not None and stored.description == "changed meanwhile"
    assert [i.description for i in ledger.list_invoices(InvoiceListing("owed", "USD"), 10, None).items] == [
        "changed meanwhile"
    ]


def test_the_backfill_puts_payments_recorded_before_fees_up_for_their_fee_keeping_their_ttl(client: Any) -> None:
    # Given a succeeded Stripe payment written before fees were read (not in the due_work index), its invoice
    # settled and stamped with a TTL
    ledger = DynamoLedger(client, TABLE)
    ledger.commit(Change(payment=a_payment("pi_1", invoice_id="inv_1", created_at=NOW, updated_at=NOW)))
    key = {"pk": {"S": "INVOICE#inv_1"}, "sk": {"S": "PAYMENT#pi_1"}}
    stored = deserialize(client.get_item(TableName=TABLE, Key=key)["Item"])
    before = {k: v for k, v in stored.items() if k not in (schema.DUE_WORK_PK, schema.DUE_WORK_SK)}
    client.put_item(TableName=TABLE, Item=serialize(before | {schema.TTL_ATTRIBUTE: 2_000_000_000}))
    shard = schema.shard_of("pi_1", schema.DUE_WORK_SHARDS)
    assert ledger.pending_payments_due(shard, NOW, 10, None).items == []
    # When the backfill runs
    backfill_list_entries(client, TABLE, now=NOW, dry_run=False, say=lambda _: None)
    # Then reconciliation finds it due for its fee, and its TTL is kept
    [due] = ledger.pending_payments_due(shard, NOW, 10, None).items
    assert due.key == "pi_1" and due.fee_due
    assert int(deserialize(client.get_item(TableName=TABLE, Key=key)["Item"])[schema.TTL_ATTRIBUTE]) == 2_000_000_000
