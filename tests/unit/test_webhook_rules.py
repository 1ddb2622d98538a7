"""The outbound webhooks' pure rules: URLs, events, the addresses a delivery may reach, signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from shared.domain.webhooks import (
    InvalidWebhookEndpoint,
    SigningSecret,
    check_events,
    check_url,
    is_public_address,
    new_secret_value,
    rotated,
    signature,
)
from tests.contracts.webhook_endpoints_contract import an_endpoint

AT = datetime(2027, 3, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "100.64.0.1",
        "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "192.0.2.1", "198.18.0.1", "fe80::1%eth0",
    ],
)  # fmt: skip
def test_private_loopback_link_local_multicast_and_reserved_addresses_are_refused(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(address)


def test_loopback_http_only_when_allowed() -> None:
    assert check_url("http://localhost:9000/h", allow_loopback_http=True)
    assert check_url("http://127.0.0.1/h", allow_loopback_http=True)
    for url in ("http://localhost:9000/h", "http://example.com/h"):
        with pytest.raises(InvalidWebhookEndpoint):
            check_url(url, allow_loopback_http=False)
    with pytest.raises(InvalidWebhookEndpoint):
        check_url("http://example.com/h", allow_loopback_http=True)


def test_events_are_known_types_kept_once_in_order() -> None:
    assert check_events(["payment.succeeded", "invoice.paid", "payment.succeeded"]) == (
        "payment.succeeded",
        "invoice.paid",
    )
    assert check_events(["*"]) == ("*",)


def test_during_the_overlap_both_secrets_sign_and_either_verifies() -> None:
    # Given: an endpoint whose secret was rotated
    endpoint = an_endpoint()
    old = endpoint.current_secret
    new = SigningSecret(id="sec_2", value=new_secret_value(), created_at=AT)
    endpoint = rotated(endpoint, new, AT)
    # When: a delivery is signed during the overlap
    now = datetime.now(UTC)
    live = endpoint.live_secrets(AT + timedelta(hours=23))
    header = signature(live, "msg_1", now, '{"a":1}')
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": header}
    # Then: two signatures, space-separated, and a receiver with either secret verifies it
    assert len(header.split(" ")) == 2
    assert Webhook(old.value).verify('{"a":1}', headers) == {"a": 1}
    assert Webhook(new.value).verify('{"a":1}', headers) == {"a": 1}
    # After the overlap only the new one signs
    after = endpoint.live_secrets(AT + timedelta(hours=24))
    assert after == (new,)
    alone = {**headers, "webhook-signature": signature(after, "msg_1", now, '{"a":1}')}
    with pytest.raises(WebhookVerificationError):
        Webhook(old.value).verify('{"a":1}', alone)


def test_a_secret_never_shows_in_a_repr() -> None:
    endpoint = an_endpoint()
    assert endpoint.current_secret.value not in repr(endpoint)
