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


def test_only_the_operator_api_the_console_and_the_worker_send_to_the_queue(synthesized: Synthesized) -> None:
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
    assert senders == {"operator_api", "console", "imports"}  # the worker: an uploaded file's chunks, once checked
    for name in senders:
        function = synthesized.resource(stack.lambdas.functions[name])
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables[import_queue.ENV_IMPORTS_QUEUE_URL] == {"Ref": synthesized.logical_id(stack.imports.queue)}


def test_uploads_are_encrypted_private_logged_and_gone_after_a_day(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    bucket = synthesized.resource(stack.imports.uploads)["Properties"]
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {
        "Fn::GetAtt": [synthesized.logical_id(stack.storage.key), "Arn"]
    }
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == {
        "Ref": synthesized.logical_id(stack.access_logs.bucket)
    }
    [expiry] = bucket["LifecycleConfiguration"]["Rules"]
    assert expiry["ExpirationInDays"] == 1
    # TLS only: the bucket policy denies any request without it
    policies = [p for p in synthesized.resources("AWS::S3::BucketPolicy").values()
                if p["Properties"]["Bucket"] == {"Ref": synthesized.logical_id(stack.imports.uploads)}]  # fmt: skip
    [policy] = policies
    denied = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denied)


def test_only_the_operator_api_and_the_worker_touch_uploads_and_only_under_imports(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    bucket_id = synthesized.logical_id(stack.imports.uploads)
    touching: dict[str, set[str]] = {}
    for name, role in stack.lambdas.roles.items():
        role_id = synthesized.logical_id(role)
        for policy in synthesized.resources("AWS::IAM::Policy").values():
            if {"Ref": role_id} not in policy["Properties"]["Roles"]:
                continue
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                s3 = {a for a in actions if a.startswith("s3:")}
                if s3:
                    assert bucket_id in str(statement["Resource"]) and "/imports/*" in str(statement["Resource"])
                    touching.setdefault(name, set()).update(s3)
    assert touching == {
        "operator_api": {"s3:PutObject", "s3:GetObject"},
        "imports": {"s3:GetObject", "s3:DeleteObject"},
    }
    for name in touching:
        variables = synthesized.resource(stack.lambdas.functions[name])["Properties"]["Environment"]["Variables"]
        assert variables[import_queue.ENV_IMPORTS_BUCKET] == {"Ref": bucket_id}
