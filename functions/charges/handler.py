"""EventBridge Scheduler -> the charge run: recurring charges' invoices for the coming periods, then one
off-session PaymentIntent per due installment or autopay charge, each exactly once.

What is not reached before Lambda's time runs short stays due; the next hourly run picks it up (charges are
few next to reminders: one per installment date, not one per step).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.clock import business_clock
from shared.cold_start import resumes_collector
from shared.config import settings
from shared.observability import MetricUnit, logger, metrics, report_skipped, tracer
from shared.services.charges import run_charges

SAFETY_MARGIN_MS = 20_000


@resumes_collector
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = run_charges(
        wiring.ledger(),
        wiring.gateway(),
        business_clock(),
        out_of_time=lambda: context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS,
        autopay_notice_days=settings().autopay_notice_days,
    )
    metrics.add_metric(name="InstallmentChargesCreated", unit=MetricUnit.Count, value=report.charged)
    metrics.add_metric(name="InstallmentChargesRefused", unit=MetricUnit.Count, value=report.failed_at_stripe)
    metrics.add_metric(name="InstallmentChargeConflicts", unit=MetricUnit.Count, value=report.conflicts)
    report_skipped("charges", report.skipped)
    summary = asdict(report) | {"remaining": len(report.remaining), "skipped": len(report.skipped)}
    logger.info("charge run finished", extra=summary)
    return summary
