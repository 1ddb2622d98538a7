"""Running the fake Stripe: bind the front's port, start localstripe behind it, serve until told to stop
(SIGTERM, SIGINT, or the parent gone), then stop both."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from collections.abc import Awaitable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from local.fake_stripe.app import create_app
from local.fake_stripe.config import HOST, FrontConfig
from local.fake_stripe.lifeline import stop_when_parent_gone
from local.fake_stripe.localstripe import LocalstripeProcess

logger = logging.getLogger("local.fake_stripe")

# A stop takes about a second (localstripe included); past this, the lifeline ends the process outright.
STOP_GRACE_S = 4.0


class _AccessLogger(AbstractAccessLogger):
    """Method, path and status only: query strings can carry emails (`/v1/customers?email=`)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %d %.0fms", request.method, request.path, response.status, time * 1000)


def _listening_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError:
        sock.close()
        raise
    return sock


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


async def serve(config: FrontConfig) -> None:
    """Start localstripe, serve the front until SIGTERM, SIGINT or the parent's end, then stop both."""
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    if config.lifeline_fd is not None:
        stop_when_parent_gone(config.lifeline_fd, stop, grace_s=STOP_GRACE_S)
    # Bound before localstripe starts, so port 0 gives the session URLs their real port.
    sock = _listening_socket(config.port)
    base_url = f"http://{HOST}:{sock.getsockname()[1]}"
    localstripe = LocalstripeProcess.start(config.localstripe_port or _free_port())
    runner: web.AppRunner | None = None
    try:
        if not await _ready_unless_stopped(localstripe.wait_until_ready(config.localstripe_start_timeout_s), stop):
            return
        app = create_app(config, base_url=base_url, localstripe_url=localstripe.url)
        # A short shutdown: nothing in flight here is worth holding the ports for (the default is a minute).
        runner = web.AppRunner(app, access_log_class=_AccessLogger, shutdown_timeout=1.0)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        logger.info(
            "Stripe front on %s (localstripe on %s), webhooks to %s", base_url, localstripe.url, config.webhook_url
        )
        await stop.wait()
    finally:
        if runner is not None:
            await runner.cleanup()
        localstripe.stop()
        sock.close()


async def _ready_unless_stopped(ready: Awaitable[None], stop: asyncio.Event) -> bool:
    """Wait for `ready` unless asked to stop first (a Ctrl-C while localstripe is still starting)."""
    readiness = asyncio.ensure_future(ready)
    stopping = asyncio.ensure_future(stop.wait())
    done, pending = await asyncio.wait({readiness, stopping}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if readiness in done:
        readiness.result()  # re-raises LocalstripeError
        return True
    return False


def run_front(config: FrontConfig | None = None) -> None:
    """Run the front (and its localstripe) in this thread until it is told to stop."""
    asyncio.run(serve(config or FrontConfig()))
