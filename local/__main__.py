"""`make dev`: the whole of payportal on this machine, until Ctrl-C.

    python -m local [--no-seed]

Ports and seeding come from the environment, see `local.config`.

However it is stopped, nothing of it stays running. SIGINT, SIGTERM or SIGHUP stops the stack in order;
more of them while it stops change nothing, and a stop that takes longer than STOP_DEADLINE_S ends the
process outright. The fake Stripe's processes are tied to this one by a lifeline
(local/fake_stripe/lifeline.py), so they stop on their own when it ends, even by SIGKILL.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import warnings
from types import FrameType

from local.cognito import STAFF
from local.config import StackConfig
from local.seed import DemoData
from local.stack import LocalStack, StackError

# A stop takes a second or two; one still running after this is cut short (the children follow on their own).
STOP_DEADLINE_S = 8.0
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

log = logging.getLogger("local")


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
    stripe = stack.stripe_url if stack.stripe_front_running else "not running (local/fake_stripe missing)"
    lines = [
        "",
        "payportal is running offline",
        f"  API           {api}   (operator API: SigV4, access key 'testing', secret 'testing')",
    ]
    if demo is not None:
        lines.append(f"  Demo pay page {demo.pay_url}")
    staff = ", ".join(STAFF)
    lines += [
        f"  Console       {api}/console   ({staff}; password {stack.config.console_password!r})",
        f"  Emails sent   {api}/_local/emails",
        f"  Events        {api}/_local/events",
        f'  Clock         {api}/_local/clock   (POST {{"now": "2030-01-31T09:00:00+01:00"}} to jump)',
        f"  Stripe front  {stripe}",
        f"  AWS (moto)    {stack.moto_url}",
        "Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


class _StopRequests:
    """The stop signals. The first asks the stack to stop and starts the deadline; the ones after it only
    say so: raising in the main thread (KeyboardInterrupt) would cut the stop short and leave its children
    running."""

    def __init__(self) -> None:
        self.requested = threading.Event()

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.requested.is_set():
            log.info("already stopping (at most %.0f s)", STOP_DEADLINE_S)
            return
        self.requested.set()
        deadline = threading.Timer(STOP_DEADLINE_S, _exit_now)
        deadline.daemon = True
        deadline.start()


def _exit_now() -> None:
    log.error("still stopping after %.0f s: exiting now; the Stripe front stops on its own", STOP_DEADLINE_S)
    os._exit(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-seed", action="store_true", help="do not create the demo customer and invoice")
    args = parser.parse_args(argv)
    _configure_logging()

    try:
        config = StackConfig.from_environment()
    except ValueError as error:
        log.error("%s", error)
        return 2
    stack = LocalStack(config)
    stop = _StopRequests()
    # Explicit handlers: SIGINT may arrive ignored (background jobs), and SIGTERM must stop cleanly too.
    # A signal during the start lets it finish (or the deadline end it), then the stack stops.
    for signum in _STOP_SIGNALS:
        signal.signal(signum, stop)
    try:
        try:
            stack.start()
        except StackError as error:
            log.error("%s", error)
            return 1

        demo = None
        if config.seed and not args.no_seed and not stop.requested.is_set():
            try:
                demo = stack.seed_demo_data()
            except Exception as error:
                log.error("demo data not created (the stack keeps running): %s", error)
        if not stop.requested.is_set():
            print(_banner(stack, demo), flush=True)
        while not stop.requested.wait(0.5):
            pass
    finally:
        log.info("stopping")
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
