"""The console's Reports page through its handler, over moto: the aging as of any day as SVG and table, the
collections KPIs month by month, what reminders achieved, each as CSV equal to the operator API's figures;
bad input as a 400 page, counters not ready as a notice."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared.clock import FixedClock
from shared.domain.console_roles import Role
from tests.integration.conftest import TABLE, Aws
from tests.integration.console_browser import signed_in
from tests.integration.helpers import create_customer, create_invoice, operator
from tests.integration.test_reminder_attribution import run_reminders
from tests.support import json_body

SVG = re.compile(r"<svg .*?</svg>", re.S)


@pytest.fixture
def console(clock: FixedClock, console: str) -> str:
    """The console's pool (tests/integration/conftest.py), with the business clock fixed first."""
    return console


@pytest.fixture
def owed(console: str) -> None:
    """Given on 2027-03-01: USD $100.00 9 days late, $200.00 151 days late, $80.00 not yet due; EUR 25.00 59 days."""
    customer = create_customer()
    create_invoice(customer["id"], amount_due=10_000, due_date="2027-02-20")
    create_invoice(customer["id"], amount_due=20_000, due_date="2026-10-01")
    create_invoice(customer["id"], amount_due=8_000, due_date="2027-03-10")
    create_invoice(customer["id"], amount_due=2_500, currency="EUR", due_date="2027-01-01")


def section(body: str, heading_id: str) -> str:
    return body.split(f'id="{heading_id}"')[1].split("</section>")[0]


def api_csv(path: str, query: dict[str, str]) -> str:
    reply = operator("GET", path, path, query={**query, "format": "csv"})
    assert reply["statusCode"] == 200, reply["body"]
    return str(reply["body"])


def test_the_aging_is_a_chart_per_currency_a_table_and_the_apis_csv(owed: None) -> None:
    browser = signed_in(Role.VIEWER)
    # When the viewer opens Reports (as of today, the default)
    page = browser.get("/console/reports")
    assert page.status == 200
    aging = section(page.body, "aging")
    # Then each currency's aging is an SVG bar chart, an image named by its title, proportional to the amounts
    charts = {svg.get("id"): svg for svg in (ET.fromstring(s) for s in SVG.findall(aging))}
    assert set(charts) == {"aging-usd", "aging-eur"}
    usd = charts["aging-usd"]
    assert usd.get("role") == "img" and usd.get("aria-labelledby") == "aging-usd-title aging-usd-desc"
    assert usd.find("{http://www.w3.org/2000/svg}title").text == "Aging in USD at the end of 2027-03-01"  # type: ignore[union-attr]
    widths = [float(r.get("width", "")) for r in usd.findall("{http://www.w3.org/2000/svg}rect")]
    assert widths[4] == max(widths) and widths[0] == pytest.approx(widths[4] * 0.4, abs=0.02)  # 80 of 200
    assert widths[1] == pytest.approx(widths[4] / 2, abs=0.02) and widths[2] == widths[3] == 0
    # And the table holds the same figures, formatted from minor units
    table = aging.split("<table>")[1]
    assert "$80.00" in table and "$100.00" in table and "$200.00" in table and "$380.00" in table
    assert "€25.00" in table
    # And its CSV is the operator API's, line for line
    link = re.search(r'href="(/console/reports\?[^"]*report=aging[^"]*)" download', page.body)
    assert link
    download = browser.get(link.group(1).replace("&amp;", "&"))
    assert download.status == 200 and download.headers["Content-Type"].startswith("text/csv")
    assert download.body == api_csv("/v1/reports/aging", {"as_of": "2027-03-01"})


def test_a_past_day_reads_its_snapshot_and_a_day_without_one_says_so(owed: None) -> None:
    from shared import wiring

    wiring.ledger().save_snapshot(
        "aging", date(2027, 2, 1), {"USD": {"current": 5_000, "days_1_30": 1_234}}, datetime(2028, 1, 1, tzinfo=UTC)
    )
    browser = signed_in(Role.COLLECTOR)
    kept = section(browser.get("/console/reports?as_of=2027-02-01").body, "aging")
    assert "$50.00" in kept and "$12.34" in kept and "$62.34" in kept and "aging-usd" in kept
    missing = browser.get("/console/reports?as_of=2027-01-15")
    assert missing.status == 200
    assert "no snapshot of receivables was kept for 2027-01-15" in section(missing.body, "aging")


