"""DynamoDB stream -> SES emails and EventBridge events. Each outbox item is delivered once; a failing
one is reported back (partial batch response), retried by the stream, and ends in the DLQ."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.adapters.outbox_stream import outbox_message_id
from shared.clock import business_clock
from shared.cold_start import resumes_collector
from shared.domain.messages import Event, EventName
from shared.observability import MetricUnit, add_metric_by, logger, metrics
from shared.services.outbox import Delivery, deliver

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def deliver_record(record: DynamoDBRecord) -> None:
    message_id = outbox_message_id(record)
    if message_id is None:
        return  # not an outbox item: never fail a batch over one
    delivered = deliver(
        message_id,
        store=wiring.ledger(),
        ledger=wiring.ledger(),
        mailer=wiring.mailer(),
        publisher=wiring.publisher(),
        clock=business_clock(),
        branding=wiring.branding(),
        gateway=wiring.gateway(),
        accounts=wiring.account_store(),
        export_links=wiring.privacy(),
    )
    if delivered.taken_over:  # an earlier delivery's lease ran out: it may have sent this already
        metrics.add_metric(name="OutboxTakenOver", unit=MetricUnit.Count, value=1)
        logger.warning(
            "outbox message taken over from a delivery that never finished", extra={"message_id": message_id}
        )
    if delivered.unrecorded:
        metrics.add_metric(name="OutboxDeliveriesUnrecorded", unit=MetricUnit.Count, value=1)
        logger.error("outbox message sent but not marked delivered", extra={"message_id": message_id})
    if delivered.outcome is Delivery.SENT:
        metrics.add_metric(name="OutboxDelivered", unit=MetricUnit.Count, value=1)
        if delivered.message is not None and isinstance(delivered.message.body, Event):
            business_metrics(delivered.message.body)
    elif delivered.outcome is Delivery.SUPPRESSED:
        metrics.add_metric(name="EmailsSuppressed", unit=MetricUnit.Count, value=1)
    logger.info("outbox message handled", extra={"message_id": message_id, "outcome": delivered.outcome.value})


def business_metrics(event: Event) -> None:
    """Money metrics from the domain events as they go out: each is delivered once, after its transaction
    committed, and off the paths a payer or Stripe waits on. Amounts are in minor units, per currency."""
    data = event.detail
    if event.name is EventName.PAYMENT_SUCCEEDED:
        metrics.add_metric(name="PaymentsSucceeded", unit=MetricUnit.Count, value=1)
        add_metric_by(
            "AmountCollected", int(data.get("amount") or 0), "currency", str(data.get("currency") or "unknown")
        )
    elif event.name is EventName.PAYMENT_FAILED:
        metrics.add_metric(name="PaymentsFailed", unit=MetricUnit.Count, value=1)
        # Stripe's decline or error codes: a short, fixed vocabulary, so a bounded set of series.
        add_metric_by("PaymentFailuresByReason", 1, "reason", str(data.get("failure_reason") or "unknown")[:64])
    elif event.name is EventName.PAYMENT_REFUNDED:
        metrics.add_metric(name="RefundsMade", unit=MetricUnit.Count, value=1)
        add_metric_by(
            "AmountRefunded", int(data.get("amount") or 0), "currency", str(data.get("currency") or "unknown")
        )
    elif event.name is EventName.REFUND_FAILED:
        metrics.add_metric(name="RefundsFailed", unit=MetricUnit.Count, value=1)  # alarmed: the operator acts


@resumes_collector
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=deliver_record, processor=processor, context=context
    )
    return dict(response)
