"""Hosted pay pages: GET /pay/{token}, POST /pay/{token}/checkout, GET /pay/{token}/return, GET /health."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.checkout.pages import page, redirect
from shared.clock import business_clock
from shared.config import settings
from shared.domain.errors import InvalidAmount, InvoiceNotPayable, PayLinkInvalid
from shared.observability import logger, metrics, tracer
from shared.services.checkout import PayPage

app = APIGatewayRestResolver()


def _pay_page(
    view: PayPage,
    token: str,
    *,
    status: int = 200,
    error: str = "",
    amount_text: str = "",
    promise_error: str = "",
    plan_error: str = "",
) -> Response[str]:
    from shared.rendering import major_units
    from shared.services.checkout import latest_promise_date
    from shared.services.plans import choices_for, waiting_installment
    from shared.wiring import ledger

    invoice, locale = view.invoice, view.customer.locale
    latest = latest_promise_date(invoice, view.customer.timezone, business_clock().now(), settings().promise_max_days)
    if not invoice.accepts_payment:
        return page(status if status != 200 else 200, "settled.html", invoice=invoice, locale=locale)
    return page(
        status,
        "pay.html",
        invoice=invoice,
        locale=locale,
        lang=locale.split("-")[0],
        token=token,
        error=error,
        cancelled=app.current_event.get_query_string_value("cancelled") == "1",
        minimum=invoice.minimum_payment(),
        default_amount=amount_text or major_units(invoice.amount_remaining, invoice.currency),
        promise_error=promise_error,
        promised=_promised_notice(view),
        promise_earliest=_customer_today(view).isoformat(),
        promise_latest=latest.isoformat() if latest else "",  # empty: no promise may be made now
        plans=choices_for(view, business_clock().now()),
        waiting=waiting_installment(ledger(), invoice) if invoice.active_plan else None,
        card_saved=app.current_event.get_query_string_value("card") == "saved",
        autopay=view.customer.autopay is not None,
        autopay_started=app.current_event.get_query_string_value("autopay") == "on",
        plan_error=plan_error,
        active_plan=invoice.active_plan,
    )


def _promised_notice(view: PayPage) -> str:
    """The date the customer promised, when the page is shown right after they did."""
    from shared.rendering import format_day

    raw = app.current_event.get_query_string_value("promised") or ""
    try:
        return format_day(date.fromisoformat(raw), view.customer.locale) if raw else ""
    except ValueError:
        return ""


def _customer_today(view: PayPage) -> date:
    from zoneinfo import ZoneInfo

    return business_clock().now().astimezone(ZoneInfo(view.customer.timezone)).date()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/pay/<token>")
def show_invoice(token: str) -> Response[str]:
    from shared.services.checkout import open_pay_link
    from shared.wiring import ledger

    return _pay_page(open_pay_link(ledger(), business_clock(), token), token)


@app.post("/pay/<token>/checkout")
def pay(token: str) -> Response[str]:
    from shared.domain.money import parse_major_amount
    from shared.services.checkout import open_pay_link, start_checkout
    from shared.wiring import checkout_plan, gateway, ledger

    form = parse_qs(app.current_event.decoded_body or "", max_num_fields=10)
    amount_text = (form.get("amount") or [""])[0].strip()
    view = open_pay_link(ledger(), business_clock(), token)
    try:
        amount = parse_major_amount(amount_text, view.invoice.currency) if amount_text else None
        attempt = start_checkout(
            ledger(),
            gateway(),
            business_clock(),
            checkout_plan(),
            page=view,
            token=token,
            amount=amount,
        )
    except (InvalidAmount, InvoiceNotPayable) as problem:
        return _pay_page(
            view,
            token,
            status=422 if view.invoice.accepts_payment else 409,
            error=problem.message,
            amount_text=amount_text,
        )
    logger.info("checkout session created", extra={"invoice_id": attempt.invoice_id, "checkout_ref": attempt.ref})
    return redirect(attempt.url)


@app.post("/pay/<token>/plan")
def choose_plan(token: str) -> Response[str]:
    from shared.domain.plans import InvalidPlan
    from shared.services.checkout import open_pay_link
    from shared.services.plans import start_plan
    from shared.wiring import checkout_plan, gateway, ledger

    form = parse_qs(app.current_event.decoded_body or "", max_num_fields=10)
    key = (form.get("plan") or [""])[0].strip()
    view = open_pay_link(ledger(), business_clock(), token)
    try:
        attempt = start_plan(ledger(), gateway(), business_clock(), checkout_plan(), page=view, token=token, key=key)
    except InvalidPlan:
        return _pay_page(view, token, status=422, plan_error="Choose one of the plans below.")
    except InvoiceNotPayable as problem:
        return _pay_page(view, token, status=409, plan_error=problem.message)
    logger.info("installment plan chosen", extra={"invoice_id": attempt.invoice_id, "checkout_ref": attempt.ref})
    return redirect(attempt.url)


@app.post("/pay/<token>/installment")
def pay_installment(token: str) -> Response[str]:
    from shared.services.checkout import open_pay_link
    from shared.services.plans import start_installment_checkout
    from shared.wiring import checkout_plan, gateway, ledger

    view = open_pay_link(ledger(), business_clock(), token)
    try:
        attempt = start_installment_checkout(
            ledger(), gateway(), business_clock(), checkout_plan(), page=view, token=token
        )
    except InvoiceNotPayable as problem:
        return _pay_page(view, token, status=409, plan_error=problem.message)
    logger.info("installment checkout created", extra={"invoice_id": attempt.invoice_id, "checkout_ref": attempt.ref})
    return redirect(attempt.url)


@app.post("/pay/<token>/card")
def update_card(token: str) -> Response[str]:
    from shared.services.checkout import open_pay_link
    from shared.services.plans import start_card_update
    from shared.wiring import checkout_plan, gateway, ledger

    view = open_pay_link(ledger(), business_clock(), token)
    url = start_card_update(ledger(), gateway(), business_clock(), checkout_plan(), page=view, token=token)
    logger.info("card update session created", extra={"invoice_id": view.invoice.id})
    return redirect(url)


@app.post("/pay/<token>/autopay")
def turn_on_autopay(token: str) -> Response[str]:
    from shared.services.autopay import start_autopay_setup
    from shared.services.checkout import open_pay_link
    from shared.wiring import checkout_plan, gateway, ledger

    view = open_pay_link(ledger(), business_clock(), token)
    url = start_autopay_setup(ledger(), gateway(), business_clock(), checkout_plan(), page=view, token=token)
    logger.info("autopay setup session created", extra={"customer_id": view.customer.id})
    return redirect(url)


@app.post("/pay/<token>/autopay/off")
def turn_off_autopay(token: str) -> Response[str]:
    from shared.services.autopay import disable_autopay
    from shared.services.checkout import open_pay_link
    from shared.wiring import ledger

    view = open_pay_link(ledger(), business_clock(), token)
    disable_autopay(ledger(), business_clock(), view.customer.id, actor="customer")
    logger.info("autopay turned off", extra={"customer_id": view.customer.id})
    return redirect(f"/pay/{token}?autopay=off")


@app.post("/pay/<token>/promise")
def promise(token: str) -> Response[str]:
    from shared.domain.errors import InvalidHold, InvalidStateTransition
    from shared.services.checkout import open_pay_link, promise_to_pay
    from shared.wiring import ledger

    form = parse_qs(app.current_event.decoded_body or "", max_num_fields=10)
    view = open_pay_link(ledger(), business_clock(), token)
    try:
        promised = date.fromisoformat((form.get("date") or [""])[0].strip())
    except ValueError:
        return _pay_page(view, token, status=422, promise_error="Choose the date you will pay by.")
    try:
        promise_to_pay(ledger(), business_clock(), view, promised=promised, max_days=settings().promise_max_days)
    except (InvalidHold, InvalidStateTransition, InvoiceNotPayable) as problem:
        return _pay_page(view, token, status=422, promise_error=problem.message)
    logger.info("promise to pay recorded", extra={"invoice_id": view.invoice.id})
    return redirect(f"/pay/{token}?promised={promised.isoformat()}")


@app.get("/pay/<token>/return")
def returned(token: str) -> Response[str]:
    from shared.services.checkout import return_state
    from shared.wiring import ledger

    session_id = app.current_event.get_query_string_value("session_id")
    view, state = return_state(ledger(), business_clock(), token=token, session_id=session_id)
    return page(
        200,
        "return.html",
        invoice=view.invoice,
        locale=view.customer.locale,
        state=state.value,
        token=token,
        session_id=session_id if session_id and session_id.isascii() and len(session_id) < 200 else None,
    )


@app.exception_handler(PayLinkInvalid)
def invalid_link(_: PayLinkInvalid) -> Response[str]:
    return page(404, "not_found.html")


@app.exception_handler(Exception)
def unexpected(error: Exception) -> Response[str]:
    logger.exception("pay page failed")
    return page(
        502 if type(error).__module__.startswith("stripe") else 500,
        "error.html",
        heading="Something went wrong",
        message="We could not complete this step. You have not been charged. Please try again in a minute.",
        token=None,
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
