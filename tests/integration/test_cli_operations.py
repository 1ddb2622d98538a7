"""`payportal jobs run` and `payportal outbox redrive`: the function the stack's outputs name, invoked as its
trigger would invoke it. The redrive runs end to end over moto, with the outbox function in-process."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from cli.__main__ import main
from shared.domain.messages import Event, EventName, MessageBody, OutboxMessage, ReminderEmail
from shared.routes import SCHEDULED_FUNCTIONS
from shared.services.ports import Change
from tests.integration.conftest import REGION, TABLE, Aws
from tests.support import FakeLambdaContext

STAGE = "test"
STACK = f"payportal-{STAGE}"
OUTBOX_FUNCTION = "payportal-test-FunctionsOutbox-1A2B3C"
JOB_FUNCTIONS = {job: f"payportal-test-Functions{job.capitalize()}-4D5E6F" for job in SCHEDULED_FUNCTIONS}
OUTPUTS = {
    "ApiUrl": f"https://abc123.execute-api.{REGION}.amazonaws.com/{STAGE}/",
    "TableName": TABLE,
    "OutboxFunctionName": OUTBOX_FUNCTION,
    **{f"{job.capitalize()}FunctionName": name for job, name in JOB_FUNCTIONS.items()},
}
PRIVATE = "cus_private_42"  # in messages' data: never printed


@dataclass
class Run:
    code: int
    out: str
    err: str


def run(*argv: str, clients: Mapping[str, Any]) -> Run:
    def aws_client(service: str, region: str | None) -> Any:
        return clients[service]

    out, err = io.StringIO(), io.StringIO()
    code = main([*argv, "--stage", STAGE], stdout=out, stderr=err, environ={}, aws_client=aws_client)
    return Run(code, out.getvalue(), err.getvalue())


def cloudformation(outputs: Mapping[str, str] = OUTPUTS) -> Any:
    """CloudFormation answering one DescribeStacks for the stage's stack with `outputs`."""
    client = boto3.client("cloudformation", region_name=REGION)
    stubber = Stubber(client)
    stack = {
        "StackName": STACK,
        "CreationTime": datetime.now(UTC),
        "StackStatus": "UPDATE_COMPLETE",
        "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
    }
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK})
    stubber.activate()
    return client


