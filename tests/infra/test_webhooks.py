"""Outbound webhooks: one rule from the bus to an encrypted, TLS-only queue with a DLQ, read by the delivery
function with partial batch responses, and an alarm when an endpoint is disabled."""

from __future__ import annotations

import json
from typing import Any

from infra.components import webhooks
from tests.infra.conftest import Synthesized


def test_one_rule_sends_every_payportal_event_on_the_bus_to_the_queue(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    rule = synthesized.resource(stack.webhooks.rule)["Properties"]
    assert rule["EventBusName"] == {"Ref": synthesized.logical_id(stack.events.bus)}
    pattern = rule["EventPattern"]
    assert (json.loads(pattern) if isinstance(pattern, str) else pattern) == {"source": ["payportal"]}
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [synthesized.logical_id(stack.webhooks.queue), "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [synthesized.logical_id(stack.webhooks.dlq), "Arn"]}


def test_the_queue_is_encrypted_tls_only_kept_two_weeks_and_dead_letters(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    key = {"Fn::GetAtt": [synthesized.logical_id(stack.storage.key), "Arn"]}
    for queue in (stack.webhooks.queue, stack.webhooks.dlq):
        properties = synthesized.resource(queue)["Properties"]
        assert properties["KmsMasterKeyId"] == key
        queue_id = synthesized.logical_id(queue)
        policies = [
            p
            for p in synthesized.resources("AWS::SQS::QueuePolicy").values()
            if {"Ref": queue_id} in p["Properties"]["Queues"]
        ]
        statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )
    queue = synthesized.resource(stack.webhooks.queue)["Properties"]
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue["RedrivePolicy"]["maxReceiveCount"] == webhooks.WEBHOOK_RECEIVES > 12
    assert queue["VisibilityTimeout"] >= 60


def test_the_delivery_function_reads_the_queue_reporting_each_failed_message(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    function_id = synthesized.logical_id(stack.lambdas.functions["webhook_delivery"])
    mappings: list[dict[str, Any]] = [
        m["Properties"]
        for m in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    [mapping] = mappings
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [synthesized.logical_id(stack.webhooks.queue), "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == webhooks.BATCH_SIZE
    environment = synthesized.resource(stack.lambdas.functions["webhook_delivery"])["Properties"]["Environment"]
    assert environment["Variables"][webhooks.ENV_WEBHOOKS_QUEUE_URL] == {
        "Ref": synthesized.logical_id(stack.webhooks.queue)
    }
    api = synthesized.resource(stack.lambdas.functions["operator_api"])["Properties"]["Environment"]["Variables"]
    assert webhooks.ENV_WEBHOOKS_QUEUE_URL in api


def test_only_this_rule_may_send_to_the_queue_and_use_the_key_for_it(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    rule_arn_tail = f"rule/payportal-{stack.config.stage}/{webhooks.rule_name_for(stack.config.stage)}"
    assert synthesized.resource(stack.webhooks.rule)["Properties"]["Name"] == webhooks.rule_name_for(stack.config.stage)
    policy = synthesized.resource(stack.storage.key)["Properties"]["KeyPolicy"]["Statement"]
    grants = [s for s in policy if s.get("Principal") == {"Service": "events.amazonaws.com"}]
    for_rule = [s for s in grants if rule_arn_tail in json.dumps(s.get("Condition"))]
    assert [set(s["Action"]) for s in for_rule] == [{"kms:Decrypt", "kms:GenerateDataKey"}]
    # Besides it, only the bus's own grant (bound to the bus by its encryption context)
    others = [s for s in grants if s not in for_rule]
    assert all("kms:EncryptionContext:aws:events:event-bus:arn" in s["Condition"]["StringEquals"] for s in others)
    for queue in (stack.webhooks.queue, stack.webhooks.dlq):
        queue_id = synthesized.logical_id(queue)
        statements = [
            s
            for p in synthesized.resources("AWS::SQS::QueuePolicy").values()
            if {"Ref": queue_id} in p["Properties"]["Queues"]
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Allow"
        ]
        assert statements and all(rule_arn_tail in json.dumps(s["Condition"]) for s in statements)


def test_a_disabled_endpoint_raises_an_alarm(synthesized: Synthesized) -> None:
    alarms = synthesized.resources("AWS::CloudWatch::Alarm").values()
    [alarm] = [a["Properties"] for a in alarms if a["Properties"].get("MetricName") == "WebhookEndpointsDisabled"]
    assert alarm["Threshold"] == 1 and alarm["AlarmActions"]
