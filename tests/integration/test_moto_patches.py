"""moto's `TransactWriteItems` as the local stack and these tests run it (local/moto_patches.py): all or
nothing like DynamoDB, and a write whose cost does not grow with the table."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Table

from local import moto_patches
from shared import schema

REGION = "us-east-1"
ACCOUNT = "123456789012"
TABLE = "payportal-patches"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(**schema.create_table_kwargs(TABLE))
        yield client


def invoice(n: int, **extra: Any) -> dict[str, Any]:
    """An invoice-like item with its index keys, as the adapter writes them."""
    return {
        "pk": {"S": f"INVOICE#inv_{n:06d}"},
        "sk": {"S": "INVOICE"},
        "type": {"S": "invoice"},
        "status": {"S": "open"},
        "amount_due": {"N": "12500"},
        "amount_paid": {"N": "0"},
        "currency": {"S": "USD"},
        "version": {"N": "1"},
        schema.BY_OWNER_PK: {"S": f"CUSTOMER#cust_{n % 97}"},
        schema.BY_OWNER_SK: {"S": f"INVOICE#2027-03-01T00:00:00Z#inv_{n:06d}"},
        **extra,
    }


def fill(count: int, table: str = TABLE) -> None:
    """Put `count` invoices straight into moto's backend: the same items batch writes would leave, quicker."""
    backend = dynamodb_backends[ACCOUNT][REGION]
    for n in range(count):
        backend.put_item(table, invoice(n))


def everything(dynamodb: Any) -> list[dict[str, Any]]:
    pages = dynamodb.get_paginator("scan").paginate(TableName=TABLE)
    return sorted((item for page in pages for item in page["Items"]), key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def key(n: int) -> dict[str, Any]:
    return {"pk": {"S": f"INVOICE#inv_{n:06d}"}, "sk": {"S": "INVOICE"}}


def payment_writes(last_condition: str) -> list[dict[str, Any]]:
    """A payment-like transaction: raise one invoice's amount paid, drop another, add a payment and an outbox
    message, then a guard on a third invoice."""
    return [
        {
            "Update": {
                "TableName": TABLE,
                "Key": key(10),
                "UpdateExpression": "SET amount_paid = amount_paid + :paid, version = version + :one",
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":paid": {"N": "12500"}, ":one": {"N": "1"}, ":v": {"N": "1"}},
            }
        },
        {"Delete": {"TableName": TABLE, "Key": key(11), "ConditionExpression": "attribute_exists(pk)"}},
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "INVOICE#inv_000010"}, "sk": {"S": "PAYMENT#pi_1"}}}},
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "OUTBOX#msg_1"}, "sk": {"S": "OUTBOX"}}}},
        {
            "ConditionCheck": {
                "TableName": TABLE,
                "Key": key(12),
                "ConditionExpression": last_condition,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    ]


def stream(table: str = TABLE) -> Any:
    """The table's stream shard in moto (DynamoDB Streams' API is not served in-process)."""
    return dynamodb_backends[ACCOUNT][REGION].get_table(table).stream_shard


def keys_on(records: list[Any]) -> list[tuple[str, str, str]]:
    return [
        (r.record["eventName"], r.record["dynamodb"]["Keys"]["pk"]["S"], r.record["dynamodb"]["SequenceNumber"])
        for r in records
    ]


def test_a_cancelled_transaction_leaves_the_table_and_its_stream_exactly_as_they_were(dynamodb: Any) -> None:
    # Given a table of 2,000 invoices, and its stream
    fill(2_000)
    before = everything(dynamodb)
    shard = stream()
    records_before = keys_on(shard.items)

    # When a transaction updates, deletes and puts items, then fails its last condition
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as cancelled:
        dynamodb.transact_write_items(TransactItems=payment_writes("attribute_not_exists(pk)"))

    # Then DynamoDB's answer names the one failed condition, with the item as it is
    reasons = cancelled.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "None", "None", "None", "ConditionalCheckFailed"]
    assert reasons[4]["Item"]["pk"] == {"S": "INVOICE#inv_000012"}
    # and every item is as it was, those the transaction had already changed included
    assert everything(dynamodb) == before
    assert dynamodb.describe_table(TableName=TABLE)["Table"]["ItemCount"] == 2_000
    # and the stream got nothing: the same shard (where readers' iterators point), the same records, and the
    # next committed write takes the next sequence number
    assert stream() is shard
    assert keys_on(shard.items) == records_before
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "OUTBOX#after"}, "sk": {"S": "OUTBOX"}})
    assert keys_on(shard.items[-1:]) == [("INSERT", "OUTBOX#after", str(shard.starting_sequence_number + 2_000))]


