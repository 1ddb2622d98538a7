"""Prints the operator API's OpenAPI document, generated from the code (`make openapi`)."""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, Server

from functions.operator_api.handler import app

# How API Gateway documents IAM authorisation: SigV4 in the Authorization header, on every operation.
SIGV4 = APIKey(
    name="Authorization",
    in_=APIKeyIn.header,
    description="AWS Signature Version 4 (service execute-api), signed by an IAM identity allowed to call the API",
    openapi_extensions={"x-amazon-apigateway-authtype": "awsSigv4"},
)

# Powertools documents its own 422 (FastAPI's `{"detail": [...]}`) on every route. No client ever sees it:
# errors.py answers every validation error in payportal's shape, which the routes that can fail validation
# document as their 422. What is left of Powertools' own is taken out, with the schemas only it used.
_POWERTOOLS_422 = "#/components/schemas/HTTPValidationError"
_POWERTOOLS_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def _without_powertools_errors(schema: dict[str, Any]) -> dict[str, Any]:
    for operations in schema["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            if _POWERTOOLS_422 in json.dumps(responses.get("422", {})):
                del responses["422"]
    assert _POWERTOOLS_422 not in json.dumps(schema["paths"])
    for name in _POWERTOOLS_SCHEMAS:
        schema["components"]["schemas"].pop(name, None)
    return schema


def _parameters_as_sent(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional header or query parameter is absent or a string, never JSON's null (`required: false`)."""
    for operations in schema["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                one_of = parameter["schema"].pop("anyOf", None)
                if parameter["in"] in ("header", "query") and one_of:
                    parameter["schema"].update(next(s for s in one_of if s.get("type") != "null"))
                elif one_of:
                    parameter["schema"]["anyOf"] = one_of
    return schema


def _operations_named_by_their_functions(schema: dict[str, Any]) -> dict[str, Any]:
    """Each operationId is its handler's name (`list_invoices`), not Powertools' name, path and method
    (`list_invoices_v1_invoices_get`): the typed client's functions are named by these (clients/python)."""
    names: set[str] = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            suffix = re.sub(r"\W", "_", path) + f"_{method}"
            generated = operation["operationId"]
            assert generated.endswith(suffix), (generated, suffix)
            name = generated.removesuffix(suffix)
            assert name not in names, f"two operations are both named {name}"
            names.add(name)
            operation["operationId"] = name
    return schema


def document() -> str:
    schema = app.get_openapi_json_schema(
        title="payportal operator API",
        version="1.0.0",
        description="Create customers and invoices, read payments. Every request is signed with AWS SigV4.",
        servers=[Server(url="/")],
        security_schemes={"sigv4": SIGV4},
        security=[{"sigv4": []}],
    )
    described = _parameters_as_sent(_without_powertools_errors(json.loads(schema)))
    described = _operations_named_by_their_functions(described)
    return json.dumps(described, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(document(), end="")
