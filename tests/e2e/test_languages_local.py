"""A customer reads payportal in their language on the whole local stack: a de-DE customer's pay page,
return page and emails (from GET /_local/emails, as SES delivered them) are German and say lang="de"; an
it-IT customer, whose language payportal has no catalog for, reads English marked lang="en"."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from local.stack import LocalStack
from tests.e2e.test_money_loop_http import eventually, invoice_state, pay_on_checkout

pytestmark = pytest.mark.e2e


def customer_with_invoice(stack: LocalStack, locale: str) -> tuple[dict[str, Any], dict[str, Any]]:
    email = f"sprache-{uuid.uuid4().hex[:6]}@example.com"
    customer = stack.signed("POST", "/v1/customers", {"email": email, "name": "Jürgen Weiß", "locale": locale})
    assert customer.status_code == 201, customer.text
    body = {
        "customer_id": customer.json()["id"],
        "number": f"RE-{uuid.uuid4().hex[:6]}",
        "currency": "EUR",
        "amount_due": 123_450,
        "due_date": "2026-12-31",
        "description": "Wartung",
        "notify": True,
    }
    invoice = stack.signed("POST", "/v1/invoices", body, {"Idempotency-Key": uuid.uuid4().hex})
    assert invoice.status_code == 201, invoice.text
    return customer.json(), invoice.json()


def emails_to(stack: LocalStack, address: str) -> list[dict[str, Any]]:
    stack.drain_outbox()
    return [e for e in stack.get("/_local/emails").json()["emails"] if e["to"] == [address]]


def test_a_german_customer_sees_the_pay_page_and_the_emails_in_german(local_stack: LocalStack) -> None:
    # Given a de-DE customer with an invoice of 1.234,50 €, emailed to them (before they pay: an invoice email
    # still undelivered when its invoice is paid is not sent at all)
    customer, invoice = customer_with_invoice(local_stack, "de-DE")
    assert eventually(
        lambda: any(e["subject"].startswith("Rechnung ") for e in emails_to(local_stack, customer["email"]))
    )

    # When they open the pay link
    page = requests.get(invoice["pay_url"], timeout=10)

    # Then the page is German, says so, and formats the amount the German way
    assert page.status_code == 200
    assert '<html lang="de">' in page.text
    assert "Offener Betrag" in page.text and "1.234,50\u00a0€" in page.text and "31. Dezember 2026" in page.text
    assert "Amount due" not in page.text and "Ihr Konto" in page.text

    # When they pay on Checkout and come back
    redirect = requests.post(f"{invoice['pay_url']}/checkout", allow_redirects=False, timeout=20)
    assert redirect.status_code == 303, redirect.text
    paid = pay_on_checkout(redirect.headers["Location"], "4242 4242 4242 4242")
    assert eventually(lambda: invoice_state(local_stack, invoice["id"])["status"] == "paid")
    returned = requests.get(paid.headers["Location"], timeout=10)

    # Then the return page thanks them in German
    assert '<html lang="de">' in returned.text and "Zahlung erhalten" in returned.text

    # And both emails (the invoice, the receipt) are German from top to bottom, every character intact
    def both_arrived() -> list[dict[str, Any]]:
        found = emails_to(local_stack, customer["email"])
        subjects = [e["subject"] for e in found]
        issued = any(s.startswith(f"Rechnung {invoice['number']}: 1.234,50\u00a0€ fällig am") for s in subjects)
        return found if issued and any(s.startswith("Quittung:") for s in subjects) else []

    received = eventually(both_arrived)
    assert received, emails_to(local_stack, customer["email"])
    [receipt] = [e for e in received if e["subject"].startswith("Quittung:")]
    assert all(e["text"].splitlines()[0] == local_stack.config.business_name for e in received)  # named first
    assert "Guten Tag Jürgen Weiß," in receipt["text"] and "Gezahlter Betrag: 1.234,50\u00a0€" in receipt["text"]
    assert "Zahlungsart: Visa mit der Endung 4242" in receipt["text"]
    assert "Wir fragen nie per E-Mail nach Kartendaten" in receipt["text"]
    assert "\\u" not in receipt["text"] and "\ufffd" not in receipt["text"]
    assert '<html lang="de">' in receipt["html"] and "<title>Quittung: 1.234,50\u00a0€" in receipt["html"]
    assert "Hello" not in receipt["text"] and "Hello" not in receipt["html"]


def test_a_customer_in_a_language_without_a_catalog_reads_english_marked_as_english(local_stack: LocalStack) -> None:
    _, invoice = customer_with_invoice(local_stack, "it-IT")

    page = requests.get(invoice["pay_url"], timeout=10)

    assert '<html lang="en">' in page.text and "Amount due" in page.text
    assert "1.234,50\u00a0€" in page.text  # the amount still in the Italian way
