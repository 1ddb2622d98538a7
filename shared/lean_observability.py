"""Structured logs and EMF metrics for the webhook, in the shapes Powertools writes, without loading it.

Importing Powertools at all runs its package `__init__`, which builds its logger, metrics and tracer
modules and their dependencies (jmespath, typing_extensions): about a third of the webhook's import time,
the one function Stripe waits on and retries when it is slow (docs/decisions.md, entry 49). The webhook
needs only four calls of them, so it writes the same JSON lines with the standard library: log records
with the keys Powertools' Logger gives (level, location, message, timestamp, service, the Lambda context,
X-Ray trace id, appended keys, exception and stack trace), and one CloudWatch Embedded Metric Format record per
invocation, in the namespace and with the one `service` dimension the alarms name.
`tests/unit/test_lean_observability.py` holds both shapes to what Powertools writes for the same calls.

Logs carry ids only: never tokens, card data, email addresses or payloads.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, Final, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., Any])


class MetricUnit:
    """The units the webhook uses, spelt as CloudWatch (and Powertools' MetricUnit) spell them."""

    Count: Final = "Count"
    Seconds: Final = "Seconds"


class LeanLogger:
    """`append_keys`, `info`, `warning`, `error`, `exception` and `inject_lambda_context`, as Powertools'
    Logger has them; one JSON object per line on stdout."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._keys: dict[str, Any] = {}
        self._context: dict[str, Any] = {}
        self._cold_start = True
        # A logger of its own, outside logging's registry: nothing else configures it or receives its records.
        self._log = logging.Logger(service, os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO").upper())
        handler = _Stdout()
        handler.setFormatter(_JsonFormatter(self))
        self._log.addHandler(handler)

    def append_keys(self, **keys: Any) -> None:
        self._keys.update(keys)

    def info(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        self._log.info(message, extra={"lean_extra": extra or {}}, stacklevel=2)

    def warning(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        self._log.warning(message, extra={"lean_extra": extra or {}}, stacklevel=2)

    def error(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        self._log.error(message, extra={"lean_extra": extra or {}}, stacklevel=2)

    def exception(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        self._log.exception(message, extra={"lean_extra": extra or {}}, stacklevel=2)

    def inject_lambda_context(self, *, clear_state: bool = True) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            @functools.wraps(handler)
            def wrapped(event: Any, context: Any) -> Any:
                if clear_state:
                    self._keys = {}
                # As Powertools: an environment initialised for provisioned concurrency never reports a cold start.
                provisioned = os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency"
                self._context = {
                    "cold_start": self._cold_start and not provisioned,
                    "function_name": getattr(context, "function_name", None),
                    "function_memory_size": getattr(context, "memory_limit_in_mb", None),
                    "function_arn": getattr(context, "invoked_function_arn", None),
                    "function_request_id": getattr(context, "aws_request_id", None),
                }
                self._cold_start = False
                return handler(event, context)

            return wrapped  # type: ignore[return-value]

        return decorate

    def record(self, record: logging.LogRecord) -> dict[str, Any]:
        """The JSON object of one log record, keys in Powertools' order."""
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.created))
        line: dict[str, Any] = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": f"{created},{int(record.msecs):03d}+0000",
            "service": self.service,
            **self._context,
            **self._keys,
            **getattr(record, "lean_extra", {}),
        }
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
            line["exception_name"] = record.exc_info[0].__name__
            line["stack_trace"] = {
                "type": record.exc_info[0].__name__,
                "value": str(record.exc_info[1]),
                "module": record.exc_info[0].__module__,
                "frames": [
                    {"file": frame.filename, "line": frame.lineno, "function": frame.name, "statement": frame.line}
                    for frame in traceback.extract_tb(record.exc_info[2])
                ],
            }
        trace = os.environ.get("_X_AMZN_TRACE_ID", "")
        root = next((part[5:] for part in trace.split(";") if part.startswith("Root=")), None)
        if root:
            line["xray_trace_id"] = root
        return line


class _Stdout(logging.Handler):
    """Writes to whatever sys.stdout is when the record is written (Lambda's, or a test's capture)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:
            self.handleError(record)


class _JsonFormatter(logging.Formatter):
    def __init__(self, owner: LeanLogger) -> None:
        super().__init__()
        self._owner = owner

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self._owner.record(record), default=str, separators=(",", ":"))


class LeanMetrics:
    """`add_metric` and `log_metrics` as Powertools' Metrics has them: the metrics of one invocation as one
    EMF record on stdout when it ends (none added: nothing written). `POWERTOOLS_METRICS_DISABLED=true`
    (the tests) writes nothing."""

    def __init__(self, namespace: str, service: str) -> None:
        self.namespace = namespace
        self.service = service
        self._values: dict[str, list[float]] = {}
        self._units: dict[str, str] = {}

    def add_metric(self, *, name: str, unit: str, value: float) -> None:
        self._values.setdefault(name, []).append(float(value))
        self._units[name] = unit

    def clear_metrics(self) -> None:
        self._values, self._units = {}, {}

    def serialize(self) -> dict[str, Any]:
        return {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [["service"]],
                        "Metrics": [{"Name": name, "Unit": self._units[name]} for name in self._values],
                    }
                ],
            },
            "service": self.service,
            **self._values,
        }

    def flush_metrics(self) -> None:
        if self._values and os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() != "true":
            sys.stdout.write(json.dumps(self.serialize(), separators=(",", ":")) + "\n")
            sys.stdout.flush()
        self.clear_metrics()

    def log_metrics(self, handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapped(event: Any, context: Any) -> Any:
            try:
                return handler(event, context)
            finally:
                self.flush_metrics()

        return wrapped  # type: ignore[return-value]


logger = LeanLogger(service="payportal")
# The same namespace and dimension as shared.observability's Powertools metrics.
metrics = LeanMetrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "payportal", service="payportal")
