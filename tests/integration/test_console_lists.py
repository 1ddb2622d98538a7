"""The console's Invoices and Customers pages through its handler, over moto: the operator API's lists behind a
GET form (filters, order, pages, CSV), bad input as a 400 page naming what is wrong, and every role reading."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest

from shared.clock import FixedClock
from shared.domain.console_roles import Role
from shared.services import console_lists
from tests.integration.console_browser import ConsoleBrowser, signed_in
from tests.integration.helpers import create_customer, create_invoice, operator

ROW_LINK = re.compile(r'<tr><td><a href="/console/invoices/(inv_[A-Za-z0-9_-]+)">([^<]+)</a>')
CUSTOMER_LINK = re.compile(r'<tr><td><a href="/console/customers/(cust_[A-Za-z0-9_-]+)">')
NEXT = re.compile(r'<a href="(/console/[a-z]+\?[^"]+)" rel="next">')


@pytest.fixture
def console(clock: FixedClock, console: str) -> str:
    """The console's pool (tests/integration/conftest.py), with the business clock fixed first."""
    return console


@pytest.fixture
def book(console: str) -> dict[str, dict]:  # type: ignore[type-arg]
    """Given on 2027-03-01: USD invoices 150, 120, 28 days overdue and one not yet due, one EUR overdue, one paid."""
    ada = create_customer()
    grace = create_customer(email="grace@example.com", name="Grace Hopper")
    invoices = {
        "oldest": create_invoice(ada["id"], number="INV-A1", due_date="2026-10-02"),
        "older": create_invoice(grace["id"], number="INV-A2", due_date="2026-11-01"),
        "recent": create_invoice(ada["id"], number="INV-A3", due_date="2027-02-01", description="=HYPERLINK(x)"),
        "future": create_invoice(ada["id"], number="INV-A4", due_date="2027-04-01"),
        "euro": create_invoice(grace["id"], number="INV-E1", due_date="2027-01-15", currency="EUR"),
    }
    return invoices


def rows(body: str) -> list[str]:
    return [number for _, number in ROW_LINK.findall(body)]


def walk(browser: ConsoleBrowser, path: str) -> tuple[list[str], list[str]]:
    """Every row's invoice number following the Next links, and each page's body."""
    numbers, bodies = [], []
    next_path: str | None = path
    while next_path:
        page = browser.get(next_path)
        assert page.status == 200, page.body
        numbers += rows(page.body)
        bodies.append(page.body)
        found = NEXT.search(page.body)
        next_path = unescape(found.group(1)) if found else None
    return numbers, bodies


def test_the_admin_filters_overdue_invoices_and_each_row_opens_the_invoice(book: dict) -> None:  # type: ignore[type-arg]
    browser = signed_in(Role.ADMIN)
    # When the admin opens Invoices from the navigation (every console page has it)
    today = browser.get("/console/today")
    assert 'href="/console/invoices"' in today.body and 'href="/console/reports"' in today.body
    page = browser.get("/console/invoices")
    # Then what is overdue in every currency is listed, oldest due first, each row linking to its invoice
    assert page.status == 200
    assert rows(page.body) == ["INV-A1", "INV-A2", "INV-E1", "INV-A3"]
    first_id = ROW_LINK.findall(page.body)[0][0]
    assert first_id == book["oldest"]["id"] and browser.get(f"/console/invoices/{first_id}").status == 200
    assert "$125.00" in page.body and f'href="/console/customers/{book["oldest"]["customer_id"]}"' in page.body
    # And the form says which orders it offers and shows the filter asked, filled in
    assert '<option value="true" selected>Overdue</option>' in page.body
    assert "Due date, newest first" in page.body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("overdue=true&currency=USD", ["INV-A1", "INV-A2", "INV-A3"]),
        ("overdue=true&currency=USD&order=due_desc", ["INV-A3", "INV-A2", "INV-A1"]),
        ("days_overdue_min=100&currency=USD", ["INV-A1", "INV-A2"]),
        ("currency=USD&status=open&status=partially_paid", ["INV-A1", "INV-A2", "INV-A3", "INV-A4"]),
        ("currency=USD&status=open&overdue=false", ["INV-A4"]),
        ("currency=EUR&status=open", ["INV-E1"]),
        ("number=INV-A2&currency=", ["INV-A2"]),
        ("currency=usd&overdue=true&due_after=2026-10-31&due_before=2027-03-01", ["INV-A2", "INV-A3"]),
    ],
)
def test_filters_and_orders_list_what_the_list_service_answers(book: dict, query: str, expected: list[str]) -> None:  # type: ignore[type-arg]
    browser = signed_in(Role.VIEWER)
    page = browser.get(f"/console/invoices?{query}")
    assert page.status == 200, page.body
    assert rows(page.body) == expected


