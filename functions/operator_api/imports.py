"""POST /v1/imports, POST /v1/imports/uploads, GET /v1/imports/template.csv and GET /v1/imports/{import_id}: bulk
import of customers and invoices, checked whole before anything is written, then imported in the background
(functions/imports). A file too large for one request is uploaded first and checked by the worker."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from functions.operator_api.csv_output import csv_response
from functions.operator_api.errors import documented
from functions.operator_api.schemas import ImportOut, NewImport, RejectedRowOut, UploadFormOut, UploadOut
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


def _percent(job: ImportJob) -> int:
    if job.checking or job.problem:
        return 0  # not started, or never will
    return 100 if job.total_rows == 0 else job.rows_done * 100 // job.total_rows


def import_out(job: ImportJob, rejected: list[RejectedRow]) -> ImportOut:
    percent = _percent(job)
    if job.problem:  # nothing was imported: each row at fault is what the operator fixes
        rejected = [RejectedRow(line=e.line, reason=e.reason) for e in job.errors]
    return ImportOut(
        id=job.id,
        status=job.status.value,
        format=job.file_format.value,
        created_at=job.created_at,
        sha256=job.sha256,
        problem=job.problem or None,
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
    responses=documented(202, 400, 404, 409, 413, 415, 422),
)
def start_import(request: NewImport, idempotency_key: ImportIdempotencyKey) -> ImportOut:
    once = wiring.run_once("import", router.lambda_context)
    if request.upload_id is not None:
        job = imports.start_upload_import_once(
            wiring.import_store(), wiring.imports_queue(), wiring.import_files(), business_clock(), once,
            request.upload_id, FileFormat(request.format), key=idempotency_key, actor=_actor(),
        )  # fmt: skip
        logger.info("import of an uploaded file started", extra={"import_id": job.id})
        return import_out(job, [])
    assert request.content is not None  # the model takes one of the two
    job = imports.start_import_once(
        wiring.import_store(),
        wiring.imports_queue(),
        business_clock(),
        once,
        request.content,
        FileFormat(request.format),
        key=idempotency_key,
        actor=_actor(),
    )
    logger.info("import started", extra={"import_id": job.id, "rows": job.total_rows, "chunks": job.chunks})
    return import_out(job, [])


@router.post(
    "/v1/imports/uploads",
    tags=["imports"],
    summary="A form to upload a file too large for one request (up to 50 MB); then POST /v1/imports its upload_id",
    status_code=201,
    responses=documented(201, 400, 422),
)
def new_upload(idempotency_key: ImportIdempotencyKey) -> UploadOut:
    upload = imports.new_upload(wiring.import_files(), business_clock(), actor=_actor(), key=idempotency_key)
    form = UploadFormOut(url=upload.form.url, fields=upload.form.fields)
    return UploadOut(upload_id=upload.id, upload=form, expires_at=upload.expires_at, max_bytes=upload.max_bytes)


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
