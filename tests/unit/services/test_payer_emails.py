"""Every payer email can be trusted and is in the customer's language: the business named at the top, a
tappable support contact, the customer's account, a plain line on how to recognise a genuine message (the
origin every link starts with), a <title>, and `lang` saying the language actually served."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from typing import get_args

import pytest

from shared.clock import FixedClock
from shared.domain.contact import contact_href, url_origin
from shared.domain.messages import (
    AutopayNoticeEmail,
    CombinedPaymentFailedEmail,
    CombinedReceiptEmail,
    GroupedReminderEmail,
    InvoiceCorrectedEmail,
    InvoiceEmailMessage,
    InvoiceIssuedEmail,
    InvoiceVoidedEmail,
    PaymentFailedEmail,
    PaymentReversedEmail,
    PlanNews,
    PlanUpdateEmail,
    ReceiptEmail,
    RefundEmail,
    ReminderEmail,
)
from shared.rendering import TEMPLATES, translations
from shared.services.outbox import Branding, compose_email
from shared.services.ports import Change, Email
from tests.fakes import FakeGateway, InMemoryLedger
from tests.fakes.records import NOW, a_customer, an_invoice

BRANDING = Branding(
    business_name="Acme Tools GmbH",
    support_contact="help@acme.test",
    public_base_url="https://pay.acme.test",
    pay_link_ttl_days=30,
)
GENUINE = (
    "How to recognise a genuine message from us: we never ask for card details by email, and our links always "
    "start with %(origin)s."
)
WHEN = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
BODIES: list[InvoiceEmailMessage] = [
    InvoiceIssuedEmail("inv_1"),
    *(ReminderEmail("inv_1", f"step:{t}", t) for t in ("upcoming", "due_today", "overdue", "final_notice")),
    ReceiptEmail("inv_1", "pi_1", 12_500, paid_at=NOW),
    PaymentFailedEmail("inv_1", "pi_1", 12_500),
    AutopayNoticeEmail("inv_1", 12_500, charge_at=WHEN),
    *(
        PlanUpdateEmail("inv_1", "plan_1", 2, 4_000, news, next_attempt_at=WHEN, due_on=date(2026, 12, 20))
        for news in PlanNews
    ),
    RefundEmail("inv_1", "pi_1", "re_1", 3_000),
    InvoiceCorrectedEmail("inv_1", 15_000, 12_500, credit_note_id="cn_1"),
    InvoiceVoidedEmail("inv_1"),
    PaymentReversedEmail("inv_1", "pay_1", 12_500),
]


def composed(body: InvoiceEmailMessage, locale: str, branding: Branding = BRANDING) -> Email:
    ledger = InMemoryLedger()
    ledger.commit(Change(new_customer=a_customer(locale=locale), new_invoice=an_invoice(amount_paid=0)))
    email = compose_email(body, "msg_1", ledger, FixedClock(NOW), branding, FakeGateway())
    assert email is not None
    return email


# Emails of several invoices need a combined payment or reminder lines in the ledger to compose: they share the
# same head and footer partials (emails/head.html, footer.html, header.txt, footer.txt) and are composed in
# tests/unit/services/test_combined_*.py and the grouped reminders' tests.
COMPOSED_ELSEWHERE = {CombinedReceiptEmail, CombinedPaymentFailedEmail, GroupedReminderEmail}


def test_every_kind_of_payer_email_is_covered() -> None:
    assert {type(body) for body in BODIES} | COMPOSED_ELSEWHERE == set(get_args(InvoiceEmailMessage))


@pytest.mark.parametrize("template", ["combined_receipt", "combined_payment_failed", "grouped_reminder"])
def test_the_emails_of_several_invoices_carry_the_same_trust_lines(template: str) -> None:
    for suffix in (".html", ".txt"):
        source = (TEMPLATES / "emails" / f"{template}{suffix}").read_text()
        assert ("emails/head.html" if suffix == ".html" else "emails/header.txt") in source
        assert f"emails/footer{suffix}" in source


@pytest.mark.parametrize(
    "body", BODIES, ids=lambda b: f"{b.template}-{getattr(b, 'step_template', '')}{getattr(b, 'news', '')}"
)
@pytest.mark.parametrize(("locale", "lang"), [("en-GB", "en"), ("de-DE", "de"), ("pt-BR", "pt"), ("it-IT", "en")])
def test_a_payer_email_names_the_business_first_and_says_how_to_know_it_is_genuine(
    body: InvoiceEmailMessage, locale: str, lang: str
) -> None:
    # When the email is composed for a customer with this locale
    email = composed(body, locale)
    genuine = translations(lang).gettext(GENUINE) % {"origin": "https://pay.acme.test"}
    # Then the text part opens with the business's name and carries the account link and the genuine line
    assert email.text.splitlines()[0] == "Acme Tools GmbH"
    assert "https://pay.acme.test/account" in email.text
    assert genuine in email.text and "help@acme.test" in email.text
    # And the HTML says its language, has the subject as its title, names the business before anything else
    assert f'<html lang="{lang}">' in email.html
    assert f"<title>{html.escape(email.subject, quote=False)}</title>" in email.html
    body_start = email.html.index("<body")
    assert email.html.index("Acme Tools GmbH", body_start) < email.html.index("<p>", body_start)
    assert '<a href="mailto:help@acme.test">help@acme.test</a>' in email.html
    assert '<a href="https://pay.acme.test/account">' in email.html
    assert html.escape(genuine, quote=False) in email.html


@pytest.mark.parametrize("body", BODIES, ids=lambda b: b.template)
def test_a_german_customer_reads_the_whole_email_in_german(body: InvoiceEmailMessage) -> None:
    email = composed(body, "de-DE")
    assert "Guten Tag Ada Lovelace," in email.text and "Hello" not in email.text + email.html
    assert "Questions?" not in email.text and "Fragen? Kontakt:" in email.text


def test_a_phone_number_as_support_contact_is_a_tel_link() -> None:
    branding = Branding("Acme", "+49 (30) 123-4567", "https://pay.acme.test/app/", 30)
    email = composed(InvoiceIssuedEmail("inv_1"), "de-DE", branding)
    assert '<a href="tel:+49301234567">+49 (30) 123-4567</a>' in email.html


@pytest.mark.parametrize(
    ("contact", "href"),
    [
        ("help@acme.test", "mailto:help@acme.test"),
        (" billing+eu@acme.co.uk ", "mailto:billing+eu@acme.co.uk"),
        ("+1 (555) 010-9999", "tel:+15550109999"),
        ("030 1234567", "tel:0301234567"),
        ("https://acme.test/contact", "https://acme.test/contact"),
        ("our office", ""),
        ("javascript:alert(1)", ""),
        ("a@b", ""),
        ("12", ""),
    ],
)
def test_the_support_contact_becomes_a_link_a_phone_can_tap(contact: str, href: str) -> None:
    assert contact_href(contact) == href


def test_the_origin_is_what_every_link_starts_with() -> None:
    assert url_origin("https://pay.acme.test/some/path") == "https://pay.acme.test"


def test_free_text_in_a_translated_sentence_is_escaped_and_loses_its_bidi_controls() -> None:
    # Given a customer whose name holds markup and a right-to-left override
    ledger = InMemoryLedger()
    hostile = a_customer(locale="fr-FR", name="<script>x</script>\u202eEve")
    ledger.commit(Change(new_customer=hostile, new_invoice=an_invoice(description="<b>\u2066Tools")))
    # When an email to them is composed
    email = compose_email(InvoiceVoidedEmail("inv_1"), "msg_1", ledger, FixedClock(NOW), BRANDING, FakeGateway())
    # Then the HTML shows the markup as text, and neither part carries the control characters
    assert email is not None
    assert "Bonjour &lt;script&gt;x&lt;/script&gt;Eve," in email.html and "<script>" not in email.html
    assert "(&lt;b&gt;Tools)" in email.html
    assert "\u202e" not in email.text + email.html and "\u2066" not in email.text + email.html
