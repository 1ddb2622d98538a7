"""The ledger contract over DynamoLedger and a table in moto, built from shared/schema.py."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from shared import schema
from shared.adapters.dynamodb import DynamoLedger
from tests.contracts.ledger_contract import LedgerContract

TABLE = "payportal-contract"


class TestDynamoLedger(LedgerContract):
    refused_request = ClientError  # a ValidationException, or a failed condition outside a transaction

    @pytest.fixture
    def ledger(self) -> Iterator[DynamoLedger]:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(**schema.create_table_kwargs(TABLE))
            yield DynamoLedger(client, TABLE)


def test_an_expiring_counter_carries_the_tables_ttl_attribute_and_one_that_is_kept_does_not() -> None:
    from shared.services.ports import Change, Tally
    from tests.fakes.records import an_invoice

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**schema.create_table_kwargs(TABLE))
        ledger = DynamoLedger(client, TABLE)
        # When a change moves a counter that expires and one kept for good
        tallies = [Tally("q", "b", {"n": 1}, expires_at=1_800_000_000), Tally("owed#USD", "M#2026-12", {"amount": 5})]
        ledger.commit(Change(new_invoice=an_invoice("inv_1"), tallies=tallies))

        # Then DynamoDB's TTL attribute is on the first item only, as a number of epoch seconds
        items = client.scan(TableName=TABLE)["Items"]
        by_scope = {item["scope"]["S"]: item for item in items if item.get("type", {}).get("S") == "tally"}
        assert by_scope["q"][schema.TTL_ATTRIBUTE] == {"N": "1800000000"}
        assert schema.TTL_ATTRIBUTE not in by_scope["owed#USD"]
