"""A Lambda instance starts without the garbage collector, and its first request's end turns it back on."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
FUNCTIONS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/handler.py"))

# In a fresh interpreter: import a real handler, then answer one request whose handling raises (the
# secret cannot be read: no AWS here), and report the collector's state at each step.
PROBE = """
import gc, json, sys
before = gc.isenabled()
import functions.webhooks.handler as handler
during = gc.isenabled()
event = {"headers": {"Stripe-Signature": "t=1,v1=00"}, "body": "{}"}
class Context:
    function_name = "probe"; memory_limit_in_mb = 256; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:probe"
try:
    handler.lambda_handler(event, Context())
    raised = False
except Exception:
    raised = True
print(json.dumps({"before": before, "during": during, "raised": raised, "after": gc.isenabled(),
                  "frozen": gc.get_freeze_count()}))
"""


def _probe(env: dict[str, str]) -> dict[str, object]:
    import json

    base = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=base | env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_in_lambda_the_start_runs_without_the_collector_and_a_raising_first_request_resumes_it() -> None:
    seen = _probe({"AWS_LAMBDA_FUNCTION_NAME": "payportal-webhooks", "PAYPORTAL_STRIPE_SECRET_ID": "s"})
    assert seen["before"] is True
    assert seen["during"] is False  # paused by functions/__init__.py, before the handler's imports
    assert seen["raised"] is True  # the secret could not be read: the first request failed ...
    assert seen["after"] is True  # ... and the collector runs again all the same
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 10_000  # what the start built, frozen


def test_outside_lambda_the_collector_is_never_paused() -> None:
    seen = _probe({"PAYPORTAL_STRIPE_SECRET_ID": "s"})
    assert seen["during"] is True
    assert seen["after"] is True
    assert seen["frozen"] == 0


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_handler_resumes_the_collector_after_its_first_request(function: str) -> None:
    handler = importlib.import_module(f"functions.{function}.handler").lambda_handler
    # The outermost decorator, so nothing a Powertools decorator raises or returns can skip it.
    assert getattr(handler, "resumes_collector", False) is True
