"""The published API is the real API: schemathesis sends what docs/openapi.json allows (and what it forbids)
to every operation of the local stack, SigV4-signed as the local operator, and each answer must be no
server error and must be what the document says: a documented status, its content type, its body schema.

Bounded and repeatable: a fixed number of generated cases per operation (plus schemathesis's coverage
cases, which the document's constraints decide), derandomized, no deadline. Ids made up at random only
ever find a 404, so every other case is aimed at a customer, an invoice and a recurring charge that
exist: the success answers, and the 409s of records in the wrong state, are checked against the
document too.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local import sigv4
from local.stack import LocalStack

pytestmark = pytest.mark.e2e

DOCUMENT = Path(__file__).parents[2] / "docs" / "openapi.json"
CASES_PER_OPERATION = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class SignedAsLocalOperator(requests.auth.AuthBase):
    """Signs each request as it goes on the wire, the way an IAM caller signs for API Gateway."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.url = sigv4.normalise_url(str(request.url))
        body = request.body or b""
        data = body.encode() if isinstance(body, str) else body
        signed = sigv4.sign(str(request.method), request.url, data)
        request.headers["Authorization"] = signed["Authorization"]
        request.headers["X-Amz-Date"] = signed["X-Amz-Date"]
        return request


def create(stack: LocalStack, path: str, body: dict[str, Any]) -> str:
    response = stack.signed("POST", path, body, {"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture(scope="module")
def records(local_stack: LocalStack) -> dict[str, str]:
    """Given: one of each record the path parameters name, and the customer the bodies name."""
    customer_id = create(local_stack, "/v1/customers", {"email": "conformance@example.com", "name": "Schema Thesis"})
    invoice = {"customer_id": customer_id, "currency": "USD", "amount_due": 12_500, "due_date": "2027-01-31"}
    recurring = {"customer_id": customer_id, "amount": 1_000, "currency": "USD", "interval": "monthly"}
    return {
        "customer_id": customer_id,
        "invoice_id": create(local_stack, "/v1/invoices", invoice | {"number": "INV-CONFORMANCE"}),
        "recurring_id": create(local_stack, "/v1/recurring-charges", recurring | {"start_date": "2027-02-01"}),
    }


@pytest.fixture(scope="module", autouse=True)
def _dunning_policy_put_back(local_stack: LocalStack) -> Iterator[None]:
    """The pass replaces the dunning policy many times; the tests after it expect the one before it."""
    before = local_stack.signed("GET", "/v1/dunning-policy")
    assert before.status_code == 200, before.text
    yield
    restored = local_stack.signed("PUT", "/v1/dunning-policy", before.json())
    assert restored.status_code == 200, restored.text


_cases = itertools.count()


def aim_at(records: dict[str, str], case: schemathesis.Case) -> None:
    """Every other case names the records that exist instead of the ids it was generated with."""
    if next(_cases) % 2:
        return
    for name in case.path_parameters or {}:
        if name in records:
            case.path_parameters[name] = records[name]
    if isinstance(case.body, dict) and "customer_id" in case.body:
        case.body["customer_id"] = records["customer_id"]


config = schemathesis.Config()
config.projects.default.generation.update(max_examples=CASES_PER_OPERATION, deterministic=True)
schema = schemathesis.openapi.from_path(DOCUMENT, config=config)


@schema.parametrize()
@settings(
    max_examples=CASES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_answer_is_what_the_document_says(
    case: schemathesis.Case, local_stack: LocalStack, records: dict[str, str]
) -> None:
    aim_at(records, case)
    case.call_and_validate(base_url=local_stack.api_url, checks=CHECKS, auth=SignedAsLocalOperator())