def test_a_customers_invoices_newest_first_and_the_flags_lists(book: dict) -> None:  # type: ignore[type-arg]
    browser = signed_in(Role.COLLECTOR)
    customer_id = book["oldest"]["customer_id"]
    oldest_first = rows(browser.get(f"/console/invoices?customer_id={customer_id}").body)
    newest_first = rows(browser.get(f"/console/invoices?customer_id={customer_id}&order=due_desc").body)
    # (made at the same instant on the fixed clock: in the order of their ids, either way)
    assert sorted(oldest_first) == ["INV-A1", "INV-A3", "INV-A4"] and newest_first == oldest_first[::-1]
    # Given a hold on one invoice, When on hold is asked in USD, Then only it is listed
    browser.get(f"/console/invoices/{book['older']['id']}")
    browser.post(f"/console/invoices/{book['older']['id']}/hold", {"reason": "Disputed by phone"})
    held = browser.get("/console/invoices?currency=USD&on_hold=true")
    assert rows(held.body) == ["INV-A2"] and "on hold" in held.body
    assert rows(browser.get("/console/invoices?currency=USD&promised=true").body) == []


def test_pages_go_forward_with_the_lists_cursor_and_back_to_the_first(
    book: dict,  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(console_lists, "PAGE_SIZE", 1)
    browser = signed_in(Role.VIEWER)
    # When the viewer walks the overdue USD list newest due first, one row a page
    numbers, bodies = walk(browser, "/console/invoices?overdue=true&currency=USD&order=due_desc")
    # Then every row comes once, in order, and later pages link back to the first
    assert numbers == ["INV-A3", "INV-A2", "INV-A1"]
    assert "First page" not in bodies[0] and all("First page" in body for body in bodies[1:])
    # And the filters travel with the cursor: the next page keeps the order and the currency
    assert all('<option value="due_desc" selected>' in body for body in bodies)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=paid", "give overdue or days_overdue_min; or currency with status"),
        ("status=paid&overdue=true", "across currencies only owed invoices list"),
        ("currency=USD&status=open&on_hold=true", "on_hold, promised and disputed each list on their own"),
        ("currency=USD&on_hold=false", "on_hold lists the invoices for which it is true"),
        ("customer_id=cus_1&currency=USD", "customer_id lists all of one customer"),
        ("status=sent&currency=USD", "unknown status &#39;sent&#39;"),
        ("overdue=maybe", "overdue is true, false or not given"),
        ("days_overdue_min=ten", "days overdue at least is a whole number"),
        ("due_after=2027-02-30&currency=USD&status=open", "due after must be a date such as 2027-03-01"),
        ("due_after=1999-12-31&currency=USD&status=open", "due_after is a day from 2000 to 2099"),
        ("currency=XYZ&status=open", "is not an ISO 4217 currency code"),
        ("overdue=true&cursor=bm90LWEtY3Vyc29y", "the cursor is not valid for this listing"),
        ("overdue=true&colour=red", "this page does not take colour"),
        ("overdue=true&overdue=false", "overdue is given more than once"),
        ("order=largest&overdue=true", "unknown order"),
        ("customer_id=cus_%27%3E", "a customer id has letters, digits, _ and - only"),
        ("overdue=true&status=" + "x" * 5000, "unknown status &#39;" + "x" * 40 + "&#39;"),
    ],
)
def test_a_refused_or_unreadable_filter_is_a_400_page_with_the_reason(book: dict, query: str, message: str) -> None:  # type: ignore[type-arg]
    browser = signed_in(Role.VIEWER)
    page = browser.get(f"/console/invoices?{query}")
    assert page.status == 400
    notice = page.body.split('id="notice">')[1].split("</p>")[0]
    assert message in notice, notice
    assert "<form" in page.body and rows(page.body) == []  # the form is there to correct it


