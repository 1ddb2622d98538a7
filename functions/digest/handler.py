"""EventBridge Scheduler -> the operator's morning digest, once a day at the local hour set in CDK context.

Builds one digest from the ledger's counters and indexes and queues it as an outbox email (the outbox function
sends it through SES). A second firing the same day queues nothing: the day's message is there already.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.clock import business_clock
from shared.cold_start import resumes_collector
from shared.config import settings
from shared.observability import MetricUnit, logger, metrics, report_skipped, tracer
from shared.services.digest import send_digest


@resumes_collector
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = settings()
    run = send_digest(
        wiring.ledger(), business_clock(), timezone=config.digest_timezone, recipients=len(config.digest_recipients)
    )
    report_skipped("digest", run.skipped)
    metrics.add_metric(name="DigestsQueued", unit=MetricUnit.Count, value=1 if run.queued else 0)
    summary = {"day": run.day.isoformat(), "queued": run.queued, "reason": run.reason, "skipped": len(run.skipped)}
    logger.info("digest run finished", extra=summary)
    return summary
