"""Incident tools for a deployed stage: run a scheduled job now, redrive outbox messages never delivered.

- `run_job`: invokes a scheduled function (reminders, charges, balances) the way EventBridge Scheduler does,
  with the payload `{}`, but synchronously, and returns the summary it answers with. Running a job again is
  safe at any time: each is exactly-once per item by its own guards (reminders per invoice and step, charges
  per installment and attempt; balances only reads).
- `redrive_outbox`: finds outbox messages still `pending`, or `claimed` by a worker whose lease ran out, that
  are older than a threshold (younger ones are the stream's, still in flight), and hands them to the outbox
  function as the table's stream would: batches of INSERT records. The function claims each message before
  sending it, so one delivered meanwhile, by the stream or another redrive, is not sent twice.

Both take their ports (Protocols below), so tests run them over moto with the functions' handlers in-process.
Nothing here prints a message's `data`: ids, kinds, names, statuses and counts only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from cli.stripe_setup import SetupError
from shared.routes import SCHEDULED_FUNCTIONS, STREAM_FUNCTIONS

# The same names infra/stack.py gives the outputs (tests/integration/test_cli_operations.py holds them equal).
OUTPUT_TABLE_NAME: Final = "TableName"
JOBS: Final = tuple(sorted(SCHEDULED_FUNCTIONS))
OUTBOX_FUNCTION: Final = STREAM_FUNCTIONS[0]
# The outbox function's event source mapping delivers up to this many records per invocation.
OUTBOX_BATCH_SIZE: Final = 10
DEFAULT_OLDER_THAN_MINUTES: Final = 10
# What shared/adapters/dynamodb/items.py writes (`outbox_item`), and the statuses outbox_store.py sets.
OUTBOX_PREFIX: Final = "OUTBOX#"
OUTBOX_SORT_KEY: Final = "OUTBOX"


def function_output_for(name: str) -> str:
    """`charges` -> `ChargesFunctionName`: the stack output naming a function's deployed name."""
    return "".join(part.capitalize() for part in name.split("_")) + "FunctionName"


# -- ports -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invocation:
    result: Any  # the function's JSON reply; with function_error, Lambda's error object
    function_error: str | None = None  # Lambda's FunctionError ("Unhandled") when the function failed


class Functions(Protocol):
    def invoke(self, function_name: str, payload: Mapping[str, Any]) -> Invocation:
        """A synchronous (RequestResponse) invocation, never retried: a retry could run a job twice at once."""
        ...


@dataclass(frozen=True, slots=True)
class OutboxScan:
    items: list[dict[str, Any]]  # in DynamoDB's wire format ({"S": ...}), the projected attributes only
    scanned: int  # items read: what the scan cost, whatever it returned
    capacity_units: float | None = None


class OutboxTable(Protocol):
    name: str

    def undelivered(self, now: int) -> OutboxScan:
        """Outbox items `pending`, or `claimed` with a lease that ended before `now` (epoch seconds)."""
        ...

    def stream_arn(self) -> str: ...


# -- jobs ----------------------------------------------------------------------------------------------------


def run_job(job: str, *, function_name: str, functions: Functions) -> Any:
    """The job's summary; a `SetupError` with the function's error when it failed."""
    if job not in SCHEDULED_FUNCTIONS:
        raise SetupError(f"no job {job!r}: the jobs are {', '.join(JOBS)}", exit_code=2)
    invocation = functions.invoke(function_name, {})  # what EventBridge Scheduler sends: the target has no input
    if invocation.function_error:
        raise SetupError(f"job {job} failed in {function_name}: {describe_error(invocation.result)}")
    return invocation.result


def describe_error(result: Any) -> str:
    """Lambda's error object as one line: `errorType: errorMessage`, never the stack trace."""
    if not isinstance(result, Mapping):
        return _one_line(str(result)) or "no error details"
    kind = str(result.get("errorType") or "error")
    message = _one_line(str(result.get("errorMessage") or ""))
    return f"{kind}: {message}" if message else kind


def _one_line(text: str, limit: int = 500) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# -- the outbox ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StuckMessage:
    id: str
    kind: str
    name: str
    status: str
    created_at: datetime
    attempts: int
    last_error: str
    item: dict[str, Any]  # as the scan returned it: the stream record's keys and image

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> StuckMessage:
        try:
            created_at = datetime.fromisoformat(_text(item, "created_at"))
        except ValueError:  # outbox_item always writes one; without it, the message counts as old, not lost
            created_at = datetime.fromtimestamp(0, UTC)
        return cls(
            id=_text(item, "id") or _text(item, "pk").removeprefix(OUTBOX_PREFIX),
            kind=_text(item, "kind"),
            name=_text(item, "name"),
            status=_text(item, "status"),
            created_at=created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC),
            attempts=int(item.get("attempts", {}).get("N", "0")),
            last_error=_text(item, "last_error"),
            item=dict(item),
        )

    def describe(self) -> str:
        tried = f", {self.attempts} attempt(s)" if self.attempts else ""
        error = f", last error {self.last_error}" if self.last_error else ""
        created = self.created_at.astimezone(UTC).isoformat(timespec="seconds")
        return f"{self.id}  {self.kind} {self.name}  {self.status}, created {created}{tried}{error}"


