"""The account store contract over DynamoAccountStore and a table in moto, built from shared/schema.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared import schema
from shared.adapters.dynamodb.account import DynamoAccountStore
from shared.adapters.dynamodb.codec import deserialize
from tests.contracts.account_store_contract import AccountStoreContract, Queued

TABLE = "payportal-contract"


class TestDynamoAccountStore(AccountStoreContract):
    @pytest.fixture
    def client(self) -> Iterator[Any]:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(**schema.create_table_kwargs(TABLE))
            yield client

    @pytest.fixture
    def store(self, client: Any) -> DynamoAccountStore:
        return DynamoAccountStore(client, TABLE)

    @pytest.fixture
    def queued(self, client: Any) -> Queued:
        def ids() -> list[str]:
            found = [deserialize(i) for i in client.scan(TableName=TABLE)["Items"]]
            return sorted(str(i["id"]) for i in found if str(i["pk"]).startswith(schema.OUTBOX_PREFIX))

        return ids
