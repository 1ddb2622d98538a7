"""EventBridge Scheduler runs the dunning job hourly, retries, and dead-letters what keeps failing."""

from __future__ import annotations

from shared.routes import SCHEDULED_FUNCTIONS
from tests.infra.conftest import Synthesized


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
