"""Alarms reach the operator through one encrypted topic, each has a runbook, and every metric they and the
dashboard read is one the functions actually emit."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.infra.conftest import REPO_ROOT, Synthesized, synthesize

EXPECTED_ALARMS = {
    "Api5xxRate",
    "WebhookSignatureFailures",
    "WebhookErrors",
    "OutboxDeadLetters",
    "SchedulesDeadLetters",
    "EmailFeedbackDeadLetters",
    "ImportsDeadLetters",
    "RemindersContinuationsDeadLetters",
    "RemindersJobErrors",
    "RemindersJobOverrun",
    "RemindersJobSilent",
    "ChargesJobErrors",
    "ChargesJobOverrun",
    "ChargesJobSilent",
    "BalancesJobErrors",
    "BalancesJobOverrun",
    "BalancesJobSilent",
    "ReconcileJobErrors",
    "ReconcileJobOverrun",
    "ReconcileJobSilent",
    "DigestJobErrors",
    "DigestJobOverrun",
    "DigestJobSilent",
    "RetentionJobErrors",
    "RetentionJobOverrun",
    "RetentionJobSilent",
    "ReconcileCursorBehind",
    "ReconcileDriftUnresolved",
    "ChargeRefusalRate",
    "EventsFlaggedForReview",
    "BadItemsSkipped",
    "OutboxDeliveriesUnrecorded",
    "WebhookEventsUnreadable",
    "RefundsFailed",
    "WebhookEndpointsDisabled",
    "WebhookDeliveriesDeadLetters",
    "ConsoleSignInFailures",
}


def alarms(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    found = synthesized.resources("AWS::CloudWatch::Alarm").values()
    return {a["Properties"]["AlarmName"].removeprefix("payportal-dev-"): a["Properties"] for a in found}


def emitted_metric_names() -> set[str]:
    """Every EMF metric name the functions' code adds."""
    names: set[str] = set()
    for path in [*(REPO_ROOT / "functions").rglob("*.py"), *(REPO_ROOT / "shared").rglob("*.py")]:
        names |= set(re.findall(r'(?:name=|add_metric_by\(\s*)"([A-Za-z]+)"', path.read_text()))
    return names


def test_every_alarm_the_issue_asks_for_exists_and_tells_the_topic(synthesized: Synthesized) -> None:
    found = alarms(synthesized)
    assert set(found) == EXPECTED_ALARMS
    topic = {"Ref": synthesized.logical_id(synthesized.stack.monitoring.topic)}
    for name, alarm in found.items():
        assert alarm["AlarmActions"] == [topic], name
        assert alarm["OKActions"] == [topic], name  # and again when it clears
        assert f"docs/operations.md#{name.lower()}" in alarm["AlarmDescription"], name


def test_every_alarm_has_a_runbook(synthesized: Synthesized) -> None:
    runbooks = (REPO_ROOT / "docs" / "operations.md").read_text()
    headings = {line.removeprefix("### ").strip() for line in runbooks.splitlines() if line.startswith("### ")}
    assert set(alarms(synthesized)) <= headings


def dashboard_widgets(synthesized: Synthesized) -> list[dict[str, Any]]:
    """The dashboard body as JSON, with CloudFormation references replaced by a placeholder."""
    [dashboard] = synthesized.resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = json.loads("".join(part if isinstance(part, str) else "REF" for part in parts))
    return list(body["widgets"])


def shown_metric_names(widgets: list[dict[str, Any]], namespace: str) -> set[str]:
    names: set[str] = set()
    for widget in widgets:
        for line in widget["properties"].get("metrics", []):
            if line[0] == namespace:
                names.add(line[1])
            elif isinstance(line[0], dict) and "expression" in line[0]:
                names |= set(re.findall(r'MetricName="([A-Za-z]+)"', line[0]["expression"]))
    return names


