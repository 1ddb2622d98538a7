"""The settings of one running fake Stripe."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"  # everything listens on loopback only: it accepts cards without real authentication
# The folder holding `local/`: the children import this package from there, wherever we were started from.
IMPORT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class FrontConfig:
    port: int = 8420
    localstripe_port: int = 8421
    api_key: str = "sk_test_local"
    webhook_secret: str = "whsec_local"
    webhook_url: str = "http://127.0.0.1:3000/webhooks/stripe"
    webhook_max_attempts: int = 5
    webhook_first_backoff_s: float = 0.5
    localstripe_start_timeout_s: float = 30.0
    # A pipe from the process that started this one: when it closes, that process is gone and so are we.
    lifeline_fd: int | None = None
