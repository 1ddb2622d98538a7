"""payportal: the operator's command line (bin/payportal).

    payportal stripe setup                 [--stage dev] [--region R] [--url API_URL] [--api-key-stdin]
    payportal stripe rotate-webhook-secret [--stage dev] [--region R] [--url API_URL] [--api-key-stdin]
    payportal stripe finish-rotation       [--stage dev] [--region R] [--api-key-stdin]
    payportal jobs run {reminders,charges,balances,reconcile,digest,retention} [--stage dev] [--region R]
    payportal outbox redrive               [--stage dev] [--region R] [--older-than-minutes 10] [--dry-run]
    payportal lists backfill               [--stage dev] [--region R] [--dry-run]
    payportal reports backfill             [--stage dev] [--region R] [--dry-run]
    payportal incident affected            --since ISO --until ISO [--json] [--stage dev] [--region R]
    payportal incident notify              --since ISO --until ISO [--template FILE] [--incident ID] [--dry-run]
                                           [--stage dev] [--region R]
    payportal webhooks list                [--flagged | --failed] [--limit 50] [--stage dev] [--region R] [--url URL]
    payportal webhooks replay EVENT_ID     [--stage dev] [--region R] [--url URL]
    payportal import FILE                  [--format csv|jsonl] [--idempotency-key K] [--stage dev] [--region R]
                                           [--url URL]

The Stripe secret key comes from standard input (--api-key-stdin) or STRIPE_API_KEY, else the one the
stage's secret already holds; never from an argument, which would show in the process list and the
shell's history. PAYPORTAL_STRIPE_API_BASE sends the Stripe calls elsewhere (the local Stripe front). The
`stripe` commands refuse the stage `local`: the local stack (`make dev`) is connected to its Stripe front already.
The `webhooks` and `import` commands call the stage's operator API, signed with your AWS credentials;
`--stage local` calls the local stack's API (port PAYPORTAL_LOCAL_API_PORT, default 3000) as its operator.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, TextIO

from cli import adapters
from cli.imports import Progress, format_for, run_import
from cli.incidents import instant, read_template, send_notices, show_affected
from cli.operations import (
    DEFAULT_OLDER_THAN_MINUTES,
    JOBS,
    OUTBOX_FUNCTION,
    OUTPUT_TABLE_NAME,
    function_output_for,
    redrive_outbox,
    run_job,
)
from cli.stripe_setup import (
    EXIT_USAGE,
    LOCAL_STAGE,
    Report,
    SetupError,
    WebhookEndpoints,
    finish_rotation,
    refuse_local_stage,
    rotate_webhook_secret,
    set_up,
    stack_name_for,
    webhook_url_for,
)
from cli.webhooks import DEFAULT_LIST_LIMIT, OperatorApi, list_events, replay_event
from local import config as local_config
from shared.adapters.dynamodb import DynamoLedger
from shared.adapters.dynamodb.backfill import backfill_list_entries
from shared.adapters.dynamodb.counters import scan_invoices
from shared.adapters.dynamodb.privacy import DynamoPrivacy
from shared.clock import SystemClock, wall_clock_now
from shared.services.counters_backfill import backfill_counters

API_KEY_ENV = "STRIPE_API_KEY"
API_BASE_ENV = "PAYPORTAL_STRIPE_API_BASE"
# Whatever looks like a Stripe key or signing secret is masked in error messages, whoever wrote them.
_SECRET_LIKE = re.compile(r"\b(sk|rk|whsec)_[A-Za-z0-9_*]+")

AwsClientFactory = Callable[[str, "str | None"], Any]
OperatorApiFactory = Callable[[str, "str | None"], OperatorApi]  # (API URL, region) -> the API

WEBHOOKS_LIST_HELP = """The Stripe events the stage kept (every one it acted on, for 400 days; failed and flagged ones
until they are applied), newest first: id, outcome, type, the Stripe object, when, and why it was flagged or
failed. --flagged: events that did not match what payportal recorded (nothing moved); --failed: events whose
processing raised (Stripe retries them for three days; `webhooks replay` applies one now)."""

WEBHOOKS_REPLAY_HELP = """Fetch the event from Stripe again (Stripe keeps events for 30 days) and apply it through the
webhook's own path, exactly once. A flagged event is applied once its cause is fixed (or flagged again, and
this exits 1); an event applied already changes nothing; a failed one, or one that never reached payportal,
is applied as the webhook would have. Runs in the stage's operator API function, which holds the Stripe key."""

