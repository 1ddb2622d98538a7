"""GET /v1/invoices, /v1/payments and /v1/customers over moto, through the handler: each filter, pages
that lose and double nothing, CSV, and what a hostile caller sends."""

from __future__ import annotations

import base64
import csv
import io
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.clock import FixedClock
from shared.services.ports import Change
from tests.integration.helpers import create_customer, create_invoice
from tests.support import FakeLambdaContext, api_event, json_body

pytestmark = pytest.mark.usefixtures("aws")


def listing(path: str, query: dict[str, str | list[str]] | None = None, **kwargs: Any) -> dict[str, Any]:
    from functions.operator_api.handler import lambda_handler

    multi = {name: value if isinstance(value, list) else [value] for name, value in (query or {}).items()}
    event = api_event("GET", path, query={name: values[-1] for name, values in multi.items()}, **kwargs)
    event["multiValueQueryStringParameters"] = multi or None
    return lambda_handler(event, FakeLambdaContext())


def rows(path: str, key: str, query: dict[str, str | list[str]]) -> list[dict[str, Any]]:
    response = listing(path, query)
    assert response["statusCode"] == 200, response["body"]
    return list(json_body(response)[key])


def every_page(path: str, key: str, query: dict[str, str | list[str]], limit: int) -> tuple[list[Any], int]:
    """Every row, page after page, and how many pages it took."""
    found: list[Any] = []
    cursor: str | None = None
    pages = 0
    while True:
        asked = query | {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        response = listing(path, asked)
        assert response["statusCode"] == 200, response["body"]
        body = json_body(response)
        found += body[key]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return found, pages


def error_of(response: dict[str, Any]) -> tuple[int, str, list[str]]:
    error = json_body(response)["error"]
    return response["statusCode"], error["code"], [f["field"] for f in error["fields"]]


def _commit_invoice_change(invoice_id: str, **changes: Any) -> None:
    """Given: a state the API reaches through Stripe (a dispute), committed as the webhook would."""
    from shared.wiring import ledger

    stored = ledger().get_invoice(invoice_id)
    assert stored is not None
    ledger().commit(Change(invoice_update=replace(stored, version=stored.version + 1, **changes)))


# ----- invoices ----------------------------------------------------------------------------------------


def test_overdue_invoices_of_one_currency_oldest_due_first_with_days_overdue_in_the_customers_zone(
    clock: FixedClock,
) -> None:
    # Given (on 2027-03-01 15:00 UTC) invoices in USD due on various days, one in EUR, one paid, one not yet due
    london = create_customer(timezone="Europe/London")
    auckland = create_customer(email="kiri@example.com", timezone="Pacific/Auckland")  # already 2 March there
    old = create_invoice(london["id"], due_date="2027-01-15")
    yesterday = create_invoice(london["id"], due_date="2027-02-28")
    today_in_auckland = create_invoice(auckland["id"], due_date="2027-03-01")
    today_in_london = create_invoice(london["id"], due_date="2027-03-01")
    create_invoice(london["id"], due_date="2027-01-10", currency="EUR")
    create_invoice(london["id"], due_date="2027-04-01")
    paid = create_invoice(london["id"], due_date="2027-01-01")
    _pay_offline(paid["id"], paid["amount_due"])

    # When the operator lists the overdue USD invoices
    found = rows("/v1/invoices", "invoices", {"overdue": "true", "currency": "USD"})

    # Then they come oldest due first, each with its days overdue counted in its customer's own today
    assert [(r["id"], r["days_overdue"]) for r in found] == [
        (old["id"], 45),
        (yesterday["id"], 1),
        (today_in_auckland["id"], 1),
    ]
    assert today_in_london["id"] not in [r["id"] for r in found]
    assert found[0]["number"] == old["number"] and found[0]["amount_remaining"] == old["amount_due"]

    # And days_overdue_min keeps those overdue at least that long
    assert [r["id"] for r in rows("/v1/invoices", "invoices", {"days_overdue_min": "30", "currency": "USD"})] == [
        old["id"]
    ]


def _pay_offline(invoice_id: str, amount: int, received_on: str = "2027-02-27") -> dict[str, Any]:
    from tests.integration.helpers import operator

    response = operator(
        "POST",
        f"/v1/invoices/{invoice_id}/payments",
        "/v1/invoices/{invoice_id}/payments",
        params={"invoice_id": invoice_id},
        body={"amount": amount, "method": "check", "reference": "=1+2", "received_on": received_on},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert response["statusCode"] == 201, response["body"]
    return dict(json_body(response))


def test_status_due_range_number_and_customer_filters(clock: FixedClock) -> None:
    # Given invoices of two customers, one partly paid
    ada, bob = create_customer(), create_customer(email="bob@example.com", name="Bob")
    early = create_invoice(ada["id"], due_date="2027-01-05")
    mid = create_invoice(ada["id"], due_date="2027-02-05")
    late = create_invoice(bob["id"], due_date="2027-03-05")
    _pay_offline(mid["id"], 1_000)

    # Then each filter lists exactly its invoices
    assert [r["id"] for r in rows("/v1/invoices", "invoices", {"status": "open", "currency": "USD"})] == [
        early["id"], late["id"],
    ]  # fmt: skip
    assert [r["id"] for r in rows("/v1/invoices", "invoices", {"status": "partially_paid", "currency": "USD"})] == [
        mid["id"]
    ]
    both = rows("/v1/invoices", "invoices", {"status": ["open", "partially_paid"], "currency": "USD"})
    assert [r["id"] for r in both] == [early["id"], mid["id"], late["id"]]
    ranged = {
        "status": ["open", "partially_paid"],
        "currency": "USD",
        "due_after": "2027-01-05",
        "due_before": "2027-03-05",
    }
    assert [r["id"] for r in rows("/v1/invoices", "invoices", ranged)] == [mid["id"]]
    assert [r["id"] for r in rows("/v1/invoices", "invoices", {"number": late["number"]})] == [late["id"]]
    assert rows("/v1/invoices", "invoices", {"number": late["number"], "status": "paid"}) == []
    assert [r["id"] for r in rows("/v1/invoices", "invoices", {"customer_id": ada["id"]})] == [early["id"], mid["id"]]
    not_overdue = rows("/v1/invoices", "invoices", {"overdue": "false", "status": "open", "currency": "USD"})
    assert [r["id"] for r in not_overdue] == [late["id"]]


def test_flag_lists_follow_holds_promises_and_disputes_as_they_change(clock: FixedClock) -> None:
    from tests.integration.helpers import operator

    # Given three invoices: one held, one promised, one disputed
    customer = create_customer()
    held, promised, disputed = (
        create_invoice(customer["id"], due_date=d) for d in ("2027-02-01", "2027-02-02", "2027-02-03")
    )
    hold = operator(
        "POST", f"/v1/invoices/{held['id']}/hold", "/v1/invoices/{invoice_id}/hold",
        params={"invoice_id": held["id"]}, body={"reason": "customer asked"},
    )  # fmt: skip
    assert hold["statusCode"] == 200, hold["body"]
    _commit_invoice_change(promised["id"], promised_at=datetime(2027, 2, 20, tzinfo=UTC))
    _commit_invoice_change(disputed["id"], open_disputes=frozenset({"dp_1"}))

    # Then each flag lists its invoice
    for flag, invoice in (("on_hold", held), ("promised", promised), ("disputed", disputed)):
        assert [r["id"] for r in rows("/v1/invoices", "invoices", {flag: "true", "currency": "USD"})] == [invoice["id"]]

    # When the hold is released and the dispute closes, they leave those lists
    release = operator(
        "DELETE", f"/v1/invoices/{held['id']}/hold", "/v1/invoices/{invoice_id}/hold", params={"invoice_id": held["id"]}
    )
    assert release["statusCode"] == 200
    _commit_invoice_change(disputed["id"], open_disputes=frozenset())
    assert rows("/v1/invoices", "invoices", {"on_hold": "true", "currency": "USD"}) == []
    assert rows("/v1/invoices", "invoices", {"disputed": "true", "currency": "USD"}) == []


def test_pages_of_a_list_hold_every_invoice_once(clock: FixedClock) -> None:
    # Given eleven overdue invoices, three due on the same day
    customer = create_customer()
    days = [
        "2027-01-01",
        "2027-01-02",
        "2027-01-02",
        "2027-01-02",
        "2027-01-03",
        *[f"2027-02-{d:02d}" for d in range(1, 7)],
    ]
    made = [create_invoice(customer["id"], due_date=d)["id"] for d in days]

    # When read three at a time
    found, pages = every_page("/v1/invoices", "invoices", {"overdue": "true", "currency": "USD"}, limit=3)

    # Then every invoice comes exactly once, in due order
    assert sorted(r["id"] for r in found) == sorted(made)
    assert len(found) == len(made) and pages == 4
    assert [r["due_date"] for r in found] == sorted(days)


def test_a_payment_moves_the_invoice_between_lists(clock: FixedClock) -> None:
    customer = create_customer()
    invoice = create_invoice(customer["id"], due_date="2027-01-01")
    assert [r["id"] for r in rows("/v1/invoices", "invoices", {"overdue": "true", "currency": "USD"})] == [
        invoice["id"]
    ]

    _pay_offline(invoice["id"], invoice["amount_due"])

    assert rows("/v1/invoices", "invoices", {"overdue": "true", "currency": "USD"}) == []
    assert rows("/v1/invoices", "invoices", {"status": "open", "currency": "USD"}) == []
    paid = rows("/v1/invoices", "invoices", {"status": "paid", "currency": "USD"})
    assert [(r["id"], r["days_overdue"]) for r in paid] == [(invoice["id"], 0)]


# ----- payments ----------------------------------------------------------------------------------------


def test_who_paid_yesterday_in_one_call_with_invoice_number_and_customer(clock: FixedClock) -> None:
    # Given payments recorded yesterday and today
    ada, bob = create_customer(), create_customer(email="bob@example.com", name="Bob")
    first, second = create_invoice(ada["id"]), create_invoice(bob["id"])
    clock.instant = datetime(2027, 2, 28, 10, tzinfo=UTC)
    a = _pay_offline(first["id"], 2_000)["payment"]
    clock.instant = datetime(2027, 2, 28, 16, tzinfo=UTC)
    b = _pay_offline(second["id"], 3_000)["payment"]
    clock.instant = datetime(2027, 3, 1, 9, tzinfo=UTC)
    _pay_offline(second["id"], 1_000)
    clock.instant = datetime(2027, 3, 1, 15, tzinfo=UTC)

    # When the operator asks for yesterday's payments
    found = rows("/v1/payments", "payments", {"since": "2027-02-28T00:00:00Z", "until": "2027-03-01T00:00:00Z"})

    # Then both come, newest first, each naming its invoice's number and customer
    assert [(p["id"], p["invoice_number"], p["customer_id"], p["method"]) for p in found] == [
        (b["id"], second["number"], bob["id"], "check"),
        (a["id"], first["number"], ada["id"], "check"),
    ]
    assert [p["id"] for p in rows("/v1/payments", "payments", {"customer_id": ada["id"]})] == [a["id"]]
    by_status = rows("/v1/payments", "payments", {"since": "2027-02-01", "status": "succeeded"})
    assert len(by_status) == 3
    assert rows("/v1/payments", "payments", {"since": "2027-02-01", "status": "failed"}) == []


def test_payments_pages_walk_months_without_losing_one(clock: FixedClock) -> None:
    customer = create_customer()
    invoice = create_invoice(customer["id"], amount_due=100_000, allow_partial=True, min_partial_amount=100)
    made = []
    for month, day in ((1, 5), (1, 20), (2, 3), (2, 10), (2, 27)):
        clock.instant = datetime(2027, month, day, 12, tzinfo=UTC)
        made.append(_pay_offline(invoice["id"], 1_000, received_on=f"2027-{month:02d}-{day:02d}")["payment"]["id"])
    clock.instant = datetime(2027, 3, 1, 15, tzinfo=UTC)

    found, _ = every_page("/v1/payments", "payments", {"since": "2026-12-01"}, limit=2)

    assert [p["id"] for p in found] == made[::-1]


# ----- customers ---------------------------------------------------------------------------------------


def test_customers_by_prefix_email_external_id_and_all(clock: FixedClock) -> None:
    # Given customers whose name or email start alike
    ann = create_customer(email="ann@example.com", name="Ann Smith", external_id="crm-1")
    annie = create_customer(email="zed@example.com", name="Annie Hall")
    other = create_customer(email="anna.k@example.com", name="Karl Anders")
    create_customer(email="bo@example.com", name="Bo")

    # Then q finds each by name or email prefix, once, whatever the case
    assert {c["id"] for c in rows("/v1/customers", "customers", {"q": "ANN"})} == {ann["id"], annie["id"], other["id"]}
    assert len(rows("/v1/customers", "customers", {"q": "ann"})) == 3
    assert [c["id"] for c in rows("/v1/customers", "customers", {"email": "Anna.K@example.com"})] == [other["id"]]
    assert [c["id"] for c in rows("/v1/customers", "customers", {"external_id": "crm-1"})] == [ann["id"]]
    everyone, pages = every_page("/v1/customers", "customers", {}, limit=3)
    assert len(everyone) == 4 and pages == 2


def test_a_customer_renamed_is_found_by_the_new_name_only(clock: FixedClock) -> None:
    from tests.integration.helpers import operator

    customer = create_customer(email="old@example.com", name="Old Name")
    changed = operator(
        "PATCH", f"/v1/customers/{customer['id']}", "/v1/customers/{customer_id}",
        params={"customer_id": customer["id"]}, body={"name": "New Name", "email": "new@example.com"},
    )  # fmt: skip
    assert changed["statusCode"] == 200, changed["body"]
    assert rows("/v1/customers", "customers", {"q": "old"}) == []
    assert [c["name"] for c in rows("/v1/customers", "customers", {"q": "new"})] == ["New Name"]


# ----- CSV ---------------------------------------------------------------------------------------------


def test_csv_pages_link_to_the_next_and_neutralise_formulas(clock: FixedClock) -> None:
    customer = create_customer(name='=HYPERLINK("http://evil")')
    for day in ("2027-01-01", "2027-01-02", "2027-01-03"):
        create_invoice(customer["id"], due_date=day, description="@SUM(A1)")

    first = listing("/v1/invoices", {"overdue": "true", "currency": "USD", "format": "csv", "limit": "2"})
    assert first["statusCode"] == 200
    headers = {name: values[-1] for name, values in first["multiValueHeaders"].items()}
    assert headers["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(first["body"])))
    assert len(table) == 2 and table[0]["due_date"] == "2027-01-01"
    assert table[0]["description"] == "'@SUM(A1)"
    link = headers["Link"]
    assert link.startswith("</v1/invoices?") and link.endswith('>; rel="next"') and "format=csv" in link
    cursor = link.split("cursor=", 1)[1].split(">", 1)[0]

    from urllib.parse import unquote

    second = listing(
        "/v1/invoices", {"overdue": "true", "currency": "USD", "limit": "2", "cursor": unquote(cursor)},
        headers={"Accept": "text/csv"},
    )  # fmt: skip
    assert second["statusCode"] == 200 and "Link" not in second["multiValueHeaders"]
    assert [r["due_date"] for r in csv.DictReader(io.StringIO(second["body"]))] == ["2027-01-03"]

    people = listing("/v1/customers", {"format": "csv"})
    assert next(iter(csv.DictReader(io.StringIO(people["body"]))))["name"] == '\'=HYPERLINK("http://evil")'


# ----- hostile input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/invoices", "/v1/payments", "/v1/customers"])
def test_an_unknown_parameter_is_a_400_naming_it(path: str) -> None:
    assert error_of(listing(path, {"stauts": "open"})) == (400, "unknown_parameter", ["stauts"])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0", "currency": "USD", "status": "open"}, "limit"),
        ({"limit": "100000", "currency": "USD", "status": "open"}, "limit"),
        ({"due_after": "2027-02-30", "currency": "USD", "status": "open"}, "due_after"),
        ({"currency": "usd", "status": "open"}, "currency"),
        ({"currency": "USD", "status": "closed"}, "status"),
        ({"overdue": "maybe", "currency": "USD"}, "overdue"),
        ({"currency": ["USD", "EUR"], "status": "open"}, "currency"),
        ({"format": "xml", "currency": "USD", "status": "open"}, "format"),
    ],
)
def test_bad_values_are_a_422_naming_the_field(query: dict[str, str | list[str]], field: str) -> None:
    status, code, fields = error_of(listing("/v1/invoices", query))
    assert (status, code) == (422, "validation_error")
    assert [f.split(".")[0] for f in fields] == [field]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"currency": "USD"},
        {"status": "open"},
        {"customer_id": "c", "status": "open"},
        {"on_hold": "false", "currency": "USD"},
    ],
)
def test_a_combination_no_list_answers_is_a_400_saying_what_to_combine(query: dict[str, str]) -> None:
    status, code, _ = error_of(listing("/v1/invoices", query))
    assert (status, code) == (400, "filters_not_served")
    assert "give" in json_body(listing("/v1/invoices", query))["error"]["message"]


