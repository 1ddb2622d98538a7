"""EventBridge Scheduler -> the retention job, once a day: customers whose retain-until has passed and whose
records have all expired are pseudonymised (their Stripe customer deleted), audited as the scheduler.

Reads the due_work index's RETAIN partitions and each such customer's by_owner partition, never the table.
What is not reached before Lambda's time runs short stays due; the next day's run picks it up.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.clock import business_clock
from shared.cold_start import resumes_collector
from shared.observability import MetricUnit, logger, metrics, report_skipped, tracer
from shared.services.retention import pseudonymiser, run_retention

SAFETY_MARGIN_MS = 20_000


@resumes_collector
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    clock = business_clock()
    report = run_retention(
        wiring.ledger(),
        clock,
        pseudonymiser(wiring.ledger(), clock, wiring.gateway()),
        out_of_time=lambda: context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS,
    )
    metrics.add_metric(name="CustomersPseudonymised", unit=MetricUnit.Count, value=report.erased)
    report_skipped("retention", report.skipped)
    summary = asdict(report) | {"skipped": len(report.skipped)}
    logger.info("retention run finished", extra=summary)
    return summary