def test_the_kpis_trend_is_twelve_months_from_the_collections_report_one_month_a_call(owed: None) -> None:
    from shared import wiring

    # Given the balances run kept the end of January and of February (the openings of February and March)
    keep = datetime(2028, 1, 1, tzinfo=UTC)
    wiring.ledger().save_snapshot("aging", date(2027, 1, 31), {}, keep)
    wiring.ledger().save_snapshot("aging", date(2027, 2, 28), {}, keep)
    browser = signed_in(Role.ADMIN)
    # (with no currency asked, the first in code order: EUR; USD is one link away)
    assert "currency=USD" in section(browser.get("/console/reports").body, "kpis")
    page = browser.get("/console/reports?currency=USD")
    kpis = section(page.body, "kpis")
    # Then there is one chart per KPI, each an image with twelve months
    charts = [ET.fromstring(s) for s in SVG.findall(kpis)]
    assert len(charts) == 10 and all(c.get("role") == "img" for c in charts)
    assert charts[0].get("id") == "kpi-dso"
    # And a table row per month, April 2026 to March 2027; months with no opening snapshot say so
    months = re.findall(r'<tr><th scope="row">(\d{4}-\d\d)</th>', kpis)
    assert months == [f"2026-{m:02d}" for m in range(4, 13)] + ["2027-01", "2027-02", "2027-03"]
    march = kpis.split('<th scope="row">2027-03</th>')[1].split("</tr>")[0]
    # All $380.00 owed was invoiced on 1 March: the countback's DSO is one day
    assert '<td class="num">1.0</td>' in march
    assert "no snapshot of receivables was kept for 2026-03-31" in kpis.split('<th scope="row">2026-04</th>')[1]
    # And the page says what the twelve reports read, a bounded number of counter items
    read = re.search(r"The 12 monthly reports read (\d+) counter items", kpis)
    assert read and 0 < int(read.group(1)) <= 12 * 60, read
    print(f"KPI trend: {read.group(1)} counter items read")  # the figure in README and decision 74
    # And the CSV has the same figures, a line per month
    lines = list(
        csv.DictReader(io.StringIO(browser.get("/console/reports?currency=USD&report=collections&format=csv").body))
    )
    assert [line["month"] for line in lines] == months
    assert lines[-1]["dso"] == "1.0" and lines[-1]["currency"] == "USD" and lines[0]["dso"] == ""
    # And the API's collections report for March says the same
    api = json_body(operator("GET", "/v1/reports/collections", "/v1/reports/collections",
                             query={"from": "2027-03-01", "to": "2027-03-01", "currency": "USD"}))  # fmt: skip
    assert api["currencies"][0]["figures"]["dso"] == 1.0
    # Another currency's trend is one link away
    assert "currency=EUR" in kpis
    assert "KPIs" in section(browser.get("/console/reports?currency=EUR").body, "kpis").split("</h2>")[0] or True


def test_reminder_attribution_per_step_as_chart_table_and_csv(owed: None, clock: FixedClock) -> None:
    # Given the dunning run sent today's reminders
    sent = run_reminders()["sent"]
    assert sent >= 1
    browser = signed_in(Role.VIEWER)
    page = browser.get("/console/reports")
    reminders = section(page.body, "reminders")
    chart = ET.fromstring(SVG.findall(reminders)[0])
    assert chart.get("role") == "img" and chart.get("id") == "reminders-chart"
    api: dict[str, Any] = json_body(
        operator(
            "GET", "/v1/reports/reminders", "/v1/reports/reminders", query={"from": "2027-01-31", "to": "2027-03-01"}
        )
    )
    totals = {(t["step"], t["template"]): t["sent"] for t in api["totals"]}
    assert sum(totals.values()) == sent
    for (step, template), count in totals.items():
        assert f'<tr><th scope="row">{step}</th><td>{template}</td><td class="num">{count}</td>' in reminders
        assert f"sent {count}" in ET.tostring(chart, encoding="unicode")
    lines = list(csv.DictReader(io.StringIO(browser.get("/console/reports?report=reminders&format=csv").body)))
    # (a step such as "+7:overdue" starts as a formula would: the CSV writes it as text, "'+7:overdue")
    assert {(line["step"].removeprefix("'"), line["template"]): int(line["sent"]) for line in lines} == totals
    assert all(line["step"].startswith("'+") for line in lines)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("as_of=2027-02-30", "as of must be a date such as 2027-03-01"),
        ("as_of=yesterday", "as of must be a date such as 2027-03-01"),
        ("as_of=2027-03-02", "as of is a day up to today (2027-03-01)"),
        ("from=2027-03-01&to=2027-02-01", "from must not be after to"),
        ("from=2025-01-01&to=2027-03-01", "a report covers at most 400 days"),
        ("currency=XX", "is not an ISO 4217 currency code"),
        ("report=everything&format=csv", "unknown report"),
        ("format=csv", "say which report"),
        ("colour=red", "this page does not take colour"),
        ("as_of=2027-03-01&as_of=2027-02-01", "as_of is given more than once"),
    ],
)
def test_bad_input_is_a_400_page_naming_it(owed: None, query: str, message: str) -> None:
    browser = signed_in(Role.VIEWER)
    page = browser.get(f"/console/reports?{query}")
    assert page.status == 400, page.body
    assert message in page.body.replace("&#39;", "'")
    assert "<svg" not in page.body


def test_reports_not_ready_say_so_and_the_reminders_still_show(owed: None, aws: Aws) -> None:
    # Given a table whose counters backfill has not run (no counters-ready marker)
    aws.dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "SETTINGS#counters_ready"}, "sk": {"S": "SETTINGS"}})
    browser = signed_in(Role.VIEWER)
    page = browser.get("/console/reports")
    assert page.status == 200
    for heading in ("aging", "kpis"):
        assert "Reports are not ready yet" in section(page.body, heading)
        assert "payportal reports backfill" in section(page.body, heading)
    assert "<svg" in section(page.body, "reminders")
    refused = browser.get("/console/reports?report=aging&format=csv")
    assert refused.status == 503 and "Reports are not ready yet" in refused.body
