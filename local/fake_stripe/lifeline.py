"""Ties a child process to its parent: the child stops when the parent is gone, however it went (a clean
exit, a crash, SIGKILL, the OOM killer), on Linux and macOS alike.

The parent opens a pipe, keeps the write end and never writes to it; the child gets the read end (its
number on the command line) and blocks reading it in a thread. When the parent process ends, for whatever
reason, the kernel closes the write end and the child's read returns end-of-file. No signal has to be
sent and nothing has to be polled. Both ends are non-inheritable, so other processes the parent starts
do not hold the line open (one forked without exec would, until it exits).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading

logger = logging.getLogger("local.fake_stripe.lifeline")


class Lifeline:
    """The parent's end. Start the child with `pass_fds=(line.child_fd,)` and the number of `child_fd` on
    its command line, then call `started()`; `cut()` when the child is stopped (or let the process end)."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()

    @property
    def child_fd(self) -> int:
        return self._read

    def started(self) -> None:
        """The child holds its own copy of the read end now: close ours, or the child would never see EOF."""
        self._close_read()

    def cut(self) -> None:
        """As if this process had ended: the child stops."""
        self._close_read()
        if self._write >= 0:
            with contextlib.suppress(OSError):
                os.close(self._write)
            self._write = -1

    def _close_read(self) -> None:
        if self._read >= 0:
            with contextlib.suppress(OSError):
                os.close(self._read)
            self._read = -1


def check_lifeline(fd: int) -> None:
    """Fail at start, not silently later, when the number given is not an open descriptor."""
    os.fstat(fd)


def stop_when_parent_gone(fd: int, stop: asyncio.Event, *, grace_s: float) -> None:
    """Set `stop` (on the running event loop) once the parent is gone. A child still running `grace_s` later
    is ended on the spot: a stop that hangs must not keep its ports."""
    loop = asyncio.get_running_loop()

    def watch() -> None:
        with contextlib.suppress(OSError):
            while os.read(fd, 1):  # nobody writes; b"" is end-of-file
                pass
        logger.warning("the parent process is gone: stopping")
        with contextlib.suppress(RuntimeError):  # the loop has closed: we are stopping anyway
            loop.call_soon_threadsafe(stop.set)
        threading.Event().wait(grace_s)
        logger.error("still running %.0f s after the parent went: exiting now", grace_s)
        os._exit(1)

    # A thread, not the event loop: it must still act when the loop is stuck.
    threading.Thread(target=watch, name="lifeline", daemon=True).start()
