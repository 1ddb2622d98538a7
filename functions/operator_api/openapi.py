"""Prints the operator API's OpenAPI document, generated from the code (`make openapi`)."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler.openapi.models import Server

from functions.operator_api.handler import app


def document() -> str:
    schema = app.get_openapi_json_schema(
        title="payportal operator API",
        version="1.0.0",
        description="Create customers and invoices, read payments. Every request is signed with AWS SigV4.",
        servers=[Server(url="/")],
    )
    return json.dumps(json.loads(schema), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(document(), end="")
