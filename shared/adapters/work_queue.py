"""SQS as a work queue: a scheduled run that runs out of time leaves the rest here for its continuations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

SQS_BATCH_LIMIT = 10


class SqsWorkQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send(self, bodies: Sequence[dict[str, Any]]) -> None:
        """Every body, or an error: a continuation that is silently lost would leave reminders unsent
        until the next hourly run."""
        for start in range(0, len(bodies), SQS_BATCH_LIMIT):
            chunk = bodies[start : start + SQS_BATCH_LIMIT]
            reply = self._sqs.send_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "MessageBody": json.dumps(body)} for i, body in enumerate(chunk)],
            )
            if reply.get("Failed"):
                codes = sorted({f.get("Code", "?") for f in reply["Failed"]})
                raise RuntimeError(f"SQS refused {len(reply['Failed'])} continuation(s): {', '.join(codes)}")

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        """Keep a received message out of sight for `seconds` (at most 12 h, SQS's limit), then deliver it
        again: the handler reports it failed, so SQS does not delete it."""
        self._sqs.change_message_visibility(
            QueueUrl=self._url, ReceiptHandle=receipt_handle, VisibilityTimeout=min(seconds, 43_200)
        )