BACKFILL_HELP = """Once, after the deploy that adds the `lists` index (docs/deploy.md): rewrite every invoice,
customer and payment written before it as today's code writes them, with their keys in the lists index and
their list entries, so GET /v1/invoices, /v1/payments and /v1/customers list them too. Each rewrite is one
transaction guarded by what was read: a record changed meanwhile is read again, never overwritten. Safe to run
again. Cost: a Scan, which reads every item of the table once, and a write per record rewritten."""

COUNTERS_HELP = """Once, after the deploy that brings the reports' running aggregates (docs/deploy.md), and once on a
new stage: count every invoice written before them in the owed counters. Each invoice not yet counted gets one
transaction: the invoice marked counted, guarded by its version, with the counters of what it owes now; a live
change that wins the race counts it itself, and the backfill reads it again. When every invoice is counted it
writes the "counters ready" marker: until then the reports answer 503 counters_not_ready and the digest and the
daily snapshots wait. Safe to run again (it counts nothing twice) and while the API serves. Cost: a Scan, which
reads every item of the table once, and a write per invoice counted."""

REDRIVE_HELP = """Deliver the outbox messages (emails, domain events) the table's stream never delivered: those
still pending, or claimed by a worker whose lease ran out, and created more than --older-than-minutes ago
(younger ones are the stream's, still in flight). They go to the outbox function in batches of 10, as the
stream sends them; it claims each before sending, so a message delivered meanwhile is not sent twice.

Cost: finding them is a Scan, which reads (and bills) every item in the table, whatever it returns. An
incident tool, not something to schedule. --dry-run scans and lists, and invokes nothing."""


INCIDENT_HELP = """The customers whose data or payments a window of time touched, for a breach's assessment (GDPR
Art. 33: 72 hours to tell the supervisory authority): every audit entry about a customer, an invoice or a
recurring charge written in [--since, --until) — changes, reads by staff and exports, changes a Stripe event
caused — and kept Stripe events about their payments. Read from the audit trail's time index and the kept
events' list: Queries, one per day and shard, never a Scan. Customer ids and counts only."""

