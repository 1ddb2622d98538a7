"""The one place operator API errors become status codes: a client never sees a stack trace."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyKeyError,
    IdempotencyValidationError,
)

from shared.domain import errors as domain
from shared.domain.dunning import InvalidPolicy
from shared.observability import logger
from shared.services.once import MissingIdempotencyKey
from shared.services.ports import ChangeRejected

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
    domain.ConcurrentUpdate: 409,
    InvalidPolicy: 422,
}


def error_response(status: int, code: str, message: str, fields: list[dict[str, str]] | None = None) -> Response[Any]:
    body = {"error": {"code": code, "message": message, "fields": fields or []}}
    return Response(status_code=status, content_type="application/json", body=body)


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[Any]:
        problems = error.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return error_response(400, "invalid_json", "the request body is not valid JSON")
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
        return error_response(
            400,
            "idempotency_key_required",
            "send an Idempotency-Key header",
            [{"field": "Idempotency-Key", "message": "required"}],
        )

    @app.exception_handler(IdempotencyKeyError)
    def missing_key_powertools(_: IdempotencyKeyError) -> Response[Any]:
        return missing_key(MissingIdempotencyKey())

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
    def unexpected(_: Exception) -> Response[Any]:
        logger.exception("operator API request failed")
        return error_response(500, "internal_error", "something went wrong; it has been logged")

    app.not_found(lambda _: error_response(404, "not_found", "no such route"))
