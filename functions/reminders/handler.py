"""EventBridge Scheduler -> the dunning run: send every reminder that is due, within the time budget."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.observability import MetricUnit, logger, metrics, tracer

# Stop starting new pages this long before Lambda's timeout; what is left stays due for the next run.
SAFETY_MARGIN_MS = 20_000


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from shared.clock import business_clock
    from shared.services.reminders import run_reminders
    from shared.wiring import ledger

    report = run_reminders(
        ledger(), business_clock(), out_of_time=lambda: context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS
    )
    metrics.add_metric(name="RemindersSent", unit=MetricUnit.Count, value=report.sent)
    metrics.add_metric(name="ReminderConflicts", unit=MetricUnit.Count, value=report.conflicts)
    logger.info("dunning run finished", extra=asdict(report))
    return asdict(report)
