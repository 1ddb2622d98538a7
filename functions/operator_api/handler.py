"""Operator API v1 (IAM auth at API Gateway): customers, invoices, transactions, checkout sessions."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.operator_api import views
from functions.operator_api.errors import register_error_handlers
from shared.clock import business_clock
from shared.config import settings
from shared.models import (
    CheckoutSessionOut,
    CreatedInvoice,
    CustomerChanges,
    CustomerOut,
    DunningPolicyModel,
    InvoiceOut,
    NewCheckoutSession,
    NewCustomer,
    NewHold,
    NewInvoice,
    NewRecurringCharge,
    RecurringChanges,
    RecurringChargeOut,
    TransactionsPage,
)
from shared.observability import logger, metrics, tracer

app = APIGatewayRestResolver(enable_validation=True)
register_error_handlers(app)


def _actor() -> str:
    identity = app.current_event.request_context.identity
    return identity.user_arn or identity.caller or "unknown"


@app.post("/v1/customers", tags=["customers"], summary="Create a customer")
def create_customer(customer: NewCustomer) -> Response[CustomerOut]:
    from shared.services.customers import create_customer
    from shared.wiring import ledger

    created = create_customer(ledger(), business_clock(), customer, actor=_actor())
    return Response(status_code=201, body=views.customer_out(created), content_type="application/json")


@app.get("/v1/customers/<customer_id>", tags=["customers"], summary="Get a customer")
def get_customer(customer_id: str) -> CustomerOut:
    from shared.services.customers import get_customer
    from shared.wiring import ledger

    return views.customer_out(get_customer(ledger(), customer_id))


@app.patch("/v1/customers/<customer_id>", tags=["customers"], summary="Correct a customer's name or email")
def update_customer(customer_id: str, changes: CustomerChanges) -> CustomerOut:
    from shared.services.customers import update_customer
    from shared.wiring import ledger

    return views.customer_out(update_customer(ledger(), business_clock(), customer_id, changes, actor=_actor()))


@app.post(
    "/v1/customers/<customer_id>/hold",
    tags=["customers"],
    summary="Pause reminders for all the customer's invoices, until a date or released",
)
def hold_customer(customer_id: str, hold: NewHold) -> CustomerOut:
    from shared.services.customers import place_customer_hold
    from shared.wiring import ledger

    held = place_customer_hold(
        ledger(), business_clock(), customer_id, reason=hold.reason, until=hold.until, actor=_actor()
    )
    return views.customer_out(held)


@app.delete("/v1/customers/<customer_id>/hold", tags=["customers"], summary="Resume reminders for the customer")
def release_customer_hold(customer_id: str) -> CustomerOut:
    from shared.services.customers import release_customer_hold
    from shared.wiring import ledger

    return views.customer_out(release_customer_hold(ledger(), business_clock(), customer_id, actor=_actor()))


@app.delete("/v1/customers/<customer_id>/autopay", tags=["customers"], summary="Turn off the customer's autopay")
def turn_off_autopay(customer_id: str) -> CustomerOut:
    from shared.services.autopay import disable_autopay
    from shared.wiring import ledger

    return views.customer_out(disable_autopay(ledger(), business_clock(), customer_id, actor=_actor()))


@app.get(
    "/v1/customers/<customer_id>/transactions",
    tags=["customers"],
    summary="A customer's payments, newest first",
)
def list_transactions(
    customer_id: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> TransactionsPage:
    from shared.services.customers import list_transactions
    from shared.wiring import ledger

    page = list_transactions(ledger(), customer_id, limit=limit, cursor=cursor)
    return TransactionsPage(data=[views.payment_out(p) for p in page.items], next_cursor=page.next_cursor)


@app.post("/v1/invoices", tags=["invoices"], summary="Create an invoice and its pay link")
def create_invoice(
    invoice: NewInvoice,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", description="required; same key and body replays the first result"),
    ] = None,
) -> Response[CreatedInvoice]:
    from shared.services.invoices import get_invoice_with_payments, new_pay_link
    from shared.wiring import ledger

    invoice_id = views.create_invoice_once(invoice, idempotency_key, actor=_actor(), context=app.lambda_context)
    created, payments = get_invoice_with_payments(ledger(), invoice_id)
    # Links are stored only as hashes, so a replay gets a fresh link to the same invoice.
    link = new_pay_link(ledger(), business_clock(), created, ttl_days=settings().pay_link_ttl_days)
    body = CreatedInvoice(
        **views.invoice_out(created, payments).model_dump(), pay_url=link.url(settings().public_base_url)
    )
    return Response(status_code=201, body=body, content_type="application/json")


@app.get("/v1/invoices/<invoice_id>", tags=["invoices"], summary="Get an invoice with its payments")
def get_invoice(invoice_id: str) -> InvoiceOut:
    from shared.services.invoices import get_invoice_with_payments
    from shared.wiring import ledger

    invoice, payments = get_invoice_with_payments(ledger(), invoice_id)
    plan = ledger().get_plan(invoice.id, invoice.active_plan) if invoice.active_plan else None
    return views.invoice_out(invoice, payments, plan)


@app.post("/v1/invoices/<invoice_id>/void", tags=["invoices"], summary="Void an open invoice with no payment")
def void_invoice(invoice_id: str) -> InvoiceOut:
    from shared.services.invoices import get_invoice_with_payments, void_invoice
    from shared.wiring import ledger

    void_invoice(ledger(), business_clock(), invoice_id, actor=_actor())
    return views.invoice_out(*get_invoice_with_payments(ledger(), invoice_id))


@app.post(
    "/v1/invoices/<invoice_id>/checkout-sessions",
    tags=["invoices"],
    summary="A Checkout URL for your own Pay button",
)
def create_checkout_session(invoice_id: str, request: NewCheckoutSession | None = None) -> Response[CheckoutSessionOut]:
    from shared.services.checkout import start_operator_checkout
    from shared.wiring import checkout_plan, gateway, ledger

    attempt = start_operator_checkout(
        ledger(),
        gateway(),
        business_clock(),
        checkout_plan(),
        invoice_id=invoice_id,
        amount=request.amount if request else None,
        pay_link_ttl_days=settings().pay_link_ttl_days,
    )
    body = CheckoutSessionOut(id=attempt.session_id, url=attempt.url, amount=attempt.amount, currency=attempt.currency)
    return Response(status_code=201, body=body, content_type="application/json")


@app.post("/v1/invoices/<invoice_id>/hold", tags=["invoices"], summary="Pause reminders, until a date or released")
def hold_invoice(invoice_id: str, hold: NewHold) -> InvoiceOut:
    from shared.services.invoices import get_invoice_with_payments, place_hold
    from shared.wiring import ledger

    place_hold(ledger(), business_clock(), invoice_id, reason=hold.reason, until=hold.until, actor=_actor())
    return views.invoice_out(*get_invoice_with_payments(ledger(), invoice_id))


@app.delete("/v1/invoices/<invoice_id>/hold", tags=["invoices"], summary="Resume reminders")
def release_invoice_hold(invoice_id: str) -> InvoiceOut:
    from shared.services.invoices import get_invoice_with_payments, release_hold
    from shared.wiring import ledger

    release_hold(ledger(), business_clock(), invoice_id, actor=_actor())
    return views.invoice_out(*get_invoice_with_payments(ledger(), invoice_id))


@app.post("/v1/recurring-charges", tags=["recurring charges"], summary="Bill a fixed amount every period")
def create_recurring_charge(request: NewRecurringCharge) -> Response[RecurringChargeOut]:
    from shared.services.recurring import create_recurring
    from shared.wiring import ledger

    created = create_recurring(ledger(), business_clock(), request, actor=_actor())
    return Response(status_code=201, body=views.recurring_out(created), content_type="application/json")


@app.get("/v1/recurring-charges/<recurring_id>", tags=["recurring charges"], summary="Get a recurring charge")
def get_recurring_charge(recurring_id: str) -> RecurringChargeOut:
    from shared.services.recurring import get_recurring
    from shared.wiring import ledger

    return views.recurring_out(get_recurring(ledger(), recurring_id))


@app.patch(
    "/v1/recurring-charges/<recurring_id>",
    tags=["recurring charges"],
    summary="Pause, resume, or change the amount from the next period",
)
def update_recurring_charge(recurring_id: str, changes: RecurringChanges) -> RecurringChargeOut:
    from shared.services.recurring import update_recurring
    from shared.wiring import ledger

    return views.recurring_out(update_recurring(ledger(), business_clock(), recurring_id, changes, actor=_actor()))


@app.delete("/v1/recurring-charges/<recurring_id>", tags=["recurring charges"], summary="End a recurring charge")
def end_recurring_charge(recurring_id: str) -> RecurringChargeOut:
    from shared.services.recurring import end_recurring
    from shared.wiring import ledger

    return views.recurring_out(end_recurring(ledger(), business_clock(), recurring_id, actor=_actor()))


@app.get("/v1/dunning-policy", tags=["dunning"], summary="The reminder steps and sending window in force")
def get_dunning_policy() -> DunningPolicyModel:
    from shared.services.dunning_policy import current_policy
    from shared.wiring import ledger

    return views.policy_out(current_policy(ledger()))


@app.put("/v1/dunning-policy", tags=["dunning"], summary="Replace the reminder steps and sending window")
def put_dunning_policy(policy: DunningPolicyModel) -> DunningPolicyModel:
    from shared.services.dunning_policy import replace_policy
    from shared.wiring import ledger

    return views.policy_out(replace_policy(ledger(), business_clock(), views.policy_in(policy), actor=_actor()))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
