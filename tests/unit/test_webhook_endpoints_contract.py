"""The webhook endpoints contract over the in-memory fake."""

from __future__ import annotations

import pytest

from tests.contracts.webhook_endpoints_contract import WebhookEndpointsContract
from tests.fakes.webhooks import FakeWebhookEndpoints


class TestFakeWebhookEndpoints(WebhookEndpointsContract):
    @pytest.fixture
    def endpoints(self) -> FakeWebhookEndpoints:
        return FakeWebhookEndpoints()
