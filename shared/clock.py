"""The business clock: what "now" is for due dates, reminders and schedules.

In AWS it is the system clock. The local stack swaps in one `AdjustableClock` for the whole process so a
developer can jump a month ahead (`POST /_local/clock`). Signature and token checks never use it: they
use `wall_clock_now()`, the real time.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


def wall_clock_now() -> datetime:
    return datetime.now(UTC)


class SystemClock:
    def now(self) -> datetime:
        return wall_clock_now()


class AdjustableClock:
    """Real time, or a fixed instant set by the developer; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fixed: datetime | None = None

    def now(self) -> datetime:
        with self._lock:
            return self._fixed if self._fixed is not None else wall_clock_now()

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        with self._lock:
            self._fixed = instant.astimezone(UTC)

    def reset(self) -> None:
        with self._lock:
            self._fixed = None


class FixedClock:
    """For tests: always the same instant unless moved."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def now(self) -> datetime:
        return self.instant


_process_clock: Clock = SystemClock()


def business_clock() -> Clock:
    """The process-wide business clock the handlers use."""
    return _process_clock


def use_clock(clock: Clock) -> None:
    """Replace the process-wide business clock (local stack and tests only)."""
    global _process_clock
    _process_clock = clock
