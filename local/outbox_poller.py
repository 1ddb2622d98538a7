"""Lambda's DynamoDB stream event source mapping for the outbox function, in one background thread.

Like the deployed mapping: records are read in order from the table's stream (moto's, over HTTP), only
those matching the filter reach the function, in batches; the function answers with a partial batch
response. On failures Lambda resumes the shard at the lowest failed sequence number, so that record and
every later one in the batch come again (the handler must be idempotent, as in AWS). After
`max_attempts` deliveries the failed records are dead-lettered (kept for `GET /_local/dead-letters`)
and the shard moves on.

moto's records differ from what Lambda delivers in small ways, normalised here: `eventSourceARN` is
added, `eventVersion` is "1.1", `ApproximateCreationDateTime` is epoch seconds, binary attributes are
base64 text.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from moto.dynamodbstreams.models import dynamodbstreams_backends

from local.aws import MOTO_LOCK
from local.config import ACCOUNT_ID, REGION
from shared.clock import wall_clock_now

logger = logging.getLogger("local.outbox")

Invoke = Callable[[dict[str, Any]], Any]


class OutboxHandlerUnavailable(RuntimeError):
    """The outbox function cannot be loaded; records stay on the stream until it can."""


def matches(pattern: Mapping[str, Any], value: Any) -> bool:
    """EventBridge-style filter matching, the subset event source mapping filters here use: nested
    objects, lists of allowed values, and `{"prefix": ...}`."""
    if not isinstance(value, Mapping):
        return False
    for key, expected in pattern.items():
        actual = value.get(key)
        if isinstance(expected, Mapping):
            if not matches(expected, actual):
                return False
        elif not any(_matches_one(option, actual) for option in expected):
            return False
    return True


def _matches_one(option: Any, actual: Any) -> bool:
    if isinstance(option, Mapping):
        prefix = option.get("prefix")
        return isinstance(prefix, str) and isinstance(actual, str) and actual.startswith(prefix)
    return bool(option == actual)


def _to_lambda_attribute(value: Any) -> Any:
    """An attribute value as boto3 returned it -> as Lambda's JSON event carries it."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, Mapping):
        return {key: _to_lambda_attribute(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_lambda_attribute(item) for item in value]
    return value


def to_lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A `get_records` record -> the record Lambda puts in a DynamoDB stream event."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    for image in ("Keys", "NewImage", "OldImage"):
        if image in change:
            change[image] = _to_lambda_attribute(change[image])
    lambda_record = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": record["awsRegion"],
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in record:
        lambda_record["userIdentity"] = record["userIdentity"]
    return lambda_record


class OutboxPoller:
    def __init__(
        self,
        *,
        streams_client: Any,
        stream_arn: str,
        invoke: Invoke,
        filter_pattern: Mapping[str, Any],
        batch_size: int = 100,
        max_attempts: int = 3,
        interval_s: float = 0.25,
    ) -> None:
        self._streams = streams_client
        self._stream_arn = stream_arn
        self._invoke = invoke
        self._filter = filter_pattern
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._interval_s = interval_s

        self._lock = threading.Lock()  # one tick at a time: the thread or drain()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shard_id: str | None = None
        # Where the next read starts: the shard's beginning, after the last handled record, or at the
        # lowest record of a failed batch.
        self._position: dict[str, str] = {"ShardIteratorType": "TRIM_HORIZON"}
        self._attempts: dict[str, int] = {}
        self._handed_out: list[str] = []  # shard iterators this poller got from moto, to prune
        self._retry_pending = False
        self._last_problem = ""
        self.dead_letters: list[dict[str, Any]] = []
        self.delivered_batches = 0

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="outbox-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                with self._lock:
                    try:
                        self._tick()
                    finally:
                        self._forget_iterators()
                self._last_problem = ""
            except Exception as error:
                self._report(error)

    def _report(self, error: Exception) -> None:
        problem = f"{type(error).__name__}: {error}"
        if problem != self._last_problem:  # once per distinct problem, not 4 times a second
            logger.warning("outbox poller: %s", problem)
            self._last_problem = problem
        self._shard_id = None

    def drain(self, timeout_s: float = 30.0) -> None:
        """Deliver everything on the stream now (retries and dead-lettering included); for tests."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            try:
                while True:
                    handled = self._tick()
                    if not handled and not self._retry_pending:
                        return
                    if time.monotonic() > deadline:
                        raise TimeoutError("the outbox stream did not drain in time")
            finally:
                self._forget_iterators()

    # -- one poll --------------------------------------------------------------------------------------

    def _shard(self) -> str:
        if self._shard_id is None:
            shards = self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]["Shards"]
            if not shards:
                raise RuntimeError("the table's stream has no shard")
            self._shard_id = shards[0]["ShardId"]
        return self._shard_id

    def _tick(self) -> int:
        """Read from the current position and deliver one batch; the number of records moved past."""
        iterator = self._streams.get_shard_iterator(
            StreamArn=self._stream_arn, ShardId=self._shard(), **self._position
        )["ShardIterator"]
        self._handed_out.append(iterator)
        reply = self._streams.get_records(ShardIterator=iterator, Limit=1000)
        if reply.get("NextShardIterator"):
            self._handed_out.append(reply["NextShardIterator"])
        records = reply["Records"]
        if not records:
            self._retry_pending = False
            return 0

        batch: list[dict[str, Any]] = []
        last_seen = records[0]["dynamodb"]["SequenceNumber"]
        for record in records:
            if len(batch) == self._batch_size:
                break
            last_seen = record["dynamodb"]["SequenceNumber"]
            if matches(self._filter, record):
                batch.append(to_lambda_record(record, self._stream_arn))
        if not batch:
            self._position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last_seen}
            self._retry_pending = False
            return len(records)

        failed = self._deliver(batch)
        if not failed:
            self._position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last_seen}
            self._retry_pending = False
            return len(records)

        lowest = min(failed, key=int)
        attempts = self._attempts.get(lowest, 0) + 1
        if attempts < self._max_attempts:
            self._attempts[lowest] = attempts
            self._position = {"ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": lowest}
            self._retry_pending = True
            logger.info(
                "outbox: %d record(s) failed (attempt %d/%d); retrying", len(failed), attempts, self._max_attempts
            )
            return 1
        self._attempts.pop(lowest, None)
        for record in batch:
            if record["dynamodb"]["SequenceNumber"] in failed:
                self.dead_letters.append(
                    {"record": record, "attempts": attempts, "dead_lettered_at": wall_clock_now().isoformat()}
                )
        logger.warning("outbox: %d record(s) dead-lettered after %d attempts", len(failed), attempts)
        self._position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last_seen}
        self._retry_pending = False
        return len(records)

    def _deliver(self, batch: list[dict[str, Any]]) -> set[str]:
        """Call the function; the sequence numbers to deliver again (all of them if it raised)."""
        sequence_numbers = {record["dynamodb"]["SequenceNumber"] for record in batch}
        try:
            response = self._invoke({"Records": batch})
        except OutboxHandlerUnavailable:
            raise
        except Exception:
            logger.exception("outbox function failed on a batch of %d record(s)", len(batch))
            return sequence_numbers
        self.delivered_batches += 1
        if not isinstance(response, Mapping):
            return set()
        failures = response.get("batchItemFailures") or []
        failed = {str(item.get("itemIdentifier")) for item in failures if isinstance(item, Mapping)}
        # Lambda treats an identifier it did not send (or a blank one) as the whole batch failing.
        if failed - sequence_numbers or len(failed) != len(failures):
            return sequence_numbers
        return failed

    def _forget_iterators(self) -> None:
        # moto keeps every shard iterator it ever handed out; at a few polls a second that adds up over a
        # day of `make dev`. This poller's spent iterators go; anyone else's (a test reading the stream)
        # stay.
        spent, self._handed_out = self._handed_out, []
        try:
            with MOTO_LOCK:
                iterators = dynamodbstreams_backends[ACCOUNT_ID][REGION].shard_iterators
                for arn in spent:
                    iterators.pop(arn, None)
        except Exception:  # moto internals: best effort only
            logger.debug("could not prune moto's shard iterators", exc_info=True)
