"""Runs the functions the way Lambda does: each request alone in an instance of its function.

An instance is a worker process, `python -m local.lambda_worker <function>` (see that module for the
protocol), started on first use with the stack's environment, like a cold start. Each function has a small
pool of them (`POOL_SIZE`): a request takes an idle instance, else starts one while the pool is below its
size, else waits for one, so concurrent requests never share a handler's module globals (Powertools'
resolver and logger state), as in AWS. An instance that crashes, or that is killed because its request
outlived the timeout ("Task timed out after N seconds"), is discarded and replaced on demand.

A handler that raises answers Lambda's error shape; here that is a `FunctionError` for the caller (the API
answers 502, as API Gateway does). Everything an instance logs is forwarded to this process's stderr and
kept, the recent lines per function, in `FunctionResolver.logs(name)`.

Two kinds of function still run in this process, one invocation at a time per function:
- stand-ins given as `overrides` (tests), serialised per function;
- `IN_PROCESS_FUNCTIONS` (outbox, email_feedback), invoked through `resolve()`: the stack calls them one
  batch at a time, as Lambda's stream polling does per shard, and watches the outbox's SES client to
  simulate SES feedback (local/ses_feedback.py).
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from local.config import ACCOUNT_ID, REGION

Handler = Callable[[Any, Any], Any]

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
WORKER_MODULE = "local.lambda_worker"
POOL_SIZE = 4  # instances per function at most: enough for a developer's concurrency, cheap on a laptop
STOP_GRACE_S = 2.0  # after their stdin closes, how long instances get to exit before they are killed
LOG_LINES_KEPT = 2000  # per function
IN_PROCESS_FUNCTIONS = frozenset({"outbox", "email_feedback"})

Clock = Callable[[], datetime | None]  # the business clock's fixed instant, or None for real time


class FunctionNotFound(LookupError):
    pass


class FunctionError(RuntimeError):
    """The function failed as Lambda reports it: a handler that raised, an instance that crashed or timed
    out. `error_type` is Lambda's errorType (`RuntimeError`, `Runtime.ExitError`, `Sandbox.Timedout`...)."""

    def __init__(self, function: str, error_type: str, message: str) -> None:
        super().__init__(f"{function}: {error_type}: {message}")
        self.function = function
        self.error_type = error_type
        self.error_message = message


class FunctionTimedOut(FunctionError):
    pass


class RuntimeStopped(RuntimeError):
    pass


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 256
    timeout_s: float = 30.0
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{time.strftime('%Y/%m/%d')}/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionLogs:
    """What the instances write to stderr: forwarded to this process's stderr line by line as it comes (so
    `make dev` shows it), and the recent lines kept per function for tests to read."""

    def __init__(self, *, forward: bool = True, kept: int = LOG_LINES_KEPT) -> None:
        self._forward = forward
        self._kept = kept
        self._lines: dict[str, collections.deque[str]] = {}
        self._lock = threading.Lock()

    def add(self, function: str, line: str) -> None:
        with self._lock:
            self._lines.setdefault(function, collections.deque(maxlen=self._kept)).append(line)
            if self._forward:
                _write_all(2, (line + "\n").encode("utf-8", "replace"))

    def lines(self, function: str) -> list[str]:
        with self._lock:
            return list(self._lines.get(function, ()))

    def clear(self) -> None:
        with self._lock:
            self._lines.clear()


def _write_all(fd: int, data: bytes) -> None:
    # The file descriptor, not sys.stderr: whatever replaced that object (a test runner) may be closed by now.
    with contextlib.suppress(OSError):
        while data:
            data = data[os.write(fd, data) :]


