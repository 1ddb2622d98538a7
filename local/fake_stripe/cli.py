"""The fake Stripe's command line.

    python -m local.fake_stripe [--port 8420] [--localstripe-port 8421] [--api-key sk_test_local]
                                [--webhook-secret whsec_local] [--webhook-url http://127.0.0.1:3000/webhooks/stripe]

Each flag falls back to an environment variable, then to the default above: PAYPORTAL_LOCAL_STRIPE_PORT,
PAYPORTAL_LOCALSTRIPE_PORT (or the stack's PAYPORTAL_LOCAL_LOCALSTRIPE_PORT), PAYPORTAL_LOCAL_STRIPE_KEY,
PAYPORTAL_LOCAL_WEBHOOK_SECRET, PAYPORTAL_LOCAL_WEBHOOK_URL. Port 0 means any free port. Everything
listens on 127.0.0.1 only. SIGTERM or SIGINT stops the front and its localstripe; so does the end of the
process that started it, when it passes --lifeline-fd.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

from local.fake_stripe.config import FrontConfig
from local.fake_stripe.lifeline import check_lifeline
from local.fake_stripe.localstripe import LocalstripeError
from local.fake_stripe.server import run_front

logger = logging.getLogger("local.fake_stripe")


def parse_args(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> FrontConfig:
    """Flags win over environment variables, which win over the defaults."""
    env = os.environ if environ is None else environ
    defaults = FrontConfig()

    def from_env(*names: str, default: Any) -> Any:
        return next((env[name] for name in names if env.get(name, "").strip()), default)

    parser = argparse.ArgumentParser(
        prog="python -m local.fake_stripe", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--port",
        type=int,
        default=from_env("PAYPORTAL_LOCAL_STRIPE_PORT", default=defaults.port),
        help="where the front listens on 127.0.0.1 (0: any free port)",
    )
    parser.add_argument(
        "--localstripe-port",
        type=int,
        default=from_env(
            "PAYPORTAL_LOCALSTRIPE_PORT", "PAYPORTAL_LOCAL_LOCALSTRIPE_PORT", default=defaults.localstripe_port
        ),
        help="where the localstripe child listens on 127.0.0.1 (0: any free port)",
    )
    parser.add_argument(
        "--api-key",
        default=from_env("PAYPORTAL_LOCAL_STRIPE_KEY", default=defaults.api_key),
        help="the secret key callers must present",
    )
    parser.add_argument(
        "--webhook-secret",
        default=from_env("PAYPORTAL_LOCAL_WEBHOOK_SECRET", default=defaults.webhook_secret),
        help="the endpoint secret events are signed with",
    )
    parser.add_argument(
        "--webhook-url",
        default=from_env("PAYPORTAL_LOCAL_WEBHOOK_URL", default=defaults.webhook_url),
        help="where events are POSTed",
    )
    parser.add_argument(
        "--lifeline-fd", type=int, help="a pipe from the parent process: stop when it closes (the parent is gone)"
    )
    args = parser.parse_args(argv)
    # argparse only converts strings given on the command line; defaults from the environment arrive raw.
    return FrontConfig(
        port=_port(args.port, "--port"),
        localstripe_port=_port(args.localstripe_port, "--localstripe-port"),
        api_key=args.api_key,
        webhook_secret=args.webhook_secret,
        webhook_url=args.webhook_url,
        lifeline_fd=args.lifeline_fd,
    )


def _port(raw: object, name: str) -> int:
    """A TCP port; 0 means any free port."""
    try:
        port = int(str(raw))
    except ValueError:
        raise SystemExit(f"{name} must be a port number, got {raw!r}") from None
    if not 0 <= port <= 65535:
        raise SystemExit(f"{name} must be between 0 and 65535, got {port}")
    return port


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )
    config = parse_args(argv)
    try:
        if config.lifeline_fd is not None:
            check_lifeline(config.lifeline_fd)
        run_front(config)
    except (LocalstripeError, OSError) as error:
        logger.error("the Stripe front could not start: %s", error)
        return 1
    return 0
