"""Cold start of each handler in a fresh process (import + first request), against a baseline.

The baseline is what a typical sample integration does for the same first request: import stripe and
boto3, build a DynamoDB client, verify with the SDK where it applies, and make one DynamoDB request.
Both run against the same moto server, N times each, in one run; we print medians and the ratio.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]
RUNS = int(os.environ.get("PAYPORTAL_BENCH_RUNS", "11"))

OURS = """
import json, sys, time
t0 = time.perf_counter()
import importlib
handler = importlib.import_module(sys.argv[1])
event = json.load(open(sys.argv[2]))
class Context:
    function_name = "bench"; memory_limit_in_mb = 256; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    def get_remaining_time_in_millis(self): return 30000
reply = handler.lambda_handler(event, Context())
elapsed = time.perf_counter() - t0
status = reply.get("statusCode", 200) if isinstance(reply, dict) else 200
assert status < 400 or "batchItemFailures" in reply, reply
print(json.dumps({"seconds": elapsed, "status": status}))
"""

BASELINE = """
import json, sys, time
t0 = time.perf_counter()
import boto3
import stripe
event = json.load(open(sys.argv[2]))
mode = sys.argv[1]
client = boto3.client("dynamodb")
table = __import__("os").environ["PAYPORTAL_TABLE"]
if mode == "webhook":
    headers = event["headers"]
    parsed = stripe.Webhook.construct_event(event["body"], headers["Stripe-Signature"], "whsec_bench")
    client.put_item(
        TableName=table,
        Item={"pk": {"S": "EVENT#" + parsed["id"]}, "sk": {"S": "EVENT"}, "type": {"S": parsed["type"]}},
        ConditionExpression="attribute_not_exists(pk)",
    )
    status = 200
elif mode == "write":
    body = json.loads(event.get("body") or "{}")
    item = {"pk": {"S": "BASE#" + str(time.time())}, "sk": {"S": "X"}, "v": {"S": json.dumps(body)}}
    client.put_item(TableName=table, Item=item)
    status = 201
else:
    found = client.get_item(TableName=table, Key={"pk": {"S": "BASE#none"}, "sk": {"S": "X"}})
    status = 200
print(json.dumps({"seconds": time.perf_counter() - t0, "status": status}))
"""


@dataclass
class Case:
    name: str
    module: str
    baseline_mode: str
    make_event: Any  # () -> dict, a fresh first request per run


def _run(script: str, arg: str, event: dict[str, Any], env: dict[str, str], root: Path = ROOT) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(event, handle)
    try:
        result = subprocess.run(
            [sys.executable, "-c", script, arg, handle.name],
            cwd=root,
            env=env | {"PYTHONPATH": str(root)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        os.unlink(handle.name)
    if result.returncode != 0:
        raise RuntimeError(f"{arg} failed: {result.stderr[-2000:]}")
    return float(json.loads(result.stdout.strip().splitlines()[-1])["seconds"])


def profile(case: Case, env: dict[str, str]) -> str:
    """The cold path under cProfile (PAYPORTAL_BENCH_PROFILE=<module>): where the time goes."""
    script = "import cProfile, pstats, sys\ncProfile.run(compile(sys.argv.pop(1), 'cold', 'exec'), '/tmp/cold.prof')\n"
    script += "pstats.Stats('/tmp/cold.prof').sort_stats('cumulative').print_stats(30)"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(case.make_event(), handle)
    result = subprocess.run(
        [sys.executable, "-c", script, OURS, case.module, handle.name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    os.unlink(handle.name)
    return result.stdout[-6000:] + result.stderr[-2000:]


def measure(cases: list[Case], env: dict[str, str], before: Path | None = None) -> list[dict[str, Any]]:
    """Medians of RUNS cold starts of each case, ours and the baseline's; with `before` (a checkout of an
    earlier commit), that tree's handlers too, so a change is judged against its parent in the same run."""
    rows = []
    for case in cases:
        ours, base, earlier = [], [], []
        for _ in range(RUNS):  # interleaved, so drift on the machine hits all alike
            ours.append(_run(OURS, case.module, case.make_event(), env))
            base.append(_run(BASELINE, case.baseline_mode, case.make_event(), env))
            if before is not None:
                earlier.append(_run(OURS, case.module, case.make_event(), env, root=before))
        ours_ms, base_ms = statistics.median(ours) * 1000, statistics.median(base) * 1000
        row = {"handler": case.name, "ours_ms": ours_ms, "baseline_ms": base_ms, "ratio": ours_ms / base_ms}
        if earlier:
            before_ms = statistics.median(earlier) * 1000
            row |= {"before_ms": before_ms, "before_ratio": before_ms / base_ms}
        rows.append(row)
    return rows


@contextmanager
def checkout_of(ref: str | None) -> Iterator[Path | None]:
    """The tree of commit `ref` in a temporary folder (git archive), or None without a ref."""
    if not ref:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="payportal-before-") as folder:
        archive = subprocess.run(["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        yield Path(folder)


def fresh_id() -> str:
    return uuid.uuid4().hex


def now() -> int:
    return int(time.time())
