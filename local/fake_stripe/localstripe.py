"""localstripe as the front's child process, on loopback only, tied to the front by a lifeline.

localstripe's own `start()` binds `::` (every interface, no flag to change it) and reloads whatever the
last run pickled to /tmp/localstripe.pickle. The child (`localstripe_server`) serves localstripe's
unmodified aiohttp app instead, on 127.0.0.1, always from an empty store, so an unauthenticated
card-accepting server is never reachable from the network and every run starts clean (like moto beside
it). localstripe still pickles its store to that fixed path on every write; we never read it back, so
runs sharing the file do not see each other's data.

`LocalstripeProcess` is the front's side: it starts the child, waits until it answers, and stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time

import aiohttp

from local.fake_stripe.config import HOST, IMPORT_ROOT
from local.fake_stripe.lifeline import Lifeline

# localstripe only checks that a secret key looks like one; the front is the real gate.
INTERNAL_API_KEY = "sk_test_stripe_front"


class LocalstripeError(RuntimeError):
    """localstripe did not start, or died."""


class LocalstripeProcess:
    """The running child. Use `start()`, then `await wait_until_ready()`, and always `stop()`."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, lifeline: Lifeline) -> None:
        self.process = process
        self.port = port
        self._lifeline = lifeline

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @classmethod
    def start(cls, port: int) -> LocalstripeProcess:
        lifeline = Lifeline()
        command = [
            sys.executable, "-m", "local.fake_stripe.localstripe_server",
            "--port", str(port), "--lifeline-fd", str(lifeline.child_fd),
        ]  # fmt: skip
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(IMPORT_ROOT), os.environ.get("PYTHONPATH")])),
        }
        try:
            process = subprocess.Popen(command, cwd=IMPORT_ROOT, env=env, pass_fds=(lifeline.child_fd,))
        except BaseException:
            lifeline.cut()
            raise
        lifeline.started()
        return cls(process, port, lifeline)

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

    def stop(self, timeout_s: float = 2.0) -> None:
        self._lifeline.cut()
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout_s)
