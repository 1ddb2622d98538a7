"""One fake Stripe per test module, started by its CLI, with a webhook inbox beside it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from tests.fake_stripe.helpers import API_KEY, Front, WebhookInbox, running_inbox, start_front, stop_front


@pytest.fixture(scope="module")
def inbox() -> Iterator[WebhookInbox]:
    with running_inbox() as box:
        yield box


@pytest.fixture(scope="module")
def front(inbox: WebhookInbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    running = start_front(inbox.url, tmp_path_factory.mktemp("front") / "front.log")
    try:
        yield running
    finally:
        stop_front(running)


@pytest.fixture
def client(front: Front) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": front.url}, max_network_retries=0)
