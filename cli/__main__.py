"""payportal: the operator's command line (bin/payportal).

    payportal stripe setup                 [--stage dev] [--region R] [--url API_URL] [--api-key-stdin]
    payportal stripe rotate-webhook-secret [--stage dev] [--region R] [--url API_URL] [--api-key-stdin]
    payportal stripe finish-rotation       [--stage dev] [--region R] [--api-key-stdin]

The Stripe secret key comes from standard input (--api-key-stdin) or STRIPE_API_KEY, else the one the
stage's secret already holds; never from an argument, which would show in the process list and the
shell's history. PAYPORTAL_STRIPE_API_BASE sends the Stripe calls elsewhere (the local Stripe front).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from cli import adapters
from cli.stripe_setup import (
    EXIT_USAGE,
    Report,
    SetupError,
    WebhookEndpoints,
    finish_rotation,
    rotate_webhook_secret,
    set_up,
    stack_name_for,
    webhook_url_for,
)

API_KEY_ENV = "STRIPE_API_KEY"
API_BASE_ENV = "PAYPORTAL_STRIPE_API_BASE"
# Whatever looks like a Stripe key or signing secret is masked in error messages, whoever wrote them.
_SECRET_LIKE = re.compile(r"\b(sk|rk|whsec)_[A-Za-z0-9_*]+")

AwsClientFactory = Callable[[str, "str | None"], Any]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="payportal", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    topics = parser.add_subparsers(dest="topic", required=True, metavar="TOPIC")
    stripe = topics.add_parser("stripe", help="connect a stage to Stripe: webhook endpoint and secret")
    actions = stripe.add_subparsers(dest="action", required=True, metavar="ACTION")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stage", default="dev", type=_stage, help="the deployed stage (default: dev)")
    common.add_argument("--region", help="AWS region of the stack (default: the AWS configuration's)")
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
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    aws_client: AwsClientFactory = adapters.aws_client,
) -> int:
    args = build_parser().parse_args(argv)
    out, err = stdout or sys.stdout, stderr or sys.stderr
    env = os.environ if environ is None else environ
    api_key: str | None = None
    try:
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


def _api_key(from_stdin: bool, stdin: TextIO, environ: Mapping[str, str]) -> str | None:
    if not from_stdin:
        return environ.get(API_KEY_ENV, "").strip() or None
    if stdin.isatty():
        import getpass

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


def _redacted(message: str, api_key: str | None) -> str:
    if api_key:
        message = message.replace(api_key, "<redacted>")
    return _SECRET_LIKE.sub(lambda m: f"{m.group(1)}_<redacted>", message)


if __name__ == "__main__":
    sys.exit(main())
