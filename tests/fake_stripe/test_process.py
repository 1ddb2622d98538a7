"""The fake Stripe as a process: its command line and how it stops."""

from __future__ import annotations

import time
from pathlib import Path

from local.fake_stripe.cli import parse_args
from local.fake_stripe.config import FrontConfig
from local.fake_stripe.lifeline import Lifeline
from tests.fake_stripe.helpers import (
    WebhookInbox,
    accepts_connections,
    start_front,
    stop_front,
)

# -- lifecycle ---------------------------------------------------------------------------------------------


def test_sigterm_stops_the_front_and_its_localstripe(inbox: WebhookInbox, tmp_path: Path) -> None:
    # Given a running front (a second one, so the shared one stays up)
    running = start_front(inbox.url, tmp_path / "front.log")
    assert accepts_connections(running.localstripe_port)
    # When it gets SIGTERM, as `make dev` sends it on Ctrl-C
    code = stop_front(running)
    # Then it exits cleanly and localstripe is gone with it
    assert code == 0
    deadline = time.monotonic() + 5
    while accepts_connections(running.localstripe_port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not accepts_connections(running.localstripe_port)


def test_the_front_and_its_localstripe_stop_when_the_process_that_started_them_is_gone(
    inbox: WebhookInbox, tmp_path: Path
) -> None:
    # Given a front tied to this process by a lifeline, as the local stack starts it
    lifeline = Lifeline()
    running = start_front(inbox.url, tmp_path / "front.log", lifeline=lifeline)
    try:
        assert accepts_connections(running.localstripe_port)
        # When the line is cut, as it is when this process ends however it ends (even by SIGKILL)
        lifeline.cut()
        # Then the front exits on its own, and localstripe is gone with it
        assert running.process.wait(timeout=10) == 0, running.output()
        deadline = time.monotonic() + 5
        while accepts_connections(running.localstripe_port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not accepts_connections(running.localstripe_port), running.output()
    finally:
        stop_front(running)


def test_the_cli_reads_its_settings_from_the_environment() -> None:
    environ = {
        "PAYPORTAL_LOCAL_STRIPE_PORT": "9420",
        "PAYPORTAL_LOCALSTRIPE_PORT": "9421",
        "PAYPORTAL_LOCAL_STRIPE_KEY": "sk_test_env",
        "PAYPORTAL_LOCAL_WEBHOOK_SECRET": "whsec_env",
        "PAYPORTAL_LOCAL_WEBHOOK_URL": "http://127.0.0.1:1/hook",
    }
    assert parse_args([], environ) == FrontConfig(9420, 9421, "sk_test_env", "whsec_env", "http://127.0.0.1:1/hook")
    assert parse_args(["--port", "1"], environ).port == 1
    assert parse_args([], {}) == FrontConfig()
