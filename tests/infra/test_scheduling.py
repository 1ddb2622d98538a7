"""EventBridge Scheduler runs the dunning job hourly, retries, and dead-letters what keeps failing."""

from __future__ import annotations

import pytest

from infra.config import InvalidContextError
from shared.routes import SCHEDULED_FUNCTIONS
from tests.infra.conftest import Synthesized, synthesize


def test_each_scheduled_function_has_a_schedule_with_retries_and_a_dlq(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    schedules = synthesized.resources("AWS::Scheduler::Schedule")
    assert len(schedules) == len(SCHEDULED_FUNCTIONS)
    for name, expression in SCHEDULED_FUNCTIONS.items():
        function_id = synthesized.logical_id(stack.lambdas.functions[name])
        [schedule] = [
            s for s in schedules.values() if s["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
        ]
        props = schedule["Properties"]
        assert props["ScheduleExpression"] == expression
        assert props.get("ScheduleExpressionTimezone", "UTC") in ("UTC", "Etc/UTC")  # the default zone
        assert props["State"] == "ENABLED"
        target = props["Target"]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
        assert target["DeadLetterConfig"]["Arn"] == {
            "Fn::GetAtt": [synthesized.logical_id(stack.scheduling.dlq), "Arn"]
        }


def test_each_schedule_role_may_only_invoke_its_function(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    schedules = synthesized.resources("AWS::Scheduler::Schedule").values()
    for name in SCHEDULED_FUNCTIONS:
        function_id = synthesized.logical_id(stack.lambdas.functions[name])
        [schedule] = [s for s in schedules if s["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}]
        role_id = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
        statements = [
            statement
            for policy in synthesized.resources("AWS::IAM::Policy").values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        invoke = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
        assert invoke and all(function_id in str(s["Resource"]) for s in invoke), name


def test_a_run_out_of_time_continues_through_its_queue_one_shard_per_invocation(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    function = stack.lambdas.functions["reminders"]
    queue = stack.scheduling.continuations["reminders"]
    queue_props = synthesized.resource(queue)["Properties"]
    assert queue_props["KmsMasterKeyId"] == {"Fn::GetAtt": [synthesized.logical_id(stack.storage.key), "Arn"]}
    assert queue_props["RedrivePolicy"] == {
        "deadLetterTargetArn": {
            "Fn::GetAtt": [synthesized.logical_id(stack.scheduling.continuation_dlqs["reminders"]), "Arn"]
        },
        "maxReceiveCount": 3,
    }
    assert queue_props["VisibilityTimeout"] >= 6 * synthesized.resource(function)["Properties"]["Timeout"]

    [mapping] = [
        m
        for m in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [synthesized.logical_id(queue), "Arn"]}
    ]
    props = mapping["Properties"]
    assert props["FunctionName"] == {"Ref": synthesized.logical_id(function)}
    assert props["BatchSize"] == 1
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["ScalingConfig"] == {"MaximumConcurrency": 8}  # one per due_work shard
    variables = synthesized.resource(function)["Properties"]["Environment"]["Variables"]
    assert variables["PAYPORTAL_REMINDERS_QUEUE_URL"] == {"Ref": synthesized.logical_id(queue)}


def test_the_digest_runs_daily_at_the_local_hour_and_zone_the_context_sets() -> None:
    synthesized = synthesize(
        **{"payportal:digestRecipients": "cfo@example.com, ar@example.com", "payportal:digestHour": "6",
           "payportal:digestTimezone": "Europe/Berlin"}
    )  # fmt: skip
    stack = synthesized.stack
    function_id = synthesized.logical_id(stack.lambdas.functions["digest"])
    [schedule] = [
        s
        for s in synthesized.resources("AWS::Scheduler::Schedule").values()
        if s["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    ]
    assert schedule["Properties"]["ScheduleExpression"] == "cron(0 6 * * ? *)"
    assert schedule["Properties"]["ScheduleExpressionTimezone"] == "Europe/Berlin"
    # And the digest run (its "today") and the outbox (who gets it) read the same settings
    for name in ("digest", "outbox"):
        variables = synthesized.resource(stack.lambdas.functions[name])["Properties"]["Environment"]["Variables"]
        assert variables["PAYPORTAL_DIGEST_RECIPIENTS"] == "cfo@example.com,ar@example.com"
        assert variables["PAYPORTAL_DIGEST_TIMEZONE"] == "Europe/Berlin"
    variables = synthesized.resource(stack.lambdas.functions["reminders"])["Properties"]["Environment"]["Variables"]
    assert "PAYPORTAL_DIGEST_RECIPIENTS" not in variables


@pytest.mark.parametrize(
    "context",
    [
        {"payportal:digestHour": "24"},
        {"payportal:digestHour": "seven"},
        {"payportal:digestTimezone": "Mars/Olympus"},
        {"payportal:digestRecipients": "cfo.example.com"},
    ],
)
def test_a_digest_setting_that_cannot_work_fails_the_synth(context: dict[str, str]) -> None:
    with pytest.raises(InvalidContextError):
        synthesize(**context)


def test_the_retention_job_runs_daily_and_every_function_gets_the_configured_period() -> None:
    synthesized = synthesize(**{"payportal:financialRetentionDays": "2557"})
    stack = synthesized.stack
    function_id = synthesized.logical_id(stack.lambdas.functions["retention"])
    [schedule] = [
        s
        for s in synthesized.resources("AWS::Scheduler::Schedule").values()
        if s["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    ]
    assert schedule["Properties"]["ScheduleExpression"] == "cron(30 3 * * ? *)"
    # Any function may commit the change that makes an invoice final, which stamps its TTL from this period
    for function in stack.lambdas.functions.values():
        variables = synthesized.resource(function)["Properties"]["Environment"]["Variables"]
        assert variables["PAYPORTAL_FINANCIAL_RETENTION_DAYS"] == "2557"


@pytest.mark.parametrize("days", ["364", "36501", "ten years", "-1", "3653.5"])
def test_a_financial_retention_that_cannot_work_fails_the_synth(days: str) -> None:
    with pytest.raises(InvalidContextError):
        synthesize(**{"payportal:financialRetentionDays": days})
