"""Driving the fake Stripe as payportal does: started by its CLI as `make dev` starts it, called with the real
stripe SDK and a browser-like HTTP client for the hosted page, its webhooks received by a tiny server."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
import stripe

from local.fake_stripe.lifeline import Lifeline

API_KEY = "sk_test_local"
WEBHOOK_SECRET = "whsec_front_tests"
REPO_ROOT = Path(__file__).resolve().parents[2]
CARD_OK = "4242 4242 4242 4242"


# -- the webhook receiver ----------------------------------------------------------------------------------


@dataclass
class Delivery:
    signature: str
    body: bytes
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class WebhookInbox:
    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    fail_next: int = 0  # answer this many deliveries with a 500, as a broken endpoint would
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, matches: Callable[[Delivery], bool], *, count: int = 1, timeout: float = 10) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [d for d in self.deliveries if d.answered == 200 and matches(d)]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"expected {count} matching webhook deliveries within {timeout} s")

    def event(self, event_type: str, object_id: str) -> Delivery:
        """The first accepted delivery of `event_type` about the object `object_id`."""

        def matches(delivery: Delivery) -> bool:
            event = delivery.event
            return bool(event["type"] == event_type and event["data"]["object"]["id"] == object_id)

        return self.wait_for(matches)[0]


@contextlib.contextmanager
def running_inbox() -> Iterator[WebhookInbox]:
    """A webhook endpoint on a free port, recording what it receives."""
    box = WebhookInbox()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with box.lock:
                status = 500 if box.fail_next > 0 else 200
                box.fail_next = max(box.fail_next - 1, 0)
                box.deliveries.append(Delivery(self.headers.get("Stripe-Signature", ""), body, status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    box.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()


# -- the front, started as `make dev` starts it ------------------------------------------------------------


@dataclass
class Front:
    url: str
    process: subprocess.Popen[bytes]
    localstripe_port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accepts_connections(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_front(webhook_url: str, log: Path, *, lifeline: Lifeline | None = None) -> Front:
    """The front as `make dev` starts it; tied to this process by `lifeline` when one is given."""
    port, localstripe_port = free_port(), free_port()
    command = [
        sys.executable, "-m", "local.fake_stripe",
        "--port", str(port), "--localstripe-port", str(localstripe_port),
        "--api-key", API_KEY, "--webhook-secret", WEBHOOK_SECRET, "--webhook-url", webhook_url,
    ]  # fmt: skip
    passed: tuple[int, ...] = ()
    if lifeline is not None:
        command += ["--lifeline-fd", str(lifeline.child_fd)]
        passed = (lifeline.child_fd,)
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=sink, stderr=subprocess.STDOUT, pass_fds=passed)
    if lifeline is not None:
        lifeline.started()
    front = Front(f"http://127.0.0.1:{port}", process, localstripe_port, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the front exited while starting:\n{front.output()}"
        try:
            if requests.get(f"{front.url}/_front/health", timeout=1).json() == {"ok": True}:
                return front
        except requests.RequestException:
            pass
        time.sleep(0.1)
    stop_front(front)
    raise AssertionError(f"the front did not become healthy:\n{front.output()}")


def stop_front(front: Front) -> int:
    if front.process.poll() is None:
        front.process.send_signal(signal.SIGTERM)
    try:
        return front.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        front.process.kill()
        front.process.wait(timeout=5)
        raise


def session_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "payment_method_types": ["card"],
        "line_items": [
            {
                "quantity": 1,
                "price_data": {"currency": "eur", "unit_amount": 12_500, "product_data": {"name": "Invoice INV-7"}},
            }
        ],
        "success_url": "http://127.0.0.1:3000/pay/done?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:3000/pay/cancelled",
        "metadata": {"invoice_id": "inv_7"},
        "payment_intent_data": {"metadata": {"invoice_id": "inv_7", "attempt": uuid.uuid4().hex}},
        "client_reference_id": "inv_7",
    }
    return params | overrides


def pay(front: Front, session_id: str, card_number: str) -> requests.Response:
    """What the browser posts when the payer submits the hosted page's form."""
    form = {"card_number": card_number, "expiry": "12 / 34", "cvc": "123"}
    return requests.post(f"{front.url}/checkout/{session_id}/pay", data=form, allow_redirects=False, timeout=10)


def front_events(front: Front) -> list[dict[str, Any]]:
    return list(requests.get(f"{front.url}/_front/events", timeout=5).json()["data"])


def assert_signed_by_stripe_scheme(delivery: Delivery) -> None:
    parts = dict(part.split("=", 1) for part in delivery.signature.split(","))
    expected = hmac.new(WEBHOOK_SECRET.encode(), parts["t"].encode() + b"." + delivery.body, hashlib.sha256)
    assert hmac.compare_digest(parts["v1"], expected.hexdigest())
    assert abs(int(parts["t"]) - time.time()) < 60
    event = stripe.Webhook.construct_event(delivery.body.decode(), delivery.signature, WEBHOOK_SECRET)
    assert event.id == delivery.event["id"]
