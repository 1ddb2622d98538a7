"""Lambda's SQS event source mapping for the webhook deliveries queue (batches, partial batch responses), in
background threads. (The bulk import worker's queue, one message at a time, is local/queue_poller.py.)

As deployed: batches of up to 10 messages (with their attributes: the receive count is the attempt number),
the function answers with a partial batch response, and only the messages it did not report are deleted. A
reported one stays on the queue and comes back when its visibility timeout ends, which the function set to its
backoff; moto keeps that timeout in real time, so a retry comes back after a real minute (the first delay).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from local.config import ACCOUNT_ID, REGION

logger = logging.getLogger("local.queues")

Invoke = Callable[[dict[str, Any]], Any]
BATCH_SIZE = 10
# No long polling: the local moto serves one request at a time (local/aws.py, MOTO_LOCK), and a receive that
# waited there would hold every other request up. An empty queue is asked again after this pause instead.
IDLE_PAUSE_S = 0.2


def sqs_event(messages: list[dict[str, Any]], queue_name: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {k: str(v) for k, v in m.get("Attributes", {}).items()},
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue_name}",
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


class BatchQueuePoller:
    def __init__(self, sqs: Any, queue_url: str, invoke: Invoke, *, threads: int = 2) -> None:
        self._sqs = sqs
        self._url = queue_url
        self._name = queue_url.rsplit("/", 1)[-1]
        self._invoke = invoke
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, name=f"sqs-{n}", daemon=True) for n in range(threads)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=IDLE_PAUSE_S + 5)

    def poll_once(self) -> int:
        """One batch, if there is one; returns how many messages it held."""
        reply = self._sqs.receive_message(
            QueueUrl=self._url, MaxNumberOfMessages=BATCH_SIZE, AttributeNames=["All"], WaitTimeSeconds=0
        )
        messages = reply.get("Messages", [])
        if not messages:
            return 0
        try:
            result = self._invoke(sqs_event(messages, self._name)) or {}
        except Exception:
            logger.exception("%s: the function failed; the batch comes back after its visibility timeout", self._name)
            return len(messages)
        failed = {f.get("itemIdentifier") for f in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)],
            )
        return len(messages)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.poll_once():
                    self._stop.wait(IDLE_PAUSE_S)
            except Exception:
                if self._stop.is_set():
                    return  # moto is going away with the stack
                logger.exception("%s: polling failed", self._name)
                self._stop.wait(1)
