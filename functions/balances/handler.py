"""EventBridge Scheduler -> the open balance, per currency, as metrics for the dashboard.

Reads only the open_balances index (a key and two numbers per invoice still being collected), never the
table. Amounts are minor units; each currency is its own series.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.observability import add_metric_by, logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from shared.wiring import ledger

    balances = ledger().open_balances()
    for currency, (amount, invoices) in sorted(balances.items()):
        add_metric_by("OpenBalance", amount, "currency", currency)
        add_metric_by("OpenInvoices", invoices, "currency", currency)
    summary = {
        currency: {"open_balance": amount, "open_invoices": count} for currency, (amount, count) in balances.items()
    }
    logger.info("open balance measured", extra={"currencies": len(summary)})
    return {"balances": summary}
