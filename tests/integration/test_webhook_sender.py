"""The webhook HTTP client against hostile endpoints: names that resolve to private addresses, redirects,
endpoints that never answer, long error bodies."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from shared.adapters.webhook_http import SafeWebhookSender
from tests.webhook_receiver import Receiver, webhook_receiver


def resolving_to(*addresses: str) -> Any:
    def resolve(host: str, port: int, **_: Any) -> list[Any]:
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    return resolve


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.mark.parametrize(
    "addresses",
    [("127.0.0.1",), ("10.0.0.5",), ("169.254.169.254",), ("::1",), ("93.184.216.34", "192.168.0.1"), ()],
)
def test_a_name_resolving_to_a_non_public_address_is_refused_before_connecting(addresses: tuple[str, ...]) -> None:
    sender = SafeWebhookSender(resolve=resolving_to(*addresses))
    sent = sender.post("https://hooks.example.com/x", b"{}", {})
    assert sent.status is None and not sent.ok and "refused" in sent.excerpt


def test_http_is_refused_outside_the_local_stack(receiver: Receiver) -> None:
    sent = SafeWebhookSender().post(receiver.url(), b"{}", {})
    assert sent.status is None and receiver.received == []


def test_loopback_is_refused_in_aws_and_the_only_target_on_the_local_stack(receiver: Receiver) -> None:
    refused = SafeWebhookSender().post(f"https://localhost:{receiver.port}/hook", b"{}", {})
    assert refused.status is None and receiver.received == []
    # On the local stack: a public name is not even looked up, let alone reached
    looked_up: list[str] = []
    local = SafeWebhookSender(loopback_only=True, resolve=lambda host, *_, **__: looked_up.append(host) or [])
    assert local.post("https://hooks.example.com/x", b"{}", {}).status is None and looked_up == []
    # localhost, connected at the loopback address it resolved to and was checked
    sender = SafeWebhookSender(loopback_only=True, resolve=resolving_to("127.0.0.1"))
    sent = sender.post(f"http://localhost:{receiver.port}/hook?x=1", b'{"a":1}', {"webhook-id": "msg_1"})
    assert sent.ok and receiver.received[0].body == b'{"a":1}' and receiver.received[0].path == "/hook?x=1"
    assert receiver.received[0].headers["host"] == f"localhost:{receiver.port}"
    # a name that resolves elsewhere is refused even so
    elsewhere = SafeWebhookSender(loopback_only=True, resolve=resolving_to("93.184.216.34"))
    assert elsewhere.post(f"http://localhost:{receiver.port}/hook", b"{}", {}).status is None


def test_a_redirect_is_not_followed_and_an_error_keeps_only_a_short_excerpt(receiver: Receiver) -> None:
    receiver.statuses["/moved"] = 302
    receiver.statuses["/error"] = 500
    sender = SafeWebhookSender(loopback_only=True)
    moved = sender.post(receiver.url("/moved"), b"{}", {})
    assert moved.status == 302 and not moved.ok and len(receiver.received) == 1
    failed = sender.post(receiver.url("/error"), b"{}", {})
    assert failed.status == 500 and 0 < len(failed.excerpt) <= 200


def test_an_endpoint_that_never_answers_times_out() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True).start()
    try:
        started = time.monotonic()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/slow"
        sent = SafeWebhookSender(loopback_only=True, timeout=0.5).post(url, b"{}", {})
        assert sent.status is None and "0.5 s" in sent.excerpt and time.monotonic() - started < 3
    finally:
        for connection in held:
            connection.close()
        listener.close()
