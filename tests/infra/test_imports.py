"""The bulk import queue: encrypted, dead-lettered after three receives, consumed a chunk at a time by the
imports worker; only the operator API and the console may send to it."""

from __future__ import annotations

from infra.components import imports as import_queue
from tests.infra.conftest import Synthesized


def test_chunks_wait_on_an_encrypted_queue_with_a_dlq(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    worker = stack.lambdas.functions["imports"]
    props = synthesized.resource(stack.imports.queue)["Properties"]
    assert props["KmsMasterKeyId"] == {"Fn::GetAtt": [synthesized.logical_id(stack.storage.key), "Arn"]}
    assert props["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [synthesized.logical_id(stack.imports.dlq), "Arn"]},
        "maxReceiveCount": import_queue.RECEIVES,
    }
    assert props["VisibilityTimeout"] >= 6 * synthesized.resource(worker)["Properties"]["Timeout"]
    dlq = synthesized.resource(stack.imports.dlq)["Properties"]
    assert dlq["KmsMasterKeyId"] == props["KmsMasterKeyId"]


def test_the_worker_takes_one_chunk_per_invocation_and_reports_failures(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    queue_arn = {"Fn::GetAtt": [synthesized.logical_id(stack.imports.queue), "Arn"]}
    [mapping] = [
        m
        for m in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == queue_arn
    ]
    props = mapping["Properties"]
    assert props["FunctionName"] == {"Ref": synthesized.logical_id(stack.lambdas.functions["imports"])}
    assert props["BatchSize"] == 1
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["ScalingConfig"] == {"MaximumConcurrency": import_queue.MAX_CONCURRENCY}


def test_only_the_operator_api_and_the_console_send_to_the_queue_and_know_its_url(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    queue_arn = {"Fn::GetAtt": [synthesized.logical_id(stack.imports.queue), "Arn"]}
    senders = set()
    for name, role in stack.lambdas.roles.items():
        role_id = synthesized.logical_id(role)
        for policy in synthesized.resources("AWS::IAM::Policy").values():
            if {"Ref": role_id} not in policy["Properties"]["Roles"]:
                continue
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                resources = (
                    statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                )
                if "sqs:SendMessage" in actions and queue_arn in resources:  # one statement may name more queues
                    senders.add(name)
    assert senders == {"operator_api", "console"}
    for name in senders:
        function = synthesized.resource(stack.lambdas.functions[name])
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables[import_queue.ENV_IMPORTS_QUEUE_URL] == {"Ref": synthesized.logical_id(stack.imports.queue)}