def _exit_description(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        return f"signal: {-code}"
    return f"exit status {code}"


def local_function_name(function: str) -> str:
    """What a local instance is called, in its context and its environment (Lambda's function name)."""
    return f"payportal-local-{function}"


class Instance:
    """One worker process of one function; one request at a time (the pool sees to it)."""

    def __init__(
        self, function: str, environment: Mapping[str, str], logs: FunctionLogs, module: str | None = None
    ) -> None:
        self.function = function
        self._logs = logs
        self._replies: queue.Queue[bytes | None] = queue.Queue()
        self._usable = True
        # The command is ours: this interpreter, our module, a function name that exists() checked.
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", WORKER_MODULE, function, *([module] if module else [])],
            cwd=REPO_ROOT,
            # Lambda names the function in the environment; shared/cold_start.py reads it, as in AWS.
            env={**environment, "AWS_LAMBDA_FUNCTION_NAME": local_function_name(function), "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # a terminal's Ctrl-C reaches the stack only, which stops us in order
        )
        for target, stream, kind in (
            (self._read_replies, self.process.stdout, "replies"),
            (self._read_logs, self.process.stderr, "logs"),
        ):
            threading.Thread(
                target=target, args=(stream,), name=f"{function}-{self.process.pid}-{kind}", daemon=True
            ).start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def usable(self) -> bool:
        return self._usable and self.process.poll() is None

    def _read_replies(self, stream: IO[bytes]) -> None:
        with contextlib.suppress(OSError, ValueError):
            for line in stream:
                self._replies.put(line)
        self._replies.put(None)

    def _read_logs(self, stream: IO[bytes]) -> None:
        with contextlib.suppress(OSError, ValueError):
            for raw in stream:
                self._logs.add(self.function, raw.decode("utf-8", "replace").rstrip("\r\n"))

    def invoke(self, request: Mapping[str, Any], timeout_s: float) -> Any:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(request, default=str).encode() + b"\n")
            stdin.flush()
        except (OSError, ValueError):
            self._usable = False
            return self._exited()
        try:
            line = self._replies.get(timeout=timeout_s)
        except queue.Empty:
            self.kill()
            raise FunctionTimedOut(
                self.function, "Sandbox.Timedout", f"Task timed out after {timeout_s:.2f} seconds"
            ) from None
        if line is None:
            self._usable = False
            return self._exited()
        try:
            reply = json.loads(line)
            error = reply.get("error")
            if error is not None:
                raise FunctionError(self.function, str(error["errorType"]), str(error["errorMessage"]))
            return reply["result"]
        except (ValueError, KeyError, TypeError, AttributeError):
            self.kill()
            raise FunctionError(
                self.function, "Runtime.InvalidResponse", "the instance answered something else than a reply"
            ) from None

    def _exited(self) -> Any:
        try:
            code = self.process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.returncode
        raise FunctionError(self.function, "Runtime.ExitError", f"Runtime exited with error: {_exit_description(code)}")

    def close(self) -> None:
        """End-of-file on its stdin: the instance exits (when its request, if any, is done or a grace later)."""
        self._usable = False
        if self.process.stdin is not None:
            with contextlib.suppress(OSError, ValueError):
                self.process.stdin.close()

    def kill(self) -> None:
        self._usable = False
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_GRACE_S)
        self.close()


class FunctionPool:
    """Up to `size` instances of one function: a request takes an idle one, else starts one while below the
    size, else waits until one is released."""

    def __init__(self, function: str, start: Callable[[], Instance], size: int = POOL_SIZE) -> None:
        if size < 1:
            raise ValueError("a pool needs room for one instance")
        self.function = function
        self._start = start
        self._size = size
        self._idle: list[Instance] = []
        self._all: set[Instance] = set()
        self._starting = 0
        self._closed = False
        self._changed = threading.Condition()

    def instances(self) -> list[Instance]:
        with self._changed:
            return list(self._all)

    def prewarm(self) -> None:
        """One instance ready (its handler imported) before the first request, if the pool has none."""
        with self._changed:
            if self._all or self._starting or self._closed:
                return
            self._starting += 1
        instance = self._new()
        if instance is not None:
            self._release(instance)

    def invoke(self, request: Mapping[str, Any], timeout_s: float) -> Any:
        instance = self._acquire()
        try:
            return instance.invoke(request, timeout_s)
        finally:
            self._release(instance)

    def _acquire(self) -> Instance:
        with self._changed:
            while True:
                if self._closed:
                    raise RuntimeStopped(f"the local runtime is stopped: {self.function} not invoked")
                while self._idle:
                    idle = self._idle.pop()
                    if idle.usable():
                        return idle
                    self._all.discard(idle)  # crashed while idle: replaced below
                    idle.kill()  # reaps it
                if len(self._all) + self._starting < self._size:
                    self._starting += 1
                    break
                self._changed.wait()
        instance = self._new()
        if instance is None:
            raise RuntimeStopped(f"the local runtime is stopped: {self.function} not invoked")
        return instance

    def _new(self) -> Instance | None:
        try:
            instance = self._start()
        except BaseException:
            with self._changed:
                self._starting -= 1
                self._changed.notify()
            raise
        with self._changed:
            self._starting -= 1
            if not self._closed:
                self._all.add(instance)
                return instance
        instance.close()
        return None

    def _release(self, instance: Instance) -> None:
        with self._changed:
            if instance.usable() and not self._closed:
                self._idle.append(instance)
            else:
                self._all.discard(instance)
            self._changed.notify()
        if not instance.usable():
            instance.kill()

    def close(self) -> list[Instance]:
        """No more requests; every instance's stdin closed. The caller waits for them (and kills the rest)."""
        with self._changed:
            self._closed = True
            instances = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._changed.notify_all()
        for instance in instances:
            instance.close()
        return instances


