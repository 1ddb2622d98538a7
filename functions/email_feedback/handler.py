"""SES -> SNS -> here: a permanent bounce or a complaint marks the customer's address undeliverable.

The SES configuration set publishes sending events to an SNS topic; this function is its subscriber. The
customer comes from the message tag the outbox put on the email, so no lookup by address is needed. A
transient bounce (mailbox full, greylisting) changes nothing: SES retries those itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.clock import business_clock
from shared.cold_start import resumes_collector
from shared.observability import MetricUnit, logger, metrics, tracer
from shared.services.customers import record_email_feedback

CUSTOMER_TAG = "customer_id"  # shared.adapters.notifications.CUSTOMER_TAG; not imported, to keep SES out


@dataclass(frozen=True, slots=True)
class Feedback:
    customer_id: str
    reason: str  # "bounce" | "complaint"
    addresses: list[str]
    detail: str


def feedback_from(message: dict[str, Any]) -> Feedback | None:
    """The feedback an SES event carries, or None when it says nothing about deliverability."""
    kind = message.get("eventType") or message.get("notificationType")  # event publishing, or notifications
    tags = (message.get("mail") or {}).get("tags") or {}
    customer_ids = tags.get(CUSTOMER_TAG) or []
    if not customer_ids:
        return None  # not one of our customer emails
    if kind == "Bounce":
        bounce = message.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return None
        recipients = bounce.get("bouncedRecipients") or []
        detail = f"{bounce.get('bounceType')}/{bounce.get('bounceSubType', '')}"
        reason = "bounce"
    elif kind == "Complaint":
        complaint = message.get("complaint") or {}
        recipients = complaint.get("complainedRecipients") or []
        detail = str(complaint.get("complaintFeedbackType", ""))
        reason = "complaint"
    else:
        return None
    addresses = [str(r["emailAddress"]) for r in recipients if r.get("emailAddress")]
    return Feedback(customer_id=str(customer_ids[0]), reason=reason, addresses=addresses, detail=detail)


@resumes_collector
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    marked = 0
    for record in event.get("Records", []):
        feedback = feedback_from(json.loads(record["Sns"]["Message"]))
        if feedback is None:
            continue
        newly = record_email_feedback(
            wiring.ledger(),
            business_clock(),
            feedback.customer_id,
            reason=feedback.reason,
            addresses=feedback.addresses,
            detail=feedback.detail,
        )
        # Ids only: the address itself never reaches a log.
        logger.info(
            "email feedback", extra={"customer_id": feedback.customer_id, "reason": feedback.reason, "marked": newly}
        )
        if newly:
            metrics.add_metric(name="EmailsUndeliverable", unit=MetricUnit.Count, value=1)
            marked += 1
    return {"marked": marked}