def body(value: Any) -> StreamingBody:
    raw = json.dumps(value).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def invoke_reply(result: Any, function_error: str | None = None) -> dict[str, Any]:
    reply = {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": body(result)}
    return reply | ({"FunctionError": function_error} if function_error else {})


@dataclass
class InProcessLambda:
    """Lambda's Invoke for one function, running its handler here (over moto) instead of in AWS."""

    function_name: str
    handler: Callable[[dict[str, Any], Any], Any]
    events: list[dict[str, Any]] = field(default_factory=list)

    def invoke(self, *, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:
        assert (FunctionName, InvocationType) == (self.function_name, "RequestResponse")
        event = json.loads(Payload)
        self.events.append(event)
        try:
            return invoke_reply(self.handler(event, FakeLambdaContext(function_name=FunctionName)))
        except Exception as error:  # what Lambda answers when the handler raises
            return invoke_reply({"errorType": type(error).__name__, "errorMessage": str(error)}, "Unhandled")

    @property
    def batches(self) -> list[list[str]]:
        """The outbox message ids in each invocation's records."""
        return [[r["dynamodb"]["Keys"]["pk"]["S"].removeprefix("OUTBOX#") for r in e["Records"]] for e in self.events]


# -- jobs run ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("job", sorted(SCHEDULED_FUNCTIONS))
def test_jobs_run_invokes_the_stages_function_as_its_schedule_does_and_prints_its_summary(job: str) -> None:
    # Given: the function answers with its run summary
    summary = {"examined": 12, "sent": 3, "remaining": 0}
    lambda_client = boto3.client("lambda", region_name=REGION)
    expected = {"FunctionName": JOB_FUNCTIONS[job], "InvocationType": "RequestResponse", "Payload": b"{}"}
    with Stubber(lambda_client) as stubber:
        stubber.add_response("invoke", invoke_reply(summary), expected)
        # When
        result = run("jobs", "run", job, clients={"cloudformation": cloudformation(), "lambda": lambda_client})
        # Then: that function, with EventBridge Scheduler's payload, once
        stubber.assert_no_pending_responses()
    assert result.code == 0, result.err
    assert json.loads(result.out) == summary
    assert result.err == ""


def test_a_job_that_failed_ends_with_its_error_on_one_line_and_status_1() -> None:
    # Given: the function raised
    error = {
        "errorType": "OutboxBusy",
        "errorMessage": "the charge run stopped:\nStripe did not answer",
        "stackTrace": ['  File "/var/task/functions/charges/handler.py", line 30, in lambda_handler'],
        "requestId": "3f2c9a",
    }
    lambda_client = boto3.client("lambda", region_name=REGION)
    with Stubber(lambda_client) as stubber:
        stubber.add_response("invoke", invoke_reply(error, "Unhandled"))
        # When
        result = run("jobs", "run", "charges", clients={"cloudformation": cloudformation(), "lambda": lambda_client})
    # Then
    assert result.code == 1
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert "OutboxBusy: the charge run stopped: Stripe did not answer" in result.err
    assert JOB_FUNCTIONS["charges"] in result.err
    assert "File " not in result.err and "Traceback" not in result.err


def test_an_unknown_job_is_a_usage_error_and_calls_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run("jobs", "run", "payouts", clients={})  # no AWS client: any call would fail the test
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'payouts'" in err
    assert all(job in err for job in SCHEDULED_FUNCTIONS)


def test_a_stack_deployed_before_the_function_outputs_says_to_redeploy() -> None:
    older = {"ApiUrl": OUTPUTS["ApiUrl"], "TableName": TABLE}
    result = run("jobs", "run", "reminders", clients={"cloudformation": cloudformation(older)})
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert "has no RemindersFunctionName output" in result.err and "redeploy" in result.err


@pytest.mark.parametrize("job", sorted(SCHEDULED_FUNCTIONS))
def test_each_scheduled_handler_runs_on_the_schedulers_payload(
    job: str, aws: Aws, request: pytest.FixtureRequest
) -> None:
    # Given: the real handler behind Invoke, over an empty table (and the local Stripe, for the one that reads it)
    import importlib

    if job == "reconcile":
        request.getfixturevalue("stripe")

    handler = importlib.import_module(f"functions.{job}.handler").lambda_handler
    function = InProcessLambda(JOB_FUNCTIONS[job], handler)
    # When
    result = run("jobs", "run", job, clients={"cloudformation": cloudformation(), "lambda": function})
    # Then: it ran on `{}` and its summary is printed
    assert result.code == 0, result.err
    assert function.events == [{}]
    assert isinstance(json.loads(result.out), dict)


def test_the_lambda_client_waits_for_the_whole_run_and_never_retries_an_invocation() -> None:
    # A retried synchronous Invoke would start the job again while the first run still goes on.
    from cli.adapters import aws_client

    config = aws_client("lambda", REGION).meta.config
    assert config.read_timeout > 900  # Lambda's longest run
    assert config.retries["total_max_attempts"] == 1


def test_the_cli_uses_the_output_names_the_stack_is_deployed_with() -> None:
    # infra/ is not imported by the CLI (aws_cdk takes seconds to load), so the names are held equal here.
    from cli import operations
    from infra.stack import OUTBOX_FUNCTION as INFRA_OUTBOX_FUNCTION
    from infra.stack import OUTPUT_TABLE_NAME, function_output_for

    assert operations.OUTPUT_TABLE_NAME == OUTPUT_TABLE_NAME
    assert operations.OUTBOX_FUNCTION == INFRA_OUTBOX_FUNCTION
    for name in (INFRA_OUTBOX_FUNCTION, *SCHEDULED_FUNCTIONS, "email_feedback"):
        assert operations.function_output_for(name) == function_output_for(name)


# -- outbox redrive -----------------------------------------------------------------------------------------


def queued(label: str, *, age: timedelta, email_for: str | None = None) -> OutboxMessage:
    """An outbox message as a service's transaction writes it, `age` ago: a domain event told apart by the
    `label` in its detail, or (`email_for` an invoice id) a reminder email whose copy is named `label`."""
    from shared.wiring import ledger

    created_at = datetime.now(UTC) - age
    body: MessageBody = (
        ReminderEmail(email_for, step="+7", step_template=label)
        if email_for
        else Event(EventName.INVOICE_CREATED, {"label": label, "customer_id": PRIVATE})
    )
    message = OutboxMessage(body, created_at)
    ledger().commit(Change(outbox=[message]))
    return message


def statuses(aws: Aws) -> dict[str, str]:
    return {item["id"]: item["status"] for item in aws.items("OUTBOX#")}


@dataclass
class Outbox:
    aws: Aws
    function: InProcessLambda

    def redrive(self, *argv: str) -> Run:
        clients = {
            "cloudformation": cloudformation(),
            "dynamodb": boto3.client("dynamodb", region_name=REGION),
            "lambda": self.function,
        }
        return run("outbox", "redrive", *argv, clients=clients)


@pytest.fixture
def outbox(aws: Aws) -> Outbox:
    from functions.outbox.handler import lambda_handler

    return Outbox(aws, InProcessLambda(OUTBOX_FUNCTION, lambda_handler))


def test_redrive_delivers_exactly_the_stuck_messages_once(outbox: Outbox, aws: Aws) -> None:
    from shared.wiring import ledger

    # Given: two messages the stream never delivered...
    pending = queued("stuck_pending", age=timedelta(hours=2))
    abandoned = queued("stuck_abandoned", age=timedelta(hours=1))
    assert ledger().claim(abandoned.id, -1, "worker-that-died") is not None  # its lease has run out
    # ...and three that are not the redrive's
    recent = queued("in_flight", age=timedelta(minutes=1))
    delivered = queued("delivered", age=timedelta(hours=1))
    assert ledger().claim(delivered.id, 60, "worker") is not None
    ledger().mark_delivered(delivered.id, "worker")
    leased = queued("being_sent", age=timedelta(hours=1))
    assert ledger().claim(leased.id, 600, "live-worker") is not None
    # When
    result = outbox.redrive()
    # Then: the two stuck ones went out, in one stream-shaped batch, oldest first
    assert result.code == 0, result.err
    assert statuses(aws) == {
        pending.id: "delivered",
        abandoned.id: "delivered",
        recent.id: "pending",
        delivered.id: "delivered",
        leased.id: "claimed",
    }
    assert sorted(e["detail"]["label"] for e in aws.domain_events()) == ["stuck_abandoned", "stuck_pending"]
    assert outbox.function.batches == [[pending.id, abandoned.id]]
    assert "Batch 1/1: 2 sent or already handled, 0 failed" in result.out
    assert "1 undelivered message(s) younger than 10 minute(s) left to the stream" in result.out
    [record, _] = outbox.function.events[0]["Records"]
    stream_arn = aws.dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    assert (record["eventName"], record["eventSource"], record["eventSourceARN"]) == (
        "INSERT",
        "aws:dynamodb",
        stream_arn,
    )
    assert record["dynamodb"]["Keys"] == {"pk": {"S": f"OUTBOX#{pending.id}"}, "sk": {"S": "OUTBOX"}}
    assert record["dynamodb"]["NewImage"]["status"] == {"S": "pending"}
    assert "data" not in record["dynamodb"]["NewImage"]  # projected away: the function reads the message itself

    # When: redriven again
    again = outbox.redrive()
    # Then: nothing left to do, nothing sent twice
    assert again.code == 0, again.err
    assert "No outbox message older than 10 minute(s) is waiting for delivery" in again.out
    assert len(outbox.function.events) == 1
    assert aws.domain_events() == []


def test_a_dry_run_lists_ids_kinds_and_names_and_changes_nothing(outbox: Outbox, aws: Aws) -> None:
    # Given
    event = queued("stuck_pending", age=timedelta(hours=2))
    email = queued(PRIVATE, email_for="inv_1", age=timedelta(hours=1))
    before = aws.items("OUTBOX#")
    # When
    result = outbox.redrive("--dry-run")
    # Then
    assert result.code == 0, result.err
    assert "2 outbox message(s) older than 10 minute(s) would be redriven (dry run: nothing invoked)" in result.out
    assert f"{event.id}  event invoice.created  pending" in result.out
    assert f"{email.id}  email reminder  pending" in result.out
    assert PRIVATE not in result.out and "inv_1" not in result.out
    assert outbox.function.events == []
    assert aws.items("OUTBOX#") == before
    assert aws.domain_events() == []


def test_redrive_hands_the_function_at_most_ten_records_at_a_time(outbox: Outbox, aws: Aws) -> None:
    # Given
    messages = [queued(f"stuck_{n:02d}", age=timedelta(hours=1, minutes=n)) for n in range(12)]
    # When
    result = outbox.redrive()
    # Then
    assert result.code == 0, result.err
    assert [len(batch) for batch in outbox.function.batches] == [10, 2]
    assert set(statuses(aws).values()) == {"delivered"}
    assert len(aws.domain_events()) == len(messages)
    assert "Batch 1/2: 10 sent" in result.out and "Batch 2/2: 2 sent" in result.out


def test_a_message_the_function_cannot_deliver_is_named_and_ends_the_command_with_status_1(
    outbox: Outbox, aws: Aws
) -> None:
    # Given: an email whose invoice does not exist, next to an event that can go
    broken = queued("first", email_for="inv_missing", age=timedelta(hours=2))
    fine = queued("stuck_pending", age=timedelta(hours=1))
    # When
    result = outbox.redrive()
    # Then: the other one went; the broken one is named, and waits in the table with its error
    assert result.code == 1
    assert f"Batch 1/1: 1 sent or already handled, 1 failed: {broken.id}" in result.out
    assert result.err.count("\n") == 1
    assert f"1 of 2 outbox message(s) were not delivered ({broken.id})" in result.err
    assert "Traceback" not in result.err
    assert statuses(aws) == {broken.id: "pending", fine.id: "delivered"}
    # And the next dry run shows why it is still there
    listed = outbox.redrive("--dry-run")
    assert f"{broken.id}  email reminder  pending" in listed.out
    assert "1 attempt(s), last error NotFound" in listed.out


def test_a_batch_the_function_fails_entirely_is_reported_with_its_error(outbox: Outbox, aws: Aws) -> None:
    # Given: the only message cannot be delivered, so Powertools fails the whole invocation
    broken = queued("first", email_for="inv_missing", age=timedelta(hours=2))
    # When
    result = outbox.redrive()
    # Then
    assert result.code == 1
    assert "0 sent or already handled, 1 failed (BatchProcessingError: " in result.out
    assert broken.id in result.err
    assert statuses(aws) == {broken.id: "pending"}


def test_older_than_minutes_moves_the_line_between_stuck_and_in_flight(outbox: Outbox, aws: Aws) -> None:
    # Given: a message five minutes old
    message = queued("five_minutes_old", age=timedelta(minutes=5))
    # When / Then: by default it is the stream's
    assert "No outbox message older than 10 minute(s)" in outbox.redrive().out
    assert statuses(aws) == {message.id: "pending"}
    # When / Then: with a shorter threshold it is redriven
    result = outbox.redrive("--older-than-minutes", "3")
    assert result.code == 0, result.err
    assert statuses(aws) == {message.id: "delivered"}


def test_older_than_minutes_must_be_a_positive_whole_number(capsys: pytest.CaptureFixture[str]) -> None:
    for value in ("0", "-5", "ten"):
        with pytest.raises(SystemExit) as exited:
            run("outbox", "redrive", "--older-than-minutes", value, clients={})
        assert exited.value.code == 2
    assert "is not a whole number of minutes" in capsys.readouterr().err