def test_alarms_and_dashboard_read_only_metrics_the_functions_emit(synthesized: Synthesized) -> None:
    namespace = "payportal-dev"
    found = alarms(synthesized).values()
    ours = {
        query["MetricStat"]["Metric"]["MetricName"]
        for alarm in found
        for query in alarm.get("Metrics", [])
        if "MetricStat" in query and query["MetricStat"]["Metric"].get("Namespace") == namespace
    } | {alarm["MetricName"] for alarm in found if alarm.get("Namespace") == namespace}
    shown = shown_metric_names(dashboard_widgets(synthesized), namespace)

    assert {"WebhookSignatureFailures", "WebhookProcessingErrors", "EventsFlaggedForReview"} <= ours
    assert {"InstallmentChargesCreated", "InstallmentChargesRefused"} <= ours
    assert {"BadItemsSkipped", "WebhookEventsUnreadable"} <= ours  # one bad item never passes unnoticed
    # What the issue asks the dashboard to show
    assert {"PaymentsSucceeded", "AmountCollected", "PaymentFailuresByReason", "WebhookLagSeconds"} <= shown
    assert {"RemindersSent", "OpenBalance"} <= shown
    assert (ours | shown) <= emitted_metric_names()


def test_a_skipped_bad_item_alarms_at_once(synthesized: Synthesized) -> None:
    for name in ("BadItemsSkipped", "WebhookEventsUnreadable", "RefundsFailed"):
        alarm = alarms(synthesized)[name]
        assert (alarm["MetricName"], alarm["Namespace"], alarm["Statistic"]) == (name, "payportal-dev", "Sum")
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
        assert alarm["Dimensions"] == [{"Name": "service", "Value": "payportal"}]


def test_reconciliation_alarms_when_its_cursor_is_25_days_behind_or_drift_is_a_day_old(
    synthesized: Synthesized,
) -> None:
    for name, metric, threshold in (
        ("ReconcileCursorBehind", "ReconcileCursorLagSeconds", 25 * 86_400),
        ("ReconcileDriftUnresolved", "ReconcileOldestDriftSeconds", 24 * 3_600),
    ):
        alarm = alarms(synthesized)[name]
        assert (alarm["MetricName"], alarm["Statistic"], alarm["Period"]) == (metric, "Maximum", 3_600)
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (threshold, "GreaterThanOrEqualToThreshold")


def test_the_topic_is_encrypted_and_cloudwatch_may_use_the_key(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    topic = synthesized.resource(stack.monitoring.topic)["Properties"]
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [synthesized.logical_id(stack.storage.key), "Arn"]}
    key = synthesized.resource(stack.storage.key)["Properties"]
    [statement] = [s for s in key["KeyPolicy"]["Statement"] if s.get("Sid") == "CloudWatchAlarmsPublishToTheAlarmTopic"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_the_alarm_email_comes_from_the_context(synthesized: Synthesized) -> None:
    assert synthesized.resources("AWS::SNS::Subscription") == {} or all(
        s["Properties"]["Protocol"] != "email" for s in synthesized.resources("AWS::SNS::Subscription").values()
    )
    with_email = synthesize(**{"payportal:alarmEmail": "oncall@example.com"})
    emails = [
        s["Properties"]
        for s in with_email.resources("AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "email"
    ]
    assert [(e["Endpoint"], e["TopicArn"]) for e in emails] == [
        ("oncall@example.com", {"Ref": with_email.logical_id(with_email.stack.monitoring.topic)})
    ]


def test_metrics_are_kept_apart_per_stage() -> None:
    prod = synthesize(stage="prod")
    [dashboard] = prod.resources("AWS::CloudWatch::Dashboard").values()
    assert "payportal-prod" in json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "payportal-dev" not in json.dumps(dashboard["Properties"]["DashboardBody"])
    names = {a["Properties"]["AlarmName"] for a in prod.resources("AWS::CloudWatch::Alarm").values()}
    assert all(name.startswith("payportal-prod-") for name in names)


def test_the_runbook_file_is_where_the_descriptions_point() -> None:
    assert Path(REPO_ROOT / "docs" / "operations.md").is_file()
