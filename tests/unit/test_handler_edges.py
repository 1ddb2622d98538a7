"""The small pieces the handlers lean on: the customer's today, the double-click window, which outbox
message a stream record is about, the open balance lines, and what a correction says it changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from shared.adapters.outbox_stream import outbox_message_id
from shared.domain.double_click import DOUBLE_CLICK_WINDOW_SECONDS, click_window
from shared.domain.local_time import local_date
from shared.domain.records import Customer
from shared.services.balances import OpenBalance, open_balances
from shared.services.customers import CustomerCorrection, ensure_stripe_customer
from shared.services.gateway import PaymentGateway
from shared.services.ports import Ledger
from shared.services.recurring import RecurringCorrection


def test_the_customers_today_is_the_date_where_they_live() -> None:
    late_evening_utc = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert local_date(late_evening_utc, "Asia/Tokyo").isoformat() == "2026-12-02"
    assert local_date(late_evening_utc, "America/Los_Angeles").isoformat() == "2026-12-01"
    assert local_date(late_evening_utc, "UTC").isoformat() == "2026-12-01"


def test_clicks_within_one_window_share_it_and_the_next_window_does_not() -> None:
    start = datetime.fromtimestamp(DOUBLE_CLICK_WINDOW_SECONDS * 1000, tz=UTC)
    later = datetime.fromtimestamp(DOUBLE_CLICK_WINDOW_SECONDS * 1000 + DOUBLE_CLICK_WINDOW_SECONDS - 1, tz=UTC)
    following = datetime.fromtimestamp(DOUBLE_CLICK_WINDOW_SECONDS * 1001, tz=UTC)
    assert click_window(start) == click_window(later)
    assert click_window(following) == click_window(start) + 1


def stream_record(keys: dict[str, Any] | None) -> DynamoDBRecord:
    record: dict[str, Any] = {"eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb"}
    if keys is not None:
        record["dynamodb"] = {"Keys": keys, "SequenceNumber": "1", "StreamViewType": "NEW_IMAGE"}
    return DynamoDBRecord(record)


def test_a_stream_record_of_an_outbox_item_gives_its_message_id() -> None:
    record = stream_record({"pk": {"S": "OUTBOX#msg_123"}, "sk": {"S": "OUTBOX"}})
    assert outbox_message_id(record) == "msg_123"


def test_a_stream_record_of_anything_else_gives_no_message() -> None:
    assert outbox_message_id(stream_record({"pk": {"S": "INVOICE#inv_1"}, "sk": {"S": "INVOICE"}})) is None
    assert outbox_message_id(stream_record(None)) is None


class Balances:
    def open_balances(self) -> dict[str, tuple[int, int]]:
        return {"USD": (15_000, 2), "EUR": (2_500, 1)}


def test_the_open_balance_is_one_line_per_currency_in_currency_order() -> None:
    assert open_balances(cast(Ledger, Balances())) == [
        OpenBalance(currency="EUR", amount=2_500, invoices=1),
        OpenBalance(currency="USD", amount=15_000, invoices=2),
    ]


class Remembering:
    def __init__(self) -> None:
        self.remembered: list[tuple[str, str]] = []
        self.created: list[str] = []

    def remember_stripe_customer(self, customer_id: str, stripe_customer_id: str) -> None:
        self.remembered.append((customer_id, stripe_customer_id))

    def ensure_customer(self, customer: Customer) -> str:
        self.created.append(customer.id)
        return f"cus_for_{customer.id}"


def customer(stripe_customer_id: str | None) -> Customer:
    return Customer(
        id="cust_1",
        email="ada@example.com",
        name="Ada",
        external_id=None,
        timezone="UTC",
        locale="en-GB",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        stripe_customer_id=stripe_customer_id,
    )


def test_a_customer_new_to_stripe_is_created_there_once_and_remembered() -> None:
    ports = Remembering()
    found = ensure_stripe_customer(cast(Ledger, ports), cast(PaymentGateway, ports), customer(None))
    assert found == "cus_for_cust_1"
    assert ports.created == ["cust_1"] and ports.remembered == [("cust_1", "cus_for_cust_1")]


def test_a_customer_known_to_stripe_costs_no_call() -> None:
    ports = Remembering()
    found = ensure_stripe_customer(cast(Ledger, ports), cast(PaymentGateway, ports), customer("cus_known"))
    assert found == "cus_known"
    assert ports.created == [] and ports.remembered == []


def test_a_correction_names_only_the_fields_it_changes() -> None:
    assert CustomerCorrection(name="Ada L.").fields() == ["name"]
    assert CustomerCorrection(email="a@example.com", name="Ada").fields() == ["email", "name"]
    assert RecurringCorrection(paused=False).details() == {"paused": False}
    assert RecurringCorrection(paused=True, amount=500).details() == {"paused": True, "amount": 500}