NOTIFY_HELP = """Email each customer `incident affected` lists a notice (GDPR Art. 34) through the outbox, from a
Jinja2 text template the operator edits (default: shared/templates/emails/incident_notice.txt, translated in
every language payportal speaks; copy it). Its first line is the subject. It gets `customer` (name), `since_text`
and `until_text` (the window in the customer's zone), `business_name`, `support_contact` and `account_url`.
Once per customer per incident: --incident names it (default: the window), and a second run sends nothing new.
Keep the customer's name out of the subject line: each email's subject is kept in the customer's record of
emails sent (their export lists it)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="payportal", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    topics = parser.add_subparsers(dest="topic", required=True, metavar="TOPIC")
    stripe = topics.add_parser("stripe", help="connect a stage to Stripe: webhook endpoint and secret")
    actions = stripe.add_subparsers(dest="action", required=True, metavar="ACTION")

    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--stage", default="dev", type=_stage, help="the deployed stage (default: dev)")
    where.add_argument("--region", help="AWS region of the stack (default: the AWS configuration's)")
    common = argparse.ArgumentParser(add_help=False, parents=[where])
    common.add_argument(
        "--api-key-stdin",
        action="store_true",
        help=f"read the Stripe secret key from standard input (else ${API_KEY_ENV}, else the stored one)",
    )
    with_url = argparse.ArgumentParser(add_help=False)
    with_url.add_argument(
        "--url", help="the API's stage URL, instead of the stack's ApiUrl output (the webhook is {url}webhooks/stripe)"
    )

    actions.add_parser(
        "setup",
        parents=[common, with_url],
        help="create or correct the stage's Stripe webhook endpoint and store the key and signing secret",
    )
    actions.add_parser(
        "rotate-webhook-secret",
        parents=[common, with_url],
        help="start a webhook signing secret rotation: a new endpoint, both secrets accepted meanwhile",
    )
    actions.add_parser(
        "finish-rotation",
        parents=[common],
        help="end a rotation: delete the previous endpoint and forget its signing secret",
    )

    jobs = topics.add_parser("jobs", help="run a scheduled job now").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    run = jobs.add_parser(
        "run",
        parents=[where],
        help="invoke a scheduled function now, as its schedule does, and print its summary",
        description="Invoke a scheduled function now with the payload its schedule sends ({}), wait for it, and "
        "print its summary. Safe to repeat: every job is exactly-once per item by its own guards.",
    )
    run.add_argument("job", choices=JOBS, help="the scheduled function to run")

    outbox = topics.add_parser("outbox", help="deliver outbox messages the stream never delivered").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    redrive = outbox.add_parser(
        "redrive",
        parents=[where],
        help="hand undelivered outbox messages to the outbox function (a table Scan: an incident tool)",
        description=REDRIVE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    redrive.add_argument(
        "--older-than-minutes",
        type=_minutes,
        default=DEFAULT_OLDER_THAN_MINUTES,
        metavar="N",
        help=f"only messages created at least N minutes ago (default: {DEFAULT_OLDER_THAN_MINUTES})",
    )
    redrive.add_argument(
        "--dry-run", action="store_true", help="list the messages (ids, kinds, names) and invoke nothing"
    )
    incident = topics.add_parser(
        "incident", help="a data breach: the customers a window touched, and a notice to each, once"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    window = argparse.ArgumentParser(add_help=False, parents=[where])
    window.add_argument("--since", required=True, metavar="ISO", help="start of the window, e.g. 2027-03-01T10:00Z")
    window.add_argument("--until", required=True, metavar="ISO", help="end of the window (not included)")
    affected = incident.add_parser(
        "affected",
        parents=[window],
        help="list the customers whose data or payments the window touched (audit trail and Stripe events)",
        description=INCIDENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    affected.add_argument("--json", action="store_true", help="print JSON instead of a table")
    notify = incident.add_parser(
        "notify",
        parents=[window],
        help="email each affected customer the notice, once per customer per incident",
        description=NOTIFY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    notify.add_argument("--template", metavar="FILE", help="the notice (Jinja2 text; first line: the subject)")
    notify.add_argument("--incident", metavar="ID", type=_incident, help="the incident's id (default: the window's)")
    notify.add_argument("--dry-run", action="store_true", help="list who would get it, queue nothing")
    lists = topics.add_parser("lists", help="the operator API's lists: migrate items written before them")
    backfill = lists.add_subparsers(dest="action", required=True, metavar="ACTION").add_parser(
        "backfill",
        parents=[where],
        help="give items written before the lists index its keys and list entries (a table Scan, once)",
        description=BACKFILL_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    backfill.add_argument("--dry-run", action="store_true", help="count what would be rewritten, write nothing")
    counters = topics.add_parser("reports", help="the reports' running aggregates: count invoices written before")
    counting = counters.add_subparsers(dest="action", required=True, metavar="ACTION").add_parser(
        "backfill",
        parents=[where],
        help="count the invoices written before the running aggregates, then mark them ready (a table Scan, once)",
        description=COUNTERS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    counting.add_argument("--dry-run", action="store_true", help="count what would be counted, write nothing")
    hooks = topics.add_parser("webhooks", help="Stripe events kept: list them, replay one").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    api = argparse.ArgumentParser(add_help=False, parents=[where])
    api.add_argument("--url", help="the operator API's stage URL, instead of the stack's ApiUrl output")
    listing = hooks.add_parser(
        "list",
        parents=[api],
        help="the Stripe events kept, newest first, with what became of each",
        description=WEBHOOKS_LIST_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = listing.add_mutually_exclusive_group()
    which.add_argument("--flagged", action="store_true", help="only events flagged for review (nothing moved)")
    which.add_argument("--failed", action="store_true", help="only events whose processing failed")
    listing.add_argument(
        "--limit", type=_count, default=DEFAULT_LIST_LIMIT, metavar="N", help="at most N events (default: 50)"
    )
    replay = hooks.add_parser(
        "replay",
        parents=[api],
        help="fetch an event from Stripe again and apply it as the webhook would, exactly once",
        description=WEBHOOKS_REPLAY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    replay.add_argument("event_id", metavar="EVENT_ID", help="Stripe's event id, evt_...")
    importing = topics.add_parser(
        "import",
        parents=[api],
        help="import customers and invoices from a CSV or JSON lines file, with a progress bar",
        description=IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importing.add_argument("file", metavar="FILE", help="the file (docs/integrations.md names its columns)")
    importing.add_argument("--format", choices=("csv", "jsonl"), help="default: from the name (.jsonl), else csv")
    importing.add_argument(
        "--idempotency-key", metavar="KEY", help="default: the file's SHA-256 (running again follows the same import)"
    )
    return parser


IMPORT_HELP = """Send the file to the stage's POST /v1/imports: every row is checked first, and a file with any
row that cannot be imported is refused whole (each printed with its line; exit 1). Then follow the import to
its end with a progress bar. Rows stored already and identical are skipped; rows stored differently are
rejected and printed (exit 1). Running the command again with the same file follows the same import."""


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    aws_client: AwsClientFactory = adapters.aws_client,
    operator_api: OperatorApiFactory | None = None,
) -> int:
    args = build_parser().parse_args(argv)
    out, err = stdout or sys.stdout, stderr or sys.stderr
    env = os.environ if environ is None else environ
    api_key: str | None = None
    try:
        if args.topic == "webhooks":
            api = _operator_api(args, env, aws_client, operator_api)
            return _webhooks(args, api, say=lambda line: print(line, file=out, flush=True))
        if args.topic == "import":
            api = _operator_api(args, env, aws_client, operator_api)
            return _import(args, api, out)
        if args.topic != "stripe":
            _operate(args, aws_client=aws_client, say=lambda line: print(line, file=out, flush=True))
            return 0
        api_key = _api_key(args.api_key_stdin, stdin or sys.stdin, env)
        report = _run(args, api_key=api_key, environ=env, aws_client=aws_client)
    except SetupError as error:
        print(f"payportal: {_redacted(str(error), api_key)}", file=err)
        return error.exit_code
    except KeyboardInterrupt:
        print("payportal: interrupted", file=err)
        return 130
    for line in report.lines:
        print(line, file=out)
    return 0


def _run(
    args: argparse.Namespace, *, api_key: str | None, environ: Mapping[str, str], aws_client: AwsClientFactory
) -> Report:
    refuse_local_stage(args.stage)  # before any AWS or Stripe call: the one line that says why
    api_base = environ.get(API_BASE_ENV) or None

    def connect(key: str) -> WebhookEndpoints:
        return adapters.StripeWebhookEndpoints(key, api_base)

    if args.action == "finish-rotation":
        secrets = adapters.SecretsManagerStore(aws_client("secretsmanager", args.region))
        return finish_rotation(stage=args.stage, api_key=api_key, secrets=secrets, connect=connect)
    if args.url:
        api_url = args.url
    else:
        api_url = adapters.api_url_from_stack(aws_client("cloudformation", args.region), stack_name_for(args.stage))
    webhook_url = webhook_url_for(api_url)
    secrets = adapters.SecretsManagerStore(aws_client("secretsmanager", args.region))
    use_case = set_up if args.action == "setup" else rotate_webhook_secret
    return use_case(stage=args.stage, webhook_url=webhook_url, api_key=api_key, secrets=secrets, connect=connect)


def _operate(args: argparse.Namespace, *, aws_client: AwsClientFactory, say: Callable[[str], None]) -> None:
    stack_name = stack_name_for(args.stage)
    cloudformation = aws_client("cloudformation", args.region)
    redeploy = "redeploy it (make deploy): stacks deployed before the operator commands do not name their functions"
    if args.topic == "jobs":
        output = function_output_for(args.job)
        function_name = adapters.stack_outputs(cloudformation, stack_name, [output], otherwise=redeploy)[output]
        functions = adapters.LambdaFunctions(aws_client("lambda", args.region))
        say(json.dumps(run_job(args.job, function_name=function_name, functions=functions), indent=2, sort_keys=True))
        return
    if args.topic == "incident":
        table = adapters.stack_outputs(cloudformation, stack_name, [OUTPUT_TABLE_NAME], otherwise=redeploy)
        timeline = DynamoPrivacy(aws_client("dynamodb", args.region), table[OUTPUT_TABLE_NAME])
        since, until = instant(args.since), instant(args.until)
        if args.action == "affected":
            show_affected(timeline, since, until, as_json=args.json, say=say)
        else:
            send_notices(
                timeline, SystemClock(), since, until, template=read_template(args.template),
                incident_id=args.incident, dry_run=args.dry_run, say=say,
            )  # fmt: skip
        return
    if args.topic in ("lists", "reports"):
        table = adapters.stack_outputs(cloudformation, stack_name, [OUTPUT_TABLE_NAME], otherwise=redeploy)
        dynamodb = aws_client("dynamodb", args.region)
        name = table[OUTPUT_TABLE_NAME]
        if args.topic == "lists":
            backfill_list_entries(dynamodb, name, now=wall_clock_now(), dry_run=args.dry_run, say=say)
        else:  # a deployed stage's business clock is the wall clock
            invoices = scan_invoices(dynamodb, name)
            backfill_counters(DynamoLedger(dynamodb, name), invoices, SystemClock(), dry_run=args.dry_run, say=say)
        return
    output = function_output_for(OUTBOX_FUNCTION)
    outputs = adapters.stack_outputs(cloudformation, stack_name, [OUTPUT_TABLE_NAME, output], otherwise=redeploy)
    redrive_outbox(
        table=adapters.DynamoDbOutbox(aws_client("dynamodb", args.region), outputs[OUTPUT_TABLE_NAME]),
        functions=adapters.LambdaFunctions(aws_client("lambda", args.region)),
        function_name=outputs[output],
        older_than=timedelta(minutes=args.older_than_minutes),
        now=wall_clock_now(),  # leases are on the real clock, like created_at in AWS
        dry_run=args.dry_run,
        say=say,
    )


def _operator_api(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    aws_client: AwsClientFactory,
    factory: OperatorApiFactory | None,
) -> OperatorApi:
    """The stage's operator API: --url, the local stack's for --stage local, else the stack's ApiUrl output."""
    local = args.stage == LOCAL_STAGE
    if args.url:
        url = args.url
    elif local:
        try:
            port = local_config.StackConfig.from_environment(environ).api_port
        except ValueError as error:
            raise SetupError(str(error), exit_code=EXIT_USAGE) from None
        url = f"http://{local_config.HOST}:{port}/"
    else:
        url = adapters.api_url_from_stack(aws_client("cloudformation", args.region), stack_name_for(args.stage))
    if factory is not None:
        return factory(url, args.region)
    if local:  # signed as the local stack's one operator, whose key its API server checks
        return adapters.SignedOperatorApi.local_operator(
            url, local_config.REGION, local_config.ACCESS_KEY_ID, local_config.SECRET_ACCESS_KEY
        )
    return adapters.SignedOperatorApi.from_session(url, args.region)


