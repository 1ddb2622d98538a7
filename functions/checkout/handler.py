"""Hosted pay pages: GET /pay/{token} and its forms, its invoice's documents (PDFs), GET /pay/return/... (back
from Checkout), GET /health; GET /pay/together/{token} and its Pay button (several invoices in one Checkout), and
its return page.

Each route parses the request, makes one call to shared.services.pay_page and renders what comes back: a
redirect, or the page's view (with the problem on it, when what the customer asked cannot be done).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.checkout.pages import page, pdf_document, redirect, remember_pay_link, remembered_pay_link
from shared import pdf, wiring
from shared.clock import business_clock
from shared.cold_start import resumes_collector
from shared.domain.errors import DomainError, NotFound, PayLinkInvalid
from shared.domain.payer_text import payer_text
from shared.observability import logger, metrics
from shared.services import combined_checkout, documents, pay_page, pay_together
from shared.services.pay_page import Notices, PayPageView, Problem, Redirect, ReturnView, SetupReturnView

app = APIGatewayRestResolver()

STATUS_BY_PROBLEM = {Problem.INVALID: 422, Problem.CONFLICT: 409}


class UnreadableForm(Exception):
    """A form post that is not UTF-8 or has more fields than any of our forms: never read as an empty field
    (an empty amount means "pay it all")."""


def _form(field: str) -> str:
    try:
        fields = parse_qs(app.current_event.decoded_body or "", max_num_fields=10)
    except ValueError:  # too many fields; UnicodeDecodeError is a ValueError too
        raise UnreadableForm from None
    return (fields.get(field) or [""])[0].strip()


def _notices() -> Notices:
    query = app.current_event.get_query_string_value
    promised = query("promised") or ""
    try:
        promised_on = date.fromisoformat(promised) if promised else None
    except ValueError:
        promised_on = None
    return Notices(
        cancelled=query("cancelled") == "1",
        card_saved=query("card") == "saved",
        autopay_started=query("autopay") == "on",
        autopay_stopped=query("autopay") == "off",
        promised=promised_on,
    )


def _render(view: PayPageView) -> Response[str]:
    status = STATUS_BY_PROBLEM[view.problem] if view.problem else 200
    if not view.payable:
        return page(status, "settled.html", view=view, lang=view.lang)
    return page(status, "pay.html", view=view, lang=view.lang)


def _reply(outcome: Redirect | PayPageView, done: str, *, to_checkout_from: str | None = None) -> Response[str]:
    """The page, or the redirect; one to Checkout from pay link `to_checkout_from` remembers the link in this
    browser (a cookie), so the return page can lead back to it without the link in Stripe's URLs."""
    if isinstance(outcome, PayPageView):
        return _render(outcome)
    ids = {"invoice_id": outcome.invoice_id, "customer_id": outcome.customer_id}
    logger.info(done, extra=ids | ({"checkout_ref": outcome.checkout_ref} if outcome.checkout_ref else {}))
    response = redirect(outcome.url)
    if to_checkout_from:
        remember_pay_link(response, to_checkout_from)
    return response


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


# Several invoices paid together (a grouped reminder's link), registered before /pay/<token>/...: a literal
# segment wins, as in API Gateway.
@app.get("/pay/together/return/<ref>")
def returned_together(ref: str) -> Response[str]:
    outcome = combined_checkout.combined_outcome(wiring.ledger(), ref)
    cancelled = app.current_event.get_query_string_value("cancelled") == "1"
    return page(200, "together_return.html", outcome=outcome, cancelled=cancelled, lang=outcome.lang)


@app.get("/pay/together/<token>")
def show_together(token: str) -> Response[str]:
    view = pay_together.open_pay_together(wiring.ledger(), business_clock(), token)
    return page(200, "pay_together.html", view=view, token=token, problem="", lang=view.lang)


@app.post("/pay/together/<token>/checkout")
def pay_all(token: str) -> Response[str]:
    ledger, clock = wiring.ledger(), business_clock()
    view = pay_together.open_pay_together(ledger, clock, token)
    try:
        combined = pay_together.pay_together(ledger, wiring.gateway(), clock, wiring.checkout_config(), view)
    except DomainError as refused:  # changed since the page was shown: the page again, saying so
        fresh = pay_together.open_pay_together(ledger, clock, token)
        return page(409, "pay_together.html", view=fresh, token=token, problem=str(refused), lang=fresh.lang)
    logger.info(
        "combined checkout session created", extra={"customer_id": view.customer.id, "combined_ref": combined.ref}
    )
    return redirect(combined.url)


@app.get("/pay/<token>")
def show_invoice(token: str) -> Response[str]:
    view = pay_page.show_pay_page(
        wiring.ledger(), business_clock(), wiring.pay_page_config(), token=token, notices=_notices()
    )
    return _render(view)


@app.post("/pay/<token>/checkout")
def pay(token: str) -> Response[str]:
    outcome = pay_page.pay(
        wiring.ledger(),
        wiring.gateway(),
        business_clock(),
        wiring.pay_page_config(),
        token=token,
        amount_text=_form("amount"),
        notices=_notices(),
    )
    return _reply(outcome, "checkout session created", to_checkout_from=token)


