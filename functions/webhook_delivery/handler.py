"""SQS -> outbound webhooks. The bus's rule puts every domain event on the queue; this function fans each out
into one message per subscribed endpoint (back onto the same queue), and sends each of those as one signed
POST. A failed attempt's message is hidden for its backoff (shared.services.webhook_delivery.RETRY_DELAYS)
and reported failed (partial batch response), so SQS hands it back then; each endpoint retries on its own."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.clock import SystemClock, business_clock
from shared.cold_start import resumes_collector
from shared.observability import MetricUnit, logger, metrics
from shared.services.webhook_delivery import Attempt, DeliveryTask, Outcome, deliver, event_from_bus, fan_out

# A batch whose every delivery is waiting out its backoff is an answer, not an error of the invocation.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class RetryLater(Exception):
    """This delivery's attempt failed: its message comes back after the backoff."""


def handle_record(record: SQSRecord) -> None:
    body = record.json_body
    if "endpoint_id" not in body:  # a domain event from the bus
        event = event_from_bus(body)
        if event is None:
            logger.warning("not a payportal domain event; dropped", extra={"message_id": record.message_id})
            return
        tasks = fan_out(wiring.webhook_endpoints(), event)
        if tasks:
            wiring.webhooks_queue().send([t.as_message() for t in tasks])
        return
    task = DeliveryTask.from_message(body)
    attributes = record.attributes
    attempt = Attempt(
        number=int(attributes.approximate_receive_count or 1),
        message_id=record.message_id,
        first_queued_ms=int(attributes.sent_timestamp or 0),
    )
    endpoints, sender = wiring.webhook_endpoints(), wiring.webhook_sender()
    result = deliver(endpoints, sender, business_clock(), task, attempt, wall_clock=SystemClock())
    ids = {"endpoint_id": task.endpoint_id, "webhook_id": task.event.id, "attempt": attempt.number}
    metrics.add_metric(name=f"Webhooks{result.outcome.value.capitalize()}", unit=MetricUnit.Count, value=1)
    if result.disabled_endpoint:  # alarmed (infra/components/monitoring.py)
        metrics.add_metric(name="WebhookEndpointsDisabled", unit=MetricUnit.Count, value=1)
        logger.warning("webhook endpoint disabled after deliveries failed in a row", extra=ids)
    if result.outcome is Outcome.RETRY:
        status = result.sent.status if result.sent else None
        logger.info("webhook attempt failed; retried later", extra=ids | {"status": status, "in_s": result.retry_in})
        wiring.webhooks_queue().retry_later(record.receipt_handle, result.retry_in or 60)
        raise RetryLater(task.endpoint_id)
    logger.info(f"webhook {result.outcome.value}", extra=ids)


@resumes_collector
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
    )
