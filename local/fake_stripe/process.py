"""Runs the fake Stripe (the front, and localstripe behind it) as a child process: for the local stack, the
integration tests and the benchmarks alike.

The child lives in its own session, so a Ctrl-C in the terminal reaches only the parent, which stops it in
order (after the API that calls it). It is tied to the parent by a lifeline (see lifeline.py), so it also
stops when the parent is killed outright or crashes and nobody is left to stop it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import requests

from local.fake_stripe.config import HOST, IMPORT_ROOT
from local.fake_stripe.lifeline import Lifeline

# A clean stop takes about a second; then the whole session is killed.
STOP_TIMEOUT_S = 3.0


class FrontError(RuntimeError):
    pass


class FrontProcess:
    def __init__(
        self,
        *,
        port: int,
        localstripe_port: int,
        api_key: str,
        webhook_secret: str,
        webhook_url: str,
        start_timeout_s: float = 30.0,
        quiet: bool = False,
    ) -> None:
        self.port = port
        self._command = [
            sys.executable, "-m", "local.fake_stripe",
            "--port", str(port), "--localstripe-port", str(localstripe_port),
            "--api-key", api_key, "--webhook-secret", webhook_secret, "--webhook-url", webhook_url,
        ]  # fmt: skip
        self._timeout = start_timeout_s
        self._quiet = quiet
        self._process: subprocess.Popen[bytes] | None = None
        self._lifeline: Lifeline | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> str:
        output = subprocess.DEVNULL if self._quiet else None
        self._lifeline = lifeline = Lifeline()
        try:
            self._process = subprocess.Popen(
                [*self._command, "--lifeline-fd", str(lifeline.child_fd)],
                cwd=IMPORT_ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,
                pass_fds=(lifeline.child_fd,),
                stdout=output,
                stderr=output,
            )
        except BaseException:
            self.stop()
            raise
        lifeline.started()
        deadline = time.monotonic() + self._timeout
        while True:
            code = self._process.poll()
            if code is not None:
                self.stop()
                raise FrontError(f"the Stripe front exited with status {code} while starting")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/_front/health", timeout=1).status_code == 200:
                    return self.url
            if time.monotonic() > deadline:
                self.stop()
                raise FrontError(f"the Stripe front was not healthy at {self.url} in time")
            time.sleep(0.2)

    def stop(self) -> None:
        process, self._process = self._process, None
        lifeline, self._lifeline = self._lifeline, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)  # to its whole session: localstripe goes too
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT_S)
        if lifeline is not None:
            lifeline.cut()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
