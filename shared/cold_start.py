"""A Lambda container's start runs without the garbage collector; the first request's end turns it back on.

Everything a cold start allocates (our modules, botocore's service models, the clients) lives as long as
the container, so each collector pass over it during the start is wasted work: about 35 ms of the
webhook's cold start (docs/decisions.md, entry 70). This is the pattern the `gc` documentation gives for
long-lived start-up objects: disable early, freeze, enable. `functions/__init__.py` pauses the collector
before any handler's imports; every handler is wrapped in `resumes_collector`, which freezes what the start
built (out of later passes' sight) and turns the collector back on when the first request ends, answered or
raised. Outside Lambda (tests, scripts: no AWS_LAMBDA_FUNCTION_NAME) nothing changes.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable
from typing import Any, TypeVar

_Handler = TypeVar("_Handler", bound=Callable[..., Any])

_paused = False


def in_lambda() -> bool:
    """Whether this process is a Lambda instance (Lambda sets the variable; so does the local stack's)."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def pause_collector() -> None:
    """Called once, before the heavy imports: pauses the collector in a Lambda instance only."""
    global _paused
    if in_lambda() and gc.isenabled() and not _paused:
        gc.disable()
        _paused = True


def resume_collector() -> None:
    """The start is over: what it built is frozen (never scanned again) and the collector runs again."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def resumes_collector(handler: _Handler) -> _Handler:
    """The outermost decorator of every `lambda_handler`: the first request's end resumes the collector."""

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        finally:
            if _paused:
                resume_collector()

    wrapped.resumes_collector = True  # type: ignore[attr-defined]  # tests/unit/test_cold_start.py checks it
    return wrapped  # type: ignore[return-value]
