"""The services behind the thin handlers, over moto: the pay page's view and its problems, an invoice
with its plan, and invoice creation once per Idempotency-Key."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError

from shared import wiring
from shared.clock import FixedClock
from shared.domain.errors import PayLinkInvalid
from shared.domain.invoices import InvoiceStatus
from shared.services import invoices, pay_page
from shared.services.invoices import InvoiceDraft
from shared.services.once import MissingIdempotencyKey
from shared.services.pay_page import CHOOSE_A_DATE, Notices, PayPageView, Problem
from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, create_invoice, operator, token_of
from tests.support import FakeLambdaContext

NOW = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # already 2 December in Berlin


@pytest.fixture
def invoice(aws: Aws) -> dict[str, Any]:
    customer = create_customer(locale="de-DE", timezone="Europe/Berlin")
    return create_invoice(
        customer["id"],
        currency="EUR",
        amount_due=120_000,
        allow_partial=True,
        min_partial_amount=5_000,
        installments={"max_installments": 3, "min_installment_amount": 10_000},
    )


def show(token: str, notices: Notices | None = None) -> PayPageView:
    return pay_page.show_pay_page(
        wiring.ledger(), FixedClock(NOW), wiring.pay_page_config(), token=token, notices=notices or Notices()
    )


def test_the_view_holds_what_the_page_shows(invoice: dict[str, Any]) -> None:
    token = token_of(invoice["pay_url"])

    view = show(token, Notices(cancelled=True))

    assert view.token == token and view.locale == "de-DE" and view.lang == "de"
    assert view.invoice.number == invoice["number"] and view.invoice.currency == "EUR"
    assert view.invoice.amount_remaining == 120_000 and view.invoice.status is InvoiceStatus.OPEN
    assert view.payable and view.minimum == 5_000
    assert [choice.key for choice in view.plans] == ["monthly-2", "monthly-3"]
    assert view.waiting is None and not view.in_plan and not view.autopay
    assert view.promise is not None
    assert view.promise.earliest == date(2026, 12, 2)  # the customer's today, not UTC's
    assert view.promise.latest == date(2026, 12, 16)  # 14 days on (PAYPORTAL_PROMISE_MAX_DAYS default)
    assert view.notices.cancelled and view.problem is None


def test_an_amount_that_cannot_be_paid_comes_back_on_the_page(invoice: dict[str, Any]) -> None:
    outcome = pay_page.pay(
        wiring.ledger(),
        wiring.gateway(),
        FixedClock(NOW),
        wiring.pay_page_config(),
        token=token_of(invoice["pay_url"]),
        amount_text="1,00",
        notices=Notices(),
    )

    assert isinstance(outcome, PayPageView)
    assert outcome.problem is Problem.INVALID
    assert outcome.amount_entered == "1,00" and outcome.amount_error


def test_a_date_that_is_not_one_comes_back_on_the_page(invoice: dict[str, Any]) -> None:
    outcome = pay_page.promise(
        wiring.ledger(),
        FixedClock(NOW),
        wiring.pay_page_config(),
        token=token_of(invoice["pay_url"]),
        date_text="next week",
        notices=Notices(),
    )

    assert isinstance(outcome, PayPageView)
    assert outcome.problem is Problem.INVALID and outcome.promise_error == CHOOSE_A_DATE


def test_paying_a_void_invoice_is_a_conflict_shown_on_the_settled_page(invoice: dict[str, Any]) -> None:
    operator(
        "POST", f"/v1/invoices/{invoice['id']}/void", "/v1/invoices/{invoice_id}/void",
        params={"invoice_id": invoice["id"]}, body={},
    )  # fmt: skip

    outcome = pay_page.pay(
        wiring.ledger(),
        wiring.gateway(),
        FixedClock(NOW),
        wiring.pay_page_config(),
        token=token_of(invoice["pay_url"]),
        amount_text="",
        notices=Notices(),
    )

    assert isinstance(outcome, PayPageView)
    assert outcome.problem is Problem.CONFLICT and not outcome.payable
    assert outcome.invoice.status is InvoiceStatus.VOID


def test_an_unknown_link_opens_nothing(aws: Aws) -> None:
    with pytest.raises(PayLinkInvalid):
        show("x" * 43)


def test_an_invoice_without_a_plan_reads_with_its_payments_and_no_plan(invoice: dict[str, Any]) -> None:
    details = invoices.invoice_details(wiring.ledger(), invoice["id"])

    assert details.invoice.id == invoice["id"] and details.payments == [] and details.plan is None


def draft(customer_id: str, number: str) -> InvoiceDraft:
    return InvoiceDraft(
        customer_id=customer_id, number=number, currency="USD", amount_due=4_200, due_date=date(2026, 12, 15)
    )


def create_once(request: InvoiceDraft, key: str | None, fingerprint: dict[str, Any]) -> invoices.IssuedInvoice:
    return invoices.create_invoice_once(
        wiring.ledger(),
        FixedClock(NOW),
        wiring.run_once("invoice", FakeLambdaContext()),
        request,
        key=key,
        fingerprint=fingerprint,
        actor="arn:aws:iam::123456789012:user/test",
        pay_link_ttl_days=30,
        autopay_notice_days=3,
    )


def test_the_same_key_and_request_creates_one_invoice_and_hands_out_a_fresh_link(aws: Aws) -> None:
    customer = create_customer()
    request, key = draft(customer["id"], f"INV-{uuid.uuid4().hex[:8]}"), uuid.uuid4().hex

    first = create_once(request, key, {"number": request.number})
    again = create_once(request, key, {"number": request.number})

    assert again.invoice.id == first.invoice.id
    assert again.link.token != first.link.token
    assert len(aws.items(f"INVOICE#{first.invoice.id}")) >= 1


def test_a_key_is_needed_and_may_not_be_reused_for_another_request(aws: Aws) -> None:
    customer = create_customer()
    request, key = draft(customer["id"], f"INV-{uuid.uuid4().hex[:8]}"), uuid.uuid4().hex

    with pytest.raises(MissingIdempotencyKey):
        create_once(request, "  ", {"number": request.number})
    create_once(request, key, {"number": request.number})
    with pytest.raises(IdempotencyValidationError):
        create_once(request, key, {"number": "something else"})
