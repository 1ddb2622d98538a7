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
