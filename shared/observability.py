"""Logger, tracer and metrics for every function (Powertools). Handlers decorate in one order:

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event, context): ...

Logs carry ids only: never tokens, card data, email addresses or payloads.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service="payportal")
tracer = Tracer(service="payportal")
metrics = Metrics(namespace="payportal", service="payportal")

__all__ = ["MetricUnit", "logger", "metrics", "tracer"]
