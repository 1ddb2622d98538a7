"""The local Lambda runtime: each request alone in an instance (a worker process), a small pool per function,
Lambda's error shape and timeout, crashed instances replaced, and no instance outliving the stack, however
the stack ends. With a stand-in function (tests/integration/lambda_stand_in.py); the real functions under
concurrency are in test_local_stack_concurrency.py.

Linux only: whether a process is gone is read from /proc.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from local import api_server
from local.api_server import ApiGateway, HttpRequest
from local.lambda_runtime import FunctionError, FunctionResolver, FunctionTimedOut
from shared.routes import Route

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")

REPO_ROOT = Path(__file__).resolve().parents[2]
STAND_IN = "tests.integration.lambda_stand_in"
NAME = "stand_in"


def gone(pid: int) -> bool:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return raw[raw.rindex(")") + 2 :].split()[0] in {"Z", "X"}  # a zombie holds nothing


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def fixed_at() -> list[datetime | None]:
    return [None]


@pytest.fixture
def resolver(fixed_at: list[datetime | None]) -> Iterator[FunctionResolver]:
    runtime = FunctionResolver(clock=lambda: fixed_at[0], pool_size=3, forward_logs=False, modules={NAME: STAND_IN})
    yield runtime
    runtime.stop()


def call(resolver: FunctionResolver, timeout_s: float = 20.0, **asked: Any) -> dict[str, Any]:
    answer = resolver.invoke(NAME, {k: str(v) for k, v in asked.items()}, timeout_s=timeout_s)
    return dict(json.loads(answer["body"]))


def pids(resolver: FunctionResolver) -> set[int]:
    return {instance.pid for instance in resolver.instances()}


def test_concurrent_requests_get_instances_of_their_own_up_to_the_pool_size(resolver: FunctionResolver) -> None:
    call(resolver)  # one warm instance
    # When five requests arrive at once for a pool of three
    started = time.monotonic()
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda _: call(resolver, sleep=1.0), range(5)))
    elapsed = time.monotonic() - started
    # Then three instances ran them, never two at once in one (five seconds of work in two rounds)
    assert len({answer["pid"] for answer in answers}) == 3
    assert len(pids(resolver)) == 3
    assert elapsed >= 2.0
    assert len({answer["request_id"] for answer in answers}) == 5
    assert {answer["function_name"] for answer in answers} == {"payportal-local-stand_in"}
    # Named in the environment too, as Lambda does: shared/cold_start.py reads it
    assert {answer["environment_function_name"] for answer in answers} == {"payportal-local-stand_in"}


def test_a_handler_that_raises_answers_lambdas_error_and_its_instance_serves_on(resolver: FunctionResolver) -> None:
    first = call(resolver)["pid"]
    with pytest.raises(FunctionError) as raised:
        call(resolver, do="raise")
    assert (raised.value.error_type, raised.value.error_message) == ("ValueError", "the stand-in was asked to fail")
    assert call(resolver)["pid"] == first


def test_the_business_clock_goes_with_each_request(resolver: FunctionResolver, fixed_at: list[datetime | None]) -> None:
    fixed_at[0] = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert call(resolver)["now"] == "2031-05-06T07:08:09+00:00"
    fixed_at[0] = None
    now = datetime.fromisoformat(call(resolver)["now"])
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=30)


def test_what_a_handler_prints_goes_to_the_logs_not_into_the_reply(resolver: FunctionResolver) -> None:
    answer = call(resolver, do="print", text="hello-from-the-handler")
    assert answer["pid"] > 0
    assert wait_until(lambda: "stand-in says hello-from-the-handler" in resolver.logs.lines(NAME))


def test_a_request_that_outlives_its_timeout_kills_the_instance_and_the_next_request_works(
    resolver: FunctionResolver,
) -> None:
    first = call(resolver)["pid"]
    with pytest.raises(FunctionTimedOut, match=r"Task timed out after 0\.50 seconds"):
        call(resolver, timeout_s=0.5, sleep=30)
    assert wait_until(lambda: gone(first))
    assert call(resolver)["pid"] != first


def test_an_instance_killed_mid_request_fails_that_request_and_is_replaced(resolver: FunctionResolver) -> None:
    first = call(resolver)["pid"]
    failed: list[BaseException] = []

    def slow() -> None:
        try:
            call(resolver, sleep=30)
        except BaseException as error:
            failed.append(error)

    request = threading.Thread(target=slow)
    request.start()
    time.sleep(0.5)  # it is running in the instance
    os.kill(first, signal.SIGKILL)
    request.join(timeout=10)
    assert not request.is_alive()
    assert isinstance(failed[0], FunctionError) and failed[0].error_type == "Runtime.ExitError"
    assert call(resolver)["pid"] != first


def test_an_instance_that_died_while_idle_is_replaced(resolver: FunctionResolver) -> None:
    first = call(resolver)["pid"]
    os.kill(first, signal.SIGKILL)
    # Gone as the pool can tell: a killed process shows as a zombie while its other threads still exit, and
    # only once they have can it be reaped (what a long-dead instance always is)
    assert wait_until(lambda: gone(first))
    assert wait_until(lambda: all(i.process.poll() is not None for i in resolver.instances() if i.pid == first))
    assert call(resolver)["pid"] != first


def test_through_the_api_a_timeout_and_a_crash_are_502_and_the_next_request_is_200(
    resolver: FunctionResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_server, "HANDLER_TIMEOUT_S", 1.0)
    gateway = ApiGateway(resolver, routes=(Route("GET", "/stand-in", NAME, "none"),))

    def get(query: str) -> int:
        response, _ = gateway.handle(HttpRequest("GET", "/stand-in", query, [("Host", "127.0.0.1")], b""))
        return response.status

    assert get("") == 200
    assert get("sleep=30") == 502
    assert get("") == 200
    assert get("do=exit") == 502
    assert get("do=raise") == 502
    assert get("") == 200


def test_after_stop_no_instance_is_left_not_even_a_busy_one(resolver: FunctionResolver) -> None:
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda _: call(resolver, sleep=0.3), range(3)))
    failed: list[BaseException] = []

    def slow() -> None:
        try:
            call(resolver, sleep=30)
        except BaseException as error:
            failed.append(error)

    busy = threading.Thread(target=slow, daemon=True)
    busy.start()
    time.sleep(0.3)
    started = pids(resolver)
    assert len(started) == 3
    resolver.stop()
    assert all(gone(pid) for pid in started)
    busy.join(timeout=5)
    assert not busy.is_alive() and isinstance(failed[0], FunctionError)


_STACK_STAND_IN = """
import sys, threading, time
from local.lambda_runtime import FunctionResolver
resolver = FunctionResolver(modules={"stand_in": "tests.integration.lambda_stand_in"}, forward_logs=False)
resolver.invoke("stand_in", {})
threading.Thread(target=resolver.invoke, args=("stand_in", {"sleep": "60"}), daemon=True).start()
time.sleep(0.3)
resolver.invoke("stand_in", {})  # the first instance is busy: a second one answers, then idles
print(" ".join(str(instance.pid) for instance in resolver.instances()), flush=True)
time.sleep(120)
"""


def test_instances_exit_when_the_stack_process_is_killed_outright_idle_or_busy() -> None:
    # Given a process with two instances, one of them in the middle of a request
    process = subprocess.Popen(
        [sys.executable, "-c", _STACK_STAND_IN], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        instances = [int(pid) for pid in process.stdout.readline().split()]
        assert len(instances) == 2 and not any(gone(pid) for pid in instances)
        # When it is killed, with no chance to stop anything
        process.kill()
        process.wait(timeout=10)
        # Then its instances notice (end-of-file on their stdin) and exit
        assert wait_until(lambda: all(gone(pid) for pid in instances), timeout_s=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
