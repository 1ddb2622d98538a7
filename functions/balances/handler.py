"""EventBridge Scheduler -> the open balance, per currency, as metrics for the dashboard.

Reads only the open_balances index (a key and two numbers per invoice still being collected), never the
table. Amounts are minor units; each currency is its own series.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.observability import MetricUnit, logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from shared.wiring import ledger

    balances = ledger().open_balances()
    for currency, (amount, invoices) in sorted(balances.items()):
        _per_currency(single_metric(name="OpenBalance", unit=MetricUnit.Count, value=amount, **_where()), currency)
        _per_currency(single_metric(name="OpenInvoices", unit=MetricUnit.Count, value=invoices, **_where()), currency)
    summary = {
        currency: {"open_balance": amount, "open_invoices": count} for currency, (amount, count) in balances.items()
    }
    logger.info("open balance measured", extra={"currencies": len(summary)})
    return {"balances": summary}


def _where() -> dict[str, Any]:
    return {"namespace": metrics.namespace, "default_dimensions": {"service": str(metrics.service)}}


def _per_currency(metric: Any, currency: str) -> None:
    with metric as emitted:
        emitted.add_dimension(name="currency", value=currency)
