"""EventBridge Scheduler -> the open balance, per currency, as metrics for the dashboard; and the aging
snapshot of each of the last days that has none yet (the aging report's history, GET /v1/reports/aging).

Reads the open_balances index (a few attributes per invoice still being collected) and the running
aggregates' counters, never the invoices. Amounts are minor units; each currency is its own series.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.clock import business_clock
from shared.cold_start import resumes_collector
from shared.observability import add_metric_by, logger, metrics, tracer
from shared.services.balances import open_balances
from shared.services.reports import keep_daily_snapshots


@resumes_collector
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    balances = open_balances(wiring.ledger())
    for line in balances:
        add_metric_by("OpenBalance", line.amount, "currency", line.currency)
        add_metric_by("OpenInvoices", line.invoices, "currency", line.currency)
    summary = {line.currency: {"open_balance": line.amount, "open_invoices": line.invoices} for line in balances}
    snapshots = [day.isoformat() for day in keep_daily_snapshots(wiring.ledger(), business_clock())]
    logger.info("open balance measured", extra={"currencies": len(summary), "snapshots": snapshots})
    return {"balances": summary, "snapshots": snapshots}
