"""`make bench`: cold start against a baseline, AWS/Stripe calls per operation, scheduled work against a
scan, and the local stack's moto at 100,000 items. Prints ratios."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.fake_stripe.process import FrontProcess

from benchmarks.cold_start import ROOT, RUNS, Case, checkout_of, fresh_id, measure

SECRET_ID = "payportal/bench/stripe"
TABLE = "payportal-bench"
# The cold starts run in a process of their own against the moto `make dev` runs (local/moto_patches.py): moto's
# own TransactWriteItems copies the whole table first, a cost that grows with every run's writes and would be
# charged to the handlers that write in transactions, while the baseline's PutItem escapes it. DynamoDB's cost
# does not grow with the table. The scheduled-work figures stay on moto as it comes, as they always were.
PATCHED_MOTO = "PAYPORTAL_BENCH_PATCHED_MOTO"
# PAYPORTAL_BENCH_ONLY values that name a benchmark other than a cold start.
OTHER_BENCHMARKS: frozenset[str] = frozenset(
    {"lists", "reports", "reminder_report", "imports", "outbound_webhooks", "reconcile"}
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(moto_port: int, stripe_port: int | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PAYPORTAL_TABLE": TABLE,
        "PAYPORTAL_EVENT_BUS": "payportal-bench",
        "PAYPORTAL_SENDER_EMAIL": "billing@bench.test",
        "PAYPORTAL_PUBLIC_BASE_URL": "https://pay.bench.test",
        "PAYPORTAL_STRIPE_SECRET_ID": SECRET_ID,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    if stripe_port:
        env["PAYPORTAL_STRIPE_API_BASE"] = f"http://127.0.0.1:{stripe_port}"
    return env


@contextmanager
def moto_server() -> Iterator[int]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request drowns the figures
    port = free_port()
    if os.environ.get(PATCHED_MOTO) == "1":
        from local import moto_patches

        moto_patches.install()  # in this process, so in the server thread it starts
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield port
    finally:
        server.stop()


def stripe_front() -> FrontProcess:
    from local.fake_stripe.process import FrontProcess

    return FrontProcess(
        port=free_port(),
        localstripe_port=free_port(),
        api_key="sk_test_bench",
        webhook_secret="whsec_bench",
        webhook_url="http://127.0.0.1:9/none",
        quiet=True,
    )


def provision() -> None:
    import boto3

    from shared import schema
    from shared.adapters.dynamodb.counters import mark_new_table

    boto3.client("dynamodb").create_table(**schema.create_table_kwargs(TABLE))
    mark_new_table(boto3.client("dynamodb"), TABLE)
    boto3.client("secretsmanager").create_secret(
        Name=SECRET_ID, SecretString=json.dumps({"api_key": "sk_test_bench", "webhook_secret": "whsec_bench"})
    )
    boto3.client("events").create_event_bus(Name="payportal-bench")
    boto3.client("ses").verify_email_identity(EmailAddress="billing@bench.test")


def seed() -> tuple[Any, Any]:
    from shared.clock import SystemClock
    from shared.services.customers import CustomerDraft, create_customer
    from shared.services.invoices import InvoiceDraft, create_invoice
    from shared.wiring import ledger

    draft = CustomerDraft(email="b@bench.test", name="Bench")
    customer = create_customer(ledger(), SystemClock(), draft, actor="bench")
    invoice = create_invoice(
        ledger(),
        SystemClock(),
        InvoiceDraft(
            customer_id=customer.id,
            number=f"B-{fresh_id()[:8]}",
            currency="USD",
            amount_due=10_000_000,
            due_date=date.today() + timedelta(days=30),
            allow_partial=True,
            min_partial_amount=100,
        ),
        actor="bench",
    )
    return customer, invoice


def webhook_event(invoice: Any) -> dict[str, Any]:
    from shared.adapters.stripe_signature import sign
    from shared.domain.records import CheckoutAttempt
    from shared.services.ports import Change
    from shared.wiring import ledger
    from tests.support import api_event, session_object, stripe_event

    attempt = CheckoutAttempt(
        ref=f"chk_{fresh_id()}",
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        session_id=f"cs_{fresh_id()}",
        amount=100,
        currency="USD",
        created_at=datetime.now(UTC),
    )
    ledger().commit(Change(checkout=attempt))
    event = stripe_event(
        "checkout.session.completed",
        session_object(
            session_id=attempt.session_id,
            invoice_id=invoice.id,
            checkout_ref=attempt.ref,
            amount=100,
            payment_intent=f"pi_{fresh_id()}",
        ),
    )
    raw = json.dumps(event)
    return api_event(
        "POST",
        "/webhooks/stripe",
        body=raw,
        operator=False,
        headers={"Stripe-Signature": sign(raw.encode(), "whsec_bench", int(time.time()))},
    )


def pay_page_event(invoice: Any) -> dict[str, Any]:
    from shared.clock import SystemClock
    from shared.services.invoices import new_pay_link
    from shared.wiring import ledger
    from tests.support import api_event

    token = new_pay_link(ledger(), SystemClock(), invoice, ttl_days=1).token
    return api_event("GET", f"/pay/{token}", resource="/pay/{token}", path_parameters={"token": token}, operator=False)


def customer_event() -> dict[str, Any]:
    from tests.support import api_event

    return api_event("POST", "/v1/customers", body={"email": f"{fresh_id()[:6]}@bench.test", "name": "Cold Start"})


def outbox_event() -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    from shared.adapters.dynamodb.items import outbox_item
    from shared.domain.messages import Event, EventName, OutboxMessage
    from shared.services.ports import Change
    from shared.wiring import ledger

    message = OutboxMessage(Event(EventName.INVOICE_CREATED, {"invoice_id": "inv_bench"}), datetime.now(UTC))
    ledger().commit(Change(outbox=[message]))
    image = {k: TypeSerializer().serialize(v) for k, v in outbox_item(message).items()}
    return {
        "Records": [
            {
                "eventID": "1",
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "Keys": {"pk": image["pk"], "sk": image["sk"]},
                    "NewImage": image,
                    "SequenceNumber": "1",
                    "SizeBytes": 1,
                    "StreamViewType": "NEW_IMAGE",
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/x/stream/1",
            }
        ]
    }


@contextmanager
def counting_calls() -> Iterator[Counter[str]]:
    """Counts every AWS API call made through the shared clients, and every Stripe call."""
    from shared.adapters import aws
    from shared.adapters.stripe_gateway import StripeGateway

    counts: Counter[str] = Counter()
    handlers = []
    for service in ("dynamodb", "secretsmanager", "ses", "events"):
        client = aws.client(service)

        def count(model: Any, service: str = service, **_: Any) -> None:
            counts[f"{service}.{model.name}"] += 1

        client.meta.events.register("before-call", count)
        handlers.append((client, count))
    originals = {name: getattr(StripeGateway, name) for name in ("ensure_customer", "create_checkout_session")}
    for name, original in originals.items():

        def wrapped(self: Any, *args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            counts[f"stripe.{_name}"] += 1
            return _original(self, *args, **kwargs)

        setattr(StripeGateway, name, wrapped)
    try:
        yield counts
    finally:
        for client, count in handlers:
            client.meta.events.unregister("before-call", count)
        for name, original in originals.items():
            setattr(StripeGateway, name, original)


def calls_per_operation(invoice: Any) -> list[tuple[str, Counter[str]]]:
    from functions.checkout.handler import lambda_handler as checkout
    from functions.webhooks.handler import lambda_handler as webhooks
    from shared.clock import SystemClock
    from shared.services.invoices import new_pay_link
    from shared.wiring import ledger
    from tests.support import FakeLambdaContext, api_event

    results = []
    webhooks(webhook_event(invoice), FakeLambdaContext())  # warm: the secret is read once per 5 minutes
    event = webhook_event(invoice)
    with counting_calls() as counts:
        assert webhooks(event, FakeLambdaContext())["statusCode"] == 200
    results.append(("webhook event applied (warm)", counts))

    def checkout_request(amount: str) -> dict[str, Any]:
        token = new_pay_link(ledger(), SystemClock(), invoice, ttl_days=1).token
        return api_event(
            "POST",
            f"/pay/{token}/checkout",
            resource="/pay/{token}/checkout",
            path_parameters={"token": token},
            form={"amount": amount},
            operator=False,
        )

    first = checkout_request("1.00")
    with counting_calls() as counts:
        reply = checkout(first, FakeLambdaContext())
        assert reply["statusCode"] == 303, reply
    results.append(("checkout created (customer new to Stripe)", counts))
    again = checkout_request("2.00")
    with counting_calls() as counts:
        assert checkout(again, FakeLambdaContext())["statusCode"] == 303
    results.append(("checkout created (customer known)", counts))
    return results


def cold_starts(invoice: Any, env: dict[str, str], only: str | None) -> None:
    """Each handler's cold start against the baseline (and BEFORE's), or one cold path's profile."""
    cases = [
        Case("webhooks", "functions.webhooks.handler", "webhook", lambda: webhook_event(invoice)),
        Case("checkout (GET /pay)", "functions.checkout.handler", "read", lambda: pay_page_event(invoice)),
        Case("operator_api (POST /v1/customers)", "functions.operator_api.handler", "write", customer_event),
        Case("outbox (one event)", "functions.outbox.handler", "write", outbox_event),
    ]
    if only and only != "cold":
        cases = [c for c in cases if c.name.startswith(only)]
    wanted = os.environ.get("PAYPORTAL_BENCH_PROFILE")
    if wanted:
        from benchmarks.cold_start import profile

        print(profile(next(c for c in cases if c.module.endswith(wanted + ".handler")), env))
        return
    before_ref = os.environ.get("PAYPORTAL_BENCH_BEFORE")  # e.g. main: that commit's handlers, same run
    print(f"Cold start: import + first request in a fresh process, median of {RUNS} runs each")
    header = f"{'handler':38} {'ours ms':>9} {'baseline ms':>12} {'ratio':>7}"
    print(header + (f" {'before ms':>10} {'ratio':>7}  (before: {before_ref})" if before_ref else ""))
    with checkout_of(before_ref) as before:
        rows = measure(cases, env, before)
    for row in rows:
        line = f"{row['handler']:38} {row['ours_ms']:9.0f} {row['baseline_ms']:12.0f} {row['ratio']:7.2f}"
        if "before_ms" in row:
            line += f" {row['before_ms']:10.0f} {row['before_ratio']:7.2f}"
        print(line)
    print(
        "(baseline: import stripe + boto3, a DynamoDB client, SDK signature check where it applies,"
        " one DynamoDB request; webhook target ratio <= 0.8)"
    )


