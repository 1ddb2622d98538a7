"""The console through its handler, over moto's Cognito (patched like Cognito: local/moto_cognito.py) and
the table: sign-in with TOTP enrolment and codes computed here, roles on the server, CSRF, idle timeout."""

from __future__ import annotations

import re
from datetime import timedelta

import boto3
import pytest

from shared.clock import FixedClock, wall_clock_now
from shared.domain.console_roles import Role
from shared.domain.console_session import IDLE_TIMEOUT
from tests.integration.conftest import Aws
from tests.integration.console_browser import ORIGIN, ConsoleBrowser, signed_in
from tests.integration.helpers import create_customer, create_invoice, get_invoice

PASSWORD_COOKIE_FLAGS = ("HttpOnly", "Secure", "SameSite=Strict", "Path=/")


@pytest.fixture
def invoice(console: str) -> dict:  # type: ignore[type-arg]
    customer = create_customer()
    return create_invoice(customer["id"])


def test_first_sign_in_enrols_totp_with_a_qr_code_then_a_second_sign_in_asks_for_a_code(console: str) -> None:
    browser = ConsoleBrowser()
    # Given the seeded admin, When they sign in with the password for the first time
    enrolment = browser.sign_in("admin@payportal.local")
    # Then the page shows a QR code drawn as SVG and the setup key as text, and no page is reachable yet
    assert enrolment.status == 200 and "<svg" in enrolment.body and "Setup key" in enrolment.body
    assert browser.get("/console/today").location.endswith("/console/sign-in")
    browser.get("/console/sign-in")
    # When they type the code their app shows
    secret, today = browser.enrol()
    # Then they reach Today
    assert today.status == 200 and "<h1>Today</h1>" in today.body and "admin@payportal.local" in today.body
    # And the session cookie is HttpOnly, Secure, SameSite=Strict
    session_cookie = [c for c in browser.set_cookies if c.startswith("__Host-payportal-console=")][-1]
    assert all(flag in session_cookie for flag in PASSWORD_COOKIE_FLAGS)
    # When they sign out and in again, Then a code is asked for, and with it they are in
    browser.get("/console/today")
    browser.post("/console/sign-out")
    code_page = browser.sign_in("admin@payportal.local")
    assert "Authenticator code" in code_page.body and "<svg" not in code_page.body
    assert browser.code(secret).status == 200


def test_a_wrong_code_gets_nobody_in(console: str) -> None:
    browser = ConsoleBrowser()
    browser.sign_in("collector@payportal.local")
    refused = browser.post("/console/sign-in/enrol", {"code": "000000"})
    assert refused.status == 401 and "did not match" in refused.body
    assert browser.get("/console/today").status == 303


def test_a_wrong_password_is_a_401_sign_in_page(console: str) -> None:
    browser = ConsoleBrowser()
    browser.get("/console/sign-in")
    reply = browser.post("/console/sign-in", {"email": "admin@payportal.local", "password": "Wrong-password-1!"})
    assert reply.status == 401 and "did not work" in reply.body


def test_a_session_without_mfa_reaches_no_page(console: str, invoice: dict) -> None:  # type: ignore[type-arg]
    # Given a sign-in that passed the password but not the code
    browser = ConsoleBrowser()
    browser.sign_in("admin@payportal.local")
    # Then every page sends it back to sign-in, and an action is refused
    for path in ("/console/today", f"/console/invoices/{invoice['id']}"):
        reply = browser.get(path)
        assert reply.status == 303 and reply.location.endswith("/console/sign-in")
    browser.get("/console/sign-in")
    reply = browser.post(f"/console/invoices/{invoice['id']}/hold", {"reason": "forged"})
    assert reply.status == 303 and get_invoice(invoice["id"])["hold"] is None


def test_a_collector_places_and_releases_a_hold_audited_with_their_identity(console: str, invoice: dict) -> None:  # type: ignore[type-arg]
    browser = signed_in(Role.COLLECTOR)
    page = browser.get(f"/console/invoices/{invoice['id']}")
    assert page.status == 200 and "Place a hold" in page.body
    placed = browser.post(f"/console/invoices/{invoice['id']}/hold", {"reason": "Customer called, pays Friday"})
    assert placed.status == 303
    shown = browser.follow()
    assert "Hold placed" in shown.body and "Customer called, pays Friday" in shown.body
    assert get_invoice(invoice["id"])["hold"]["reason"] == "Customer called, pays Friday"
    # The timeline names the staff member
    assert "invoice.hold_placed by staff:" in shown.body and "collector@payportal.local" in shown.body
    browser.post(f"/console/invoices/{invoice['id']}/hold/release")
    assert get_invoice(invoice["id"])["hold"] is None


