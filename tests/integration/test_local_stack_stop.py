"""`make dev` stops completely however it is stopped: the real `python -m local` in a process group of its
own, as a terminal, a supervisor or `timeout` runs it, stopped the ways they stop it. Afterwards no process
it started is left and every port it held can be bound again, so the next `make dev` starts.

Linux only: the process tree is read from /proc.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_TIMEOUT_S = 120.0  # a cold start on a loaded 2-core machine; usually a few seconds
STOP_TIMEOUT_S = 10.0  # "within a few seconds", with room for a loaded machine
_URL = re.compile(r"http://127\.0\.0\.1:(\d+)")


# -- the process tree, from /proc --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Process:
    pid: int
    start_time: int  # in clock ticks since boot: with the pid, names one process even if the pid is reused

    def is_alive(self) -> bool:
        stat = _stat(self.pid)
        # A zombie has exited and holds nothing; only its parent (perhaps an init that never reaps) keeps it.
        return stat is not None and stat[1] not in {"Z", "X"} and stat[3] == self.start_time


def _stat(pid: int) -> tuple[int, str, int, int] | None:
    """(pid, state, ppid, start time) of a process; None when there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses
    return pid, fields[0], int(fields[1]), int(fields[19])


def descendants(root: int) -> set[Process]:
    children: dict[int, list[Process]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            pid, state, ppid, start_time = stat
            if state not in {"Z", "X"}:
                children.setdefault(ppid, []).append(Process(pid, start_time))
    found: set[Process] = set()
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child.pid)
    return found


def _is_function_instance(pid: int) -> bool:
    try:
        return b"local.lambda_worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return False


def port_is_free(port: int) -> bool:
    """Bindable as the stack binds its ports at start (SO_REUSEADDR: closed connections do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True


# -- the stack, started as `make dev` starts it ------------------------------------------------------------


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    def output(self) -> str:
        return "".join(self.lines)

    def ports(self) -> set[int]:
        """Every port the stack and its children listen on, as they announce them."""
        return {int(port) for port in _URL.findall(self.output())}


def _read_output(stack: RunningStack) -> None:
    assert stack.process.stdout is not None
    for line in stack.process.stdout:
        stack.lines.append(line)
        if "Ctrl-C stops everything" in line:
            stack.ready.set()


def start_stack() -> RunningStack:
    environment = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PAYPORTAL_LOCAL_SEED": "0",
        **{f"PAYPORTAL_LOCAL_{part}_PORT": "0" for part in ("API", "MOTO", "STRIPE", "LOCALSTRIPE")},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal or a supervisor gives it
    )
    stack = RunningStack(process)
    threading.Thread(target=_read_output, args=(stack,), daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not stack.ready.wait(0.2):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"`python -m local` did not start:\n{stack.output()}")
    return stack


@dataclass(frozen=True, slots=True)
class Started:
    stack: RunningStack
    tree: set[Process]
    ports: set[int]


@pytest.fixture
def started() -> Iterator[Started]:
    stack = start_stack()
    tree = descendants(stack.process.pid)
    ports = stack.ports()
    try:
        # The tests mean something only if the stack runs children and says where everything listens:
        # the API, moto, the Stripe front and localstripe behind it.
        assert len(tree) >= 2, stack.output()
        # ... among them the functions' instances (local.lambda_worker), one per HTTP function from the start
        assert len([p for p in tree if _is_function_instance(p.pid)]) >= 3, stack.output()
        assert len(ports) >= 4 and not any(port_is_free(port) for port in ports), stack.output()
        yield Started(stack, tree, ports)
    finally:
        # Whatever the test found, leave nothing behind on the machine.
        if stack.process.poll() is None:
            stack.process.kill()
        for leftover in tree:
            if leftover.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(leftover.pid, signal.SIGKILL)
        stack.process.wait(timeout=10)


def assert_nothing_left(started: Started) -> None:
    """Within STOP_TIMEOUT_S of the stop: the stack has exited, so has every process it started, and every
    port it announced can be bound again."""
    stack = started.stack
    deadline = time.monotonic() + STOP_TIMEOUT_S

    def wait_until(condition: Callable[[], bool]) -> bool:
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    assert wait_until(lambda: stack.process.poll() is not None), f"`python -m local` still runs:\n{stack.output()}"
    gone = wait_until(lambda: not any(p.is_alive() for p in started.tree))
    survivors = sorted(p.pid for p in started.tree if p.is_alive())
    assert gone, f"still running after {STOP_TIMEOUT_S:.0f} s: {survivors}\n{stack.output()}"
    freed = wait_until(lambda: all(port_is_free(port) for port in started.ports))
    held = sorted(port for port in started.ports if not port_is_free(port))
    assert freed, f"ports still in use after {STOP_TIMEOUT_S:.0f} s: {held}\n{stack.output()}"


# -- the tests ---------------------------------------------------------------------------------------------


def test_sigterm_to_the_process_group_stops_everything(started: Started) -> None:
    # When a supervisor (or `timeout`, or a test harness) sends SIGTERM to the stack's process group
    os.killpg(started.stack.process.pid, signal.SIGTERM)
    # Then the stack exits, its children with it, and every port is free again
    assert_nothing_left(started)
    assert started.stack.process.returncode == 0


def test_ctrl_c_twice_in_quick_succession_still_stops_everything(started: Started) -> None:
    # When the developer presses Ctrl-C, and again while the stack is stopping
    os.killpg(started.stack.process.pid, signal.SIGINT)
    time.sleep(0.2)
    os.killpg(started.stack.process.pid, signal.SIGINT)
    # Then the second press does not cut the stop short: nothing is left running
    assert_nothing_left(started)


def test_children_die_with_the_stack_when_it_is_killed_outright(started: Started) -> None:
    # When the stack itself is killed (SIGKILL, the OOM killer, a crash): no cleanup of its own can run
    os.kill(started.stack.process.pid, signal.SIGKILL)
    # Then its children notice and stop too, and free their ports
    assert_nothing_left(started)