def main() -> None:
    if os.environ.get("PAYPORTAL_BENCH_ONLY") == "imports":  # the bulk import's local rate, on make dev's moto
        os.environ[PATCHED_MOTO] = "1"
        with moto_server() as moto_port:
            os.environ.update(environment(moto_port, None))
            from benchmarks import imports

            imports.main()
        return
    if os.environ.get("PAYPORTAL_BENCH_ONLY") == "outbound_webhooks":  # the webhook burst only, in its own process
        subprocess.run([sys.executable, "-m", "benchmarks.webhooks"], cwd=ROOT, check=True)
        return
    if os.environ.get("PAYPORTAL_BENCH_ONLY") == "reminder_report":  # the reminders report against a scan only
        with moto_server() as moto_port:
            os.environ.update(environment(moto_port, None))
            from benchmarks import reminder_report

            reminder_report.main()
        return
    if os.environ.get("PAYPORTAL_BENCH_ONLY") == "reports":  # the reports against a scan, nothing else
        with moto_server() as moto_port:
            os.environ.update(environment(moto_port, None))
            from benchmarks import reports

            reports.main()
        return
    if os.environ.get("PAYPORTAL_BENCH_ONLY") == "reconcile":  # reconciliation's due check against a scan only
        with moto_server() as moto_port:
            os.environ.update(environment(moto_port, None))
            from benchmarks import reconcile

            reconcile.main()
        return
    if os.environ.get("PAYPORTAL_BENCH_ONLY") == "lists":  # the lists against a scan, and nothing else
        with moto_server() as moto_port:
            os.environ.update(environment(moto_port, None))
            from benchmarks import lists

            lists.main()
        return
    only = os.environ.get("PAYPORTAL_BENCH_ONLY")  # "webhooks": that cold start only; "cold": all of them
    cold_only = bool(only) and only not in OTHER_BENCHMARKS
    if os.environ.get(PATCHED_MOTO) != "1" and (not only or cold_only):
        cold = {PATCHED_MOTO: "1", "PAYPORTAL_BENCH_ONLY": only or "cold"}
        subprocess.run([sys.executable, "-m", "benchmarks"], cwd=ROOT, env=os.environ | cold, check=True)
        if cold_only:
            return
        print()
    front = stripe_front()
    with moto_server() as moto_port, front:
        stripe_port = front.port
        os.environ.update(environment(moto_port, stripe_port))
        from shared import wiring

        wiring.reset()
        provision()
        _customer, invoice = seed()
        # Each cold start runs as in a Lambda instance, which names its function (shared/cold_start.py).
        env = environment(moto_port, stripe_port) | {"PYTHONPATH": str(ROOT), "AWS_LAMBDA_FUNCTION_NAME": "bench"}
        if os.environ.get(PATCHED_MOTO) == "1":
            cold_starts(invoice, env, only)
            return
        print()
        print("AWS and Stripe calls per operation")
        for name, counts in calls_per_operation(invoice):
            dynamo = {k: v for k, v in counts.items() if k.startswith("dynamodb.")}
            print(f"  {name}: {sum(dynamo.values())} DynamoDB requests {dict(sorted(counts.items()))}")
        print()
        from benchmarks import balances, charges, lists, reconcile, reminder_report, reminders, reports

        reminders.main()
        print()
        charges.main()
        print()
        balances.main()
        print()
        reconcile.main()
        print()
        lists.main()
        print()
        reports.main()
        print()
        reminder_report.main()
    print()
    # On the moto `make dev` runs (its transactions do not copy the table), in a process of its own.
    subprocess.run([sys.executable, "-m", "benchmarks"], cwd=ROOT, env=os.environ | {"PAYPORTAL_BENCH_ONLY": "imports"},
                   check=True)  # fmt: skip
    print()
    # In a process of its own, so the resident memory it prints is the local stack's moto and nothing else.
    subprocess.run([sys.executable, "-m", "benchmarks.local_stack"], cwd=ROOT, check=True)
    print()
    # A burst of 1,000 events to 3 endpoints on 127.0.0.1, on a moto of its own.
    subprocess.run([sys.executable, "-m", "benchmarks.webhooks"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
