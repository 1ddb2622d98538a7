"""The localstripe child: localstripe's unmodified app served on loopback from an empty store, until
SIGTERM or SIGINT, or until the front that started it is gone (see `localstripe.py` for why).

    python -m local.fake_stripe.localstripe_server --port 8421 [--lifeline-fd N]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from aiohttp import web
from localstripe.server import app

from local.fake_stripe.config import HOST
from local.fake_stripe.lifeline import check_lifeline, stop_when_parent_gone

# A stop takes well under a second; past this, the lifeline ends the process outright.
STOP_GRACE_S = 2.0


async def serve(port: int, lifeline_fd: int | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if lifeline_fd is not None:
        stop_when_parent_gone(lifeline_fd, stop, grace_s=STOP_GRACE_S)

    # No access log: request lines would only repeat what the front already logs.
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, HOST, port).start()
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.fake_stripe.localstripe_server", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lifeline-fd", type=int, help="stop when this pipe from the parent closes")
    args = parser.parse_args(argv)
    if args.lifeline_fd is not None:
        check_lifeline(args.lifeline_fd)
    asyncio.run(serve(args.port, args.lifeline_fd))
    return 0


if __name__ == "__main__":
    sys.exit(main())
