"""The continuation queues' event source mappings, offline.

In AWS, a dunning run that runs out of time leaves one message per unfinished shard on its SQS queue, and
Lambda's event source mapping invokes the function with each. Here `POST /_local/schedules/{name}/run`
drains the queue right after the scheduled invocation, one message per invocation as deployed, so the
run's response reports the whole job. A message whose invocation fails stays on the queue (as SQS
would keep it until its DLQ), and the drain stops rather than spin.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from local.config import ACCOUNT_ID, REGION

logger = logging.getLogger("local.continuations")

Invoke = Callable[[str, dict[str, Any]], Any]
MAX_INVOCATIONS = 10_000


def sqs_event(message: dict[str, Any], queue_name: str) -> dict[str, Any]:
    """What Lambda's SQS event source hands the function for one message."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {k: str(v) for k, v in message.get("Attributes", {}).items()},
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue_name}",
                "awsRegion": REGION,
            }
        ]
    }


class ContinuationQueues:
    def __init__(self, sqs: Any, urls: Mapping[str, str], invoke: Invoke) -> None:
        self._sqs = sqs
        self._urls = dict(urls)
        self._invoke = invoke

    def drain(self, name: str) -> int:
        """Invoke `name` with every message on its continuation queue, including those the invocations
        add; returns how many continuations ran."""
        url = self._urls.get(name)
        if url is None:
            return 0
        queue_name = url.rsplit("/", 1)[-1]
        ran = 0
        while ran < MAX_INVOCATIONS:
            reply = self._sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"])
            messages = reply.get("Messages", [])
            if not messages:
                return ran
            message = messages[0]
            try:
                result = self._invoke(name, sqs_event(message, queue_name))
            except Exception:
                logger.exception("continuation of %s failed; it stays on the queue", name)
                return ran
            ran += 1
            if (result or {}).get("batchItemFailures"):
                logger.error("continuation of %s reported a failure; it stays on the queue", name)
                return ran
            self._sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return ran
