"""Demo data for `make dev`, created the way an operator would: through the signed operator API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import requests

from local.sigv4 import signed_request

DEMO_CUSTOMER: dict[str, Any] = {
    "email": "demo@example.com",
    "name": "Dana Demo",
    "timezone": "Europe/Berlin",
    "locale": "en-US",
}


class SeedError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class DemoData:
    customer_id: str
    invoice_id: str
    pay_url: str


def _created(response: requests.Response, what: str) -> dict[str, Any]:
    if response.status_code not in (200, 201):
        raise SeedError(f"{what} answered {response.status_code}: {response.text[:300]}")
    try:
        body = response.json()
    except ValueError:
        raise SeedError(f"{what} answered {response.status_code} without JSON") from None
    if not isinstance(body, dict):
        raise SeedError(f"{what} answered {response.status_code} with {type(body).__name__}, not an object")
    return body


def _identifier(body: dict[str, Any], *names: str) -> str:
    for name in names:
        if isinstance(body.get(name), str):
            return str(body[name])
    raise SeedError(f"no {' or '.join(names)} in the answer")


def seed_demo_data(api_url: str, today: date) -> DemoData:
    """A customer and an open invoice due in two weeks (business days count from `today`)."""
    customer = _created(
        signed_request(
            "POST",
            f"{api_url}/v1/customers",
            DEMO_CUSTOMER,
            {"Idempotency-Key": "local-seed-demo-customer"},
        ),
        "POST /v1/customers",
    )
    customer_id = _identifier(customer, "customer_id", "id")
    invoice = _created(
        signed_request(
            "POST",
            f"{api_url}/v1/invoices",
            {
                "customer_id": customer_id,
                "number": "INV-DEMO-0001",
                "currency": "usd",
                "amount_due": 12500,
                "due_date": (today + timedelta(days=14)).isoformat(),
                "description": "Demo invoice",
                "allow_partial": True,
                "min_partial_amount": 1000,
                # So the demo pay page shows the plans too
                "installments": {"max_installments": 3, "min_installment_amount": 2000, "frequencies": ["monthly"]},
            },
            {"Idempotency-Key": "local-seed-demo-invoice"},
        ),
        "POST /v1/invoices",
    )
    return DemoData(
        customer_id=customer_id,
        invoice_id=_identifier(invoice, "invoice_id", "id"),
        pay_url=_identifier(invoice, "pay_url"),
    )