class FunctionResolver:
    """Function name -> how it runs: an instance pool per function (worker processes), or in this process
    for `overrides` (stand-ins, tests) and `IN_PROCESS_FUNCTIONS`.

    `environment` is what instances start with (read when each starts; default os.environ, as
    LocalStack.start() sets it); `clock` gives the business clock's fixed instant per request, or None.
    `modules` runs other handler modules as functions in instances (function name -> dotted module; tests)."""

    def __init__(
        self,
        overrides: Mapping[str, Handler] | None = None,
        *,
        clock: Clock | None = None,
        environment: Callable[[], Mapping[str, str]] | None = None,
        pool_size: int = POOL_SIZE,
        forward_logs: bool = True,
        modules: Mapping[str, str] | None = None,
    ) -> None:
        self._overrides = dict(overrides or {})
        self._modules = dict(modules or {})
        self._override_locks = {name: threading.Lock() for name in self._overrides}
        self._clock: Clock = clock or (lambda: None)
        self._environment = environment or (lambda: os.environ)
        self._pool_size = pool_size
        self.logs = FunctionLogs(forward=forward_logs)
        self._loaded: dict[str, Handler] = {}
        self._pools: dict[str, FunctionPool] = {}
        self._lock = threading.Lock()

    def exists(self, name: str) -> bool:
        if name in self._overrides or name in self._modules:
            return True
        return name.isidentifier() and (FUNCTIONS_DIR / name / "handler.py").is_file()

    def resolve(self, name: str) -> Handler:
        """The handler itself, imported into this process (overrides and `IN_PROCESS_FUNCTIONS`)."""
        if name in self._overrides:
            return self._overrides[name]
        with self._lock:
            if name not in self._loaded:
                if not name.isidentifier():
                    raise FunctionNotFound(name)
                try:
                    module = importlib.import_module(f"functions.{name}.handler")
                except ModuleNotFoundError as error:
                    if error.name in {"functions", f"functions.{name}", f"functions.{name}.handler"}:
                        raise FunctionNotFound(name) from error
                    raise
                self._loaded[name] = module.lambda_handler
            return self._loaded[name]

    def invoke(self, name: str, event: Any, *, timeout_s: float = 30.0) -> Any:
        function_name = local_function_name(name)
        if name in self._overrides:
            with self._override_locks[name]:  # one request at a time, as one instance
                return self._overrides[name](event, LambdaContext(function_name=function_name, timeout_s=timeout_s))
        if name in IN_PROCESS_FUNCTIONS:
            return self.resolve(name)(event, LambdaContext(function_name=function_name, timeout_s=timeout_s))
        fixed = self._clock()
        request = {
            "event": event,
            "function_name": function_name,
            "timeout_s": timeout_s,
            "request_id": str(uuid.uuid4()),
            "clock": fixed.isoformat() if fixed is not None else None,
        }
        return self._pool(name).invoke(request, timeout_s)

    def _pool(self, name: str) -> FunctionPool:
        if not self.exists(name):
            raise FunctionNotFound(name)
        with self._lock:
            pool = self._pools.get(name)
            if pool is None:
                pool = self._pools[name] = FunctionPool(name, lambda: self._start_instance(name), self._pool_size)
            return pool

    def _start_instance(self, name: str) -> Instance:
        return Instance(name, dict(self._environment()), self.logs, self._modules.get(name))

    def prewarm(self, names: Iterable[str]) -> None:
        """Start one instance of each function now, all at once, so the first requests skip the cold start."""
        for name in names:
            if name not in self._overrides and name not in IN_PROCESS_FUNCTIONS and self.exists(name):
                self._pool(name).prewarm()

    def instances(self) -> list[Instance]:
        with self._lock:
            pools = list(self._pools.values())
        return [instance for pool in pools for instance in pool.instances()]

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Every instance stops: stdin closed, a grace to exit, then killed. Later requests start new ones."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        instances = [instance for pool in pools for instance in pool.close()]
        deadline = time.monotonic() + grace_s
        for instance in instances:
            with contextlib.suppress(subprocess.TimeoutExpired):
                instance.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            if instance.process.poll() is None:
                instance.kill()
