"""The money metrics the dashboard and alarms read, as the outbox function emits them (EMF on stdout)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.domain.messages import Event, EventName


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    from functions.outbox.handler import metrics

    metrics.clear_metrics()

    def read() -> list[dict[str, Any]]:
        metrics.flush_metrics()
        return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]

    return read


def metric_names(blob: dict[str, Any]) -> list[str]:
    return [m["Name"] for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]


def dimensions(blob: dict[str, Any]) -> list[list[str]]:
    return [dims for d in blob["_aws"]["CloudWatchMetrics"] for dims in d["Dimensions"]]


def test_a_payment_counts_and_adds_its_amount_per_currency(emitted: Any) -> None:
    from functions.outbox.handler import business_metrics

    business_metrics(Event(EventName.PAYMENT_SUCCEEDED, {"amount": 12_500, "currency": "EUR", "payment_id": "pi_1"}))
    blobs = emitted()

    [amount] = [b for b in blobs if "AmountCollected" in metric_names(b)]
    assert amount["AmountCollected"] == [12_500.0] and amount["currency"] == "EUR" and amount["service"] == "payportal"
    assert sorted(dimensions(amount)[0]) == ["currency", "service"]
    [counts] = [b for b in blobs if "PaymentsSucceeded" in metric_names(b)]
    assert counts["PaymentsSucceeded"] == [1.0]
    assert dimensions(counts) == [["service"]]  # what the alarms and dashboard name


def test_a_failed_payment_counts_by_its_decline_reason(emitted: Any) -> None:
    from functions.outbox.handler import business_metrics

    business_metrics(
        Event(EventName.PAYMENT_FAILED, {"amount": 500, "currency": "USD", "failure_reason": "insufficient_funds"})
    )
    blobs = emitted()

    [by_reason] = [b for b in blobs if "PaymentFailuresByReason" in metric_names(b)]
    assert by_reason["reason"] == "insufficient_funds"
    assert any("PaymentsFailed" in metric_names(b) for b in blobs)


def test_other_events_add_no_money_metrics(emitted: Any) -> None:
    from functions.outbox.handler import business_metrics

    business_metrics(Event(EventName.INVOICE_REMINDER_SENT, {"invoice_id": "inv_1"}))

    assert not [
        b for b in emitted() if {"PaymentsSucceeded", "AmountCollected", "PaymentsFailed"} & set(metric_names(b))
    ]


def test_a_refund_counts_and_adds_its_amount_and_a_failed_one_counts_for_the_alarm(emitted: Any) -> None:
    from functions.outbox.handler import business_metrics

    business_metrics(Event(EventName.PAYMENT_REFUNDED, {"amount": 3_000, "currency": "USD", "refund_id": "re_1"}))
    business_metrics(Event(EventName.REFUND_FAILED, {"amount": 3_000, "currency": "USD", "refund_id": "re_1"}))
    blobs = emitted()

    [amount] = [b for b in blobs if "AmountRefunded" in metric_names(b)]
    assert amount["AmountRefunded"] == [3_000.0] and amount["currency"] == "USD"
    [counts] = [b for b in blobs if "RefundsFailed" in metric_names(b)]
    assert counts["RefundsFailed"] == [1.0] and counts["RefundsMade"] == [1.0]
    assert dimensions(counts) == [["service"]]  # what the RefundsFailed alarm names
