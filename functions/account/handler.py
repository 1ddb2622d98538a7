"""The customer's account: sign-in with a one-time code by email, the statement, paying an invoice from it (or
several in one Checkout) or promising to; autopay on or off, an installment plan, and payment methods added,
removed or chosen, each behind a fresh code (step-up); sign-out.

Every page but the sign-in forms needs a live session (its cookie is scoped to /account); every post needs its
form token (bound to the session, or before one to a double-submit cookie) and a same-site fetch.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.account.pages import (
    FORM_COOKIE,
    SESSION_COOKIE,
    CsrfRefused,
    check_fetch_site,
    check_token,
    end_session,
    language,
    page,
    pdf_document,
    redirect,
    set_session,
    with_form_token,
    zip_download,
)
from shared import pdf, wiring
from shared.clock import SystemClock, business_clock
from shared.cold_start import resumes_collector
from shared.domain.account import AccountSession
from shared.domain.errors import NotFound, PaymentMethodStillNeeded
from shared.domain.languages import served_language
from shared.domain.plans import InvalidPlan
from shared.observability import logger, metrics
from shared.services import (
    account_autopay,
    account_export,
    account_pay_together,
    account_payment_methods,
    account_plans,
    account_sign_in,
    account_statement,
    documents,
    subject_access,
)
from shared.services.account_autopay import AutopayChange
from shared.services.account_codes import CodeRefused, TooManyRequests
from shared.services.account_export import ExportLinkGone
from shared.services.account_payment_methods import MethodChange, MethodChangeKind
from shared.services.account_plans import PlanRequest
from shared.services.account_sign_in import BadAddress
from shared.services.step_up import StepUpRequired
from shared.web_pages import cookie_value

app = APIGatewayRestResolver()
# Codes and sessions lapse by the wall clock: the local stack's business clock may jump days, they must not.
SESSION_CLOCK = SystemClock()
STATUS_BY_REFUSAL = {"malformed": 422, "wrong": 401, "locked": 429, "expired": 401}


class NotSignedIn(Exception):
    pass


class UnreadableForm(Exception):
    pass


def _form(max_fields: int = 10) -> dict[str, str]:
    try:
        fields = parse_qs(app.current_event.decoded_body or "", max_num_fields=max_fields)
    except ValueError:  # too many fields; UnicodeDecodeError is a ValueError too
        raise UnreadableForm from None
    return {name: values[0].strip()[:320] for name, values in fields.items()}


def _header(name: str) -> str | None:
    return app.current_event.headers.get(name)


def _source_ip() -> str:
    return app.current_event.request_context.identity.source_ip or "unknown"


def _lang() -> str:
    return language(_header("accept-language"))


def _session() -> AccountSession | None:
    session_id = cookie_value(_header("cookie"), SESSION_COOKIE)
    return account_sign_in.current(wiring.account_store(), SESSION_CLOCK, session_id)


def _signed_in() -> AccountSession:
    session = _session()
    if session is None:
        raise NotSignedIn
    return session


def _posted(expected: str | None, *, max_fields: int = 10) -> dict[str, str]:
    check_fetch_site(_header("sec-fetch-site"))
    form = _form(max_fields)
    check_token(expected, form.get("csrf"))
    return form


def _signed_in_post(*, max_fields: int = 10) -> tuple[AccountSession, dict[str, str]]:
    session = _signed_in()
    return session, _posted(session.csrf_token, max_fields=max_fields)


def _code_page(status: int, email: str, *, recent: bool = False, refused: CodeRefused | None = None) -> Response[str]:
    return with_form_token(status, "code.html", lang=_lang(), email=email, recent=recent, refused=refused)


@app.get("/account")
def home() -> Response[str]:
    session = _session()
    if session is None:
        return with_form_token(200, "sign_in.html", lang=_lang(), problem=None, email="")
    query = app.current_event.get_query_string_value
    notices = account_statement.Notices(
        autopay_on=query("autopay") == "on",
        autopay_off=query("autopay") == "off",
        promised=(query("promised") or "")[:64],
        pay_refused=(query("pay_refused") or "")[:64],
        promise_refused=(query("promise_refused") or "")[:64],
        together=(query("together") or "")[:64],
        together_refused=(query("together_refused") or "")[:32],
        plan_refused=(query("plan_refused") or "")[:64],
    )
    view = account_statement.statement(
        wiring.ledger(), business_clock(), session, notices=notices, promise_max_days=wiring.settings().promise_max_days
    )
    return page(200, "statement.html", lang=view.lang, view=view, csrf=session.csrf_token)


@app.post("/account/sign-in")
def ask_sign_in_code() -> Response[str]:
    form = _posted(cookie_value(_header("cookie"), FORM_COOKIE))
    email = form.get("email", "")
    try:
        asked = account_sign_in.ask_sign_in_code(
            wiring.account_store(), wiring.ledger(), SESSION_CLOCK, email=email, source_ip=_source_ip()
        )
    except BadAddress:
        return with_form_token(422, "sign_in.html", lang=_lang(), problem="address", email=email)
    return _code_page(200, email, recent=asked.recent)


@app.post("/account/code")
def sign_in() -> Response[str]:
    form = _posted(cookie_value(_header("cookie"), FORM_COOKIE))
    email = form.get("email", "")
    try:
        signed_in = account_sign_in.sign_in(
            wiring.account_store(), SESSION_CLOCK, email=email, code=form.get("code", ""), source_ip=_source_ip()
        )
    except CodeRefused as refused:
        logger.info("account code refused", extra={"reason": refused.reason.value})
        return _code_page(STATUS_BY_REFUSAL[refused.reason.value], email, refused=refused)
    logger.info("account sign-in", extra={"customer_ids": list(signed_in.session.customer_ids)})
    metrics.add_metric(name="AccountSignIns", unit="Count", value=1)
    return set_session(redirect("/account"), signed_in.session_id)


@app.post("/account/sign-out")
def sign_out() -> Response[str]:
    session = _session()
    if session is not None:
        _posted(session.csrf_token)
        account_sign_in.sign_out(wiring.account_store(), session)
    return end_session(redirect("/account"))


@app.post("/account/invoices/<invoice_id>/pay")
def pay_invoice(invoice_id: str) -> Response[str]:
    session, form = _signed_in_post()
    url = account_statement.pay_invoice(
        wiring.ledger(), wiring.gateway(), business_clock(), wiring.checkout_config(), session, invoice_id,
        amount_text=form.get("amount", ""),
    )  # fmt: skip
    return redirect(url)


@app.post("/account/pay-together")
def pay_together() -> Response[str]:
    session, form = _signed_in_post(max_fields=account_pay_together.MAX_FIELDS)
    url = account_pay_together.pay_selected(
        wiring.ledger(), wiring.gateway(), business_clock(), wiring.checkout_config(), session,
        form.get("customer", ""), account_pay_together.picked(form),
    )  # fmt: skip
    return redirect(url)


@app.post("/account/invoices/<invoice_id>/promise")
def promise(invoice_id: str) -> Response[str]:
    session, form = _signed_in_post()
    max_days = wiring.settings().promise_max_days
    path = account_statement.promise(
        wiring.ledger(), business_clock(), session, invoice_id, date_text=form.get("date", ""), max_days=max_days
    )
    return redirect(path)


def _plan_request(invoice_id: str, form: dict[str, str]) -> PlanRequest:
    return PlanRequest(invoice_id=invoice_id, key=form.get("plan", "")[:32])


def _plan_page(
    status: int, session: AccountSession, invoice_id: str, request: PlanRequest, **kwargs: Any
) -> Response[str]:
    invoice = account_statement.owned_invoice(wiring.ledger(), session, invoice_id)
    fields = {"customer": invoice.customer_id, "plan": request.key}
    return _step_up_page(status, session, "plan", f"/account/invoices/{invoice_id}/plan", fields, **kwargs)


@app.post("/account/invoices/<invoice_id>/plan/code")
def ask_plan_code(invoice_id: str) -> Response[str]:
    session, form = _signed_in_post()
    request = _plan_request(invoice_id, form)
    try:
        asked = account_plans.ask_code(wiring.account_store(), wiring.ledger(), SESSION_CLOCK, business_clock(),
                                       session, request, source_ip=_source_ip())  # fmt: skip
    except InvalidPlan:
        return redirect(account_plans.refused_path(invoice_id))
    return _plan_page(200, session, invoice_id, request, recent=asked.recent)


@app.post("/account/invoices/<invoice_id>/plan")
def choose_plan(invoice_id: str) -> Response[str]:
    session, form = _signed_in_post()
    request = _plan_request(invoice_id, form)
    try:
        url = account_plans.apply(
            wiring.account_store(), wiring.ledger(), wiring.gateway(), SESSION_CLOCK, business_clock(),
            wiring.checkout_config(), session, request, code=form.get("code", ""), source_ip=_source_ip(),
        )  # fmt: skip
    except StepUpRequired:
        return _plan_page(403, session, invoice_id, request)
    except CodeRefused as refused:
        return _plan_page(STATUS_BY_REFUSAL[refused.reason.value], session, invoice_id, request, refused=refused)
    logger.info("account installment plan chosen", extra={"invoice_id": invoice_id})
    return redirect(url)


def _autopay_change(form: dict[str, str]) -> AutopayChange:
    return AutopayChange(customer_id=form.get("customer", ""), on=form.get("autopay") == "on")


@app.post("/account/autopay/code")
def ask_autopay_code() -> Response[str]:
    session, form = _signed_in_post()
    change = _autopay_change(form)
    asked = account_autopay.ask_code(
        wiring.account_store(), wiring.ledger(), SESSION_CLOCK, session, change, source_ip=_source_ip()
    )
    return _autopay_page(200, session, change, recent=asked.recent)


@app.post("/account/autopay")
def change_autopay() -> Response[str]:
    session, form = _signed_in_post()
    change = _autopay_change(form)
    try:
        url = account_autopay.apply(
            wiring.account_store(), wiring.ledger(), wiring.gateway(), SESSION_CLOCK, business_clock(),
            wiring.checkout_config(), session, change, code=form.get("code", ""), source_ip=_source_ip(),
        )  # fmt: skip
    except StepUpRequired:
        return _autopay_page(403, session, change)
    except CodeRefused as refused:
        return _autopay_page(STATUS_BY_REFUSAL[refused.reason.value], session, change, refused=refused)
    logger.info("account autopay changed", extra={"customer_id": change.customer_id, "on": change.on})
    return redirect(url)


def _step_up_page(
    status: int, session: AccountSession, kind: str, confirm_path: str, fields: dict[str, str], *,
    recent: bool = False, refused: CodeRefused | None = None, problem: str | None = None,
) -> Response[str]:  # fmt: skip
    customer = wiring.ledger().get_customer(fields.get("customer", "")) if session.opens(fields["customer"]) else None
    lang = served_language(customer.locale) if customer else "en"
    return page(status, "step_up.html", lang=lang, csrf=session.csrf_token, kind=kind, confirm_path=confirm_path,
                fields=fields, recent=recent, refused=refused, problem=problem)  # fmt: skip


def _autopay_page(status: int, session: AccountSession, change: AutopayChange, **kwargs: Any) -> Response[str]:
    fields = {"customer": change.customer_id, "autopay": "on" if change.on else "off"}
    kind = "autopay_on" if change.on else "autopay_off"
    return _step_up_page(status, session, kind, "/account/autopay", fields, **kwargs)


@app.get("/account/payment-methods")
def payment_methods() -> Response[str]:
    session = _signed_in()
    view = account_payment_methods.methods_page(wiring.ledger(), wiring.gateway(), session)
    done = app.current_event.get_query_string_value("done") or ""
    return page(200, "payment_methods.html", lang=view.lang, view=view, csrf=session.csrf_token, done=done)


def _method_change(form: dict[str, str]) -> MethodChange:
    kind = {k.value: k for k in MethodChangeKind}.get(form.get("change", ""), MethodChangeKind.REMOVE)
    return MethodChange(form.get("customer", ""), form.get("method", ""), kind)


def _method_page(status: int, session: AccountSession, change: MethodChange, **kwargs: Any) -> Response[str]:
    fields = {"customer": change.customer_id, "method": change.payment_method_id, "change": change.kind.value}
    return _step_up_page(status, session, change.kind.value, "/account/payment-methods", fields, **kwargs)


@app.post("/account/payment-methods/code")
def ask_payment_method_code() -> Response[str]:
    session, form = _signed_in_post()
    change = _method_change(form)
    asked = account_payment_methods.ask_code(wiring.account_store(), SESSION_CLOCK, session, change,
                                             source_ip=_source_ip())  # fmt: skip
    return _method_page(200, session, change, recent=asked.recent)


@app.post("/account/payment-methods")
def change_payment_method() -> Response[str]:
    session, form = _signed_in_post()
    change = _method_change(form)
    try:
        path = account_payment_methods.apply(
            wiring.account_store(), wiring.ledger(), wiring.gateway(), SESSION_CLOCK, business_clock(),
            wiring.checkout_config(), session, change, code=form.get("code", ""), source_ip=_source_ip(),
        )  # fmt: skip
    except StepUpRequired:
        return _method_page(403, session, change)
    except CodeRefused as refused:
        return _method_page(STATUS_BY_REFUSAL[refused.reason.value], session, change, refused=refused)
    except PaymentMethodStillNeeded:
        return _method_page(409, session, change, problem="still_needed")
    except NotFound:
        return _method_page(404, session, change, problem="not_found")
    logger.info("account payment method changed", extra={"customer_id": change.customer_id})
    return redirect(path)


@app.post("/account/export/code")
def ask_export_code() -> Response[str]:
    session, _ = _signed_in_post()
    asked = account_export.ask(wiring.account_store(), SESSION_CLOCK, session, source_ip=_source_ip())
    return _export_code_page(200, session, recent=asked.recent)


def _export_code_page(status: int, session: AccountSession, **kwargs: Any) -> Response[str]:
    fields = {"customer": session.customer_ids[0] if session.customer_ids else ""}
    return _step_up_page(status, session, "data_export", "/account/export", fields, **kwargs)


@app.post("/account/export")
def request_export() -> Response[str]:
    session, form = _signed_in_post()
    try:
        customer_ids = account_export.request(
            wiring.account_store(), wiring.ledger(), SESSION_CLOCK, business_clock(), session,
            code=form.get("code", ""), source_ip=_source_ip(),
        )  # fmt: skip
    except StepUpRequired:
        return _export_code_page(403, session)
    except CodeRefused as refused:
        return _export_code_page(STATUS_BY_REFUSAL[refused.reason.value], session, refused=refused)
    logger.info("account export asked", extra={"customer_ids": customer_ids})
    return page(200, "export.html", lang=_lang(), state="sent")


@app.get("/account/export/<token>")
def export_link(token: str) -> Response[str]:
    try:
        account_export.check(wiring.privacy(), SESSION_CLOCK, token)
    except ExportLinkGone:
        return page(410, "export.html", lang=_lang(), state="gone")
    return page(200, "export.html", lang=_lang(), state="ready", action=f"/account/export/{token}")


@app.post("/account/export/<token>")
def download_export(token: str) -> Response[bytes] | Response[str]:
    check_fetch_site(_header("sec-fetch-site"))  # the token is the credential; no session (account_export.py)
    try:
        found = account_export.download(wiring.privacy(), wiring.privacy(), wiring.ledger(), SESSION_CLOCK, token)
    except ExportLinkGone:
        return page(410, "export.html", lang=_lang(), state="gone")
    body = subject_access.export_zip(found, wiring.gateway(), wiring.business_identity(), for_the_subject=True)
    logger.info("account export downloaded", extra={"customer_id": found.customer.customer.id})
    return zip_download(body, "my-data")


@app.get("/account/statement.pdf")
def statement_pdf() -> Response[bytes]:
    document = documents.account_statement_document(wiring.ledger(), business_clock(), _signed_in())
    return pdf_document(pdf.statement_pdf(document, wiring.business_identity()), "statement")


@app.get("/account/invoices/<invoice_id>/pdf")
def invoice_pdf(invoice_id: str) -> Response[bytes]:
    document = documents.account_invoice_document(wiring.ledger(), business_clock(), _signed_in(), invoice_id)
    return pdf_document(pdf.invoice_pdf(document, wiring.business_identity()), document.number)


@app.get("/account/invoices/<invoice_id>/receipts/<payment_id>")
def receipt_pdf(invoice_id: str, payment_id: str) -> Response[bytes]:
    document = documents.account_receipt_document(
        wiring.ledger(), wiring.gateway(), business_clock(), _signed_in(), invoice_id, payment_id
    )
    body = pdf.receipt_pdf(document, wiring.business_identity())
    return pdf_document(body, f"receipt-{document.invoice_number}")


@app.exception_handler(NotSignedIn)
def not_signed_in(_: NotSignedIn) -> Response[str]:
    return redirect("/account")


@app.exception_handler(CsrfRefused)
def csrf_refused(error: CsrfRefused) -> Response[str]:
    logger.warning("account form refused", extra={"check": str(error)})
    return page(403, "problem.html", lang=_lang(), problem="form")


@app.exception_handler(TooManyRequests)
def too_many(error: TooManyRequests) -> Response[str]:
    logger.warning("account rate limit", extra={"limit": error.message})
    metrics.add_metric(name="AccountRateLimited", unit="Count", value=1)
    response = page(429, "problem.html", lang=_lang(), problem="too_many")
    response.headers["Retry-After"] = "3600"
    return response


@app.exception_handler(UnreadableForm)
def unreadable(_: UnreadableForm) -> Response[str]:
    return page(400, "problem.html", lang=_lang(), problem="form")


@app.exception_handler(NotFound)
def not_found(_: NotFound) -> Response[str]:
    return page(404, "problem.html", lang=_lang(), problem="not_found")


@app.exception_handler(Exception)
def unexpected(error: Exception) -> Response[str]:
    logger.exception("account page failed")
    status = 502 if type(error).__module__.startswith("stripe") else 500
    return page(status, "problem.html", lang=_lang(), problem="unexpected")


@resumes_collector
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
