"""POST /v1/imports, GET /v1/imports/template.csv and GET /v1/imports/{import_id}: bulk import of customers and
invoices, checked whole before anything is written, then imported in the background (functions/imports)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from functions.operator_api.csv_output import csv_response
from functions.operator_api.errors import documented
from functions.operator_api.schemas import ImportOut, NewImport, RejectedRowOut
from shared import wiring
from shared.clock import business_clock
from shared.domain.imports import FileFormat, ImportJob, RejectedRow, template_csv
from shared.observability import logger
from shared.services import imports

router = Router()

ImportIdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        pattern=r"\S",
        description="required; the same key and file replays the first import instead of starting another",
    ),
]


def _actor() -> str:
    event = router.current_event
    assert isinstance(event, APIGatewayProxyEvent)  # the REST API's resolver
    identity = event.request_context.identity
    return identity.user_arn or identity.caller or "unknown"


def import_out(job: ImportJob, rejected: list[RejectedRow]) -> ImportOut:
    percent = 100 if job.total_rows == 0 else job.rows_done * 100 // job.total_rows
    return ImportOut(
        id=job.id,
        status=job.status.value,
        format=job.file_format.value,
        created_at=job.created_at,
        sha256=job.sha256,
        total_rows=job.total_rows,
        rows_done=job.rows_done,
        progress_percent=percent,
        rows_imported=job.rows_imported,
        rows_skipped=job.rows_skipped,
        rows_rejected=job.rows_rejected,
        rejected_rows=[RejectedRowOut(line=r.line, reason=r.reason) for r in rejected],
    )


def _template_responses() -> dict[int, Any]:
    described = documented(200)
    described[200] = {
        "description": "the header row and three example rows",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
    return described


@router.post(
    "/v1/imports",
    tags=["imports"],
    summary="Import customers and invoices from a CSV or JSON lines file; every row is checked first",
    status_code=202,
    responses=documented(202, 400, 409, 413, 415, 422),
)
def start_import(request: NewImport, idempotency_key: ImportIdempotencyKey) -> ImportOut:
    job = imports.start_import_once(
        wiring.import_store(),
        wiring.imports_queue(),
        business_clock(),
        wiring.run_once("import", router.lambda_context),
        request.content,
        FileFormat(request.format),
        key=idempotency_key,
        actor=_actor(),
    )
    logger.info("import started", extra={"import_id": job.id, "rows": job.total_rows, "chunks": job.chunks})
    return import_out(job, [])


@router.get(
    "/v1/imports/template.csv",
    tags=["imports"],
    summary="The import file's columns, with example rows",
    responses=_template_responses(),
)
def import_template() -> Response[Any]:
    return csv_response(template_csv(), None, "payportal-import-template")


@router.get(
    "/v1/imports/<import_id>",
    tags=["imports"],
    summary="An import's status, progress, counts and each rejected row",
    responses=documented(200, 404),
)
def get_import(import_id: str) -> ImportOut:
    report = imports.get_import(wiring.import_store(), import_id)
    return import_out(report.job, report.rejected)