def test_a_cursor_is_bound_to_the_order_it_was_handed_out_for(
    book: dict,  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(console_lists, "PAGE_SIZE", 1)
    browser = signed_in(Role.VIEWER)
    page = browser.get("/console/invoices?overdue=true&currency=USD")
    found = NEXT.search(page.body)
    assert found
    swapped = unescape(found.group(1)).replace("order=due_asc", "order=due_desc")
    refused = browser.get(swapped)
    assert refused.status == 400 and "the cursor is not valid" in refused.body


def csv_rows(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


def test_the_csv_download_holds_the_same_filter_as_the_operator_apis(book: dict) -> None:  # type: ignore[type-arg]
    browser = signed_in(Role.VIEWER)
    page = browser.get("/console/invoices?overdue=true&currency=USD")
    link = re.search(r'<a href="(/console/invoices\?[^"]+)" download>', page.body)
    assert link
    download = browser.get(unescape(link.group(1)))
    # Then it is a CSV file of the filter's rows, with the operator API's columns and values
    assert download.status == 200 and download.headers["Content-Type"].startswith("text/csv")
    assert 'filename="invoices.csv"' in download.headers["Content-Disposition"]
    assert "Content-Security-Policy" in download.headers
    api = operator("GET", "/v1/invoices", "/v1/invoices", query={"overdue": "true", "currency": "USD", "format": "csv"})
    ours, theirs = csv_rows(download.body), csv_rows(api["body"])
    assert download.body.splitlines()[0] == api["body"].splitlines()[0]  # the same header, column for column
    assert [r["number"] for r in ours] == [r["number"] for r in theirs] == ["INV-A1", "INV-A2", "INV-A3"]
    for mine, api_row in zip(ours, theirs, strict=True):
        for column in ("id", "customer_id", "status", "currency", "amount_due", "amount_remaining", "due_date",
                       "days_overdue", "description"):  # fmt: skip
            assert mine[column] == api_row[column], column
    # And a cell a spreadsheet would run is text
    assert ours[2]["description"] == "'=HYPERLINK(x)"


def test_a_csv_longer_than_one_file_says_where_the_next_one_starts(
    book: dict,  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(console_lists, "CSV_MAX_ROWS", 2)
    browser = signed_in(Role.VIEWER)
    first = browser.get("/console/invoices?overdue=true&currency=USD&format=csv")
    assert [r["number"] for r in csv_rows(first.body)] == ["INV-A1", "INV-A2"]
    link = re.fullmatch(r'<(/console/invoices\?[^>]+)>; rel="next"', first.headers["Link"])
    assert link
    rest = browser.get(link.group(1))
    assert [r["number"] for r in csv_rows(rest.body)] == ["INV-A3"] and "Link" not in rest.headers
    # A download of a filter no list answers is a 400 page, not a file and not a 500
    refused = browser.get("/console/invoices?status=paid&format=csv")
    assert refused.status == 400 and "give overdue or days_overdue_min" in refused.body


def test_todays_find_by_number_still_goes_straight_to_the_invoice(book: dict) -> None:  # type: ignore[type-arg]
    browser = signed_in(Role.VIEWER)
    found = browser.get("/console/invoices?number=INV-A3")
    assert found.status == 303 and found.location.endswith(f"/console/invoices/{book['recent']['id']}")


def test_customers_are_found_by_prefix_email_and_external_id_and_paged(
    console: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = create_customer(external_id="crm-1")
    clock.instant += timedelta(minutes=1)
    grace = create_customer(email="grace@example.com", name="Grace Hopper")
    clock.instant += timedelta(minutes=1)
    marie = create_customer(email="marie@example.org", name="Marie Curie")
    browser = signed_in(Role.VIEWER)
    everyone = browser.get("/console/customers")
    assert everyone.status == 200
    assert CUSTOMER_LINK.findall(everyone.body) == [marie["id"], grace["id"], ada["id"]]  # newest first
    assert CUSTOMER_LINK.findall(browser.get("/console/customers?q=gr").body) == [grace["id"]]
    assert CUSTOMER_LINK.findall(browser.get("/console/customers?q=MAR").body) == [marie["id"]]
    assert CUSTOMER_LINK.findall(browser.get("/console/customers?email=Grace%40example.com").body) == [grace["id"]]
    assert CUSTOMER_LINK.findall(browser.get("/console/customers?external_id=crm-1").body) == [ada["id"]]
    assert "No customer matches" in browser.get("/console/customers?q=zz").body
    # A row opens the Customer page
    assert browser.get(f"/console/customers/{grace['id']}").status == 200
    # Paged with the list's cursor
    monkeypatch.setattr(console_lists, "PAGE_SIZE", 2)
    first = browser.get("/console/customers")
    found = NEXT.search(first.body)
    assert found and CUSTOMER_LINK.findall(first.body) == [marie["id"], grace["id"]]
    second = browser.get(unescape(found.group(1)))
    assert CUSTOMER_LINK.findall(second.body) == [ada["id"]] and "First page" in second.body
    # Two searches at once is the list service's refusal, as a 400 page
    both = browser.get("/console/customers?q=gr&email=grace%40example.com")
    assert both.status == 400 and "give one of email, external_id, q" in both.body
    assert browser.get("/console/customers?cursor=garbage").status == 400


@pytest.mark.parametrize("role", [Role.VIEWER, Role.COLLECTOR, Role.ADMIN])
def test_every_role_reads_the_lists_and_reports(book: dict, role: Role) -> None:  # type: ignore[type-arg]
    browser = signed_in(role)
    for path in ("/console/invoices", "/console/customers", "/console/reports",
                 "/console/invoices?overdue=true&format=csv"):  # fmt: skip
        assert browser.get(path).status == 200, path


def test_without_mfa_or_without_a_role_no_list_or_report_is_shown(book: dict, console: str) -> None:  # type: ignore[type-arg]
    import boto3

    paths = ("/console/invoices", "/console/customers", "/console/reports", "/console/invoices?overdue=true&format=csv")
    # Given a sign-in that passed the password but not the code: each page sends it to sign-in
    half = ConsoleBrowser()
    half.sign_in("admin@payportal.local")
    for path in paths:
        reply = half.get(path)
        assert reply.status == 303 and reply.location.endswith("/console/sign-in"), path
    # Given a staff member in no group the console knows: signed in, but refused on the server
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    idp.admin_create_user(
        UserPoolId=console, Username="nobody@payportal.local", TemporaryPassword="Temporary-Pass-1!",
        UserAttributes=[{"Name": "email", "Value": "nobody@payportal.local"}], MessageAction="SUPPRESS",
    )  # fmt: skip
    browser = ConsoleBrowser()
    browser.sign_in("nobody@payportal.local", "Temporary-Pass-1!")
    browser.post("/console/sign-in/new-password", {"password": "A-Password-Of-Mine-42"})
    browser.follow()
    browser.enrol()
    for path in paths:
        reply = browser.get(path)
        assert reply.status == 403 and "role does not allow" in reply.body, path
        assert "INV-A1" not in reply.body
