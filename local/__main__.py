"""`make dev`: the whole of payportal on this machine, until Ctrl-C.

    python -m local [--no-seed]

Ports and seeding come from the environment, see `local.config`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import warnings
from types import FrameType

from local.config import StackConfig
from local.seed import DemoData
from local.stack import LocalStack, StackError


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Metrics are off locally; Powertools still warns on every invocation that it has none to publish.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def _banner(stack: LocalStack, demo: DemoData | None) -> str:
    api = stack.api_url
    stripe = stack.stripe_url if stack.stripe_front_running else "not running (local/stripe_front missing)"
    lines = [
        "",
        "payportal is running offline",
        f"  API           {api}   (operator API: SigV4, access key 'testing', secret 'testing')",
    ]
    if demo is not None:
        lines.append(f"  Demo pay page {demo.pay_url}")
    lines += [
        f"  Emails sent   {api}/_local/emails",
        f"  Events        {api}/_local/events",
        f'  Clock         {api}/_local/clock   (POST {{"now": "2030-01-31T09:00:00+01:00"}} to jump)',
        f"  Stripe front  {stripe}",
        f"  AWS (moto)    {stack.moto_url}",
        "Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-seed", action="store_true", help="do not create the demo customer and invoice")
    args = parser.parse_args(argv)
    _configure_logging()
    log = logging.getLogger("local")

    try:
        config = StackConfig.from_environment()
    except ValueError as error:
        log.error("%s", error)
        return 2
    stack = LocalStack(config)
    stopping = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():  # asked twice: stop waiting for whatever is in progress
            raise KeyboardInterrupt
        stopping.set()

    # Explicit handlers: SIGINT may arrive ignored (background jobs), and SIGTERM must stop cleanly too.
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        try:
            stack.start()
        except StackError as error:
            log.error("%s", error)
            return 1

        demo = None
        if config.seed and not args.no_seed and not stopping.is_set():
            try:
                demo = stack.seed_demo_data()
            except Exception as error:
                log.error("demo data not created (the stack keeps running): %s", error)
        print(_banner(stack, demo), flush=True)

        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        log.info("stopping")
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
