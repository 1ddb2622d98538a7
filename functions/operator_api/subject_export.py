"""GET /v1/customers/{id}/export: the reply's shapes (the document itself is shared/domain/subject_access.py's)."""

from __future__ import annotations

import base64
import re
from typing import Any

from aws_lambda_powertools.event_handler import Response

from functions.operator_api.errors import OpenAPIResponse, documented
from functions.operator_api.schemas import CustomerExport


def exported_customer(*errors: int) -> dict[int, OpenAPIResponse]:
    described = documented(200, *errors)
    described[200] = {
        "description": "The export as an attachment: one JSON document, or (`format=zip`) a zip of it and the PDFs",
        "content": {
            "application/json": {"model": CustomerExport},
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
        },
    }
    return described


def export_response(body: str | bytes, content_type: str, customer_id: str, extension: str) -> Response[Any]:
    name = re.sub(r"[^A-Za-z0-9._-]", "_", customer_id)[:100] or "customer"
    headers = {"Content-Disposition": f'attachment; filename="export-{name}.{extension}"', "Cache-Control": "no-store"}
    if isinstance(body, bytes):
        # Encoded here, not by Powertools: its response validation would read bytes as UTF-8 text first.
        encoded = Response(status_code=200, content_type=content_type, body=base64.b64encode(body).decode(),
                           headers=headers)  # fmt: skip
        encoded.base64_encoded = True
        return encoded
    return Response(status_code=200, content_type=content_type, body=body, headers=headers)
