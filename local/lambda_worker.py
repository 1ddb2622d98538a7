"""One Lambda instance of one function: `python -m local.lambda_worker <function> [<handler module>]`
(the module defaults to `functions.<function>.handler`; tests name stand-ins).

The local stack (local/lambda_runtime.py) starts these, a small pool per function, and hands each one
request at a time, as Lambda does, so nothing a handler keeps in module globals (Powertools' resolver state,
the logger's keys) is ever shared by two requests.

Protocol, one JSON object per line:
- stdin, from the stack: {"event", "function_name", "timeout_s", "request_id", "clock"}; `clock` is the
  business clock's fixed instant (ISO 8601) when a developer has fixed it, else null (real time);
- the reply channel (the original stdout): {"result": ...} or {"error": {"errorType", "errorMessage",
  "stackTrace"}}, Lambda's shape for a handler that raised.
Everything the handler prints or logs goes to stderr: fd 1 is pointed at fd 2 before the handler is imported,
so a log line can never be taken for a reply. The stack reads stderr and forwards it.

The stdin pipe is also the lifeline: when it reaches end-of-file (the stack closed it to stop us, or the
stack's process died, however it died) the instance exits; a thread watches for it even while a request runs.
"""

from __future__ import annotations

import importlib
import json
import os
import queue
import sys
import threading
import traceback
from datetime import datetime
from typing import IO, Any

EXIT_GRACE_S = 1.0  # after end-of-file on stdin, how long a request still running may go on


def _reader(stream: IO[bytes], requests: queue.Queue[bytes | None]) -> None:
    try:
        for line in stream:
            requests.put(line)
    except (OSError, ValueError):
        pass
    requests.put(None)
    # The stack is gone or stopping. A request that still runs has nobody to answer to.
    threading.Event().wait(EXIT_GRACE_S)
    os._exit(0)


def error_shape(error: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "errorType": error_type or type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_tb(error.__traceback__),
    }


def _handle(handler: Any, request: dict[str, Any]) -> dict[str, Any]:
    from local.lambda_runtime import LambdaContext
    from shared.clock import FixedClock, SystemClock, use_clock

    fixed = request.get("clock")
    use_clock(FixedClock(datetime.fromisoformat(fixed)) if fixed else SystemClock())
    context = LambdaContext(
        function_name=str(request["function_name"]),
        timeout_s=float(request["timeout_s"]),
        aws_request_id=str(request["request_id"]),
    )
    try:
        result = handler(request["event"], context)
    except Exception as error:
        traceback.print_exc()  # Lambda logs the handler's exception too
        return {"error": error_shape(error)}
    try:
        json.dumps(result)
    except (TypeError, ValueError) as error:
        return {"error": error_shape(error, "Runtime.MarshalError")}
    return {"result": result}


def main(argv: list[str]) -> int:
    if len(argv) not in {1, 2} or not argv[0].isidentifier():
        print("usage: python -m local.lambda_worker <function> [<handler module>]", file=sys.stderr)
        return 2
    function = argv[0]
    module = argv[1] if len(argv) == 2 else f"functions.{function}.handler"
    # Replies on a copy of the original stdout; fd 1 itself goes to stderr from here on, for the handler.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(2, 1)

    requests: queue.Queue[bytes | None] = queue.Queue()
    threading.Thread(target=_reader, args=(sys.stdin.buffer, requests), name="stdin", daemon=True).start()

    handler: Any = None
    init_error: dict[str, Any] | None = None
    try:  # Lambda's init phase: the import runs once per instance, before the first request
        handler = importlib.import_module(module).lambda_handler
    except Exception as error:
        traceback.print_exc()
        init_error = error_shape(error, "Runtime.ImportModuleError")

    while (line := requests.get()) is not None:
        request = json.loads(line)
        reply = {"error": init_error} if init_error is not None else _handle(handler, request)
        replies.write(json.dumps(reply) + "\n")
        replies.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
