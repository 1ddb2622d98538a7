"""Outbound webhooks under a burst: 1,000 domain events put on the bus at once, delivered to 3 endpoints on
127.0.0.1 through the same path as deployed (the bus's rule, the deliveries queue, functions/webhook_delivery
fanning out and sending), on moto. Counts what each endpoint received and the distinct `webhook-id`s, checks
every signature, and prints the time and deliveries per second. Run in a process of its own
(`python -m benchmarks.webhooks`); `make bench` does that.

The event source here is one poller thread (local/batch_poller.py) calling the handler in this process: the
rate is one Lambda instance's, against moto; AWS runs up to MAX_CONCURRENCY of them (infra/components/webhooks.py).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections import Counter
from typing import Any

EVENTS = int(os.environ.get("PAYPORTAL_BENCH_WEBHOOK_EVENTS", "1000"))
ENDPOINTS = 3
TABLE = "payportal-bench-webhooks"
BUS = "payportal-bench-webhooks"
DEADLINE_S = 600.0  # bounded: the run stops by itself


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "PAYPORTAL_TABLE": TABLE,
                "PAYPORTAL_EVENT_BUS": BUS,
                "PAYPORTAL_PUBLIC_BASE_URL": "https://pay.bench.test",
                "PAYPORTAL_LOCAL_STACK": "1",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
        )
        run(boto3)
    finally:
        server.stop()


def run(boto3: Any) -> None:
    from local.batch_poller import BatchQueuePoller
    from shared import schema, wiring
    from shared.clock import SystemClock
    from shared.services.webhook_endpoints import EndpointDraft, create_endpoint_once
    from tests.fakes.run_once import InMemoryRunOnce
    from tests.webhook_receiver import webhook_receiver

    dynamodb, sqs, events = boto3.client("dynamodb"), boto3.client("sqs"), boto3.client("events")
    dynamodb.create_table(**schema.create_table_kwargs(TABLE))
    events.create_event_bus(Name=BUS)
    url = sqs.create_queue(QueueName="bench-webhooks")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="webhooks", EventBusName=BUS, EventPattern=json.dumps({"source": ["payportal"]}))
    events.put_targets(Rule="webhooks", EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn}])
    os.environ["PAYPORTAL_WEBHOOKS_QUEUE_URL"] = url
    wiring.reset()

    from standardwebhooks import Webhook

    from functions.webhook_delivery.handler import lambda_handler
    from tests.support import FakeLambdaContext

    with webhook_receiver() as receiver:
        secrets = {}
        for n in range(ENDPOINTS):
            made = create_endpoint_once(
                wiring.webhook_endpoints(),
                SystemClock(),
                InMemoryRunOnce(),
                EndpointDraft(url=receiver.url(f"/e{n}"), events=("*",)),
                key=f"bench-{n}",
                fingerprint={"n": n},
                actor="bench",
                allow_loopback_http=True,
            )
            assert made.secret is not None
            secrets[f"/e{n}"] = made.secret.value
        started = time.monotonic()
        ids = [f"msg_{uuid.uuid4().hex}" for _ in range(EVENTS)]
        for start in range(0, EVENTS, 10):  # PutEvents takes 10 entries a call
            entries = [
                {"Source": "payportal", "DetailType": "invoice.paid", "EventBusName": BUS,
                 "Detail": json.dumps({"id": i, "invoice_id": f"inv_{n}", "amount_paid": 12_500, "currency": "USD"})}
                for n, i in enumerate(ids[start : start + 10], start=start)
            ]  # fmt: skip
            events.put_events(Entries=entries)
        published = time.monotonic() - started
        from shared.observability import metrics

        def invoke(event: dict[str, Any]) -> Any:
            try:
                return lambda_handler(event, FakeLambdaContext())
            finally:
                metrics.clear_metrics()  # disabled, Powertools keeps them, and prints every hundredth

        poller = BatchQueuePoller(sqs, url, invoke, threads=1)
        poller.start()
        expected = EVENTS * ENDPOINTS
        while len(receiver.received) < expected and time.monotonic() - started < DEADLINE_S:
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        time.sleep(1)  # anything sent twice would show now
        poller.stop()

    per_endpoint = Counter(r.path for r in receiver.received)
    unique = {path: len({r.headers["webhook-id"] for r in receiver.at(path)}) for path in secrets}
    bad = sum(1 for r in receiver.received if not _verifies(Webhook(secrets[r.path]), r.body, r.headers))
    lost = sum(EVENTS - unique[p] for p in secrets)
    print("Outbound webhooks: a burst on the bus, delivered through the queue and the delivery function (moto)")
    received, duplicates = sum(per_endpoint.values()), sum(per_endpoint.values()) - sum(unique.values())
    print(f"  {EVENTS} events x {ENDPOINTS} endpoints: {received} received, {lost} lost, {duplicates} duplicates, "
          f"{bad} failing verification")  # fmt: skip
    for path in sorted(secrets):
        print(f"  {path}: {per_endpoint[path]} received, {unique[path]} distinct webhook-ids")
    print(f"  published in {published:.1f} s; all delivered in {elapsed:.1f} s: {expected / elapsed:.0f} deliveries/s "
          "(one instance; AWS runs up to 10)")  # fmt: skip
    if lost or bad:
        raise SystemExit("webhooks were lost or failed verification")


def _verifies(hook: Any, body: bytes, headers: dict[str, str]) -> bool:
    try:
        hook.verify(body, headers)
    except Exception:
        return False
    return True


if __name__ == "__main__":
    main()
