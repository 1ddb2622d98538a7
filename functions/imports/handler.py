"""The bulk import worker: the imports queue hands it one chunk of an import's checked rows at a time, or an
uploaded file to check first (POST /v1/imports with an `upload_id`), whose chunks it then queues itself.

Each row goes through the same services as POST /v1/customers and /v1/invoices; the chunk's result is
recorded once (services/imports.py), so a message delivered twice imports and counts nothing twice. A
chunk that fails is reported back (partial batch response), tried again, and after three receives goes to
the imports DLQ (alarmed).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.clock import business_clock
from shared.cold_start import resumes_collector
from shared.domain.errors import NotFound
from shared.observability import MetricUnit, logger, metrics, tracer
from shared.services.imports import check_upload, import_chunk

processor = BatchProcessor(event_type=EventType.SQS)


def import_record(record: SQSRecord) -> None:
    body = record.json_body
    if body.get("check"):
        check_record(str(body["import_id"]))
        return
    import_id, chunk = str(body["import_id"]), int(body["chunk"])
    try:
        result = import_chunk(wiring.ledger(), wiring.import_store(), business_clock(), import_id, chunk)
    except NotFound:
        logger.warning("import chunk of an import no longer kept; dropped", extra={"import_id": import_id})
        return
    metrics.add_metric(name="ImportRowsImported", unit=MetricUnit.Count, value=result.imported)
    metrics.add_metric(name="ImportRowsSkipped", unit=MetricUnit.Count, value=result.skipped)
    metrics.add_metric(name="ImportRowsRejected", unit=MetricUnit.Count, value=len(result.rejected))
    logger.info(
        "import chunk done",
        extra={
            "import_id": import_id,
            "chunk": chunk,
            "imported": result.imported,
            "skipped": result.skipped,
            "rejected": len(result.rejected),
        },
    )


def check_record(import_id: str) -> None:
    try:
        job = check_upload(wiring.import_store(), wiring.imports_queue(), wiring.import_files(), import_id)
    except NotFound:
        logger.warning("uploaded file of an import no longer kept; dropped", extra={"import_id": import_id})
        return
    logger.info(
        "uploaded import file checked",
        extra={"import_id": import_id, "status": job.status.value, "rows": job.total_rows, "chunks": job.chunks},
    )


@resumes_collector
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=import_record, processor=processor, context=context)
    )
