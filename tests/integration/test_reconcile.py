"""functions/reconcile over moto and the local Stripe front with webhook delivery off: a batch of payments of
every kind happens at Stripe and reaches payportal only through Stripe's event list. One run makes the ledger
equal to Stripe for each; a second changes nothing and sends nothing twice. Then the same after three days."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import stripe as stripe_sdk

from shared.clock import FixedClock, SystemClock, use_clock, wall_clock_now
from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, create_invoice, get_invoice, token_of
from tests.integration.test_installment_plans import OFFER, page
from tests.support import STRIPE_KEY, FakeLambdaContext

START = datetime(2027, 1, 31, 15, tzinfo=UTC)
SECOND_INSTALLMENT = datetime(2027, 2, 28, 15, tzinfo=UTC)
GOOD, DECLINED = "4242424242424242", "4000000000000002"
KINDS = ("paid", "bank_debit_succeeded", "bank_debit_failed", "declined", "refunded_in_part", "disputed")


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    fixed = FixedClock(START)
    use_clock(fixed)
    yield fixed
    use_clock(SystemClock())


@pytest.fixture
def front(stripe: str) -> Iterator[str]:
    """Given reconciliation has been running hourly (its cursor an hour back), and the local Stripe delivers no
    webhooks (the receiver is down, or Stripe gave up)."""
    from shared import wiring
    from shared.domain.records import ReconcileCursor

    now = wall_clock_now()
    wiring.ledger().advance_reconcile_cursor(ReconcileCursor(through=now - timedelta(hours=1), updated_at=now))
    assert requests.post(f"{stripe}/_front/delivery", json={"enabled": False}, timeout=5).json()["enabled"] is False
    yield stripe
    requests.post(f"{stripe}/_front/delivery", json={"enabled": True}, timeout=5)


@dataclass
class Made:
    """What happened at Stripe for one invoice, and so what the ledger must show."""

    kind: str
    invoice_id: str
    amount: int
    intent: str | None = None
    refunded: int = 0
    dispute: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def session_of(response: dict[str, Any]) -> str:
    assert response["statusCode"] == 303, response.get("body")
    location = {k.lower(): v for k, v in (response.get("headers") or {}).items()}.get("location") or next(
        v[-1] for k, v in (response.get("multiValueHeaders") or {}).items() if k.lower() == "location"
    )
    return str(location).rstrip("/").rsplit("/", 1)[1]


def checkout(token: str, suffix: str = "/checkout", form: dict[str, str] | None = None) -> str:
    return session_of(page("POST", token, suffix, form=form or {}))


def pay_on_page(front: str, session_id: str, card: str) -> int:
    form = {"card_number": card, "expiry": "12 / 34", "cvc": "123"}
    return requests.post(f"{front}/checkout/{session_id}/pay", data=form, allow_redirects=False, timeout=10).status_code


def intent_of(front: str, session_id: str) -> str:
    session = requests.get(f"{front}/v1/checkout/sessions/{session_id}", auth=(STRIPE_KEY, ""), timeout=10).json()
    return str(session["payment_intent"])


def make(front: str, kind: str, n: int) -> Made:
    customer = create_customer(timezone="UTC", email=f"payer{n}@example.com", name=f"Payer {n}")
    amount = 10_000 + n * 100
    invoice = create_invoice(customer["id"], amount_due=amount, due_date="2027-03-15")
    made = Made(kind, invoice["id"], amount)
    session = checkout(token_of(invoice["pay_url"]))
    if kind.startswith("bank_debit"):
        url = f"{front}/_front/sessions/{session}"
        assert requests.post(f"{url}/complete-delayed", timeout=10).status_code == 200
        succeeded = kind == "bank_debit_succeeded"
        assert requests.post(f"{url}/async-result", json={"succeeded": succeeded}, timeout=10).status_code == 200
        made.intent = intent_of(front, session)
        return made
    if kind == "declined":
        assert pay_on_page(front, session, DECLINED) == 402
        return made
    assert pay_on_page(front, session, GOOD) == 303
    made.intent = intent_of(front, session)
    if kind == "refunded_in_part":  # in the Stripe dashboard, not through payportal
        client = stripe_sdk.StripeClient(STRIPE_KEY, base_addresses={"api": front})
        client.v1.refunds.create(params={"payment_intent": made.intent, "amount": 2_500})
        made.refunded = 2_500
    if kind == "disputed":
        opened = requests.post(f"{front}/_front/payment_intents/{made.intent}/dispute", timeout=10)
        assert opened.status_code == 200, opened.text
        made.dispute = opened.json()["id"]
    return made


def plan_invoice(front: str) -> tuple[Made, str]:
    """An invoice on a three-installment plan whose first installment was paid on Checkout."""
    customer = create_customer(timezone="UTC", email="planner@example.com")
    invoice = create_invoice(customer["id"], amount_due=10_000, due_date="2027-02-15", installments=OFFER)
    session = checkout(token_of(invoice["pay_url"]), "/plan", {"plan": "monthly-3"})
    assert pay_on_page(front, session, GOOD) == 303
    return Made("installment", invoice["id"], 10_000), session


def run() -> dict[str, Any]:
    from functions.reconcile.handler import lambda_handler

    return dict(lambda_handler({"source": "aws.scheduler", "detail": {}}, FakeLambdaContext()))


def charge_run() -> dict[str, Any]:
    from functions.charges.handler import lambda_handler

    return dict(lambda_handler({"source": "aws.scheduler", "detail": {}}, FakeLambdaContext()))


def assert_ledger_equals_stripe(front: str, made: list[Made]) -> None:
    for m in made:
        shown = get_invoice(m.invoice_id)
        payments = {p["id"]: p for p in shown["payments"]}
        if m.kind in ("paid", "bank_debit_succeeded", "disputed"):
            assert (shown["status"], shown["amount_paid"]) == ("paid", m.amount), m
        if m.kind == "bank_debit_failed":
            assert (shown["status"], shown["amount_paid"]) == ("open", 0), m
            assert payments[m.intent]["status"] == "failed", m
        if m.kind == "declined":
            assert (shown["status"], shown["amount_paid"]) == ("open", 0), m
        if m.kind == "refunded_in_part":
            charge = requests.get(f"{front}/v1/charges/{payments[m.intent]['id'] and _charge(front, m)}",
                                  auth=(STRIPE_KEY, ""), timeout=10).json()  # fmt: skip
            assert shown["amount_refunded"] == charge["amount_refunded"] == m.refunded, m
            assert payments[m.intent]["status"] == "partially_refunded", m
        if m.kind == "disputed":
            assert shown["open_disputes"] == [m.dispute], m
        if m.kind == "installment":
            installments = shown["plan"]["installments"] if shown.get("plan") else []
            assert shown["amount_paid"] == 3_334 + 3_333, m
            assert [i["status"] for i in installments[:2]] == ["paid", "paid"], m


def _charge(front: str, m: Made) -> str:
    intent = requests.get(f"{front}/v1/payment_intents/{m.intent}", auth=(STRIPE_KEY, ""), timeout=10).json()
    latest = intent["latest_charge"]
    return str(latest["id"] if isinstance(latest, dict) else latest)


def emails_now(aws: Aws) -> list[tuple[tuple[str, ...], str]]:
    aws.drain_outbox()
    return sorted((tuple(e.to), e.subject) for e in aws.emails())


def reconcile_events(aws: Aws) -> list[dict[str, Any]]:
    return [e["detail"] for e in aws.domain_events() if e["detail-type"] == "reconcile.completed"]


def test_one_run_recovers_every_missed_payment_and_a_second_changes_nothing(
    aws: Aws, front: str, clock: FixedClock
) -> None:
    # Given an installment plan running before the outage
    planned, _ = plan_invoice(front)
    assert run()["complete"] is True
    assert get_invoice(planned.invoice_id)["amount_paid"] == 3_334
    # When, with no webhook delivered, 20 payments of every kind happen, and an installment is charged
    made = [make(front, KINDS[n % len(KINDS)], n) for n in range(19)]
    clock.instant = SECOND_INSTALLMENT
    assert charge_run()["charged"] == 1
    made.append(planned)
    # Then one run brings the ledger level with Stripe
    first = run()
    assert first["complete"] is True and first["failed"] == 0 and first["recovered"] >= 20
    assert_ledger_equals_stripe(front, made)
    sent = emails_now(aws)  # receipts, failure notices, refund emails...
    # And a second run changes nothing and sends nothing
    second = run()
    assert second["recovered"] == 0 and second["failed"] == 0
    assert_ledger_equals_stripe(front, made)
    assert emails_now(aws) == sent
    to_payers = [s for s in sent if s[0][0].startswith("payer")]
    assert len(to_payers) == len(set(to_payers)) >= 19  # each payer told once of each thing
    completed = reconcile_events(aws)
    assert sorted(e["recovered"] for e in completed) == sorted([1, first["recovered"], 0])  # the bus has no order


def test_after_a_three_day_outage_one_run_catches_up(
    aws: Aws, front: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given reconciliation ran before the outage
    assert run()["complete"] is True
    # When payments happen while the receiver is down, and reconciliation runs only three days later
    made = [make(front, kind, n) for n, kind in enumerate(KINDS)]
    later = wall_clock_now() + timedelta(days=3)
    monkeypatch.setattr("functions.reconcile.handler.wall_clock_now", lambda: later)
    clock.instant = START + timedelta(days=3)
    caught_up = run()
    # Then the ledger equals Stripe, the cursor is at "now", and a rerun changes nothing
    assert caught_up["complete"] is True and caught_up["recovered"] >= len(KINDS)
    # Three quiet days fit in one page; and the declined payer's session, open at the local Stripe (its clock
    # is the wall clock) three business days after its expiry, is looked up once and kept as drift; each of
    # the four payments that succeeded had its fee read from its balance transaction, a request each
    assert (caught_up["stripe_requests"], caught_up["checkouts_flagged"], caught_up["fees_recorded"]) == (6, 1, 4)
    assert_ledger_equals_stripe(front, made)
    sent = emails_now(aws)
    assert caught_up["cursor_lag_seconds"] == 0
    assert run()["recovered"] == 0
    assert emails_now(aws) == sent


def test_a_bank_debit_still_processing_after_two_weeks_is_flagged_from_the_index(
    aws: Aws, front: str, clock: FixedClock
) -> None:
    # Given a bank debit started at Stripe, recorded as pending by a run
    customer = create_customer(timezone="UTC", email="slow@example.com")
    invoice = create_invoice(customer["id"], amount_due=9_000, due_date="2027-03-15")
    session = checkout(token_of(invoice["pay_url"]))
    assert requests.post(f"{front}/_front/sessions/{session}/complete-delayed", timeout=10).status_code == 200
    assert run()["recovered"] == 1
    [payment] = get_invoice(invoice["id"])["payments"]
    assert payment["status"] == "pending"
    # When it is still not settled fifteen days later
    clock.instant = START + timedelta(days=15)
    report = run()
    # Then reconciliation asked Stripe and keeps it as drift, with what Stripe says
    assert (report["pending_checked"], report["pending_flagged"]) == (1, 1)
    [drift] = [i for i in aws.items("RECONCILE") if i["sk"].startswith("DRIFT#payment#")]
    assert drift["object_id"] == payment["id"] and drift["reason"] == "processing_at_stripe"


def test_a_session_paid_at_stripe_whose_events_never_came_is_flagged_from_the_index(
    aws: Aws, front: str, clock: FixedClock
) -> None:
    from shared import wiring
    from shared.domain.records import ReconcileCursor

    # Given a customer paid on Checkout, and neither the webhook nor Stripe's event list brought the
    # completion (the list's cursor is already past it, as for an event Stripe never listed)
    customer = create_customer(timezone="UTC", email="lost@example.com")
    invoice = create_invoice(customer["id"], amount_due=7_700, due_date="2027-03-15")
    session = checkout(token_of(invoice["pay_url"]))
    assert pay_on_page(front, session, GOOD) == 303
    now = wall_clock_now()
    wiring.ledger().advance_reconcile_cursor(ReconcileCursor(through=now + timedelta(hours=1), updated_at=now))
    # When reconciliation runs after the session's expiry (24 hours) and grace have passed
    clock.instant = START + timedelta(days=2)
    report = run()
    # Then it asked Stripe for the session and keeps drift naming the missing completion; nothing was made up
    assert (report["listed"], report["checkouts_checked"], report["checkouts_flagged"]) == (0, 1, 1)
    [drift] = [i for i in aws.items("RECONCILE") if i["sk"].startswith("DRIFT#checkout#")]
    assert drift["object_id"] == session and drift["reason"] == "paid_at_stripe_missing_checkout.session.completed"
    assert (get_invoice(invoice["id"])["status"], get_invoice(invoice["id"])["amount_paid"]) == ("open", 0)
    aws.drain_outbox()
    [completed] = reconcile_events(aws)
    assert (completed["open_checkouts_checked"], completed["open_checkouts_flagged"]) == (1, 1)
    assert completed["unresolved_drift"] == 1
