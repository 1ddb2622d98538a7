"""The dunning run: EventBridge Scheduler starts it hourly; SQS carries on what one invocation cannot finish.

A scheduled invocation works through the due_work shards in order. When Lambda's time is nearly up it stops
starting pages and puts one continuation per unfinished shard (shard + cursor) on the reminders queue, so the
rest runs in parallel invocations, each of which continues the same way. Every reminder is its own guarded
transaction, so a continuation delivered twice, or racing the next hourly run, sends nothing twice.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.clock import business_clock
from shared.cold_start import resumes_collector
from shared.observability import MetricUnit, logger, metrics, report_skipped, tracer
from shared.services.reminders import ALL_SHARDS, run_reminders

# Stop starting new pages this long before Lambda's timeout.
SAFETY_MARGIN_MS = 20_000

processor = BatchProcessor(event_type=EventType.SQS)
_context: list[LambdaContext] = []  # the invocation's context, for the record handler's time budget


def _out_of_time() -> bool:
    return _context[-1].get_remaining_time_in_millis() < SAFETY_MARGIN_MS


def _run(work: list[tuple[int, str | None]] | None) -> dict[str, Any]:
    report = run_reminders(wiring.ledger(), business_clock(), out_of_time=_out_of_time, work=work or ALL_SHARDS)
    if report.remaining:
        queue = wiring.reminders_queue()
        if queue is None:
            logger.warning("dunning run out of time and no queue configured; the next run picks up the rest")
        else:
            # One message per shard: the rest of the work fans out over parallel invocations.
            queue.send([{"shards": [[shard, cursor]]} for shard, cursor in report.remaining])
            metrics.add_metric(name="ReminderContinuations", unit=MetricUnit.Count, value=len(report.remaining))
    metrics.add_metric(name="RemindersSent", unit=MetricUnit.Count, value=report.sent)
    metrics.add_metric(name="RemindersWithheld", unit=MetricUnit.Count, value=report.withheld)
    metrics.add_metric(name="ReminderConflicts", unit=MetricUnit.Count, value=report.conflicts)
    report_skipped("reminders", report.skipped)
    metrics.add_metric(name="ReminderEmails", unit=MetricUnit.Count, value=report.emails)
    summary = asdict(report) | {
        "remaining": len(report.remaining),
        "skipped": len(report.skipped),
        "to_email": len(report.to_email),  # customers reminded: a count, never their ids
    }
    logger.info("dunning run finished", extra=summary)
    return summary


def continue_run(record: SQSRecord) -> None:
    body = record.json_body
    work = [(int(shard), None if cursor is None else str(cursor)) for shard, cursor in body["shards"]]
    _run(work)


@resumes_collector
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _context.append(context)
    try:
        if event.get("Records"):  # continuations from the reminders queue
            return dict(
                process_partial_response(event=event, record_handler=continue_run, processor=processor, context=context)
            )
        return _run(None)  # EventBridge Scheduler: everything that is due
    finally:
        _context.pop()
