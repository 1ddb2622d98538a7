"""Runs the Stripe front (and localstripe behind it) as a child process: for the local stack, the
integration tests and the benchmarks alike."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


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

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> str:
        output = subprocess.DEVNULL if self._quiet else None
        # Its own session: Ctrl-C reaches only the parent, which stops it in order.
        self._process = subprocess.Popen(
            self._command,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
            stdout=output,
            stderr=output,
        )
        deadline = time.monotonic() + self._timeout
        while True:
            code = self._process.poll()
            if code is not None:
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
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # to its whole session: localstripe goes too
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
