"""Cold start: importing a handler with an empty environment works and touches no network or AWS."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PROBE = """
import socket, sys
def refuse(*args, **kwargs):
    raise SystemExit("network I/O at import time")
socket.socket.connect = refuse
socket.create_connection = refuse
import importlib
importlib.import_module(sys.argv[1])
heavy = [name for name in ("stripe", "boto3", "jinja2", "aws_xray_sdk") if name in sys.modules]
print(",".join(heavy))
"""


@pytest.mark.parametrize("function", ["checkout", "webhooks", "operator_api", "outbox"])
def test_a_handler_imports_with_an_empty_environment_and_no_io(function: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, f"functions.{function}.handler"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # The heavy SDKs load on first use, not at import
    assert "stripe" not in result.stdout.split(",")
    assert "jinja2" not in result.stdout.split(",")
    # Request paths leave the X-Ray SDK out (about 0.1 s); Lambda's active tracing records them (decision 32)
    assert "aws_xray_sdk" not in result.stdout.split(",")


def test_the_reconcile_handler_imports_with_no_io_and_no_stripe_sdk() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "functions.reconcile.handler"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "stripe" not in result.stdout.split(",")  # loaded by the first list_events call
