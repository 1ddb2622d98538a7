"""Runs function handlers in this process the way Lambda calls them: `lambda_handler(event, context)`.

Handlers are imported on first use (`functions.<name>.handler`), like a cold start, so the stack starts
even while a function is still being written; the request that needs it gets the import error.
"""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.config import ACCOUNT_ID, REGION

Handler = Callable[[Any, Any], Any]

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"


class FunctionNotFound(LookupError):
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


class FunctionResolver:
    """Function name -> its `lambda_handler`; `overrides` stand in for functions (tests)."""

    def __init__(self, overrides: Mapping[str, Handler] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._loaded: dict[str, Handler] = {}
        self._lock = threading.Lock()

    def exists(self, name: str) -> bool:
        return name in self._overrides or (FUNCTIONS_DIR / name / "handler.py").is_file()

    def resolve(self, name: str) -> Handler:
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
        handler = self.resolve(name)
        return handler(event, LambdaContext(function_name=f"payportal-local-{name}", timeout_s=timeout_s))
