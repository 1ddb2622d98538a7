"""Logger, tracer and metrics for every function (Powertools). Handlers decorate in one order:

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)   # scheduled runs only
    @metrics.log_metrics
    def lambda_handler(event, context): ...

Logs carry ids only: never tokens, card data, email addresses or payloads.

`tracer` is built on first import of the name: the X-Ray SDK alone costs 0.1 to 0.2 s of cold start, so
the functions someone waits on (the webhook, the pay pages, the operator API, the outbox stream) do not
import it and rely on Lambda's own active tracing; the scheduled runs use it for their subsegments
(docs/decisions.md, entry 32).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger(service="payportal")
# The namespace names the stage (`payportal-prod`), set by the stack, so two stages in one account keep
# apart; the dimension is the same for every function, so an alarm names one series per metric.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "payportal", service="payportal")


@cache
def _tracer() -> Tracer:
    from aws_lambda_powertools import Tracer  # lazy: the X-Ray SDK costs about 0.2 s of cold start

    return Tracer(service="payportal")


def __getattr__(name: str) -> Any:
    if name == "tracer":
        return _tracer()
    raise AttributeError(name)


__all__ = ["MetricUnit", "logger", "metrics"]  # and `tracer`, built lazily


def add_metric_by(name: str, value: float, dimension: str, label: str) -> None:
    """One metric with one more dimension than the function's others (a currency, a decline reason), as its
    own EMF record, so the other metrics keep the single `service` dimension the alarms name."""
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=value,
        namespace=metrics.namespace,
        default_dimensions={"service": str(metrics.service)},
    ) as metric:
        metric.add_dimension(name=dimension, value=label)


class _Skipped(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def reason(self) -> str: ...


# Enough lines to find the bad items; a run that skips thousands says how many in the metric.
MAX_SKIPPED_LOGGED = 50


def report_skipped(run: str, skipped: Sequence[_Skipped]) -> None:
    """A scheduled run's bad items (shared.services.ports.SkippedItem): counted in `BadItemsSkipped`, which
    the alarm of that name watches, and logged by id and error type."""
    metrics.add_metric(name="BadItemsSkipped", unit=MetricUnit.Count, value=len(skipped))
    for item in skipped[:MAX_SKIPPED_LOGGED]:
        logger.error(
            "bad item skipped; the run went on without it",
            extra={"run": run, "item_kind": item.kind, "item_id": item.id, "reason": item.reason},
        )
