"""The operator console: sign-in with Cognito (password, then TOTP), Today, the Invoices, Customers and Reports
pages (their CSV downloads too), the Invoice and Customer pages with their actions, Review (Stripe events
flagged or failed, and their replay), the Dunning policy (its preview, and the admin's edit), for admins
Users (invite, change a role, disable or enable, reset an authenticator), and Import (a file of customers and
invoices, checked, then imported).

Every page needs a signed-in session (MFA passed); every post needs the session's CSRF token and a same-site
origin; every action is checked against the role policy in its service (shared.services.console_pages).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.console.pages import (
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    CsrfRefused,
    base_path,
    check_origin,
    check_token,
    download,
    end_session,
    page,
    redirect,
    set_session,
    sign_in_form,
)
from functions.console.upload import UnreadableUpload, multipart_fields
from shared import wiring
from shared.clock import SystemClock, business_clock
from shared.cold_start import resumes_collector
from shared.domain.console_roles import ActionForbidden
from shared.domain.console_session import ConsoleSession, Stage
from shared.domain.errors import DomainError, NotFound
from shared.domain.imports import ImportFileInvalid
from shared.domain.records import AuditSubject
from shared.observability import logger, metrics
from shared.rendering import qr_svg
from shared.services import (
    console_actions,
    console_imports,
    console_lists,
    console_pages,
    console_policy,
    console_reports,
    console_review,
    console_sign_in,
    console_users,
)
from shared.services.console_actions import (
    BadField,
    CorrectionForm,
    CreditNoteForm,
    CustomerForm,
    ErasureForm,
    HoldForm,
    NoteForm,
    PromiseForm,
)
from shared.services.console_lists import BadQuery
from shared.services.console_pages import PaymentForm, RefundForm
from shared.services.console_ports import SignInRefused, StaffMemberExists, WeakPassword
from shared.services.console_reports import COUNTERS_NOT_READY
from shared.services.console_sign_in import Step
from shared.services.console_users import StaffPorts
from shared.services.dunning_policy import StalePolicy
from shared.services.ports import InvalidCursor, RunOnce
from shared.services.reports import CountersNotReady
from shared.web_pages import cookie_value

app = APIGatewayRestResolver()
# Sessions lapse by the wall clock: the local stack's business clock may jump days, a staff session must not.
SESSION_CLOCK = SystemClock()
STEP_TEMPLATES = {Stage.NEW_PASSWORD: "new_password.html", Stage.ENROL_TOTP: "enrol.html", Stage.TOTP: "code.html"}


class NotSignedIn(Exception):
    """No session, a lapsed one, or one that has not passed MFA: only the sign-in page is open to it."""


class UnreadableForm(Exception):
    pass


def _form() -> dict[str, str]:
    return {name: values[0].strip() for name, values in _form_lists(10, keep_blank=False).items()}


def _form_lists(max_fields: int, *, keep_blank: bool = True) -> dict[str, list[str]]:
    """Every value of every field (a checkbox group repeats its name); blank ones kept when a row needs them."""
    try:
        return parse_qs(app.current_event.decoded_body or "", keep_blank_values=keep_blank, max_num_fields=max_fields)
    except ValueError:
        raise UnreadableForm from None


def _query() -> dict[str, list[str]]:
    """The query string, every value of every name (a list's status repeats)."""
    return {
        name: list(values) for name, values in (app.current_event.multi_value_query_string_parameters or {}).items()
    }


def _header(name: str) -> str | None:
    return app.current_event.headers.get(name)  # case-insensitive


def _session() -> ConsoleSession | None:
    session_id = cookie_value(_header("cookie"), SESSION_COOKIE)
    return console_sign_in.current(wiring.console_sessions(), SESSION_CLOCK, session_id)


def _signed_in() -> ConsoleSession:
    session = _session()
    if session is None or not session.signed_in:
        raise NotSignedIn
    return session


def _posted(session_token: str | None) -> dict[str, str]:
    """The form, once it proved it came from our own page: same-site origin and the right token."""
    check_origin(_header("origin"), _header("sec-fetch-site"))
    form = _form()
    check_token(session_token, form.get("csrf"))
    return form


def _posted_lists(session_token: str | None, max_fields: int) -> dict[str, list[str]]:
    """A longer form (the dunning policy's rows), every value of each field, once it proved where it came from."""
    check_origin(_header("origin"), _header("sec-fetch-site"))
    form = _form_lists(max_fields)
    check_token(session_token, next(iter(form.get("csrf") or []), None))
    return form


def _pending(stage: Stage) -> tuple[ConsoleSession, dict[str, str]]:
    session = _session()
    if session is None or session.stage is not stage:
        raise NotSignedIn
    return session, _posted(session.csrf_token)


def _step_page(session: ConsoleSession, status: int = 200, problem: str | None = None) -> Response[str]:
    context: dict[str, Any] = {"session": session, "csrf": session.csrf_token, "problem": problem}
    if session.stage is Stage.ENROL_TOTP:
        issuer = wiring.settings().business_name
        uri = f"otpauth://totp/{_quote(issuer)}:{_quote(session.username)}?secret={session.totp_secret}&issuer={_quote(issuer)}"
        context |= {"qr": qr_svg(uri, title="QR code for your authenticator app"), "setup_key": session.totp_secret}
    return page(status, STEP_TEMPLATES[session.stage], **context)


def _quote(text: str) -> str:
    return quote(text, safe="@")


def _after(step: Step) -> Response[str]:
    if step.session.signed_in:
        logger.info("console sign-in", extra={"staff_id": step.session.staff_id})
        metrics.add_metric(name="ConsoleSignIns", unit="Count", value=1)
        return set_session(redirect(f"{base_path()}/today"), step.session_id)
    return set_session(redirect(f"{base_path()}/sign-in"), step.session_id)


@app.get("/console")
def home() -> Response[str]:
    session = _session()
    return redirect(f"{base_path()}/{'today' if session and session.signed_in else 'sign-in'}")


@app.get("/console/sign-in")
def show_sign_in() -> Response[str]:
    session = _session()
    if session is None:
        return sign_in_form(200)
    if session.signed_in:
        return redirect(f"{base_path()}/today")
    return _step_page(session)


@app.post("/console/sign-in")
def sign_in() -> Response[str]:
    form = _posted(cookie_value(_header("cookie"), SIGN_IN_CSRF_COOKIE))
    try:
        step = console_sign_in.sign_in(
            wiring.staff_directory(), wiring.console_sessions(), SESSION_CLOCK, form.get("email", ""),
            form.get("password", ""),
        )  # fmt: skip
    except SignInRefused as refused:
        _refused(refused)
        return sign_in_form(401, "That email and password did not work.")
    return _after(step)


@app.post("/console/sign-in/new-password")
def choose_password() -> Response[str]:
    pending, form = _pending(Stage.NEW_PASSWORD)
    try:
        step = console_sign_in.choose_password(
            wiring.staff_directory(), wiring.console_sessions(), SESSION_CLOCK, pending, form.get("password", "")
        )
    except WeakPassword:
        return _step_page(pending, 422, "That password is too weak: see the rules below.")
    except SignInRefused as refused:
        _refused(refused)
        return _start_again(pending)
    return _after(step)


@app.post("/console/sign-in/enrol")
def enrol() -> Response[str]:
    pending, form = _pending(Stage.ENROL_TOTP)
    try:
        step = console_sign_in.enrol_totp(
            wiring.staff_directory(), wiring.console_sessions(), SESSION_CLOCK, pending, form.get("code", "")
        )
    except SignInRefused as refused:
        _refused(refused)
        return _step_page(pending, 401, "That code did not match. Check the app and type the code it shows now.")
    return _after(step)


@app.post("/console/sign-in/code")
def code() -> Response[str]:
    pending, form = _pending(Stage.TOTP)
    try:
        step = console_sign_in.answer_totp(
            wiring.staff_directory(), wiring.console_sessions(), SESSION_CLOCK, pending, form.get("code", "")
        )
    except SignInRefused as refused:
        _refused(refused)
        return _start_again(pending)
    return _after(step)


@app.post("/console/sign-out")
def sign_out() -> Response[str]:
    session = _session()
    if session is None:
        return end_session(redirect(f"{base_path()}/sign-in"))
    _posted(session.csrf_token)
    console_sign_in.sign_out(wiring.staff_directory(), wiring.console_sessions(), session)
    return end_session(redirect(f"{base_path()}/sign-in"))


@app.get("/console/today")
def today() -> Response[str]:
    session = _signed_in()
    currency = app.current_event.get_query_string_value("currency") or None
    view = console_pages.today(wiring.ledger(), business_clock(), session, currency)
    return page(200, "today.html", session=session, csrf=session.csrf_token, view=view)


@app.get("/console/customers/<customer_id>")
def customer(customer_id: str) -> Response[str]:
    session = _signed_in()
    view = console_pages.customer_page(wiring.ledger(), business_clock(), session, customer_id)
    done = app.current_event.get_query_string_value("done") or ""
    return page(200, "customer.html", session=session, csrf=session.csrf_token, view=view, done=done)


@app.get("/console/customers")
def customers() -> Response[str]:
    session = _signed_in()
    view = console_lists.customers_page(wiring.ledger(), session, _query())
    return page(400 if view.notice else 200, "customers.html", session=session, csrf=session.csrf_token, view=view)


@app.get("/console/invoices")
def invoices() -> Response[str]:
    session = _signed_in()
    query = _query()
    if set(query) == {"number"}:  # Today's "find an invoice": straight to it
        number = query["number"][0]
        invoice_id = console_pages.find_invoice(wiring.ledger(), business_clock(), session, number)
        return redirect(f"{base_path()}/invoices/{invoice_id}")
    if query.get("format") == ["csv"]:
        export = console_lists.invoices_csv(wiring.ledger(), business_clock(), session, query)
        return download(export, f"{base_path()}/invoices")
    view = console_lists.invoices_page(wiring.ledger(), business_clock(), session, query)
    return page(400 if view.notice else 200, "invoices.html", session=session, csrf=session.csrf_token, view=view)


@app.get("/console/reports")
def reports() -> Response[str]:
    session = _signed_in()
    query = _query()
    if query.get("format") == ["csv"]:
        return download(console_reports.report_csv(wiring.ledger(), business_clock(), session, query), "")
    view = console_reports.reports_page(wiring.ledger(), business_clock(), session, query)
    return page(400 if view.notice else 200, "reports.html", session=session, csrf=session.csrf_token, view=view)


@app.get("/console/invoices/<invoice_id>")
def invoice(invoice_id: str) -> Response[str]:
    session = _signed_in()
    view = console_pages.invoice_page(wiring.ledger(), business_clock(), session, invoice_id)
    done = app.current_event.get_query_string_value("done") or ""
    return page(200, "invoice.html", session=session, csrf=session.csrf_token, view=view, done=done)


@app.post("/console/invoices/<invoice_id>/hold")
def place_hold(invoice_id: str) -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    console_pages.place_hold(
        wiring.ledger(), business_clock(), session, invoice_id, reason=form.get("reason", ""), until=None
    )
    return redirect(f"{base_path()}/invoices/{invoice_id}?done=held")


@app.post("/console/invoices/<invoice_id>/hold/release")
def release_hold(invoice_id: str) -> Response[str]:
    session = _signed_in()
    _posted(session.csrf_token)
    console_pages.release_hold(wiring.ledger(), business_clock(), session, invoice_id)
    return redirect(f"{base_path()}/invoices/{invoice_id}?done=released")


@app.post("/console/invoices/<invoice_id>/payments")
def record_payment(invoice_id: str) -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    console_pages.record_payment(
        wiring.ledger(),
        wiring.gateway(),
        business_clock(),
        wiring.run_once("offline_payment", app.lambda_context),
        session,
        invoice_id,
        PaymentForm(
            amount=form.get("amount", ""),
            method=form.get("method", ""),
            reference=form.get("reference", ""),
            received_on=form.get("received_on", ""),
            key=form.get("key", ""),
        ),
    )
    return redirect(f"{base_path()}/invoices/{invoice_id}?done=recorded")


@app.post("/console/invoices/<invoice_id>/refunds")
def refund_payment(invoice_id: str) -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    console_pages.refund_payment(
        wiring.ledger(),
        wiring.gateway(),
        business_clock(),
        wiring.run_once("refund", app.lambda_context),
        session,
        invoice_id,
        RefundForm(
            payment_id=form.get("payment_id", ""),
            amount=form.get("amount", ""),
            reason=form.get("reason", ""),
            key=form.get("key", ""),
        ),
    )
    return redirect(f"{base_path()}/invoices/{invoice_id}?done=refunded")


@app.post("/console/invoices/<invoice_id>/promise")
def note_promise(invoice_id: str) -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    console_actions.note_promise(
        wiring.ledger(), business_clock(), _once(), session, invoice_id,
        PromiseForm(date=form.get("date", ""), amount=form.get("amount", ""), key=form.get("key", "")),
        max_days=wiring.settings().promise_max_days,
    )  # fmt: skip
    return _invoice_done(invoice_id, "promised")


@app.post("/console/invoices/<invoice_id>/pay-links")
def resend_pay_link(invoice_id: str) -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    console_actions.resend_pay_link(
        wiring.ledger(), business_clock(), wiring.run_once("pay_link", app.lambda_context), session, invoice_id,
        form.get("key", ""), ttl_days=wiring.settings().pay_link_ttl_days,
    )  # fmt: skip
    return _invoice_done(invoice_id, "link_sent")


@app.post("/console/invoices/<invoice_id>/pay-links/revoke")
def revoke_pay_links(invoice_id: str) -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    console_actions.revoke_pay_links(
        wiring.ledger(), wiring.gateway(), business_clock(), _once(), session, invoice_id, form.get("key", "")
    )
    return _invoice_done(invoice_id, "links_revoked")


@app.post("/console/invoices/<invoice_id>/notes")
def note_invoice(invoice_id: str) -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    note = NoteForm(text=form.get("note", ""), key=form.get("key", ""))
    console_actions.add_note(
        wiring.ledger(), business_clock(), _once(), session, AuditSubject.INVOICE, invoice_id, note
    )
    return _invoice_done(invoice_id, "noted")


@app.post("/console/invoices/<invoice_id>/void")
def void_invoice(invoice_id: str) -> Response[str]:
    session = _signed_in()
    _posted(session.csrf_token)
    console_actions.void_invoice(wiring.ledger(), business_clock(), session, invoice_id)
    return _invoice_done(invoice_id, "voided")


@app.post("/console/invoices/<invoice_id>/credit-notes")
def issue_credit_note(invoice_id: str) -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    console_actions.issue_credit_note(
        wiring.ledger(), wiring.gateway(), business_clock(), wiring.run_once("credit_note", app.lambda_context),
        session, invoice_id,
        CreditNoteForm(amount=form.get("amount", ""), reason=form.get("reason", ""), key=form.get("key", "")),
    )  # fmt: skip
    return _invoice_done(invoice_id, "credited")


@app.post("/console/invoices/<invoice_id>/correction")
def correct_invoice(invoice_id: str) -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    correction = CorrectionForm(
        description=form.get("description", ""), due_date=form.get("due_date", ""),
        amount_due=form.get("amount_due", ""),
    )  # fmt: skip
    console_actions.correct_invoice(
        wiring.ledger(), wiring.gateway(), business_clock(), session, invoice_id, correction
    )
    return _invoice_done(invoice_id, "corrected")


@app.post("/console/customers/<customer_id>/hold")
def hold_customer(customer_id: str) -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    hold = HoldForm(reason=form.get("reason", ""), key=form.get("key", ""))
    console_actions.place_customer_hold(wiring.ledger(), business_clock(), _once(), session, customer_id, hold)
    return _customer_done(customer_id, "held")


@app.post("/console/customers/<customer_id>/hold/release")
def release_customer_hold(customer_id: str) -> Response[str]:
    session = _signed_in()
    _posted(session.csrf_token)
    console_actions.release_customer_hold(wiring.ledger(), business_clock(), session, customer_id)
    return _customer_done(customer_id, "released")


@app.post("/console/customers/<customer_id>/autopay/off")
def turn_off_autopay(customer_id: str) -> Response[str]:
    session = _signed_in()
    _posted(session.csrf_token)
    console_actions.turn_off_autopay(wiring.ledger(), business_clock(), session, customer_id)
    return _customer_done(customer_id, "autopay_off")


@app.post("/console/customers/<customer_id>/notes")
def note_customer(customer_id: str) -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    note = NoteForm(text=form.get("note", ""), key=form.get("key", ""))
    console_actions.add_note(
        wiring.ledger(), business_clock(), _once(), session, AuditSubject.CUSTOMER, customer_id, note
    )
    return _customer_done(customer_id, "noted")


@app.post("/console/customers/<customer_id>/correction")
def correct_customer(customer_id: str) -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    correction = CustomerForm(
        name=form.get("name", ""),
        email=form.get("email", ""),
        locale=form.get("locale", ""),
        timezone=form.get("timezone", ""),
        external_id=form.get("external_id", ""),
        remove_external_id=form.get("remove_external_id") == "yes",
    )
    console_actions.correct_customer(
        wiring.ledger(), business_clock(), session, customer_id, correction, gateway=wiring.gateway()
    )
    return _customer_done(customer_id, "corrected")


@app.post("/console/customers/<customer_id>/erase")
def erase_customer(customer_id: str) -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    asked = ErasureForm(open_invoices=form.get("open_invoices", ""), confirm=form.get("confirm", ""))
    console_actions.erase_customer(wiring.ledger(), wiring.gateway(), business_clock(), session, customer_id, asked)
    return _customer_done(customer_id, "erased")


@app.post("/console/customers/<customer_id>/restriction")
def restrict_customer(customer_id: str) -> Response[str]:
    session = _signed_in()
    _posted(session.csrf_token)
    console_actions.restrict_customer(wiring.ledger(), business_clock(), session, customer_id)
    return _customer_done(customer_id, "restricted")


@app.post("/console/customers/<customer_id>/restriction/lift")
def lift_restriction(customer_id: str) -> Response[str]:
    session = _signed_in()
    _posted(session.csrf_token)
    console_actions.lift_restriction(wiring.ledger(), business_clock(), session, customer_id)
    return _customer_done(customer_id, "unrestricted")


def _customer_done(customer_id: str, done: str) -> Response[str]:
    return redirect(f"{base_path()}/customers/{customer_id}?done={done}")


def _once() -> RunOnce:
    return wiring.run_once("console_action", app.lambda_context)


def _invoice_done(invoice_id: str, done: str) -> Response[str]:
    return redirect(f"{base_path()}/invoices/{invoice_id}?done={done}")


@app.get("/console/dunning-policy")
def dunning_policy() -> Response[str]:
    session = _signed_in()
    view = console_policy.policy_page(wiring.ledger(), business_clock(), session, _query())
    saved = app.current_event.get_query_string_value("saved") == "1"
    return page(400 if view.problems else 200, "dunning_policy.html", session=session, csrf=session.csrf_token,
                view=view, saved=saved)  # fmt: skip


@app.post("/console/dunning-policy")
def edit_dunning_policy() -> Response[str]:
    session = _signed_in()
    form = _posted_lists(session.csrf_token, console_policy.FORM_FIELDS)
    submitted = console_policy.submit_policy(wiring.ledger(), business_clock(), session, form)
    if submitted.view is None:
        logger.info("dunning policy saved", extra={"staff_id": session.staff_id})
        return redirect(f"{base_path()}/dunning-policy?saved=1")
    view = submitted.view
    return page(422 if view.problems else 200, "dunning_policy.html", session=session, csrf=session.csrf_token,
                view=view, saved=False)  # fmt: skip


@app.get("/console/users")
def users() -> Response[str]:
    session = _signed_in()
    view = console_users.users_page(wiring.staff_accounts(), session)
    done = app.current_event.get_query_string_value("done") or ""
    return page(200, "users.html", session=session, csrf=session.csrf_token, view=view, done=done)


@app.post("/console/users")
def invite_user() -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    invited = console_users.invite(
        _staff_ports(), business_clock(), session, form.get("email", ""), form.get("role", "")
    )
    logger.info("console user invited", extra={"staff_id": session.staff_id, "username": invited.username})
    return redirect(f"{base_path()}/users?done=invited")


@app.post("/console/users/<username>/role")
def change_user_role(username: str) -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    console_users.change_role(_staff_ports(), business_clock(), session, username, form.get("role", ""))
    return redirect(f"{base_path()}/users?done=role")


@app.post("/console/users/<username>/disable")
def disable_user(username: str) -> Response[str]:
    session = _signed_in()
    _posted(session.csrf_token)
    console_users.set_enabled(_staff_ports(), business_clock(), session, username, enabled=False)
    return redirect(f"{base_path()}/users?done=disabled")


@app.post("/console/users/<username>/enable")
def enable_user(username: str) -> Response[str]:
    session = _signed_in()
    _posted(session.csrf_token)
    console_users.set_enabled(_staff_ports(), business_clock(), session, username, enabled=True)
    return redirect(f"{base_path()}/users?done=enabled")


@app.post("/console/users/<username>/reset-mfa")
def reset_user_mfa(username: str) -> Response[str]:
    session = _signed_in()
    _posted(session.csrf_token)
    console_users.reset_mfa(_staff_ports(), business_clock(), session, username)
    return redirect(f"{base_path()}/users?done=mfa")


@app.get("/console/review")
def review() -> Response[str]:
    session = _signed_in()
    query = app.current_event.get_query_string_value
    view = console_review.review_page(
        wiring.ledger(), session, flagged_cursor=query("flagged") or None, failed_cursor=query("failed") or None,
        replayed=query("replayed") or None, outcome=query("outcome") or None,
    )  # fmt: skip
    return page(200, "review.html", session=session, csrf=session.csrf_token, view=view)


@app.post("/console/review/<event_id>/replay")
def replay_event(event_id: str) -> Response[str]:
    session = _signed_in()
    _posted(session.csrf_token)
    replayed = console_review.replay_event(
        wiring.ledger(), wiring.stripe_events(), business_clock(), session, event_id,
        livemode=lambda: wiring.stripe_credentials().livemode, retry_days=wiring.settings().charge_retry_days,
    )  # fmt: skip
    logger.info("stripe event replayed", extra={"stripe_event_id": event_id, "outcome": replayed.outcome.value,
                                                "staff_id": session.staff_id})  # fmt: skip
    return redirect(f"{base_path()}/review?replayed={replayed.event_id}&outcome={replayed.outcome.value}")


@app.get("/console/import")
def show_import() -> Response[str]:
    session = _signed_in()
    query = app.current_event.get_query_string_value
    reload = query("reload") != "off"
    view = console_imports.import_page(wiring.import_store(), session, query("id") or None, reload=reload)
    shown = page(200, "import.html", session=session, csrf=session.csrf_token, view=view)
    if view.refresh_seconds:  # while it runs: the browser asks again, no script
        shown.headers["Refresh"] = str(view.refresh_seconds)
    return shown


@app.post("/console/import/check")
def check_import() -> Response[str]:
    """The uploaded file, every row checked; nothing is written. A good file comes back with a confirm form."""
    session = _signed_in()
    check_origin(_header("origin"), _header("sec-fetch-site"))
    raw = app.current_event.decoded_body or ""
    try:
        fields = multipart_fields(_header("content-type"), raw.encode("utf-8", "surrogateescape"))
    except (UnreadableUpload, UnicodeEncodeError):
        raise UnreadableForm from None
    check_token(session.csrf_token, fields.get("csrf"))
    view = console_imports.check_upload(session, fields.get("file", ""), fields.get("format", "csv"))
    status = 200 if view.checked and view.checked.importable else 422
    return page(status, "import.html", session=session, csrf=session.csrf_token, view=view)


@app.post("/console/import")
def start_import() -> Response[str]:
    session = _signed_in()
    form = _posted(session.csrf_token)
    import_id = console_imports.start(
        wiring.import_store(), wiring.imports_queue(), business_clock(), wiring.run_once("import", app.lambda_context),
        session, form.get("content", ""), form.get("format", "csv"), form.get("key", ""),
    )  # fmt: skip
    logger.info("import started", extra={"import_id": import_id, "staff_id": session.staff_id})
    return redirect(f"{base_path()}/import?id={quote(import_id)}")


@app.exception_handler(ImportFileInvalid)
def _import_invalid(error: ImportFileInvalid) -> Response[str]:
    """The confirm form's file no longer checks (altered in the browser): nothing was written."""
    return page(422, "problem.html", title="That file cannot be imported", problem=error.message)


def _staff_ports() -> StaffPorts:
    return StaffPorts(wiring.staff_accounts(), wiring.console_sessions(), wiring.ledger(), SESSION_CLOCK)


def _refused(refused: SignInRefused) -> None:
    # The code names Cognito's reason; never the email, password or code.
    logger.info("console sign-in refused", extra={"reason": refused.code, "detail": refused.message[:60]})
    metrics.add_metric(name="ConsoleSignInsRefused", unit="Count", value=1)


def _start_again(pending: ConsoleSession) -> Response[str]:
    """A failed challenge: Cognito's session for it is spent, so the sign-in starts over."""
    wiring.console_sessions().delete(pending.session_hash)
    return end_session(sign_in_form(401, "That code did not work. Sign in again."))


@app.exception_handler(NotSignedIn)
def _not_signed_in(_: NotSignedIn) -> Response[str]:
    return redirect(f"{base_path()}/sign-in")


@app.exception_handler(CsrfRefused)
def _csrf_refused(error: CsrfRefused) -> Response[str]:
    logger.warning("console form refused", extra={"check": str(error)})
    return page(403, "problem.html", title="This form has expired", problem="Reload the page and try again.")


@app.exception_handler(UnreadableForm)
def _unreadable(_: UnreadableForm) -> Response[str]:
    return page(400, "problem.html", title="That form could not be read", problem="Reload the page and try again.")


@app.exception_handler(BadField)
def _bad_field(error: BadField) -> Response[str]:
    return page(400, "problem.html", title="That form has a problem", problem=error.message)


@app.exception_handler(IdempotencyAlreadyInProgressError)
def _in_progress(_: IdempotencyAlreadyInProgressError) -> Response[str]:
    # The same form sent twice at once (a double click): the first is still being applied.
    return page(409, "problem.html", title="This form is being sent already", problem="Reload the page in a moment.")


@app.exception_handler(ActionForbidden)
def _forbidden(error: ActionForbidden) -> Response[str]:
    return page(403, "problem.html", title="Your role does not allow this", problem=error.message)


@app.exception_handler(StalePolicy)
def _stale_policy(_: StalePolicy) -> Response[str]:
    again = (
        "Someone changed the dunning policy since you opened this page, so yours was not saved. "
        "Open the page again to see the policy in force, then make your change."
    )
    return page(409, "problem.html", title="The dunning policy has changed", problem=again)


@app.exception_handler(StaffMemberExists)
def _staff_member_exists(error: StaffMemberExists) -> Response[str]:
    return page(409, "problem.html", title="Already a console user", problem=error.message)


@app.exception_handler(BadQuery)
def _bad_query(error: BadQuery) -> Response[str]:
    return page(400, "problem.html", title="That cannot be downloaded", problem=error.message)


@app.exception_handler(CountersNotReady)
def _counters_not_ready(_: CountersNotReady) -> Response[str]:
    return page(503, "problem.html", title="Reports are not ready yet", problem=COUNTERS_NOT_READY)


@app.exception_handler(NotFound)
def _not_found(error: NotFound) -> Response[str]:
    return page(404, "problem.html", title="Not found", problem=error.message)


@app.not_found
def _no_route(_: Exception) -> Response[str]:
    """A path no console route matches (Powertools' own match: a path parameter with a character it does not
    take, say): the page says so, as for an id we never issued."""
    return page(404, "problem.html", title="Not found", problem="There is no such page in the console.")


@app.exception_handler(InvalidCursor)
def _invalid_cursor(error: InvalidCursor) -> Response[str]:
    return page(400, "problem.html", title="That page of the list is not valid", problem=error.message)


@app.exception_handler(DomainError)
def _domain_error(error: DomainError) -> Response[str]:
    return page(422, "problem.html", title="That cannot be done", problem=error.message)


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response[str]:
    logger.exception("console page failed")
    again = "Nothing changed. Try again in a minute."
    if type(error).__module__.startswith("stripe"):  # the SDK's errors (only the adapter imports stripe)
        return page(502, "problem.html", title="Stripe did not answer", problem=again)
    return page(500, "problem.html", title="Something went wrong", problem=again)


@resumes_collector
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
