"""The console's Import page through its handler over moto: a collector or an admin uploads a file and sees each
row's problem before anything is written, then imports it and follows its progress (the page reloads itself by
a Refresh header, no script, and can be told to stop); a viewer sees no upload form and a forged post is
refused; a post without the CSRF token is refused."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest

from shared.domain import imports as import_rules
from shared.domain.console_roles import Role
from tests.integration.conftest import Aws
from tests.integration.console_browser import signed_in
from tests.integration.test_imports import csv_file, row, run_worker

GOOD = csv_file(row("crm-1", "CON-1"), row("crm-2", "CON-2", name="Grace Hopper", email="grace@example.com"))


@pytest.fixture
def queue(aws: Aws, console: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from shared import wiring

    url = str(aws.sqs.create_queue(QueueName="imports")["QueueUrl"])
    monkeypatch.setenv("PAYPORTAL_IMPORTS_QUEUE_URL", url)
    wiring.reset()
    yield url


def hidden(body: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', body)
    assert found, body
    return html.unescape(found.group(1))


def confirm_content(body: str) -> str:
    found = re.search(r'<textarea name="content"[^>]*>\n?(.*?)</textarea>', body, re.S)
    assert found, body
    return html.unescape(found.group(1)).replace("\n", "\r\n")  # a browser posts a textarea's lines so


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.ADMIN])
def test_a_file_is_checked_then_imported_and_its_progress_followed(aws: Aws, queue: str, role: Role) -> None:
    browser = signed_in(role)
    page = browser.get("/console/import")
    assert page.status == 200 and 'enctype="multipart/form-data"' in page.body
    # When they upload a good file: it is checked and nothing is written yet
    checked = browser.upload("/console/import/check", {"format": "csv"}, ("file", "customers.csv", GOOD))
    assert checked.status == 200, checked.body
    assert "2 rows: 2 customers, 2 invoices. Nothing is written yet." in checked.body
    assert aws.items("IMPORT#") == [] and aws.items("CUSTOMER#") == []
    # When they confirm
    form = {"format": hidden(checked.body, "format"), "key": hidden(checked.body, "key"),
            "content": confirm_content(checked.body)}  # fmt: skip
    started = browser.post("/console/import", form)
    assert started.status == 303 and "/console/import?id=imp_" in started.location
    queued = browser.follow()
    assert queued.status == 200 and queued.headers["Refresh"] == "3" and "Queued: 0 of 2 rows" in queued.body
    assert "Stop reloading" in queued.body
    stopped = browser.get(started.location + "&reload=off")
    assert "Refresh" not in stopped.headers and "no longer reloads itself" in stopped.body
    # Then the worker imports it, and the page says so and stops reloading
    run_worker(aws, queue)
    done = browser.get(started.location)
    assert "Completed: 2 of 2 rows (100%). 2 imported, 0 skipped" in done.body
    assert "Refresh" not in done.headers and "reload" not in done.body.lower()
    audit = [a for a in aws.items("INVOICE#") if a["sk"].startswith("AUDIT#")]
    assert audit and all(a["actor"].startswith("staff:") and f"{role.value}@payportal.local" in a["actor"]
                         for a in audit)  # fmt: skip
    # A double click of the confirm starts no second import
    browser.get("/console/import")
    assert browser.post("/console/import", form).location == started.location


def test_each_bad_row_is_shown_and_nothing_is_written(aws: Aws, queue: str) -> None:
    browser = signed_in(Role.COLLECTOR)
    browser.get("/console/import")
    bad = csv_file(row("crm-1", "CON-1", amount="1.234"), row("crm-2", "CON-2", email="nope"))
    checked = browser.upload("/console/import/check", {"format": "csv"}, ("file", "bad.csv", bad))
    assert checked.status == 422
    assert "<td>2</td><td>amount: GBP takes 2 decimal place(s)</td>" in checked.body
    assert "<td>3</td><td>customer_email must be an email address such as name@example.com</td>" in checked.body
    assert 'action="/console/import"' not in checked.body.replace('action="/console/import/check"', "")
    assert aws.items("IMPORT#") == [] and aws.sqs.receive_message(QueueUrl=queue).get("Messages") is None


def test_hostile_uploads_are_a_page_never_a_500(aws: Aws, queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    browser = signed_in(Role.ADMIN)
    browser.get("/console/import")
    huge = browser.upload("/console/import/check", {"format": "csv"}, ("file", "x.csv", "a" * 1_500_001))
    assert huge.status == 422 and "larger than 1,500,000 bytes" in huge.body
    browser.get("/console/import")
    script = csv_file(row("crm-1", "CON-1", name="<script>alert(1)</script>", email="x@example.com"))
    shown = browser.upload("/console/import/check", {"format": "xlsx"}, ("file", "x.csv", script))
    assert shown.status == 200 and "<script>alert" not in shown.body  # escaped in the confirm form
    browser.get("/console/import")
    altered = browser.post("/console/import", {"format": "csv", "key": "k", "content": "customer_external_id\r\n"})
    assert altered.status == 422 and "cannot be imported" in altered.body
    monkeypatch.setattr(import_rules, "MAX_ROWS", 1)
    browser.get("/console/import")
    assert browser.upload("/console/import/check", {}, ("file", "x.csv", GOOD)).status == 422


def test_a_viewer_reads_progress_but_cannot_upload_or_import(aws: Aws, queue: str) -> None:
    viewer = signed_in(Role.VIEWER)
    page = viewer.get("/console/import")
    assert page.status == 200 and 'type="file"' not in page.body and "Your role reads this page" in page.body
    forged = viewer.upload("/console/import/check", {"format": "csv"}, ("file", "x.csv", GOOD))
    assert forged.status == 403
    viewer.get("/console/import")
    assert viewer.post("/console/import", {"format": "csv", "key": "k", "content": GOOD}).status == 403
    assert aws.items("IMPORT#") == []


def test_posts_without_the_csrf_token_or_from_another_site_are_refused(aws: Aws, queue: str) -> None:
    browser = signed_in(Role.ADMIN)
    browser.get("/console/import")
    assert browser.upload("/console/import/check", {}, ("file", "x.csv", GOOD), csrf=False).status == 403
    browser.get("/console/import")
    assert browser.post("/console/import", {"content": GOOD}, csrf=False).status == 403
    browser.get("/console/import")
    assert browser.post("/console/import", {"content": GOOD}, origin="https://evil.example").status == 403
    assert aws.items("IMPORT#") == []
