"""The customer's own export from their account over moto: a fresh code first, then an emailed link that downloads
the zip once; a wrong, used or expired link gets a clear page, never the data."""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, create_invoice
from tests.integration.test_account import Browser, hidden, latest_code

LINK = re.compile(r"https://pay\.example\.com/account/export/([A-Za-z0-9_-]+)")


@pytest.fixture
def signed_in(aws: Aws) -> tuple[Browser, dict[str, Any]]:
    """Given: Ada signed in to her account (one invoice), and Grace, another customer."""
    ada = create_customer(email="ada@example.com", name="Ada Lovelace")
    create_invoice(ada["id"], number="INV-ADA", amount_due=12_500)
    grace = create_customer(email="grace@example.com", name="Grace Hopper")
    create_invoice(grace["id"], number="INV-GRACE")
    browser = Browser()
    page = browser.ask_code("ada@example.com")
    assert browser.type_code(page, "ada@example.com", latest_code(aws))["statusCode"] == 303
    return browser, ada


def ask_export(browser: Browser) -> dict[str, Any]:
    home = browser.go("GET", "/account")
    assert 'action="/account/export/code"' in home["body"]
    return browser.go("POST", "/account/export/code", form={"csrf": hidden(home["body"], "csrf")})


def confirm(browser: Browser, page: dict[str, Any], code: str) -> dict[str, Any]:
    form = {"csrf": hidden(page["body"], "csrf"), "customer": hidden(page["body"], "customer"), "code": code}
    return browser.go("POST", "/account/export", form=form)


def link_page(token: str, method: str = "GET") -> dict[str, Any]:
    return Browser().go(method, f"/account/export/{token}", resource="/account/export/{token}", params={"token": token})


def emailed_token(aws: Aws) -> str:
    aws.drain_outbox()
    match = LINK.search(aws.emails()[-1].text)
    assert match, aws.emails()[-1].text
    return match.group(1)


def test_the_export_needs_a_fresh_code_then_its_emailed_link_downloads_the_zip_once(
    aws: Aws, signed_in: tuple[Browser, dict[str, Any]]
) -> None:
    browser, ada = signed_in
    step_up = ask_export(browser)
    assert step_up["statusCode"] == 200 and 'action="/account/export"' in step_up["body"]
    # no code, or a wrong one: no email with a link
    assert confirm(browser, step_up, "")["statusCode"] == 403
    assert confirm(browser, step_up, "000000")["statusCode"] == 401
    assert not any(LINK.search(e.text) for e in aws.emails())

    sent = confirm(browser, step_up, latest_code(aws))
    assert sent["statusCode"] == 200 and "emailed you a link" in sent["body"]
    token = emailed_token(aws)
    assert aws.emails()[-1].to == ["ada@example.com"]
    # no code is kept in the record of emails sent (a code's subject names it): those emails are listed bare
    sent = [i for i in aws.items(f"CUSTOMER#{ada['id']}") if i.get("type") == "email_sent"]
    assert {i["template"] for i in sent} == {"account_code", "data_export"}
    assert all(i["subject"] == "" for i in sent if i["template"] == "account_code")
    assert not any(re.search(r"\d{6}", i["subject"]) for i in sent)
    # only its hash is kept
    assert all(token not in json.dumps(item, default=str) for item in aws.items("EXPORTLINK#"))

    ready = link_page(token)
    assert ready["statusCode"] == 200 and f'action="/account/export/{token}"' in ready["body"]
    download = link_page(token, "POST")
    assert download["statusCode"] == 200 and download["isBase64Encoded"] is True
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(download["body"])))
    document = json.loads(archive.read("export.json"))
    assert document["customer"]["id"] == ada["id"] and [i["number"] for i in document["invoices"]] == ["INV-ADA"]
    assert "invoices/INV-ADA.pdf" in archive.namelist() and "Grace" not in archive.read("export.json").decode()
    # the business's staff and IAM identities read as their role in the customer's own copy
    created = next(a for a in document["audit"] if a["action"] == "customer.created")
    assert created["actor"] == "operator" and "arn:aws" not in archive.read("export.json").decode()

    # used once: the second download is gone
    again = link_page(token, "POST")
    assert again["statusCode"] == 410 and "used already or has expired" in again["body"]
    assert link_page(token)["statusCode"] == 410


def test_the_download_is_audited_under_the_customer(aws: Aws, signed_in: tuple[Browser, dict[str, Any]]) -> None:
    browser, ada = signed_in
    step_up = ask_export(browser)
    confirm(browser, step_up, latest_code(aws))
    link_page(emailed_token(aws), "POST")

    audit = [i for i in aws.items(f"CUSTOMER#{ada['id']}") if i.get("type") == "audit"]
    assert [(a["actor"], a["details"]) for a in audit if a["action"] == "customer.exported"] == [
        ("customer:export_link", {"via": "account"})
    ]


def test_an_expired_link_is_gone(
    aws: Aws, signed_in: tuple[Browser, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    browser, _ = signed_in
    step_up = ask_export(browser)
    confirm(browser, step_up, latest_code(aws))
    token = emailed_token(aws)
    later = FixedClock(datetime.now(UTC) + timedelta(hours=25))
    monkeypatch.setattr("functions.account.handler.SESSION_CLOCK", later)

    assert link_page(token)["statusCode"] == 410
    assert link_page(token, "POST")["statusCode"] == 410


@pytest.mark.parametrize("token", ["nope", "A" * 43, "x" * 500, "..%2F..%2Fetc"])
def test_a_link_never_issued_is_not_found(aws: Aws, token: str) -> None:
    assert link_page(token)["statusCode"] == 404
    assert link_page(token, "POST")["statusCode"] == 404


def test_asking_for_the_export_needs_a_session(aws: Aws) -> None:
    response = Browser().go("POST", "/account/export/code", form={"csrf": "x"})

    assert response["statusCode"] in (303, 403)
