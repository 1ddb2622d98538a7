"""The one place operator API errors become status codes: a client never sees a stack trace.

`documented` says the same in OpenAPI: each route lists the statuses it can really answer, with their
bodies, so docs/openapi.json is the API on the wire (tests/e2e/test_openapi_conformance.py checks it).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyKeyError,
    IdempotencyValidationError,
)
from pydantic import BaseModel

from functions.operator_api.schemas import ErrorBody, ErrorDetail, FieldProblem, GatewayError
from shared.domain import errors as domain
from shared.domain.dunning import InvalidPolicy
from shared.domain.imports import ImportFileInvalid, ImportFileTooLarge
from shared.domain.webhooks import InvalidWebhookEndpoint, TooManyWebhookEndpoints
from shared.observability import logger
from shared.services.exports import InvalidExport
from shared.services.lists import InvalidFilter
from shared.services.once import MissingIdempotencyKey
from shared.services.ports import ChangeRejected
from shared.services.reports import CountersNotReady, InvalidReportRange, ReportUnavailable

STATUS_BY_ERROR: dict[type[domain.DomainError], int] = {
    domain.NotFound: 404,
    domain.InvoiceNotPayable: 409,
    domain.PaymentInProgress: 409,
    domain.InvalidStateTransition: 409,
    domain.DuplicateInvoiceNumber: 409,
    domain.InvalidAmount: 422,
    domain.UnknownCurrency: 422,
    domain.PayLinkInvalid: 404,
    domain.InvalidHold: 422,
    domain.InvalidDate: 422,
    domain.ConcurrentUpdate: 409,
    InvalidPolicy: 422,
    ImportFileInvalid: 400,
    ImportFileTooLarge: 413,
    InvalidWebhookEndpoint: 422,
    TooManyWebhookEndpoints: 409,
    InvalidFilter: 422,
    InvalidExport: 422,
    InvalidReportRange: 422,
    ReportUnavailable: 422,
    CountersNotReady: 503,  # the deployment's one-off backfill has not run: a state of the service, not the request
}


IDEMPOTENCY_HEADER = "idempotency-key"  # as Powertools names it in a validation error's location

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "the request cannot be read: the body is not JSON or not UTF-8, a cursor is not one this API "
    "handed out for this list (`invalid_cursor`), a required `Idempotency-Key` is missing or blank "
    "(`idempotency_key_required`), a query parameter the route does not take (`unknown_parameter`), or "
    "filters no list answers together (`filters_not_served`, saying which to combine), or an import's file "
    "has rows that cannot be imported (`import_invalid`: `fields` names each, `line 12`, and why; nothing is "
    "written)",
    403: "from API Gateway: the request is not signed with SigV4 by an allowed IAM identity, or no such route",
    404: "no such customer, invoice, payment, recurring charge or webhook endpoint (`not_found`)",
    409: "the state does not allow it (`invalid_state_transition`, `invoice_not_payable`), the number or "
    "external id is taken, a request with this `Idempotency-Key` is still running, or it changed meanwhile",
    413: "the file is larger than an import takes (`import_too_large`: 4,000,000 bytes or 100,000 rows); split it",
    415: "the request declares a Content-Type other than `application/json` (`unsupported_media_type`)",
    422: "a field is invalid (`validation_error` and the domain's own codes); `fields` names each one",
    502: "Stripe could not be reached or answered with an error (`payment_provider_error`); nothing was "
    "recorded, and the same request (with the same `Idempotency-Key`) may be sent again",
    503: "the reports' running aggregates do not hold the invoices written before them yet "
    "(`counters_not_ready`): the deployment's `payportal reports backfill` has not run (docs/deploy.md)",
}


def documented(success: int, *errors: int) -> dict[int, OpenAPIResponse]:
    """A route's OpenAPI responses: its success status (the body its return annotation declares), the errors
    it can answer in payportal's shape, and API Gateway's 403, which every route can answer."""
    described: dict[int, OpenAPIResponse] = {success: {"description": "Successful Response"}}
    for status in errors:
        described[status] = {
            "description": ERROR_DESCRIPTIONS[status],
            "content": {"application/json": {"model": ErrorBody}},
        }
    described[403] = {"description": ERROR_DESCRIPTIONS[403], "content": {"application/json": {"model": GatewayError}}}
    return described


def listed(page: type[BaseModel], *errors: int) -> dict[int, OpenAPIResponse]:
    """A list route's responses: its page as JSON, or its rows as CSV (csv_output.py)."""
    described = documented(200, *errors)
    described[200] = {
        "description": "One page; as CSV (`Accept: text/csv` or `format=csv`) the next page is in a Link header",
        "content": {"application/json": {"model": page}, "text/csv": {"schema": {"type": "string"}}},
    }
    return described


def reported(report: type[BaseModel], *errors: int) -> dict[int, OpenAPIResponse]:
    """A report route's responses: the report as JSON, or its rows as CSV (csv_output.py)."""
    described = documented(200, *errors)
    described[200] = {
        "description": "The report; as CSV (`Accept: text/csv` or `format=csv`) one row per line of it",
        "content": {"application/json": {"model": report}, "text/csv": {"schema": {"type": "string"}}},
    }
    return described


