"""The outbox function sees only new outbox items, retries per item, and parks what still fails."""

from __future__ import annotations

import json
from typing import Any

from infra.components import outbox
from shared import schema
from tests.infra.conftest import Synthesized


def stream_mappings(synthesized: Synthesized) -> list[dict[str, Any]]:
    mappings = synthesized.resources("AWS::Lambda::EventSourceMapping").values()
    return [m for m in mappings if "StreamArn" in str(m["Properties"]["EventSourceArn"])]


def test_only_inserted_outbox_items_invoke_the_outbox(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    [mapping] = stream_mappings(synthesized)
    properties = mapping["Properties"]

    assert properties["FunctionName"] == {"Ref": synthesized.logical_id(stack.lambdas.functions["outbox"])}
    assert properties["EventSourceArn"] == {"Fn::GetAtt": [synthesized.logical_id(stack.storage.table), "StreamArn"]}
    [pattern] = [json.loads(f["Pattern"]) for f in properties["FilterCriteria"]["Filters"]]
    assert pattern == {
        "eventName": ["INSERT"],
        "dynamodb": {"Keys": {schema.PARTITION_KEY: {"S": [{"prefix": "OUTBOX#"}]}}},
    }


def test_failures_are_retried_per_item_and_then_sent_to_the_dlq(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    [mapping] = stream_mappings(synthesized)
    properties = mapping["Properties"]

    assert properties["StartingPosition"] == "TRIM_HORIZON"
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BisectBatchOnFunctionError"] is True
    assert properties["MaximumRetryAttempts"] == outbox.RETRY_ATTEMPTS
    # Stream records live 24 h: a DLQ entry must still point at readable records
    assert 0 < properties["MaximumRecordAgeInSeconds"] < 24 * 3600
    assert properties["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [synthesized.logical_id(stack.outbox.dlq), "Arn"]
    }


def test_the_dlq_is_encrypted_with_the_data_key_and_refuses_plain_http(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    queue = synthesized.resource(stack.outbox.dlq)["Properties"]

    assert queue["KmsMasterKeyId"] == {"Fn::GetAtt": [synthesized.logical_id(stack.storage.key), "Arn"]}
    queue_id = synthesized.logical_id(stack.outbox.dlq)
    [policy] = [
        p
        for p in synthesized.resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in p["Properties"]["Queues"]
    ]
    [deny] = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
