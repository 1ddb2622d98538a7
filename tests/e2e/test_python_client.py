"""The typed client (clients/python) against the local stack, signed with SigV4 as in AWS: the three tasks
docs/integrations.md shows, as written there: create a customer and an invoice, list what is overdue, and
refund a payment."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from botocore.credentials import Credentials
from payportal_client.api.customers import create_customer
from payportal_client.api.invoices import create_invoice, get_invoice, list_invoices
from payportal_client.api.payments import list_payments, refund_payment
from payportal_client.models import (
    CreatedInvoice,
    CustomerOut,
    InvoiceOut,
    InvoicesPage,
    NewCustomer,
    NewInvoice,
    NewRefund,
    PaymentsPage,
    RefundMadeOut,
)
from payportal_signing import signed_client

from local.config import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY
from local.stack import LocalStack
from shared.clock import wall_clock_now
from tests.e2e.test_money_loop_http import eventually, pay_on_checkout

pytestmark = pytest.mark.e2e


def test_create_list_overdue_and_refund_through_the_typed_client(local_stack: LocalStack) -> None:
    client = signed_client(
        local_stack.api_url, region=REGION, credentials=Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    )
    customer = create_customer.sync(
        client=client,
        body=NewCustomer(email=f"typed-{uuid.uuid4().hex[:6]}@example.com", name="Typed Client"),
        idempotency_key=uuid.uuid4().hex,
    )
    assert isinstance(customer, CustomerOut), customer
    due = (wall_clock_now() - timedelta(days=12)).date()
    body = NewInvoice(customer_id=customer.id, number=f"INV-TYPED-{uuid.uuid4().hex[:6]}", currency="USD",
                      amount_due=8_000, due_date=due, description="Typed support")  # fmt: skip
    invoice = create_invoice.sync(client=client, body=body, idempotency_key=uuid.uuid4().hex)
    assert isinstance(invoice, CreatedInvoice), invoice

    # Overdue in USD, page by page until it shows (other tests' invoices share the list)
    found, cursor = None, None
    for _ in range(50):
        page = list_invoices.sync(
            client=client, overdue=True, currency="USD", limit=100, **({"cursor": cursor} if cursor else {})
        )
        assert isinstance(page, InvoicesPage), page
        found = next((row for row in page.invoices if row.id == invoice.id), None)
        cursor = page.next_cursor
        if found or not cursor:
            break
    assert found is not None and found.days_overdue >= 11

    # The customer pays through the pay link; the operator refunds 30.00 of it
    redirect = local_stack.post(f"/pay/{invoice.pay_url.rsplit('/pay/', 1)[1]}/checkout", allow_redirects=False)
    assert redirect.status_code == 303, redirect.text
    assert pay_on_checkout(redirect.headers["Location"], "4242 4242 4242 4242").status_code == 303
    paid = eventually(lambda: (s := get_invoice.sync(invoice.id, client=client)) and s.status == "paid" and s)
    assert isinstance(paid, InvoiceOut) and paid.amount_paid == 8_000
    payments = list_payments.sync(client=client, customer_id=customer.id)
    assert isinstance(payments, PaymentsPage) and len(payments.payments) == 1
    refund = refund_payment.sync(
        payments.payments[0].id, client=client, body=NewRefund(amount=3_000), idempotency_key=uuid.uuid4().hex
    )
    assert isinstance(refund, RefundMadeOut), refund
    assert refund.refund.amount == 3_000 and refund.payment.id == payments.payments[0].id
