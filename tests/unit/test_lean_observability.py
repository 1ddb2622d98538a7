"""The webhook's logs and metrics (shared.lean_observability) have the shapes Powertools writes for the same
calls, so log queries, metric filters, the alarms and the dashboard read them alike."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import logger as powertools_logger
from aws_lambda_powertools.metrics import MetricUnit as PowertoolsUnit

from shared.lean_observability import LeanLogger, LeanMetrics, MetricUnit


class Context:
    function_name = "payportal-webhooks"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:payportal-webhooks"
    aws_request_id = "req-1"


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def log_through(log: Any) -> None:
    @log.inject_lambda_context(clear_state=True)
    def handler(_event: Any, _context: Any) -> None:
        log.append_keys(stripe_event_id="evt_1")
        log.info("stripe event recorded", extra={"outcome": "applied"})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("stripe event not recorded")

    handler({}, Context())


def test_log_records_carry_the_keys_and_values_powertools_writes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    # Powertools keeps its cold start in a module global that any earlier test in this process has spent.
    monkeypatch.setattr(powertools_logger, "is_cold_start", True)
    log_through(Logger(service="payportal-test", level="INFO"))
    theirs = lines(capsys)
    log_through(LeanLogger(service="payportal-test"))
    ours = lines(capsys)

    assert len(ours) == len(theirs) == 2
    for mine, powertools in zip(ours, theirs, strict=True):
        assert set(mine) == set(powertools)
        varying = {"timestamp", "location", "exception"}  # the instant; the call site; the traceback's frames
        assert {k: v for k, v in mine.items() if k not in varying} == {
            k: v for k, v in powertools.items() if k not in varying
        }
        assert len(mine["timestamp"]) == len(powertools["timestamp"])
    assert ours[0]["cold_start"] is True and ours[0]["function_request_id"] == "req-1"
    assert ours[1]["exception_name"] == "ValueError" and "boom" in ours[1]["exception"]


def test_a_second_invocation_is_warm_and_starts_without_the_last_ones_keys(capsys: pytest.CaptureFixture[str]) -> None:
    log = LeanLogger(service="payportal-test")
    log_through(log)
    capsys.readouterr()

    @log.inject_lambda_context(clear_state=True)
    def handler(_event: Any, _context: Any) -> None:
        log.warning("webhook rejected", extra={"reason": "no signature"})

    handler({}, Context())
    [line] = lines(capsys)
    assert line["cold_start"] is False and "stripe_event_id" not in line and line["reason"] == "no signature"


def test_provisioned_concurrency_is_never_a_cold_start_as_in_powertools(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "provisioned-concurrency")
    monkeypatch.setattr(powertools_logger, "is_cold_start", True)
    # A service name of its own: Powertools keeps one stdout handler per name, bound when first built.
    log_through(Logger(service="payportal-provisioned", level="INFO"))
    theirs = lines(capsys)
    log_through(LeanLogger(service="payportal-provisioned"))
    ours = lines(capsys)
    assert [line["cold_start"] for line in ours] == [line["cold_start"] for line in theirs] == [False, False]


def test_metrics_are_one_emf_record_as_powertools_writes_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    powertools = Metrics(namespace="payportal-dev", service="payportal")
    powertools.clear_metrics()  # Powertools' metric set is shared by every instance: others' tests may leave some
    powertools.add_metric(name="WebhookEvents_applied", unit=PowertoolsUnit.Count, value=1)
    powertools.add_metric(name="WebhookLagSeconds", unit=PowertoolsUnit.Seconds, value=2.5)
    powertools.add_metric(name="WebhookEvents_applied", unit=PowertoolsUnit.Count, value=1)
    powertools.flush_metrics()
    [theirs] = lines(capsys)

    ours = LeanMetrics(namespace="payportal-dev", service="payportal")

    @ours.log_metrics
    def handler(_event: Any, _context: Any) -> None:
        ours.add_metric(name="WebhookEvents_applied", unit=MetricUnit.Count, value=1)
        ours.add_metric(name="WebhookLagSeconds", unit=MetricUnit.Seconds, value=2.5)
        ours.add_metric(name="WebhookEvents_applied", unit=MetricUnit.Count, value=1)

    handler({}, Context())
    [mine] = lines(capsys)

    for blob in (mine, theirs):
        assert isinstance(blob["_aws"].pop("Timestamp"), int)
    assert mine == theirs


def test_metrics_are_written_even_when_the_handler_raises_and_not_at_all_when_disabled(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics = LeanMetrics(namespace="payportal-dev", service="payportal")

    @metrics.log_metrics
    def failing(_event: Any, _context: Any) -> None:
        metrics.add_metric(name="WebhookProcessingErrors", unit=MetricUnit.Count, value=1)
        raise RuntimeError("table down")

    with pytest.raises(RuntimeError):
        failing({}, Context())
    [blob] = lines(capsys)
    assert blob["WebhookProcessingErrors"] == [1.0]

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics.add_metric(name="WebhookProcessingErrors", unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()
    assert lines(capsys) == []