def test_a_committed_transaction_applies_every_write_once(dynamodb: Any) -> None:
    # Given a table of 2,000 invoices, and its stream
    fill(2_000)
    seen = len(stream().items)

    # When the same transaction's last condition holds
    dynamodb.transact_write_items(TransactItems=payment_writes("attribute_exists(pk)"))

    # Then all of it is there, and on the stream once each, in order
    paid = dynamodb.get_item(TableName=TABLE, Key=key(10))["Item"]
    assert (paid["amount_paid"], paid["version"]) == ({"N": "12500"}, {"N": "2"})
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key=key(11))
    payment = {"pk": {"S": "INVOICE#inv_000010"}, "sk": {"S": "PAYMENT#pi_1"}}
    assert "Item" in dynamodb.get_item(TableName=TABLE, Key=payment)
    assert dynamodb.describe_table(TableName=TABLE)["Table"]["ItemCount"] == 2_001
    assert [event[:2] for event in keys_on(stream().items[seen:])] == [
        ("MODIFY", "INVOICE#inv_000010"),
        ("REMOVE", "INVOICE#inv_000011"),
        ("INSERT", "INVOICE#inv_000010"),
        ("INSERT", "OUTBOX#msg_1"),
    ]


def test_a_transaction_naming_one_item_twice_is_refused_and_undone(dynamodb: Any) -> None:
    # Given a table of invoices
    fill(100)
    before = everything(dynamodb)

    # When a transaction writes an invoice, then names it again
    writes = [
        {"Put": {"TableName": TABLE, "Item": invoice(1, status={"S": "paid"})}},
        {"Delete": {"TableName": TABLE, "Key": key(2)}},
        {"ConditionCheck": {"TableName": TABLE, "Key": key(1), "ConditionExpression": "attribute_exists(pk)"}},
    ]
    with pytest.raises(dynamodb.exceptions.ClientError, match="ValidationException"):
        dynamodb.transact_write_items(TransactItems=writes)

    # Then nothing of it stays
    assert everything(dynamodb) == before


def median_write_ms(dynamodb: Any, writes: int) -> float:
    """Median time of a cancelled and a committed payment-like transaction, `writes` of each."""
    times = []
    for n in range(writes):
        item = {"pk": {"S": f"OUTBOX#timed-{n}"}, "sk": {"S": "OUTBOX"}}
        for condition in ("attribute_not_exists(pk)", "attribute_exists(pk)"):
            started = time.perf_counter()
            with contextlib.suppress(dynamodb.exceptions.TransactionCanceledException):  # half of them, by design
                dynamodb.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": TABLE, "Item": item}},
                        {"Update": {"TableName": TABLE, "Key": key(n), "UpdateExpression": "SET seen = :n",
                                    "ExpressionAttributeValues": {":n": {"N": str(n)}}}},
                        {"ConditionCheck": {"TableName": TABLE, "Key": key(n + 1), "ConditionExpression": condition}},
                    ]
                )  # fmt: skip
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def test_a_write_costs_the_same_on_a_large_table_as_on_a_small_one(dynamodb: Any) -> None:
    # Given the same transactions timed on a table of 200 invoices
    fill(200)
    small = median_write_ms(dynamodb, 30)

    # When the table holds 20,000
    fill(20_000)
    large = median_write_ms(dynamodb, 30)

    # Then a write takes about as long (moto's deep copy made it about 100 times as long)
    assert large < 3 * small + 5, (small, large)


