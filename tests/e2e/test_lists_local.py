"""The lists through the local stack's HTTP API, signed with SigV4 as API Gateway checks it: a finance
person's Monday questions, JSON and CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from local.stack import LocalStack


def _invoice(stack: LocalStack, customer_id: str, due: date, currency: str) -> dict[str, Any]:
    body = {
        "customer_id": customer_id, "number": f"INV-L-{uuid.uuid4().hex[:8]}", "currency": currency,
        "amount_due": 12_500, "due_date": due.isoformat(), "description": "Support",
    }  # fmt: skip
    created = stack.signed("POST", "/v1/invoices", body, {"Idempotency-Key": uuid.uuid4().hex})
    assert created.status_code == 201, created.text
    return dict(created.json())


def test_overdue_invoices_payments_and_customers_answer_over_http(local_stack: LocalStack) -> None:
    # Given a customer with an overdue invoice and one not yet due, in a currency no other test uses
    name = f"Zelda {uuid.uuid4().hex[:6]}"
    customer = local_stack.signed(
        "POST", "/v1/customers", {"email": f"{uuid.uuid4().hex[:8]}@example.com", "name": name}
    )
    assert customer.status_code == 201, customer.text
    customer_id = customer.json()["id"]
    today = local_stack.clock.now().date()
    overdue = _invoice(local_stack, customer_id, today - timedelta(days=20), "SEK")
    _invoice(local_stack, customer_id, today + timedelta(days=20), "SEK")

    # When the operator asks which SEK invoices are overdue
    found = local_stack.signed("GET", "/v1/invoices?overdue=true&currency=SEK&limit=100")

    # Then that invoice is there, 20 days overdue (the customer lives in UTC)
    assert found.status_code == 200, found.text
    rows = {r["id"]: r for r in found.json()["invoices"]}
    assert rows[overdue["id"]]["days_overdue"] == 20
    assert len([r for r in rows.values() if r["customer_id"] == customer_id]) == 1

    # And both open ones by status, repeated; as CSV with a header row
    both = local_stack.signed("GET", "/v1/invoices?status=open&status=partially_paid&currency=SEK&limit=100",
                              headers={"Accept": "text/csv"})  # fmt: skip
    assert both.status_code == 200 and both.headers["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(both.text)))
    assert len([r for r in table if r["customer_id"] == customer_id]) == 2

    # And the customer by name prefix, and today's payments (none of theirs)
    people = local_stack.signed("GET", f"/v1/customers?q={name.split()[1]}")
    assert people.status_code == 200 and people.json()["customers"] == []  # q is a prefix of the name or email
    people = local_stack.signed("GET", f"/v1/customers?q={name.lower().replace(' ', '%20')}")
    assert [c["id"] for c in people.json()["customers"]] == [customer_id]
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    payments = local_stack.signed("GET", f"/v1/payments?customer_id={customer_id}&since={since:%Y-%m-%dT%H:%M:%SZ}")
    assert payments.status_code == 200 and payments.json() == {"payments": [], "next_cursor": None}

    # And a mistyped filter is a 400 naming it, not everything
    typo = local_stack.signed("GET", "/v1/invoices?curency=SEK&overdue=true")
    assert typo.status_code == 400 and typo.json()["error"]["fields"][0]["field"] == "curency"