def _text(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name) or {}
    return str(value.get("S", "")) if isinstance(value, Mapping) else ""


@dataclass(frozen=True, slots=True)
class RedriveReport:
    found: tuple[str, ...]  # the message ids handed to the function (or that would be, in a dry run)
    failed: tuple[str, ...]
    skipped: int  # undelivered but younger than the threshold: left to the stream


def redrive_outbox(
    *,
    table: OutboxTable,
    functions: Functions,
    function_name: str,
    older_than: timedelta,
    now: datetime,
    dry_run: bool,
    say: Callable[[str], None],
) -> RedriveReport:
    """Hand undelivered outbox messages older than `older_than` to the outbox function, in stream-sized batches.
    Ends in a `SetupError` naming the messages the function failed on; they stay in the table for the next run."""
    scan = table.undelivered(int(now.timestamp()))
    undelivered = [StuckMessage.from_item(item) for item in scan.items]
    cutoff = now - older_than
    stuck = sorted((m for m in undelivered if m.created_at <= cutoff), key=lambda m: (m.created_at, m.id))
    skipped = len(undelivered) - len(stuck)
    cost = f", {scan.capacity_units:g} read capacity unit(s)" if scan.capacity_units else ""
    say(f"Scanned {scan.scanned} item(s) of table {table.name}{cost}.")
    minutes = f"{older_than.total_seconds() / 60:g} minute(s)"
    if skipped:
        say(f"{skipped} undelivered message(s) younger than {minutes} left to the stream.")
    if not stuck:
        say(f"No outbox message older than {minutes} is waiting for delivery.")
        return RedriveReport(found=(), failed=(), skipped=skipped)
    if dry_run:
        say(f"{len(stuck)} outbox message(s) older than {minutes} would be redriven (dry run: nothing invoked):")
        for message in stuck:
            say(f"  {message.describe()}")
        return RedriveReport(found=tuple(m.id for m in stuck), failed=(), skipped=skipped)

    stream_arn = table.stream_arn()
    batches = [stuck[i : i + OUTBOX_BATCH_SIZE] for i in range(0, len(stuck), OUTBOX_BATCH_SIZE)]
    failed: list[str] = []
    sequence = 0
    for number, batch in enumerate(batches, start=1):
        records = []
        by_sequence: dict[str, str] = {}
        for message in batch:
            sequence += 1
            record = stream_record(message, sequence_number=f"{sequence:021d}", stream_arn=stream_arn, now=now)
            by_sequence[record["dynamodb"]["SequenceNumber"]] = message.id
            records.append(record)
        invocation = functions.invoke(function_name, {"Records": records})
        if invocation.function_error:
            # All records failed (Powertools then fails the invocation), or the function itself did.
            batch_failed = [m.id for m in batch]
            reason = f" ({describe_error(invocation.result)})"
        else:
            batch_failed = _failed_ids(invocation.result, by_sequence)
            reason = ""
        failed.extend(batch_failed)
        handled = len(batch) - len(batch_failed)
        line = f"Batch {number}/{len(batches)}: {handled} sent or already handled, {len(batch_failed)} failed{reason}"
        say(line + (f": {', '.join(batch_failed)}" if batch_failed else ""))
    if failed:
        raise SetupError(
            f"{len(failed)} of {len(stuck)} outbox message(s) were not delivered ({', '.join(failed)}): the outbox "
            f"function's logs say why. They stay in the table; redrive again after the fix."
        )
    say(f"Redrove {len(stuck)} outbox message(s) through {function_name}.")
    return RedriveReport(found=tuple(m.id for m in stuck), failed=(), skipped=skipped)


def stream_record(message: StuckMessage, *, sequence_number: str, stream_arn: str, now: datetime) -> dict[str, Any]:
    """The record the table's stream sends the outbox function for an INSERT of `message`. The image holds the
    scanned attributes only (not `data`): the function reads the message itself when it claims it."""
    keys = {"pk": message.item["pk"], "sk": message.item["sk"]}
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": stream_arn.split(":")[3],
        "dynamodb": {
            "ApproximateCreationDateTime": int(now.timestamp()),
            "Keys": keys,
            "NewImage": message.item,
            "SequenceNumber": sequence_number,
            "SizeBytes": len(json.dumps(message.item)),
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": stream_arn,
    }


def _failed_ids(result: Any, by_sequence: Mapping[str, str]) -> list[str]:
    """The message ids named by a partial batch response. Like Lambda, an answer that names a record it was not
    sent, or is not a partial batch response at all, counts as the whole batch failing."""
    failures = result.get("batchItemFailures") if isinstance(result, Mapping) else None
    if not isinstance(failures, Sequence):
        return list(by_sequence.values())
    named = [str(f.get("itemIdentifier")) if isinstance(f, Mapping) else "" for f in failures]
    if any(identifier not in by_sequence for identifier in named):
        return list(by_sequence.values())
    return [message_id for sequence, message_id in by_sequence.items() if sequence in named]