def error_response(status: int, code: str, message: str, fields: list[dict[str, str]] | None = None) -> Response[Any]:
    problems = [FieldProblem(**field) for field in fields or []]
    body = ErrorBody(error=ErrorDetail(code=code, message=message, fields=problems))
    return Response(status_code=status, content_type="application/json", body=body.model_dump(mode="json"))


def _proxy_error(status: int, code: str, message: str, fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """An error as the Lambda proxy response it is, for what is answered before routing."""
    problems = [FieldProblem(**field) for field in fields or []]
    body = ErrorBody(error=ErrorDetail(code=code, message=message, fields=problems))
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": body.model_dump_json(),
        "isBase64Encoded": False,
    }


def not_json() -> dict[str, Any]:
    """The 415 for a body that is not JSON."""
    return _proxy_error(415, "unsupported_media_type", "send the body as application/json")


def not_an_object() -> dict[str, Any]:
    """The 422 for a JSON body that is not an object (request_body.body_is_not_an_object)."""
    return _proxy_error(
        422,
        "validation_error",
        "invalid request: body",
        [{"field": "body", "message": "the body must be a JSON object"}],
    )


def unknown_parameters_error(unknown: list[str], known: list[str]) -> dict[str, Any]:
    """The 400 for query parameters a route does not take (query_params.py), answered before routing."""
    return _proxy_error(
        400,
        "unknown_parameter",
        f"unknown query parameter: {', '.join(unknown)} (this route takes {', '.join(known)})",
        [{"field": name, "message": "not a parameter of this route"} for name in unknown],
    )


def _missing_key() -> Response[Any]:
    return error_response(
        400,
        "idempotency_key_required",
        "send an Idempotency-Key header (not blank)",
        [{"field": "Idempotency-Key", "message": "required"}],
    )


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[Any]:
        problems = error.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return error_response(400, "invalid_json", "the request body is not valid JSON")
        # A required Idempotency-Key is declared required (so OpenAPI says so) and still answers our 400, once
        # the body is valid: as before, a request with both wrong hears about its fields first.
        other = [p for p in problems if tuple(p.get("loc", ())) != ("header", IDEMPOTENCY_HEADER)]
        if not other:
            return _missing_key()
        problems = other
        fields = [
            {
                "field": ".".join(str(part) for part in p.get("loc", ())[1:] if part != "body") or "body",
                "message": str(p.get("msg", "invalid")),
            }
            for p in problems
        ]
        names = ", ".join(f["field"] for f in fields)
        return error_response(422, "validation_error", f"invalid request: {names}", fields)

    @app.exception_handler(UnicodeDecodeError)
    def not_utf8(_: UnicodeDecodeError) -> Response[Any]:
        return error_response(400, "invalid_body", "the request body is not valid UTF-8")

    @app.exception_handler(domain.DomainError)
    def domain_error(error: domain.DomainError) -> Response[Any]:
        status = next((s for t, s in STATUS_BY_ERROR.items() if isinstance(error, t)), 400)
        fields = [{"field": error.field, "message": error.message}] if error.field else []
        return error_response(status, error.code, error.message, fields)

    @app.exception_handler(ImportFileInvalid)
    def import_invalid(error: ImportFileInvalid) -> Response[Any]:
        """Every row at fault (the first 100), by line: nothing of the file was written."""
        fields = [{"field": f"line {e.line}", "message": e.reason} for e in error.errors]
        return error_response(400, error.code, error.message, fields)

    @app.exception_handler(ChangeRejected)
    def rejected(error: ChangeRejected) -> Response[Any]:
        if error.reason == "duplicate_number":
            return error_response(
                409,
                "duplicate_invoice_number",
                "an invoice with this number exists",
                [{"field": "number", "message": "already used"}],
            )
        if error.reason == "duplicate_external_id":
            return error_response(
                409,
                "duplicate_external_id",
                "a customer with this external_id exists: GET /v1/customers?external_id=... finds it",
                [{"field": "external_id", "message": "already used"}],
            )
        return error_response(409, "conflict", "the resource changed meanwhile; retry")

    @app.exception_handler(MissingIdempotencyKey)
    def missing_key(_: MissingIdempotencyKey) -> Response[Any]:
        return _missing_key()

    @app.exception_handler(IdempotencyKeyError)
    def missing_key_powertools(_: IdempotencyKeyError) -> Response[Any]:
        return _missing_key()

    @app.exception_handler(IdempotencyValidationError)
    def key_reused(_: IdempotencyValidationError) -> Response[Any]:
        return error_response(
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request body",
            [{"field": "Idempotency-Key", "message": "reused with a different body"}],
        )

    @app.exception_handler(IdempotencyAlreadyInProgressError)
    def in_progress(_: IdempotencyAlreadyInProgressError) -> Response[Any]:
        return error_response(409, "request_in_progress", "a request with this Idempotency-Key is still in progress")

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response[Any]:
        if type(error).__module__.startswith("stripe"):  # the SDK's errors; only the adapter imports stripe
            logger.exception("Stripe call failed")
            return error_response(502, "payment_provider_error", "Stripe could not complete the request; try again")
        logger.exception("operator API request failed")
        return error_response(500, "internal_error", "something went wrong; it has been logged")

    app.not_found(lambda _: error_response(404, "not_found", "no such route"))