def _webhooks(args: argparse.Namespace, api: OperatorApi, *, say: Callable[[str], None]) -> int:
    if args.action == "list":
        outcome = "flagged" if args.flagged else "failed" if args.failed else None
        list_events(api, outcome=outcome, limit=args.limit, say=say)
        return 0
    return 0 if replay_event(api, args.event_id, say=say) else 1


def _import(args: argparse.Namespace, api: OperatorApi, out: TextIO) -> int:
    try:
        with open(args.file, encoding="utf-8", newline="") as file:
            content = file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise SetupError(f"cannot read {args.file}: {error}", exit_code=EXIT_USAGE) from None
    terminal = out.isatty()
    drawn: list[bool] = []  # a bar is on the terminal's last line, unfinished

    def update(line: str) -> None:  # a terminal redraws one line; a log gets one line per change
        print(f"\r{line}" if terminal else line, end="" if terminal else "\n", file=out, flush=True)
        drawn[:] = [terminal]

    def say(line: str) -> None:
        print(f"\n{line}" if any(drawn) else line, file=out, flush=True)
        drawn.clear()

    progress = Progress(update=update, say=say)
    return run_import(
        api,
        content,
        format_for(args.file, args.format),
        key=args.idempotency_key,
        progress=progress,
        upload=adapters.upload_file,
    )


def _count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if not 1 <= count <= 10_000:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number from 1 to 10000")
    return count


def _api_key(from_stdin: bool, stdin: TextIO, environ: Mapping[str, str]) -> str | None:
    if not from_stdin:
        return environ.get(API_KEY_ENV, "").strip() or None
    if stdin.isatty():
        import getpass  # lazy: only an interactive prompt needs it

        key = getpass.getpass("Stripe secret key (not echoed): ")
    else:
        key = stdin.readline()
    if not key.strip():
        raise SetupError("--api-key-stdin: standard input held no key", exit_code=EXIT_USAGE)
    return key.strip()


def _stage(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,31}", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a stage name (lower-case letters, digits, hyphens)")
    return value


def _incident(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not an incident id (letters, digits, . _ -; up to 64)")
    return value


def _minutes(value: str) -> int:
    try:
        minutes = int(value)
    except ValueError:
        minutes = -1
    if minutes < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of minutes, 1 or more")
    return minutes


def _redacted(message: str, api_key: str | None) -> str:
    if api_key:
        message = message.replace(api_key, "<redacted>")
    return _SECRET_LIKE.sub(lambda m: f"{m.group(1)}_<redacted>", message)


if __name__ == "__main__":
    sys.exit(main())
