"""The customer's account over moto: sign-in by a code from the email, the statement, CSRF, step-up."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
import requests

from shared.domain.account import RATE_LIMITS, RateLimit
from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, create_invoice, operator, token_of
from tests.support import FakeLambdaContext, api_event, json_body

STRIPE_AUTH = ("sk_test_local", "")
CODE = re.compile(r"\b(\d{6})\b")


def call(method: str, path: str, *, cookies: dict[str, str] | None = None, form: dict[str, str] | None = None,
         resource: str | None = None, params: dict[str, str] | None = None, ip: str = "203.0.113.9",
         headers: dict[str, str] | None = None, query: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    from functions.account.handler import lambda_handler

    all_headers = dict(headers or {})
    if cookies:
        all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    event = api_event(method, path, resource=resource, path_parameters=params, form=form, headers=all_headers,
                      operator=False, query=query)  # fmt: skip
    event["requestContext"]["identity"]["sourceIp"] = ip
    return lambda_handler(event, FakeLambdaContext())


def set_cookies(response: dict[str, Any]) -> dict[str, str]:
    found = {}
    for header in (response.get("multiValueHeaders") or {}).get("Set-Cookie", []):
        name, _, rest = header.partition("=")
        found[name] = rest.split(";")[0]
    return found


def header(response: dict[str, Any], name: str) -> str:
    merged = dict(response.get("headers") or {})
    for key, values in (response.get("multiValueHeaders") or {}).items():
        merged[key] = values[-1]
    return {k.lower(): v for k, v in merged.items()}[name.lower()]


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, name
    return match.group(1)


class Browser:
    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def go(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = call(method, path, cookies=self.cookies, **kwargs)
        self.cookies |= set_cookies(response)
        self.cookies = {k: v for k, v in self.cookies.items() if v}
        return response

    def ask_code(self, email: str) -> dict[str, Any]:
        start = self.go("GET", "/account")
        return self.go("POST", "/account/sign-in", form={"csrf": hidden(start["body"], "csrf"), "email": email})

    def type_code(self, page: dict[str, Any], email: str, code: str) -> dict[str, Any]:
        return self.go(
            "POST", "/account/code", form={"csrf": hidden(page["body"], "csrf"), "email": email, "code": code}
        )


def latest_code(aws: Aws) -> str:
    aws.drain_outbox()
    match = CODE.search(aws.emails()[-1].text)
    assert match
    return match.group(1)


@pytest.fixture
def customer(aws: Aws) -> dict[str, Any]:
    customer = create_customer(email="ada@example.com", locale="de-DE", timezone="Europe/Berlin")
    create_invoice(customer["id"], amount_due=12_500, due_date="2026-12-15", currency="EUR")
    create_invoice(customer["id"], amount_due=5_000, due_date="2026-12-20", currency="EUR")
    return customer


def test_sign_in_with_the_emailed_code_shows_the_statement(aws: Aws, customer: dict[str, Any]) -> None:
    browser = Browser()
    page = browser.ask_code("ada@example.com")
    assert page["statusCode"] == 200 and 'name="code"' in page["body"]
    code = latest_code(aws)
    # The table has the code only as a salted hash; the session only as the hash of its id
    stored = aws.items("ACCOUNTCODE#")
    assert stored and all(code not in repr(item) for item in stored)
    signed_in = browser.type_code(page, "ada@example.com", code)
    assert signed_in["statusCode"] == 303 and header(signed_in, "Location") == "/account"
    cookie = next(h for h in signed_in["multiValueHeaders"]["Set-Cookie"] if h.startswith("payportal_account="))
    assert all(flag in cookie for flag in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/account"))
    session_id = browser.cookies["payportal_account"]
    assert all(session_id not in repr(item) for item in aws.items("ACCOUNTSESSION#"))
    statement = browser.go("GET", "/account")
    html = statement["body"]
    assert statement["statusCode"] == 200 and '<html lang="de">' in html
    assert html.count('/pay"') == 2 and "175,00\xa0€" in html
    assert "<script" not in html and len(html.encode()) < 30_000
    assert "default-src 'none'" in header(statement, "Content-Security-Policy")


def test_an_unknown_address_gets_the_same_page_and_no_email(aws: Aws, customer: dict[str, Any]) -> None:
    known = Browser().ask_code("ada@example.com")
    unknown = Browser().ask_code("nobody@example.com")
    strip = lambda html: re.sub(r'value="[^"]*"|ada@example\.com|nobody@example\.com', "", html)  # noqa: E731
    assert (known["statusCode"], strip(known["body"])) == (unknown["statusCode"], strip(unknown["body"]))
    aws.drain_outbox()
    assert [e.to for e in aws.emails()] == [["ada@example.com"]]


def test_five_wrong_codes_lock_the_code(aws: Aws, customer: dict[str, Any]) -> None:
    browser = Browser()
    page = browser.ask_code("ada@example.com")
    code = latest_code(aws)
    bad = f"{(int(code) + 1) % 1_000_000:06d}"
    statuses = []
    for _ in range(5):
        page = browser.type_code(page, "ada@example.com", bad)
        statuses.append(page["statusCode"])
    assert statuses == [401, 401, 401, 401, 429]
    locked = browser.type_code(page, "ada@example.com", code)
    assert locked["statusCode"] == 429 and "locked" in locked["body"]
    assert "payportal_account" not in browser.cookies


def test_a_post_without_its_token_or_from_another_site_is_refused(aws: Aws, customer: dict[str, Any]) -> None:
    browser = Browser()
    browser.go("GET", "/account")
    assert browser.go("POST", "/account/sign-in", form={"email": "ada@example.com"})["statusCode"] == 403
    page = browser.ask_code("ada@example.com")
    browser.type_code(page, "ada@example.com", latest_code(aws))
    statement = browser.go("GET", "/account")
    csrf = hidden(statement["body"], "csrf")
    assert browser.go("POST", "/account/sign-out", form={"csrf": "forged"})["statusCode"] == 403
    cross = browser.go("POST", "/account/sign-out", form={"csrf": csrf}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross["statusCode"] == 403
    # Sign-out ends the session server-side: the old cookie opens nothing
    old = dict(browser.cookies)
    assert browser.go("POST", "/account/sign-out", form={"csrf": csrf})["statusCode"] == 303
    assert not aws.items("ACCOUNTSESSION#")
    assert 'action="/account/sign-in"' in call("GET", "/account", cookies=old)["body"]


def test_a_pay_link_does_not_open_the_account(aws: Aws, customer: dict[str, Any]) -> None:
    invoice = create_invoice(customer["id"], amount_due=1_000, due_date="2026-12-30", currency="EUR")
    response = call("GET", "/account", cookies={"payportal_account": token_of(invoice["pay_url"])})
    assert 'action="/account/sign-in"' in response["body"]


def test_paying_from_the_statement_opens_checkout(aws: Aws, stripe: str, customer: dict[str, Any]) -> None:
    browser = Browser()
    page = browser.ask_code("ada@example.com")
    browser.type_code(page, "ada@example.com", latest_code(aws))
    html = browser.go("GET", "/account")["body"]
    invoice_id = re.findall(r'action="/account/invoices/([^/]+)/pay"', html)[0]
    links = len(aws.items("PAYLINK#"))
    paid = browser.go("POST", f"/account/invoices/{invoice_id}/pay", resource="/account/invoices/{invoice_id}/pay",
                      params={"invoice_id": invoice_id}, form={"csrf": hidden(html, "csrf")})  # fmt: skip
    assert paid["statusCode"] == 303 and header(paid, "Location").startswith(stripe)
    assert len(aws.items("PAYLINK#")) == links  # no pay link minted from the account
    other = browser.go("POST", "/account/invoices/inv_nope/pay", resource="/account/invoices/{invoice_id}/pay",
                       params={"invoice_id": "inv_nope"}, form={"csrf": hidden(html, "csrf")})  # fmt: skip
    assert other["statusCode"] == 404


def test_several_invoices_are_paid_in_one_checkout_from_the_statement(
    aws: Aws, stripe: str, customer: dict[str, Any]
) -> None:
    partial = create_invoice(
        customer["id"], amount_due=2_000, currency="EUR", allow_partial=True, min_partial_amount=500
    )
    other = create_customer(email="someone-else@example.com")
    theirs = create_invoice(other["id"], currency="EUR")
    browser = Browser()
    page = browser.ask_code("ada@example.com")
    browser.type_code(page, "ada@example.com", latest_code(aws))
    html = browser.go("GET", "/account")["body"]
    picks = re.findall(r'name="(pay-inv_[^"]+)" value="1" checked', html)
    assert len(picks) == 3 and f'name="amount-{partial["id"]}"' in html

    def pay(fields: dict[str, str]) -> dict[str, Any]:
        form = {"csrf": hidden(html, "csrf"), "customer": customer["id"]} | fields
        return browser.go("POST", "/account/pay-together", form=form)

    # All three, the partly payable one with 7,50 € of its 20,00 €, typed the German way: one session
    paid = pay(dict.fromkeys(picks, "1") | {f"amount-{partial['id']}": "7,50"})
    assert paid["statusCode"] == 303 and header(paid, "Location").startswith(stripe)
    [combined] = aws.items("COMBINED#")
    shares = {a["invoice_id"]: a["amount"] for a in combined["allocations"]}
    assert shares[partial["id"]] == 750 and sum(shares.values()) == 12_500 + 5_000 + 750
    session = requests.get(f"{stripe}/v1/checkout/sessions/{combined['session_id']}", auth=STRIPE_AUTH, timeout=10)
    assert session.json()["amount_total"] == 18_250 and session.json()["currency"] == "eur"
    # The same choice again gets the same session back (a double click)
    assert header(pay(dict.fromkeys(picks, "1") | {f"amount-{partial['id']}": "7,50"}), "Location") == header(
        paid, "Location"
    )
    # Nothing picked, an amount the invoice does not allow, an unreadable one: back to the statement, saying why
    for fields, reason in (
        ({}, "none"),
        ({f"pay-{partial['id']}": "1", f"amount-{partial['id']}": "1,00"}, "amount"),
        ({f"pay-{partial['id']}": "1", f"amount-{partial['id']}": "sieben"}, "amount"),
    ):
        refused = pay(fields)
        assert refused["statusCode"] == 303
        assert (
            header(refused, "Location")
            == f"/account?together={customer['id']}&together_refused={reason}#together-{customer['id']}"
        )
    said = browser.go("GET", "/account", query={"together": customer["id"], "together_refused": "amount"})["body"]
    assert 'role="alert" id="together-error-' in said and "höchstens" in said  # German: at most what is left
    # Another customer's invoice, or another customer, looks like none at all
    assert pay({f"pay-{theirs['id']}": "1"})["statusCode"] == 404
    foreign = browser.go("POST", "/account/pay-together", form={"csrf": hidden(html, "csrf"), "customer": other["id"],
                                                                f"pay-{theirs['id']}": "1"})  # fmt: skip
    assert foreign["statusCode"] == 404
    assert len(aws.items("COMBINED#")) == 1


def test_turning_autopay_off_asks_for_a_fresh_code(aws: Aws, customer: dict[str, Any]) -> None:
    browser = Browser()
    page = browser.ask_code("ada@example.com")
    browser.type_code(page, "ada@example.com", latest_code(aws))
    html = browser.go("GET", "/account")["body"]
    form = {"csrf": hidden(html, "csrf"), "customer": customer["id"], "autopay": "off"}
    # Straight to the change: refused, a code is needed
    assert browser.go("POST", "/account/autopay", form=form)["statusCode"] == 403
    asked = browser.go("POST", "/account/autopay/code", form=form)
    assert asked["statusCode"] == 200 and 'action="/account/autopay"' in asked["body"]
    done = browser.go("POST", "/account/autopay", form=form | {"code": latest_code(aws)})
    assert done["statusCode"] == 303 and header(done, "Location") == "/account?autopay=off"


def test_hostile_input_gets_a_clear_4xx(aws: Aws, customer: dict[str, Any]) -> None:
    browser = Browser()
    start = browser.go("GET", "/account")
    csrf = hidden(start["body"], "csrf")
    for email in ("x" * 5000, "a@b", "\u202eada@example.com", ""):
        response = browser.go("POST", "/account/sign-in", form={"csrf": csrf, "email": email})
        assert response["statusCode"] == 422, email
        csrf = hidden(response["body"], "csrf")
    too_many = call("POST", "/account/sign-in", cookies=browser.cookies,
                    form={f"f{n}": "x" for n in range(20)} | {"csrf": csrf})  # fmt: skip
    assert too_many["statusCode"] == 400
    assert call("GET", "/account", cookies={"payportal_account": "x" * 5000})["statusCode"] == 200


def test_codes_per_client_are_rate_limited(aws: Aws, customer: dict[str, Any]) -> None:
    browser = Browser()
    start = browser.go("GET", "/account")
    csrf = hidden(start["body"], "csrf")
    statuses = []
    for n in range(RATE_LIMITS[RateLimit.CODES_PER_CLIENT] + 1):
        response = browser.go("POST", "/account/sign-in", form={"csrf": csrf, "email": f"p{n}@example.com"})
        statuses.append(response["statusCode"])
        if response["statusCode"] == 200:
            csrf = hidden(response["body"], "csrf")
    assert set(statuses[:-1]) == {200} and statuses[-1] == 429


def test_a_promise_to_pay_from_the_statement(aws: Aws, customer: dict[str, Any], clock: Any) -> None:
    browser = Browser()
    page = browser.ask_code("ada@example.com")
    browser.type_code(page, "ada@example.com", latest_code(aws))
    html = browser.go("GET", "/account")["body"]
    invoice_id = re.findall(r'action="/account/invoices/([^/]+)/promise"', html)[0]
    path, resource = f"/account/invoices/{invoice_id}/promise", "/account/invoices/{invoice_id}/promise"
    form = {"csrf": hidden(html, "csrf"), "date": "2027-03-05"}
    done = browser.go("POST", path, resource=resource, params={"invoice_id": invoice_id}, form=form)
    assert done["statusCode"] == 303 and header(done, "Location").startswith(f"/account?promised={invoice_id}")
    assert "Sie haben zugesagt, bis zum 5. März 2027 zu zahlen." in browser.go("GET", "/account")["body"]
    audit = [i for i in aws.items(f"INVOICE#{invoice_id}") if i["sk"].startswith("AUDIT#")]
    assert next(a["actor"] for a in audit if a["action"] == "invoice.promise_to_pay").startswith("customer:account:")


def test_the_sign_in_page_speaks_the_browsers_language_and_the_statement_the_customers(
    aws: Aws, customer: dict[str, Any]
) -> None:
    assert '<html lang="fr">' in call("GET", "/account", headers={"Accept-Language": "fr-CH, de;q=0.5"})["body"]
    assert '<html lang="de">' in call("GET", "/account", headers={"Accept-Language": "ja, de;q=0.9, fr;q=0.8"})["body"]
    assert '<html lang="en">' in call("GET", "/account", headers={"Accept-Language": "ja, zh;q=0.9"})["body"]
    assert '<html lang="en">' in call("GET", "/account", headers={"Accept-Language": "de;q=nonsense"})["body"]


def test_a_sign_in_is_on_the_customers_audit_trail(aws: Aws, customer: dict[str, Any]) -> None:
    browser = Browser()
    page = browser.ask_code("ada@example.com")
    browser.type_code(page, "ada@example.com", latest_code(aws))
    trail = [i for i in aws.items(f"CUSTOMER#{customer['id']}") if i["sk"].startswith("AUDIT#")]
    assert next(a["actor"] for a in trail if a["action"] == "account.signed_in").startswith("customer:account:")


def test_payment_methods_are_listed_and_changes_need_a_fresh_code(aws: Aws, customer: dict[str, Any]) -> None:
    browser = Browser()
    page = browser.ask_code("ada@example.com")
    browser.type_code(page, "ada@example.com", latest_code(aws))
    listed = browser.go("GET", "/account/payment-methods")
    assert (
        listed["statusCode"] == 200 and "Keine gespeicherten Zahlungsarten" in listed["body"]
    )  # the customer is German
    csrf = hidden(browser.go("GET", "/account")["body"], "csrf")
    form = {"csrf": csrf, "customer": customer["id"], "method": "pm_1", "change": "remove"}
    assert browser.go("POST", "/account/payment-methods", form=form)["statusCode"] == 403
    asked = browser.go("POST", "/account/payment-methods/code", form=form)
    assert asked["statusCode"] == 200 and "Eine Zahlungsart entfernen" in asked["body"]
    # The code is right, but the customer has no such method: nothing is done, and the page says so
    refused = browser.go("POST", "/account/payment-methods", form=form | {"code": latest_code(aws)})
    assert refused["statusCode"] == 404 and "nicht mehr gespeichert" in refused["body"]
    other = form | {"customer": "cust_someone_else"}
    assert browser.go("POST", "/account/payment-methods/code", form=other)["statusCode"] == 404


def test_adding_a_payment_method_asks_for_a_fresh_code_then_opens_checkout_in_setup_mode(
    aws: Aws, stripe: str, customer: dict[str, Any]
) -> None:
    browser = signed_in(aws)
    listed = browser.go("GET", "/account/payment-methods")["body"]
    assert 'name="change" value="add"' in listed
    form = {"csrf": hidden(listed, "csrf"), "customer": customer["id"], "change": "add"}
    assert browser.go("POST", "/account/payment-methods", form=form)["statusCode"] == 403  # no code, no Checkout
    asked = browser.go("POST", "/account/payment-methods/code", form=form)
    assert asked["statusCode"] == 200 and "Zahlungsart hinzufügen" in asked["body"]
    opened = browser.go("POST", "/account/payment-methods", form=form | {"code": latest_code(aws)})
    assert opened["statusCode"] == 303 and header(opened, "Location").startswith(stripe)
    session_id = header(opened, "Location").rsplit("/", 1)[-1]
    session = requests.get(f"{stripe}/v1/checkout/sessions/{session_id}", auth=STRIPE_AUTH, timeout=10).json()
    assert session["mode"] == "setup" and session["metadata"]["purpose"] == "add_method"
    assert session["success_url"].endswith("/account/payment-methods?done=added")
    # Stripe's event for the completed setup moves nothing in the ledger
    assert browser.go("GET", "/account/payment-methods", query={"done": "added"})["statusCode"] == 200


def signed_in(aws: Aws, email: str = "ada@example.com") -> Browser:
    browser = Browser()
    page = browser.ask_code(email)
    assert browser.type_code(page, email, latest_code(aws))["statusCode"] == 303
    return browser


def test_an_installment_plan_chosen_on_the_statement_asks_for_a_fresh_code_then_opens_checkout(
    aws: Aws, stripe: str, customer: dict[str, Any]
) -> None:
    offer = {"max_installments": 3, "min_installment_amount": 2_000, "frequencies": ["monthly"]}
    offered = create_invoice(customer["id"], amount_due=9_000, currency="EUR", installments=offer)
    browser = signed_in(aws)
    html = browser.go("GET", "/account")["body"]
    assert f'action="/account/invoices/{offered["id"]}/plan/code"' in html
    assert f'id="plan-{offered["id"]}-monthly-3"' in html and "30,00\xa0€" in html  # three of 30,00 €
    resource, params = "/account/invoices/{invoice_id}/plan", {"invoice_id": offered["id"]}
    form = {"csrf": hidden(html, "csrf"), "plan": "monthly-3"}

    def post(path: str, fields: dict[str, str]) -> dict[str, Any]:
        return browser.go("POST", f"/account/invoices/{offered['id']}/{path}", resource=resource + path[4:],
                          params=params, form=fields)  # fmt: skip

    assert post("plan", form)["statusCode"] == 403  # no code, no plan
    assert aws.items("INVOICE#") and not [i for i in aws.items("INVOICE#") if i["sk"].startswith("PLAN#")]
    # A plan not on offer is refused before a code is sent
    emails = len(aws.emails())
    refused = post("plan/code", form | {"plan": "weekly-12"})
    assert header(refused, "Location") == f"/account?plan_refused={offered['id']}#inv-{offered['id']}"
    aws.drain_outbox()
    assert len(aws.emails()) == emails
    asked = post("plan/code", form)
    assert asked["statusCode"] == 200 and "In Raten zahlen" in asked["body"]  # the customer reads German
    opened = post("plan", form | {"code": latest_code(aws)})
    assert opened["statusCode"] == 303 and header(opened, "Location").startswith(stripe)
    [plan] = [i for i in aws.items("INVOICE#") if i["sk"].startswith("PLAN#")]
    assert plan["status"] == "awaiting_first" and [i["amount"] for i in plan["installments"]] == [3_000] * 3
    # Another customer's invoice looks unknown
    theirs = create_invoice(create_customer(email="eve@example.com")["id"], installments=offer)
    other = browser.go("POST", f"/account/invoices/{theirs['id']}/plan/code", resource=resource + "/code",
                       params={"invoice_id": theirs["id"]}, form=form)  # fmt: skip
    assert other["statusCode"] == 404


def test_the_statement_and_every_invoice_and_receipt_of_the_customer_come_as_pdfs(
    aws: Aws, customer: dict[str, Any], clock: Any
) -> None:
    from tests.integration.test_documents import cheque
    from tests.pdf_text import pdf_text

    # Given one of the customer's invoices partly paid by cheque, and another customer's invoice
    browser = signed_in(aws)
    invoices = json_body(operator("GET", "/v1/invoices", "/v1/invoices", query={"customer_id": customer["id"]}))
    first = invoices["invoices"][0]
    payment_id = cheque(first["id"], 2_500, "pdf-pay")
    other = create_customer(email="bob@example.com")
    theirs = create_invoice(other["id"], amount_due=999)

    # The statement links every document, and each comes as a PDF of the customer's own
    html = browser.go("GET", "/account")["body"]
    assert "/account/statement.pdf" in html and f"/account/invoices/{first['id']}/pdf" in html
    assert f"/account/invoices/{first['id']}/receipts/{payment_id}" in html
    statement = browser.go("GET", "/account/statement.pdf", resource="/account/statement.pdf")
    assert statement["statusCode"] == 200 and header(statement, "Content-Type") == "application/pdf"
    assert header(statement, "Cache-Control") == "no-store"
    text = pdf_text(base64.b64decode(statement["body"]))
    assert all(i["number"] in text for i in invoices["invoices"]) and theirs["number"] not in text
    assert "Kontoauszug" in text  # in the customer's language (de-DE), as the pages and emails are
    invoice = browser.go("GET", f"/account/invoices/{first['id']}/pdf", resource="/account/invoices/{invoice_id}/pdf",
                         params={"invoice_id": first["id"]})  # fmt: skip
    assert invoice["statusCode"] == 200 and first["number"] in pdf_text(base64.b64decode(invoice["body"]))
    resource = "/account/invoices/{invoice_id}/receipts/{payment_id}"
    receipt = browser.go("GET", f"/account/invoices/{first['id']}/receipts/{payment_id}", resource=resource,
                         params={"invoice_id": first["id"], "payment_id": payment_id})  # fmt: skip
    text = pdf_text(base64.b64decode(receipt["body"]))
    assert receipt["statusCode"] == 200 and "Quittung" in text and "Scheck, Referenz 1234" in text

    # Another customer's invoice looks unknown; so does anything without a session
    refused = browser.go("GET", f"/account/invoices/{theirs['id']}/pdf", resource="/account/invoices/{invoice_id}/pdf",
                         params={"invoice_id": theirs["id"]})  # fmt: skip
    assert refused["statusCode"] == 404
    anonymous = call("GET", "/account/statement.pdf", resource="/account/statement.pdf")
    assert anonymous["statusCode"] == 303 and header(anonymous, "Location") == "/account"