def test_a_query_answers_from_its_partition_or_index_as_moto_did(dynamodb: Any) -> None:
    # Given 2,000 invoices, and a payment in one invoice's partition
    fill(2_000)
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "INVOICE#inv_000010"}, "sk": {"S": "PAYMENT#pi_1"}})

    # When the partition and one customer's invoices are queried, a page at a time, both ways
    partition = dynamodb.query(
        TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "INVOICE#inv_000010"}}
    )
    owner: dict[str, Any] = {
        "TableName": TABLE, "IndexName": schema.BY_OWNER_INDEX, "KeyConditionExpression": "gsi1pk = :c",
        "ExpressionAttributeValues": {":c": {"S": "CUSTOMER#cust_5"}}, "Limit": 7,
    }  # fmt: skip
    pages = dynamodb.get_paginator("query").paginate(**owner)
    forward = [i["pk"]["S"] for page in pages for i in page["Items"]]
    backward = [i["pk"]["S"] for i in dynamodb.query(**owner | {"ScanIndexForward": False, "Limit": 100})["Items"]]

    # Then each holds exactly what DynamoDB would return, in its order
    assert [i["sk"]["S"] for i in partition["Items"]] == ["INVOICE", "PAYMENT#pi_1"]
    expected = [f"INVOICE#inv_{n:06d}" for n in range(2_000) if n % 97 == 5]
    assert forward == expected
    assert backward == expected[::-1]


def query_ms(dynamodb: Any, queries: int) -> float:
    times = []
    for n in range(queries):
        started = time.perf_counter()
        dynamodb.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                       ExpressionAttributeValues={":p": {"S": f"INVOICE#inv_{n:06d}"}})  # fmt: skip
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def test_a_table_query_costs_the_same_on_a_large_table_as_on_a_small_one(dynamodb: Any) -> None:
    # Given the same Queries timed on a table of 200 invoices
    fill(200)
    small = query_ms(dynamodb, 30)

    # When the table holds 20,000
    fill(20_000)
    large = query_ms(dynamodb, 30)

    # Then a Query takes about as long (moto sorted the whole table for each: about 3 s at 20,000 items)
    assert large < 3 * small + 5, (small, large)


def test_start_up_refuses_a_moto_whose_transactions_are_not_the_ones_patched(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given moto's own function, which the patch was written against
    original = moto_patches.original_transact_write_items()
    moto_patches._check_original(original)

    # When moto's function is not the one the patch copies, installing refuses
    monkeypatch.setattr(moto_patches, "ORIGINAL_SHA256", "0" * 64)
    with pytest.raises(moto_patches.MotoChanged, match="port what changed"):
        moto_patches._check_original(original)


def test_start_up_refuses_a_rollback_that_leaves_anything_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a moto whose writes change something the rollback does not put back (here: nothing is put back)
    monkeypatch.setattr(moto_patches._Journal, "roll_back", lambda self: None)

    # Then the proof run at start-up fails, loudly
    with pytest.raises(moto_patches.MotoChanged, match="cancelled transaction"):
        moto_patches._prove(moto_patches.original_transact_write_items(), moto_patches._transact_write_items)


def test_start_up_refuses_a_moto_whose_query_is_not_the_one_patched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(moto_patches.QUERY_SHA256, "all_items", "0" * 64)
    with pytest.raises(moto_patches.MotoChanged, match="all_items"):
        moto_patches._check_sources(Table, moto_patches.QUERY_SHA256, "the Query patch", "reads all_items only")


def test_moto_is_patched_for_these_tests() -> None:
    assert DynamoDBBackend.transact_write_items is moto_patches._transact_write_items
    assert Table.query is moto_patches._query and Table.all_items is moto_patches._all_items
