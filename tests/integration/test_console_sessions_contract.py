"""The console sessions contract over DynamoConsoleSessions and a table in moto, built from shared/schema.py."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from shared import schema
from shared.adapters.dynamodb.console_sessions import DynamoConsoleSessions
from tests.contracts.console_sessions_contract import ConsoleSessionsContract

TABLE = "payportal-contract"


class TestDynamoConsoleSessions(ConsoleSessionsContract):
    @pytest.fixture
    def sessions(self) -> Iterator[DynamoConsoleSessions]:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(**schema.create_table_kwargs(TABLE))
            yield DynamoConsoleSessions(client, TABLE)
