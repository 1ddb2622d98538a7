"""EventBridge Scheduler -> the open balance, per currency, as metrics for the dashboard.

Reads only the open_balances index (a key and two numbers per invoice still being collected), never the
table. Amounts are minor units; each currency is its own series.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.observability import add_metric_by, logger, metrics, tracer
from shared.services.balances import open_balances


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    balances = open_balances(wiring.ledger())
    for line in balances:
        add_metric_by("OpenBalance", line.amount, "currency", line.currency)
        add_metric_by("OpenInvoices", line.invoices, "currency", line.currency)
    summary = {line.currency: {"open_balance": line.amount, "open_invoices": line.invoices} for line in balances}
    logger.info("open balance measured", extra={"currencies": len(summary)})
    return {"balances": summary}
