"""POST /webhooks/stripe: verify the signature on the raw body, then record the event exactly once.

Kept light for cold start: no stripe SDK, no pydantic, no X-Ray SDK (Lambda's active tracing still
records each invocation), no Powertools (its logs' and metrics' shapes written by shared.lean_observability);
see docs/decisions.md.
"""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Any

from shared.adapters.stripe_events import NotAStripeEvent, parse_event
from shared.adapters.stripe_signature import SignatureError, verify
from shared.clock import business_clock
from shared.cold_start import resumes_collector
from shared.config import settings
from shared.lean_observability import MetricUnit, logger, metrics  # Powertools' shapes, not its import cost
from shared.services.stripe_events.engine import Outcome
from shared.services.stripe_events.facts import StripeFact
from shared.services.stripe_events.router import record_stripe_event, record_stripe_event_failure
from shared.wiring import ledger, stripe_credentials

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def _reply(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _ignore_unreadable(payload: object, error: NotAStripeEvent) -> dict[str, Any]:
    """Signed, so Stripe (or someone holding our secret) sent it, and it will never read better: a 4xx would
    only be retried for three days. Answered 200, counted (an alarm) and logged (docs/decisions.md, entry 34)."""
    metrics.add_metric(name="WebhookEventsUnreadable", unit=MetricUnit.Count, value=1)
    said_id = payload.get("id") if isinstance(payload, dict) else None
    logger.error(
        "signed webhook body is not a Stripe event we can read",
        extra={"reason": str(error), "stripe_event_id": said_id[:255] if isinstance(said_id, str) else None},
    )
    return _reply(200, {"received": True, "ignored": "not_a_stripe_event"})


def _keep_failed(fact: StripeFact, error: Exception) -> None:
    """Listed as failed (`bin/payportal webhooks list --failed`) until Stripe's retry or a replay applies it;
    best effort: the table may be what failed."""
    try:
        record_stripe_event_failure(ledger(), business_clock(), fact, error)
    except Exception:
        logger.exception("stripe event failure not kept")


@resumes_collector
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    credentials = stripe_credentials()
    try:
        verify(raw, _header(event, "stripe-signature"), credentials.webhook_secrets, now=time.time())
    except SignatureError as error:
        metrics.add_metric(name="WebhookSignatureFailures", unit=MetricUnit.Count, value=1)
        logger.warning("webhook rejected", extra={"reason": str(error)})
        return _reply(400, {"error": {"code": "invalid_signature", "message": "signature verification failed"}})
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested deeper than the parser goes
        return _reply(400, {"error": {"code": "invalid_json", "message": "body is not JSON"}})
    try:
        fact = parse_event(payload)
    except NotAStripeEvent as error:
        return _ignore_unreadable(payload, error)

    logger.append_keys(stripe_event_id=fact.event.id, stripe_event_type=fact.event.type)
    if fact.event.created:  # how long after Stripe created it the event reached us (retries included)
        lag = max(0.0, time.time() - fact.event.created)
        metrics.add_metric(name="WebhookLagSeconds", unit=MetricUnit.Seconds, value=lag)
    try:
        outcome = record_stripe_event(
            ledger(), business_clock(), fact, livemode=credentials.livemode, retry_days=settings().charge_retry_days
        )
    except Exception as error:
        # Transient (throttling, a lost race that kept losing): a 5xx makes Stripe deliver it again.
        metrics.add_metric(name="WebhookProcessingErrors", unit=MetricUnit.Count, value=1)
        logger.exception("stripe event not recorded; Stripe will retry")
        _keep_failed(fact, error)
        return _reply(500, {"error": {"code": "retry_later", "message": "event not recorded, retry"}})
    metrics.add_metric(name=f"WebhookEvents_{outcome.value}", unit=MetricUnit.Count, value=1)
    if outcome is Outcome.RETRY_LATER:
        # About a payment whose success has not reached us yet; nothing was kept, so Stripe's next delivery
        # (or reconciliation) applies it. Not an error: no alarm counts it.
        logger.info("stripe event arrived before the payment it is about; Stripe will deliver it again")
        return _reply(503, {"error": {"code": "retry_later", "message": "event arrived early, retry"}})
    if outcome is Outcome.FLAGGED:
        metrics.add_metric(name="EventsFlaggedForReview", unit=MetricUnit.Count, value=1)
        logger.error("stripe event flagged for review")
    logger.info("stripe event recorded", extra={"outcome": outcome.value})
    return _reply(200, {"received": True, "outcome": outcome.value})
