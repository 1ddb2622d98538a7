"""Operator API v1 (IAM auth at API Gateway): customers, invoices and their corrections, payments, refunds,
transactions, checkout sessions, pay links; reports (reports.py) and bulk imports (imports.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.operator_api import exports as export_routes
from functions.operator_api import imports as import_routes
from functions.operator_api import reports as report_routes
from functions.operator_api import views
from functions.operator_api import webhooks as webhook_routes
from functions.operator_api.errors import documented, listed, not_an_object, not_json, register_error_handlers, reported
from functions.operator_api.list_query import OutputFormat, as_utc, check_repeats, reply, report_reply
from functions.operator_api.query_params import unknown_parameters
from functions.operator_api.request_body import body_is_not_an_object, declares_other_than_json, parse_json_body
from functions.operator_api.schemas import (
    AuditPage,
    BusinessDate,
    CheckoutSessionOut,
    CreatedInvoice,
    CreditNoteIssuedOut,
    CustomerChanges,
    CustomerErasure,
    CustomerOut,
    CustomersPage,
    InvoiceChanges,
    InvoiceOut,
    InvoicesPage,
    NewCheckoutSession,
    NewCreditNote,
    NewCustomer,
    NewHold,
    NewInvoice,
    NewOfflinePayment,
    NewPayLink,
    NewRecurringCharge,
    NewRefund,
    NewReversal,
    OfflinePaymentMadeOut,
    PayLinkOut,
    PaymentsPage,
    RecurringChanges,
    RecurringChargeOut,
    RefundMadeOut,
    ReminderPaidOut,
    ReminderReportOut,
    ReplayOut,
    StripeEventOut,
    StripeEventsPage,
    TransactionsPage,
)
from shared import wiring
from shared.clock import business_clock
from shared.cold_start import resumes_collector
from shared.config import settings
from shared.dunning_policy_model import DunningPolicyModel, policy_in, policy_out
from shared.observability import logger, metrics
from shared.services import (
    audit,
    corrections,
    customers,
    dunning_policy,
    erasure,
    invoices,
    lists,
    offline_payments,
    operator_checkout,
    pay_links,
    recurring,
    refunds,
    reminder_report,
)
from shared.services.autopay import disable_autopay
from shared.services.once import scoped_key
from shared.services.stripe_events import replay

app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse_json_body)
register_error_handlers(app)
app.include_router(report_routes.router)
app.include_router(export_routes.router)
app.include_router(import_routes.router)
app.include_router(webhook_routes.router)


# Required, so OpenAPI says so; a missing or blank one is still our 400 `idempotency_key_required` (errors.py).
RequiredIdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        pattern=r"\S",
        description="required; the same key and body replays the first result instead of creating again",
    ),
]


PageLimit = Annotated[int, Query(ge=1, le=100)]
PageCursor = Annotated[str | None, Query(max_length=1024)]
Flag = Annotated[bool | None, Query()]
Identifier = Annotated[str | None, Query(min_length=1, max_length=128)]
Currency = Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. USD")]
InvoiceStatusName = Literal["open", "partially_paid", "paid", "void", "uncollectible"]
REMINDER_COLUMNS = ("day", "step", "template", "sent", "opened", "currency", "payments", "amount", "invoices_paid")
INVOICE_COLUMNS = (
    "id", "number", "customer_id", "status", "currency", "amount_due", "amount_paid", "amount_remaining",
    "due_date", "days_overdue", "hold", "promised_at", "open_disputes", "active_plan", "description", "created_at",
)  # fmt: skip
PAYMENT_COLUMNS = (
    "id", "created_at", "invoice_id", "invoice_number", "customer_id", "amount", "currency", "status", "method",
    "amount_refunded", "failure_reason", "offline",
)  # fmt: skip
CUSTOMER_COLUMNS = ("id", "name", "email", "external_id", "timezone", "locale", "created_at", "hold")


def _actor() -> str:
    identity = app.current_event.request_context.identity
    return identity.user_arn or identity.caller or "unknown"


@app.post(
    "/v1/customers",
    tags=["customers"],
    summary="Create a customer",
    status_code=201,
    responses=documented(201, 400, 409, 415, 422),
)
def create_customer(
    customer: NewCustomer,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=r"\S",
            description="recommended; the same key and body replays the first result instead of creating again",
        ),
    ] = None,
) -> CustomerOut:
    created = customers.create_customer_once(
        wiring.ledger(),
        business_clock(),
        wiring.run_once("customer", app.lambda_context),
        views.customer_draft(customer),
        key=idempotency_key,
        fingerprint=customer.model_dump(mode="json"),
        actor=_actor(),
    )
    return views.customer_out(created)


@app.get(
    "/v1/customers",
    tags=["customers"],
    summary="Customers, newest first; or found by email, by the id your own system gave it, or by name or email prefix",
    responses=listed(CustomersPage, 400, 422),
)
def list_customers(
    email: Annotated[str | None, Query(min_length=1, max_length=254, description="exactly this address")] = None,
    external_id: Identifier = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="a name or email prefix")] = None,
    limit: PageLimit = 25,
    cursor: PageCursor = None,
    output: OutputFormat = None,
) -> Response[Any]:
    check_repeats(app.current_event, frozenset())
    filters = lists.CustomerFilters(email=email, external_id=external_id, q=q)
    page = lists.list_customers(wiring.ledger(), filters, limit=limit, cursor=cursor)
    found = CustomersPage(customers=[views.customer_out(c) for c in page.items], next_cursor=page.next_cursor)
    return reply(app.current_event, found, "customers", CUSTOMER_COLUMNS, output)


@app.get(
    "/v1/customers/<customer_id>",
    tags=["customers"],
    summary="Get a customer",
    responses=documented(200, 404),
)
def get_customer(customer_id: str) -> CustomerOut:
    return views.customer_out(customers.get_customer(wiring.ledger(), customer_id))


@app.patch(
    "/v1/customers/<customer_id>",
    tags=["customers"],
    summary="Correct a customer's name, email, locale, time zone or external id (pushed to Stripe too)",
    responses=documented(200, 400, 404, 409, 415, 422),
)
def update_customer(customer_id: str, changes: CustomerChanges) -> CustomerOut:
    correction = views.customer_correction(changes)
    updated = customers.update_customer(
        wiring.ledger(), business_clock(), customer_id, correction, actor=_actor(), gateway=wiring.gateway()
    )
    return views.customer_out(updated)


@app.post(
    "/v1/customers/<customer_id>/hold",
    tags=["customers"],
    summary="Pause reminders for all the customer's invoices, until a date or released",
    responses=documented(200, 400, 404, 409, 415, 422),
)
def hold_customer(customer_id: str, hold: NewHold) -> CustomerOut:
    held = customers.place_customer_hold(
        wiring.ledger(), business_clock(), customer_id, reason=hold.reason, until=hold.until, actor=_actor()
    )
    return views.customer_out(held)


@app.delete(
    "/v1/customers/<customer_id>/hold",
    tags=["customers"],
    summary="Resume reminders for the customer",
    responses=documented(200, 404, 409),
)
def release_customer_hold(customer_id: str) -> CustomerOut:
    released = customers.release_customer_hold(wiring.ledger(), business_clock(), customer_id, actor=_actor())
    return views.customer_out(released)


@app.post(
    "/v1/customers/<customer_id>/erase",
    tags=["customers"],
    summary="Erase the customer (GDPR Art. 17): stop all contact and pseudonymise; financial records stay",
    responses=documented(200, 400, 404, 409, 415, 422, 502),
)
def erase_customer(customer_id: str, idempotency_key: RequiredIdempotencyKey, request: CustomerErasure) -> CustomerOut:
    erased = erasure.erase_customer_once(
        wiring.ledger(),
        wiring.gateway(),
        business_clock(),
        wiring.run_once("erasure", app.lambda_context),
        customer_id,
        open_invoices=erasure.OpenInvoices(request.open_invoices),
        key=idempotency_key,
        actor=_actor(),
    )
    return views.customer_out(erased)


@app.post(
    "/v1/customers/<customer_id>/restriction",
    tags=["customers"],
    summary="Restrict processing (GDPR Art. 18): keep the records, send only receipts and refunds",
    responses=documented(200, 400, 404, 409),
)
def restrict_customer(customer_id: str, idempotency_key: RequiredIdempotencyKey) -> CustomerOut:
    restricted = customers.restrict_customer_once(
        wiring.ledger(),
        business_clock(),
        wiring.run_once("restriction", app.lambda_context),
        customer_id,
        key=idempotency_key,
        actor=_actor(),
    )
    return views.customer_out(restricted)


@app.delete(
    "/v1/customers/<customer_id>/restriction",
    tags=["customers"],
    summary="Lift the restriction: reminders and notices resume",
    responses=documented(200, 404, 409),
)
def lift_restriction(customer_id: str) -> CustomerOut:
    lifted = customers.lift_restriction(wiring.ledger(), business_clock(), customer_id, actor=_actor())
    return views.customer_out(lifted)


@app.delete(
    "/v1/customers/<customer_id>/autopay",
    tags=["customers"],
    summary="Turn off the customer's autopay",
    responses=documented(200, 404, 409),
)
def turn_off_autopay(customer_id: str) -> CustomerOut:
    return views.customer_out(disable_autopay(wiring.ledger(), business_clock(), customer_id, actor=_actor()))


@app.get(
    "/v1/customers/<customer_id>/transactions",
    tags=["customers"],
    summary="A customer's payments, newest first",
    responses=documented(200, 400, 404, 422),
)
def list_transactions(
    customer_id: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> TransactionsPage:
    page = customers.list_transactions(wiring.ledger(), customer_id, limit=limit, cursor=cursor)
    return TransactionsPage(data=[views.payment_out(p) for p in page.items], next_cursor=page.next_cursor)


@app.get(
    "/v1/customers/<customer_id>/audit",
    tags=["audit"],
    summary="What happened to the customer record, newest first (their invoices' entries are on each invoice)",
    responses=documented(200, 400, 404, 422),
)
def customer_audit(customer_id: str, limit: PageLimit = 25, cursor: PageCursor = None) -> AuditPage:
    page = audit.customer_trail(wiring.ledger(), customer_id, limit=limit, cursor=cursor)
    return AuditPage(data=[views.audit_entry_out(a) for a in page.items], next_cursor=page.next_cursor)


@app.post(
    "/v1/invoices",
    tags=["invoices"],
    summary="Create an invoice and its pay link",
    status_code=201,
    responses=documented(201, 400, 404, 409, 415, 422),
)
def create_invoice(
    invoice: NewInvoice,
    idempotency_key: RequiredIdempotencyKey,
) -> CreatedInvoice:
    config = settings()
    issued = invoices.create_invoice_once(
        wiring.ledger(),
        business_clock(),
        wiring.run_once("invoice", app.lambda_context),
        views.invoice_draft(invoice),
        key=idempotency_key,
        fingerprint=invoice.model_dump(mode="json"),
        actor=_actor(),
        pay_link_ttl_days=config.pay_link_ttl_days,
        autopay_notice_days=config.autopay_notice_days,
    )
    out = views.invoice_out(issued.invoice, issued.payments)
    return CreatedInvoice(**out.model_dump(), pay_url=issued.link.url(config.public_base_url))


@app.get(
    "/v1/invoices",
    tags=["invoices"],
    summary="Invoices overdue (a currency or all); by status, flag or due date in a currency; a customer's; by number",
    responses=listed(InvoicesPage, 400, 422),
)
def list_invoices(
    status: Annotated[list[InvoiceStatusName] | None, Query(description="repeatable")] = None,
    overdue: Flag = None,
    days_overdue_min: Annotated[int | None, Query(ge=1, le=36_500, description="overdue at least N days")] = None,
    customer_id: Identifier = None,
    currency: Currency = None,
    due_after: Annotated[date | None, Query(description="due strictly after this day")] = None,
    due_before: Annotated[date | None, Query(description="due strictly before this day")] = None,
    number: Identifier = None,
    on_hold: Flag = None,
    promised: Flag = None,
    disputed: Flag = None,
    limit: PageLimit = 25,
    cursor: PageCursor = None,
    output: OutputFormat = None,
) -> Response[Any]:
    check_repeats(app.current_event, frozenset({"status"}))
    filters = lists.InvoiceFilters(
        statuses=tuple(status or ()), overdue=overdue, days_overdue_min=days_overdue_min, customer_id=customer_id,
        currency=currency, due_after=due_after, due_before=due_before, number=number, on_hold=on_hold,
        promised=promised, disputed=disputed,
    )  # fmt: skip
    page = lists.list_invoices(wiring.ledger(), business_clock(), filters, limit=limit, cursor=cursor)
    found = InvoicesPage(invoices=[views.invoice_row_out(r) for r in page.items], next_cursor=page.next_cursor)
    return reply(app.current_event, found, "invoices", INVOICE_COLUMNS, output)


@app.get(
    "/v1/payments",
    tags=["payments"],
    summary="Payments received in a window, newest first (who paid yesterday), of one status or one customer",
    responses=listed(PaymentsPage, 400, 422),
)
def list_payments(
    since: Annotated[datetime | None, Query(description="received at or after (UTC unless an offset is given)")] = None,
    until: Annotated[datetime | None, Query(description="received before; default now")] = None,
    status: Annotated[
        Literal["pending", "failed", "succeeded", "partially_refunded", "refunded", "reversed"] | None, Query()
    ] = None,
    method: Annotated[Literal["stripe", "check", "bank_transfer", "cash", "other"] | None, Query()] = None,
    customer_id: Identifier = None,
    currency: Currency = None,
    limit: PageLimit = 25,
    cursor: PageCursor = None,
    output: OutputFormat = None,
) -> Response[Any]:
    check_repeats(app.current_event, frozenset())
    filters = lists.PaymentFilters(
        since=as_utc(since), until=as_utc(until), status=status, method=method, customer_id=customer_id,
        currency=currency,
    )  # fmt: skip
    page = lists.list_payments(wiring.ledger(), business_clock(), filters, limit=limit, cursor=cursor)
    found = PaymentsPage(payments=[views.payment_row_out(p) for p in page.items], next_cursor=page.next_cursor)
    return reply(app.current_event, found, "payments", PAYMENT_COLUMNS, output)


@app.get(
    "/v1/invoices/<invoice_id>",
    tags=["invoices"],
    summary="Get an invoice with its payments",
    responses=documented(200, 404),
)
def get_invoice(invoice_id: str) -> InvoiceOut:
    return views.details_out(invoices.invoice_details(wiring.ledger(), invoice_id))


@app.get(
    "/v1/invoices/<invoice_id>/audit",
    tags=["audit"],
    summary="Every change to the invoice, its payments, refunds, plans and disputes, newest first",
    responses=documented(200, 400, 404, 422),
)
def invoice_audit(invoice_id: str, limit: PageLimit = 25, cursor: PageCursor = None) -> AuditPage:
    page = audit.invoice_trail(wiring.ledger(), invoice_id, limit=limit, cursor=cursor)
    return AuditPage(data=[views.audit_entry_out(a) for a in page.items], next_cursor=page.next_cursor)


@app.post(
    "/v1/invoices/<invoice_id>/void",
    tags=["invoices"],
    summary="Void an open invoice with no payment",
    responses=documented(200, 404, 409, 415),
)
def void_invoice(invoice_id: str) -> InvoiceOut:
    return views.details_out(invoices.void_invoice(wiring.ledger(), business_clock(), invoice_id, actor=_actor()))


@app.patch(
    "/v1/invoices/<invoice_id>",
    tags=["invoices"],
    summary="Correct the description, the due date or, while nothing is paid, the amount due",
    responses=documented(200, 400, 404, 409, 415, 422, 502),
)
def correct_invoice(invoice_id: str, changes: InvoiceChanges) -> InvoiceOut:
    corrected = corrections.correct_invoice(
        wiring.ledger(),
        wiring.gateway(),
        business_clock(),
        invoice_id,
        views.invoice_correction(changes),
        actor=_actor(),
    )
    return views.details_out(corrected)


@app.post(
    "/v1/invoices/<invoice_id>/payments",
    tags=["invoices"],
    summary="Record money received outside Stripe (a cheque, a bank transfer, cash)",
    status_code=201,
    responses=documented(201, 400, 404, 409, 415, 422, 502),
)
def record_offline_payment(
    invoice_id: str,
    request: NewOfflinePayment,
    idempotency_key: RequiredIdempotencyKey,
) -> OfflinePaymentMadeOut:
    made = offline_payments.record_offline_payment_once(
        wiring.ledger(),
        wiring.gateway(),
        business_clock(),
        wiring.run_once("offline_payment", app.lambda_context),
        invoice_id,
        views.offline_payment_ask(request),
        key=idempotency_key,
        fingerprint=request.model_dump(mode="json"),
        actor=_actor(),
    )
    return views.offline_payment_out(made)


@app.post(
    "/v1/invoices/<invoice_id>/credit-notes",
    tags=["invoices"],
    summary="Issue a credit note: lower what the invoice owes",
    status_code=201,
    responses=documented(201, 400, 404, 409, 415, 422, 502),
)
def issue_credit_note(
    invoice_id: str,
    request: NewCreditNote,
    idempotency_key: RequiredIdempotencyKey,
) -> CreditNoteIssuedOut:
    issued = corrections.issue_credit_note_once(
        wiring.ledger(),
        wiring.gateway(),
        business_clock(),
        wiring.run_once("credit_note", app.lambda_context),
        invoice_id,
        corrections.CreditNoteAsk(amount=request.amount, reason=request.reason),
        key=idempotency_key,
        fingerprint=request.model_dump(mode="json"),
        actor=_actor(),
    )
    details = invoices.invoice_details(wiring.ledger(), invoice_id)
    return CreditNoteIssuedOut(
        credit_note=views.credit_note_out(issued.credit_note), invoice=views.details_out(details)
    )


@app.post(
    "/v1/invoices/<invoice_id>/pay-links",
    tags=["invoices"],
    summary="Mint a fresh pay link and, with send, email the customer one",
    status_code=201,
    responses=documented(201, 400, 404, 409, 415, 422),
)
def issue_pay_link(
    invoice_id: str,
    idempotency_key: RequiredIdempotencyKey,
    request: NewPayLink | None = None,
) -> PayLinkOut:
    config = settings()
    asked = request or NewPayLink()
    issued = pay_links.issue_pay_link_once(
        wiring.ledger(),
        business_clock(),
        wiring.run_once("pay_link", app.lambda_context),
        invoice_id,
        send=asked.send,
        key=idempotency_key,
        fingerprint=asked.model_dump(mode="json"),
        actor=_actor(),
        ttl_days=config.pay_link_ttl_days,
    )
    url = issued.link.url(config.public_base_url)
    return PayLinkOut(pay_url=url, expires_at=issued.link.link.expires_at, sent=issued.sent)


@app.delete(
    "/v1/invoices/<invoice_id>/pay-links",
    tags=["invoices"],
    summary="Revoke every pay link of the invoice (and expire its open Checkout Session)",
    responses=documented(200, 404, 409, 502),
)
def revoke_pay_links(invoice_id: str) -> InvoiceOut:
    pay_links.revoke_pay_links(wiring.ledger(), wiring.gateway(), business_clock(), invoice_id, actor=_actor())
    return views.details_out(invoices.invoice_details(wiring.ledger(), invoice_id))


@app.post(
    "/v1/invoices/<invoice_id>/checkout-sessions",
    tags=["invoices"],
    summary="A Checkout URL for your own Pay button",
    status_code=201,
    responses=documented(201, 400, 404, 409, 415, 422, 502),
)
def create_checkout_session(invoice_id: str, request: NewCheckoutSession | None = None) -> CheckoutSessionOut:
    attempt = operator_checkout.start_operator_checkout(
        wiring.ledger(),
        wiring.gateway(),
        business_clock(),
        wiring.checkout_config(),
        invoice_id=invoice_id,
        amount=request.amount if request else None,
    )
    return CheckoutSessionOut(id=attempt.session_id, url=attempt.url, amount=attempt.amount, currency=attempt.currency)


@app.post(
    "/v1/invoices/<invoice_id>/hold",
    tags=["invoices"],
    summary="Pause reminders, until a date or released",
    responses=documented(200, 400, 404, 409, 415, 422),
)
def hold_invoice(invoice_id: str, hold: NewHold) -> InvoiceOut:
    held = invoices.place_hold(
        wiring.ledger(), business_clock(), invoice_id, reason=hold.reason, until=hold.until, actor=_actor()
    )
    return views.details_out(held)


@app.delete(
    "/v1/invoices/<invoice_id>/hold",
    tags=["invoices"],
    summary="Resume reminders",
    responses=documented(200, 404, 409),
)
def release_invoice_hold(invoice_id: str) -> InvoiceOut:
    return views.details_out(invoices.release_hold(wiring.ledger(), business_clock(), invoice_id, actor=_actor()))


@app.post(
    "/v1/recurring-charges",
    tags=["recurring charges"],
    summary="Bill a fixed amount every period",
    status_code=201,
    responses=documented(201, 400, 404, 409, 415, 422),
)
def create_recurring_charge(
    request: NewRecurringCharge,
    idempotency_key: RequiredIdempotencyKey,
) -> RecurringChargeOut:
    created = recurring.create_recurring_once(
        wiring.ledger(),
        business_clock(),
        wiring.run_once("recurring", app.lambda_context),
        views.recurring_draft(request),
        key=idempotency_key,
        fingerprint=request.model_dump(mode="json"),
        actor=_actor(),
    )
    return views.recurring_out(created)


@app.get(
    "/v1/recurring-charges/<recurring_id>",
    tags=["recurring charges"],
    summary="Get a recurring charge",
    responses=documented(200, 404),
)
def get_recurring_charge(recurring_id: str) -> RecurringChargeOut:
    return views.recurring_out(recurring.get_recurring(wiring.ledger(), recurring_id))


@app.patch(
    "/v1/recurring-charges/<recurring_id>",
    tags=["recurring charges"],
    summary="Pause, resume, or change the amount from the next period",
    responses=documented(200, 400, 404, 409, 415, 422),
)
def update_recurring_charge(recurring_id: str, changes: RecurringChanges) -> RecurringChargeOut:
    correction = views.recurring_correction(changes)
    updated = recurring.update_recurring(wiring.ledger(), business_clock(), recurring_id, correction, actor=_actor())
    return views.recurring_out(updated)


@app.delete(
    "/v1/recurring-charges/<recurring_id>",
    tags=["recurring charges"],
    summary="End a recurring charge",
    responses=documented(200, 404, 409),
)
def end_recurring_charge(recurring_id: str) -> RecurringChargeOut:
    return views.recurring_out(recurring.end_recurring(wiring.ledger(), business_clock(), recurring_id, actor=_actor()))


@app.post(
    "/v1/payments/<payment_id>/refunds",
    tags=["payments"],
    summary="Refund a payment, in part or in full, or the invoice's credit",
    status_code=201,
    responses=documented(201, 400, 404, 409, 415, 422, 502),
)
def refund_payment(
    payment_id: str,
    request: NewRefund,
    idempotency_key: RequiredIdempotencyKey,
) -> RefundMadeOut:
    made = refunds.refund_payment_once(
        wiring.ledger(),
        wiring.gateway(),
        business_clock(),
        wiring.run_once("refund", app.lambda_context),
        payment_id,
        views.refund_ask(request),
        key=idempotency_key,
        fingerprint=request.model_dump(mode="json"),
        actor=_actor(),
    )
    return views.refund_made_out(made)


@app.post(
    "/v1/payments/<payment_id>/reversal",
    tags=["payments"],
    summary="Reverse money recorded outside Stripe (a bounced cheque): it is owed again",
    responses=documented(200, 400, 404, 409, 415, 422),
)
def reverse_payment(
    payment_id: str,
    request: NewReversal,
    idempotency_key: RequiredIdempotencyKey,
) -> OfflinePaymentMadeOut:
    made = offline_payments.reverse_offline_payment_once(
        wiring.ledger(),
        business_clock(),
        wiring.run_once("reversal", app.lambda_context),
        payment_id,
        request.reason,
        key=idempotency_key,
        fingerprint=request.model_dump(mode="json"),
        actor=_actor(),
    )
    return views.offline_payment_out(made)


@app.get(
    "/v1/stripe-events",
    tags=["stripe events"],
    summary="Stripe events kept, with what became of each, newest first",
    responses=documented(200, 400, 422),
)
def list_stripe_events(
    outcome: Annotated[
        Literal["failed", "flagged"] | None, Query(description="only the events failed, or flagged for review")
    ] = None,
    limit: PageLimit = 25,
    cursor: PageCursor = None,
) -> StripeEventsPage:
    page = replay.list_events(wiring.ledger(), outcome=outcome, limit=limit, cursor=cursor)
    return StripeEventsPage(data=[views.stripe_event_out(e) for e in page.items], next_cursor=page.next_cursor)


@app.get(
    "/v1/stripe-events/<event_id>",
    tags=["stripe events"],
    summary="One Stripe event kept, with what became of it",
    responses=documented(200, 404),
)
def get_stripe_event(event_id: str) -> StripeEventOut:
    return views.stripe_event_out(replay.get_event(wiring.ledger(), event_id))


@app.post(
    "/v1/stripe-events/<event_id>/replay",
    tags=["stripe events"],
    summary="Fetch the event from Stripe again and apply it as the webhook would (once: applied ones change nothing)",
    responses=documented(200, 400, 404, 409, 415, 502),
)
def replay_stripe_event(event_id: str, idempotency_key: RequiredIdempotencyKey) -> ReplayOut:
    config = settings()

    def work() -> dict[str, str]:
        replayed = replay.replay_event(
            wiring.ledger(),
            wiring.stripe_events(),
            business_clock(),
            event_id,
            livemode=wiring.stripe_credentials().livemode,
            actor=_actor(),
            retry_days=config.charge_retry_days,
        )
        logger.info("stripe event replayed", extra={"stripe_event_id": event_id, "outcome": replayed.outcome.value})
        return views.replay_out(replayed).model_dump(mode="json", exclude_none=True)

    once = wiring.run_once("stripe_event_replay", app.lambda_context)
    return ReplayOut(**once(scoped_key(_actor(), idempotency_key), {"event_id": event_id}, work))


@app.get(
    "/v1/reports/reminders",
    tags=["reports"],
    summary="What reminders achieved: sent, links opened, paid within 7 days, per send day, step and template",
    responses=reported(ReminderReportOut, 400, 422),
)
def reminders_report(
    first_day: Annotated[BusinessDate, Query(alias="from", description="the first UTC send day, YYYY-MM-DD")],
    last_day: Annotated[
        BusinessDate, Query(alias="to", description="the last UTC send day, included; at most 400 days")
    ],
    output: OutputFormat = None,
) -> Response[Any]:
    report = views.reminder_report_out(reminder_report.reminder_report(wiring.ledger(), first_day, last_day))
    lines = [
        {**row.model_dump(mode="json", exclude={"paid_within_7_days"}), **paid.model_dump(mode="json")}
        for row in report.rows
        for paid in row.paid_within_7_days or [ReminderPaidOut(currency="", payments=0, amount=0, invoices_paid=0)]
    ]
    return report_reply(app.current_event, report, lines, REMINDER_COLUMNS, output, "reminders")


@app.get(
    "/v1/dunning-policy",
    tags=["dunning"],
    summary="The reminder steps and sending window in force",
    responses=documented(200),
)
def get_dunning_policy() -> DunningPolicyModel:
    return policy_out(dunning_policy.current_policy(wiring.ledger()))


@app.put(
    "/v1/dunning-policy",
    tags=["dunning"],
    summary="Replace the reminder steps and sending window",
    responses=documented(200, 400, 409, 415, 422),
)
def put_dunning_policy(policy: DunningPolicyModel) -> DunningPolicyModel:
    replaced = dunning_policy.replace_policy(wiring.ledger(), business_clock(), policy_in(policy), actor=_actor())
    return policy_out(replaced)


@resumes_collector
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if declares_other_than_json(event):
        return not_json()
    if body_is_not_an_object(event):
        return not_an_object()
    unknown = unknown_parameters(event)
    if unknown is not None:
        return unknown
    return app.resolve(event, context)