def test_a_viewer_sees_no_hold_button_and_a_forged_post_is_refused(console: str, invoice: dict) -> None:  # type: ignore[type-arg]
    browser = signed_in(Role.VIEWER)
    page = browser.get(f"/console/invoices/{invoice['id']}")
    assert page.status == 200 and "Place a hold" not in page.body
    forged = browser.post(f"/console/invoices/{invoice['id']}/hold", {"reason": "forged"})
    assert forged.status == 403 and "role does not allow" in forged.body
    assert get_invoice(invoice["id"])["hold"] is None


@pytest.mark.parametrize(
    "how",
    ["no token", "wrong token", "other origin", "cross-site fetch"],
)
def test_a_post_without_the_right_csrf_token_or_from_another_site_is_refused(
    console: str, invoice: dict, how: str
) -> None:  # type: ignore[type-arg]
    browser = signed_in(Role.ADMIN)
    browser.get(f"/console/invoices/{invoice['id']}")
    path = f"/console/invoices/{invoice['id']}/hold"
    form = {"reason": "forged"}
    if how == "no token":
        reply = browser.post(path, form, csrf=False)
    elif how == "wrong token":
        reply = browser.post(path, form | {"csrf": "x" * 43}, csrf=False)
    elif how == "other origin":
        reply = browser.post(path, form, origin="https://evil.example")
    else:
        reply = browser.request(
            "POST", path, form=form | {"csrf": browser.csrf()}, headers={"Sec-Fetch-Site": "cross-site"}
        )
    assert reply.status == 403
    assert get_invoice(invoice["id"])["hold"] is None


def test_the_sign_in_form_needs_its_own_token(console: str) -> None:
    browser = ConsoleBrowser()
    browser.get("/console/sign-in")
    reply = browser.post("/console/sign-in", {"email": "admin@payportal.local", "password": "x"}, csrf=False)
    assert reply.status == 403