@app.post("/pay/<token>/plan")
def choose_plan(token: str) -> Response[str]:
    outcome = pay_page.choose_plan(
        wiring.ledger(),
        wiring.gateway(),
        business_clock(),
        wiring.pay_page_config(),
        token=token,
        key=_form("plan"),
        notices=_notices(),
    )
    return _reply(outcome, "installment plan chosen", to_checkout_from=token)


@app.post("/pay/<token>/installment")
def pay_installment(token: str) -> Response[str]:
    outcome = pay_page.pay_installment(
        wiring.ledger(), wiring.gateway(), business_clock(), wiring.pay_page_config(), token=token, notices=_notices()
    )
    return _reply(outcome, "installment checkout created", to_checkout_from=token)


@app.post("/pay/<token>/card")
def update_card(token: str) -> Response[str]:
    outcome = pay_page.update_card(
        wiring.ledger(), wiring.gateway(), business_clock(), wiring.pay_page_config(), token=token
    )
    return _reply(outcome, "card update session created", to_checkout_from=token)


@app.post("/pay/<token>/autopay")
def turn_on_autopay(token: str) -> Response[str]:
    outcome = pay_page.turn_on_autopay(
        wiring.ledger(), wiring.gateway(), business_clock(), wiring.pay_page_config(), token=token
    )
    return _reply(outcome, "autopay setup session created", to_checkout_from=token)


@app.post("/pay/<token>/autopay/off")
def turn_off_autopay(token: str) -> Response[str]:
    return _reply(pay_page.turn_off_autopay(wiring.ledger(), business_clock(), token=token), "autopay turned off")


@app.post("/pay/<token>/promise")
def promise(token: str) -> Response[str]:
    outcome = pay_page.promise(
        wiring.ledger(),
        business_clock(),
        wiring.pay_page_config(),
        token=token,
        date_text=_form("date"),
        notices=_notices(),
    )
    return _reply(outcome, "promise to pay recorded")


@app.get("/pay/<token>/invoice.pdf")
def invoice_pdf(token: str) -> Response[bytes]:
    document = documents.invoice_document_for_link(wiring.ledger(), business_clock(), token)
    return pdf_document(pdf.invoice_pdf(document, wiring.business_identity()), document.number)


@app.get("/pay/<token>/receipts/<payment_id>")
def receipt_pdf(token: str, payment_id: str) -> Response[bytes]:
    document = documents.receipt_document_for_link(
        wiring.ledger(), wiring.gateway(), business_clock(), token, payment_id
    )
    body = pdf.receipt_pdf(document, wiring.business_identity())
    return pdf_document(body, f"receipt-{document.invoice_number}")


@app.get("/pay/return/<invoice_id>/<ref>")
def returned(invoice_id: str, ref: str) -> Response[str]:
    outcome = pay_page.returned(
        wiring.ledger(),
        business_clock(),
        invoice_id=invoice_id,
        ref=ref,
        cancelled=app.current_event.get_query_string_value("cancelled") == "1",
        cookie_token=_remembered_link(),
    )
    if isinstance(outcome, ReturnView):
        return page(200, "return.html", view=outcome, lang=outcome.lang)
    return redirect(outcome.url)


@app.get("/pay/return/<invoice_id>")
def returned_from_setup(invoice_id: str) -> Response[str]:
    query = app.current_event.get_query_string_value
    notice = next((f"{k}={v}" for k, v in (("card", "saved"), ("autopay", "on")) if query(k) == v), "")
    outcome = pay_page.returned_from_setup(
        wiring.ledger(), business_clock(), invoice_id=invoice_id, notice=notice, cookie_token=_remembered_link()
    )
    if isinstance(outcome, SetupReturnView):
        return page(200, "setup_return.html", saved=bool(notice), lang=outcome.lang)
    return redirect(outcome.url)


@app.get("/pay/<token>/return")
def returned_with_token(token: str) -> Response[str]:
    """Sessions opened before return URLs lost the token come back here: the pay page shows the state."""
    return redirect(f"/pay/{token}")


def _remembered_link() -> str | None:
    return remembered_pay_link(app.current_event.headers.get("cookie"))


@app.exception_handler(PayLinkInvalid)
def invalid_link(_: PayLinkInvalid) -> Response[str]:
    return page(404, "not_found.html")


@app.exception_handler(UnreadableForm)
def unreadable_form(_: UnreadableForm) -> Response[str]:
    return page(
        400,
        "error.html",
        heading=payer_text("This form could not be read"),
        message=payer_text("Nothing was charged. Please open the payment link from your email again."),
        token=None,
    )


@app.exception_handler(NotFound)
def not_found(_: NotFound) -> Response[str]:
    return page(404, "not_found.html")


@app.exception_handler(Exception)
def unexpected(error: Exception) -> Response[str]:
    logger.exception("pay page failed")
    return page(
        502 if type(error).__module__.startswith("stripe") else 500,
        "error.html",
        heading=payer_text("Something went wrong"),
        message=payer_text("We could not complete this step. You have not been charged. Please try again in a minute."),
        token=None,
    )


@resumes_collector
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