def test_forged_and_borrowed_cursors_are_a_400(clock: FixedClock) -> None:
    customer = create_customer()
    for day in ("2027-01-01", "2027-01-02"):
        create_invoice(customer["id"], due_date=day)
    page = json_body(listing("/v1/invoices", {"overdue": "true", "currency": "USD", "limit": "1"}))
    cursor = page["next_cursor"]
    decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    forged = decoded | {"p": "INVOICES#void#USD"}
    forged_cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
    for query in (
        {"overdue": "true", "currency": "USD", "cursor": "not-a-cursor"},
        {"overdue": "true", "currency": "USD", "cursor": forged_cursor},
        {"overdue": "true", "currency": "EUR", "cursor": cursor},  # another list's
        {"status": "open", "currency": "USD", "cursor": cursor},
        {"number": "X", "cursor": cursor},
    ):
        assert error_of(listing("/v1/invoices", query))[:2] == (400, "invalid_cursor"), query
    assert error_of(listing("/v1/customers", {"external_id": "x", "cursor": cursor}))[:2] == (400, "invalid_cursor")


def test_a_payments_window_too_wide_or_backwards_is_a_422(clock: FixedClock) -> None:
    assert error_of(listing("/v1/payments", {"since": "2020-01-01"}))[0] == 422
    assert error_of(listing("/v1/payments", {"since": "2027-03-01", "until": "2027-02-01"}))[0] == 422
    assert error_of(listing("/v1/payments", {"since": "yesterday"}))[0] == 422
    assert error_of(listing("/v1/payments", {"since": "2027-02-01", "currency": "USD"}))[:2] == (
        400,
        "filters_not_served",
    )
    assert error_of(listing("/v1/payments", {}))[:2] == (400, "filters_not_served")
