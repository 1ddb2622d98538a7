"""EventBridge Scheduler -> reconciliation: Stripe's event list from the stored cursor, each event applied
through the webhook's exactly-once path (shared/services/reconcile.py).

Then it looks up at Stripe what is still open-ended past its time: pending payments and refunds, Checkout
Sessions open past their expiry, installment charges with no outcome; and the fees of succeeded payments. It
stops reading 20 s before Lambda's time runs out; the cursor keeps what was done and the next hourly run
continues. What it recovered and
flagged, how far behind the cursor is and how old the oldest unresolved drift is go out as metrics (the
alarms watch the last two) and as a `reconcile.completed` event.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.adapters.stripe_events import HANDLED_EVENT_TYPES, NotAStripeEvent, parse_event
from shared.clock import business_clock, wall_clock_now
from shared.cold_start import resumes_collector
from shared.config import settings
from shared.observability import MetricUnit, logger, metrics, report_skipped, tracer
from shared.services.reconcile import Pacer, ReconcileSettings, reconcile, requests_per_second
from shared.services.stripe_events.facts import StripeFact

SAFETY_MARGIN_MS = 20_000
MAX_FAILED_LOGGED = 20


def read_event(payload: dict[str, Any]) -> StripeFact | None:
    """A listed event read exactly as the webhook reads a delivered one."""
    try:
        return parse_event(payload)
    except NotAStripeEvent:
        return None


@resumes_collector
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    livemode = wiring.stripe_credentials().livemode
    report = reconcile(
        wiring.ledger(),
        wiring.gateway(),
        business_clock(),
        stripe_now=wall_clock_now,
        out_of_time=lambda: context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS,
        settings=ReconcileSettings(
            livemode=livemode, retry_days=settings().charge_retry_days, types=tuple(sorted(HANDLED_EVENT_TYPES))
        ),
        pacer=Pacer(requests_per_second(livemode)),
        read=read_event,
    )
    for name, value in (
        ("ReconcileEventsListed", report.listed),
        ("ReconcileEventsRecovered", report.recovered),
        ("ReconcileEventsFailed", len(report.failed)),
        ("ReconcileEventsUnreadable", report.unreadable),
        ("EventsFlaggedForReview", report.flagged),
        ("ReconcileUnresolvedDrift", report.unresolved_drift),
        ("ReconcilePendingPaymentsFlagged", report.pending_flagged),
        ("ReconcileOpenCheckoutsFlagged", report.checkouts_flagged),
        ("ReconcileOpenCheckoutsClosed", report.checkouts_closed),
        ("ReconcileChargesInFlightFlagged", report.charges_flagged),
        ("ReconcileFeesRecorded", report.fees_recorded),
        ("ReconcileFeeLookupsFailed", report.fees_failed),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    metrics.add_metric(name="ReconcileCursorLagSeconds", unit=MetricUnit.Seconds, value=report.cursor_lag_seconds)
    metrics.add_metric(name="ReconcileOldestDriftSeconds", unit=MetricUnit.Seconds, value=report.oldest_drift_seconds)
    for failed in report.failed[:MAX_FAILED_LOGGED]:
        logger.error("stripe event not applied; the next run tries again", extra=asdict(failed))
    report_skipped("reconcile", report.skipped)
    summary = asdict(report) | {
        "failed": len(report.failed),
        "skipped": len(report.skipped),
        "cursor": str(report.cursor),
    }
    logger.info("reconcile run finished", extra=summary)
    return summary
