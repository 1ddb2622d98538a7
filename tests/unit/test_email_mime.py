"""Emails go to SES as raw MIME that arrives intact: non-ASCII text (accents, the euro sign, CLDR's narrow
no-break space in "9:30\u202fAM" and in French amounts) reads back as the same characters, however the
receiving end parses the message (as bytes, or as a str as moto and `/_local/emails` do)."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

import pytest

from shared.adapters.notifications import SesMailer
from shared.services.ports import Email

TEXT = "Montant payé\u202f: 1\u202f234,56\u00a0€\nDate: Nov 2, 2026, 9:30:00\u202fAM\nGrüße, José\n"
HTML = "<p>Montant payé\u202f: <strong>1\u202f234,56\u00a0€</strong></p>" + "<p>" + "x" * 2_000 + "</p>"
SUBJECT = "Reçu\u202f: 1\u202f234,56\u00a0€ pour la facture F-1"


class RecordingSes:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def send_raw_email(self, **request: Any) -> dict[str, str]:
        self.requests.append(request)
        return {"MessageId": "ses-1"}


def sent_raw() -> bytes:
    ses = RecordingSes()
    SesMailer(ses, "billing@acme.test").send(
        Email(to="ada@example.com", subject=SUBJECT, text=TEXT, html=HTML), message_id="msg_1"
    )
    data = ses.requests[0]["RawMessage"]["Data"]
    assert isinstance(data, bytes)
    return data


def test_the_raw_message_is_seven_bit_ascii_with_no_line_over_smtps_limit() -> None:
    raw = sent_raw()
    assert raw.isascii()
    assert max(len(line) for line in raw.splitlines()) <= 998


@pytest.mark.parametrize("read_as", ["bytes", "str"])
def test_the_parts_decode_to_the_real_characters(read_as: str) -> None:
    raw = sent_raw()
    parsed = (
        email.message_from_bytes(raw, policy=email.policy.default)
        if read_as == "bytes"
        else email.message_from_string(raw.decode("utf-8"), policy=email.policy.default)
    )
    assert isinstance(parsed, EmailMessage)
    text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    assert text.get_content() == TEXT  # not "9:30:00\\u202fAM", not "pay\ufffd"
    assert "\\u202f" not in text.get_content()
    assert html.get_content().strip() == HTML
    assert parsed["Subject"] == SUBJECT
    assert text.get_content_charset() == "utf-8" and text["Content-Transfer-Encoding"] == "quoted-printable"
