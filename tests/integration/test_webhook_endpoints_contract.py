"""The webhook endpoints contract over DynamoWebhookEndpoints and a table in moto, built from shared/schema.py."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from shared import schema
from shared.adapters.dynamodb.webhook_endpoints import DynamoWebhookEndpoints
from tests.contracts.webhook_endpoints_contract import WebhookEndpointsContract

TABLE = "payportal-contract"


class TestDynamoWebhookEndpoints(WebhookEndpointsContract):
    @pytest.fixture
    def endpoints(self) -> Iterator[DynamoWebhookEndpoints]:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(**schema.create_table_kwargs(TABLE))
            yield DynamoWebhookEndpoints(client, TABLE)