def test_an_idle_session_ends(console: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.console import handler

    clock = FixedClock(wall_clock_now())
    monkeypatch.setattr(handler, "SESSION_CLOCK", clock)
    browser = signed_in(Role.VIEWER)
    clock.instant += IDLE_TIMEOUT - timedelta(seconds=5)
    assert browser.get("/console/today").status == 200
    clock.instant += IDLE_TIMEOUT + timedelta(seconds=1)
    reply = browser.get("/console/today")
    assert reply.status == 303 and reply.location.endswith("/console/sign-in")


def test_sign_out_ends_the_tokens_at_cognito(console: str, aws: Aws) -> None:
    browser = signed_in(Role.ADMIN)
    today = browser.get("/console/today")
    stored = [i for i in aws.items("CONSOLESESSION#")]
    assert len(stored) == 1 and stored[0]["stage"] == "signed_in"
    access_token = stored[0]["access_token"]
    browser.post("/console/sign-out")
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        idp.get_user(AccessToken=access_token)
    assert aws.items("CONSOLESESSION#") == []
    assert browser.get("/console/today").status == 303
    assert today.status == 200


def test_only_a_hash_of_the_session_id_is_stored(console: str, aws: Aws) -> None:
    browser = signed_in(Role.VIEWER)
    session_id = browser.jar["__Host-payportal-console"]
    stored = aws.items("CONSOLESESSION#")
    assert session_id not in repr(stored)
    assert stored[0]["ttl"] > int(wall_clock_now().timestamp())


def test_pages_send_a_strict_csp_and_load_nothing_from_elsewhere(console: str) -> None:
    browser = ConsoleBrowser()
    reply = browser.get("/console/sign-in")
    csp = reply.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert "<script" not in reply.body and "http" not in reply.body.replace(ORIGIN, "")


def test_a_collector_records_a_cheque_and_a_second_submit_of_the_form_records_nothing_more(
    console: str,
    invoice: dict,  # type: ignore[type-arg]
) -> None:
    browser = signed_in(Role.COLLECTOR)
    page = browser.get(f"/console/invoices/{invoice['id']}")
    key = re.search(r'name="key" value="([^"]+)"', page.body)
    assert key
    form = {"amount": "40.00", "method": "check", "reference": "CHQ 1001", "received_on": "2026-12-01",
            "key": key.group(1)}  # fmt: skip
    for _ in range(2):
        browser.get(f"/console/invoices/{invoice['id']}")
        assert browser.post(f"/console/invoices/{invoice['id']}/payments", form).status == 303
    shown = browser.follow()
    assert "Payment recorded" in shown.body and "(recorded)" in shown.body
    stored = get_invoice(invoice["id"])
    assert stored["amount_paid"] == 4_000 and len(stored["payments"]) == 1
    assert "payment.recorded by staff:" in shown.body


def test_a_viewer_cannot_record_a_payment_and_a_bad_amount_is_a_422(
    console: str,
    invoice: dict,  # type: ignore[type-arg]
) -> None:
    viewer = signed_in(Role.VIEWER)
    page = viewer.get(f"/console/invoices/{invoice['id']}")
    assert "Record the payment" not in page.body
    form = {"amount": "40.00", "method": "check", "reference": "", "received_on": "2026-12-01", "key": "k"}
    assert viewer.post(f"/console/invoices/{invoice['id']}/payments", form).status == 403
    admin = signed_in(Role.ADMIN)
    admin.get(f"/console/invoices/{invoice['id']}")
    refused = admin.post(f"/console/invoices/{invoice['id']}/payments", form | {"amount": "forty"})
    assert refused.status == 422 and "enter an amount" in refused.body
    assert get_invoice(invoice["id"])["amount_paid"] == 0


def test_an_invited_user_chooses_a_password_then_enrols(console: str) -> None:
    # Given someone an admin invited (Cognito's temporary password, as `admin-create-user` sends it)
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    idp.admin_create_user(
        UserPoolId=console,
        Username="new@payportal.local",
        UserAttributes=[{"Name": "email", "Value": "new@payportal.local"}],
        TemporaryPassword="Temporary-Pass-1!",
        MessageAction="SUPPRESS",
    )
    idp.admin_add_user_to_group(UserPoolId=console, Username="new@payportal.local", GroupName="collector")
    browser = ConsoleBrowser()
    # When they sign in with it, Then they are asked for a password of their own
    page = browser.sign_in("new@payportal.local", "Temporary-Pass-1!")
    assert "Choose your password" in page.body
    weak = browser.post("/console/sign-in/new-password", {"password": "short"})
    assert weak.status == 422 and "too weak" in weak.body
    browser.post("/console/sign-in/new-password", {"password": "A-Password-Of-Mine-42"})
    # Then they enrol TOTP and reach Today as a collector
    assert "<svg" in browser.follow().body
    _, today = browser.enrol()
    assert today.status == 200 and "collector" in today.body


def test_a_collector_cannot_refund_a_forged_post_is_a_403(
    console: str,
    invoice: dict,  # type: ignore[type-arg]
) -> None:
    browser = signed_in(Role.COLLECTOR)
    page = browser.get(f"/console/invoices/{invoice['id']}")
    assert ">Refund<" not in page.body
    form = {"payment_id": "pi_anything", "amount": "", "reason": "requested_by_customer", "key": "k"}
    reply = browser.post(f"/console/invoices/{invoice['id']}/refunds", form)
    assert reply.status == 403 and "role does not allow" in reply.body


def test_a_pending_sign_in_can_start_again(console: str, aws: Aws) -> None:
    browser = ConsoleBrowser()
    browser.sign_in("viewer@payportal.local")
    reply = browser.post("/console/sign-out")
    assert reply.status == 303 and aws.items("CONSOLESESSION#") == []
    assert "<h1>Sign in</h1>" in browser.follow().body


@pytest.mark.parametrize("invoice_id", ["x" * 3000, "inv_%00", "inv_\u202e", "no_such"])
def test_an_invoice_id_we_never_issued_is_a_404_whatever_it_holds(console: str, invoice_id: str) -> None:
    browser = signed_in(Role.ADMIN)
    assert browser.get(f"/console/invoices/{invoice_id}").status == 404


def test_today_shows_an_overdue_invoice_and_one_is_found_by_number(console: str) -> None:
    customer = create_customer()
    late = create_invoice(customer["id"], due_date="2026-10-01")
    browser = signed_in(Role.VIEWER)
    today = browser.get("/console/today?currency=USD")
    assert today.status == 200 and late["number"] in today.body.split('id="overdue"')[1].split("</section>")[0]
    found = browser.get(f"/console/invoices?number={late['number']}")
    assert found.status == 303 and found.location.endswith(f"/console/invoices/{late['id']}")
    assert browser.get("/console/invoices?number=INV-NOPE").status == 404
    assert browser.get("/console/today?currency=XYZ").status == 422


def test_the_customer_page_shows_their_invoices_and_payments_and_is_linked_from_the_invoice(
    console: str,
    invoice: dict,  # type: ignore[type-arg]
) -> None:
    browser = signed_in(Role.VIEWER)
    page = browser.get(f"/console/invoices/{invoice['id']}")
    assert f"/console/customers/{invoice['customer_id']}" in page.body
    customer = browser.get(f"/console/customers/{invoice['customer_id']}")
    assert customer.status == 200 and "Ada Lovelace" in customer.body and invoice["number"] in customer.body
    assert browser.get("/console/customers/cus_nope").status == 404
