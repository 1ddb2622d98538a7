"""localstripe as the Stripe front's child process, listening on loopback only.

    python -m local.fake_stripe.localstripe --port 8421

localstripe's own `start()` binds `::` (every interface, no flag to change it) and reloads whatever the
last run pickled to /tmp/localstripe.pickle. This launcher serves localstripe's unmodified aiohttp
app instead, on 127.0.0.1, always from an empty store, so an unauthenticated card-accepting server is
never reachable from the network and every run starts clean (like moto beside it). localstripe still
pickles its store to that fixed path on every write; we never read it back, so runs sharing the file
do not see each other's data.

The parent side (`LocalstripeProcess`) starts it, waits until it answers, and stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

HOST = "127.0.0.1"
# localstripe only checks that a secret key looks like one; the front is the real gate.
INTERNAL_API_KEY = "sk_test_stripe_front"
REPO_ROOT = Path(__file__).resolve().parents[2]


class LocalstripeError(RuntimeError):
    """localstripe did not start, or died."""


class LocalstripeProcess:
    """The running child. Use `start()`, then `await wait_until_ready()`, and always `stop()`."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @classmethod
    def start(cls, port: int) -> LocalstripeProcess:
        command = [sys.executable, "-m", "local.fake_stripe.localstripe", "--port", str(port)]
        # Our parent may have started us from anywhere: make `local` importable for the child.
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
        return cls(subprocess.Popen(command, cwd=REPO_ROOT, env=env), port)

    async def wait_until_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        headers = {"Authorization": f"Bearer {INTERNAL_API_KEY}"}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while True:
                if self.process.poll() is not None:
                    raise LocalstripeError(f"localstripe exited with status {self.process.returncode} while starting")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(f"{self.url}/v1/customers?limit=1", headers=headers) as reply:
                        if reply.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise LocalstripeError(f"localstripe did not answer on {self.url} within {timeout_s:.0f} s")
                await asyncio.sleep(0.1)

    def stop(self, timeout_s: float = 5.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout_s)


# -- the child ---------------------------------------------------------------------------------------------


async def _serve(port: int) -> None:
    from localstripe.server import app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    # No access log: request lines would only repeat what the front already logs.
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, HOST, port).start()
        parent = os.getppid()
        # If the front is killed outright (SIGKILL, crash) nobody sends us SIGTERM: notice the orphaning.
        while not stop.is_set() and os.getppid() == parent:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.fake_stripe.localstripe", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
