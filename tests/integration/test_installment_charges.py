"""functions/charges and the webhooks that settle its PaymentIntents: one PaymentIntent per (installment,
attempt), soft declines retried, hard declines and the last failure defaulting the plan."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.clock import FixedClock, SystemClock, use_clock
from shared.services.gateway import ChargeOutcome, OffSessionCharge
from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, create_invoice, deliver, get_invoice, operator, token_of
from tests.integration.test_installment_plans import OFFER, page, plan_item
from tests.support import FakeLambdaContext, json_body, session_object, stripe_event

# The plan below: $100 in three monthly installments from January 31, 2027, New York time
SECOND, THIRD = datetime(2027, 2, 28, 15, tzinfo=UTC), datetime(2027, 3, 31, 14, tzinfo=UTC)  # 10:00 local


@dataclass
class FakeStripe:
    """Records each off-session charge and answers with what the test queues (default: accepted);
    Checkout still goes to the local Stripe front."""

    checkout: Any
    calls: list[OffSessionCharge] = field(default_factory=list)
    answers: list[ChargeOutcome | Exception] = field(default_factory=list)

    def ensure_customer(self, customer: Any) -> str:
        return str(self.checkout.ensure_customer(customer))

    def create_checkout_session(self, request: Any) -> Any:
        return self.checkout.create_checkout_session(request)

    def create_setup_session(self, request: Any) -> Any:
        return self.checkout.create_setup_session(request)

    def payment_method_used(self, payment_intent_id: str) -> Any:
        return self.checkout.payment_method_used(payment_intent_id)

    def charge_off_session(self, request: OffSessionCharge) -> ChargeOutcome:
        self.calls.append(request)
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        return answer or ChargeOutcome(
            payment_intent_id=f"pi_{len(self.calls)}_{request.idempotency_key[-12:]}", status="processing"
        )


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    fixed = FixedClock(datetime(2027, 1, 31, 15, tzinfo=UTC))
    use_clock(fixed)
    yield fixed
    use_clock(SystemClock())


@pytest.fixture
def plan(aws: Aws, stripe: str, clock: FixedClock) -> dict[str, Any]:
    """An active three-installment plan: the first $33.34 paid on Checkout."""
    customer = create_customer(timezone="America/New_York", locale="en-US", email="hal@example.com")
    invoice = create_invoice(
        customer["id"], number="INV-C1", amount_due=10_000, due_date="2027-02-15", installments=OFFER
    )
    page("POST", token_of(invoice["pay_url"]), "/plan", form={"plan": "monthly-3"})
    [checkout] = [i for i in aws.items("INVOICE#") if i.get("type") == "checkout"]
    chosen = plan_item(aws)
    session = session_object(
        session_id=checkout["session_id"], invoice_id=invoice["id"], checkout_ref=checkout["ref"], amount=3_334,
        payment_intent="pi_first",
    )  # fmt: skip
    session["metadata"]["plan_id"] = chosen["id"]
    assert json_body(deliver(stripe_event("checkout.session.completed", session)))["outcome"] == "applied"
    return plan_item(aws) | {"token": token_of(invoice["pay_url"])}


@pytest.fixture
def fake_stripe(monkeypatch: pytest.MonkeyPatch) -> FakeStripe:
    from shared import wiring

    fake = FakeStripe(checkout=wiring.gateway())
    monkeypatch.setattr(wiring, "gateway", lambda: fake)
    return fake


def run() -> dict[str, Any]:
    from functions.charges.handler import lambda_handler

    return dict(lambda_handler({"source": "aws.scheduler", "detail": {}}, FakeLambdaContext()))


def settle(call: OffSessionCharge, intent_id: str, *, decline: str | None = None, code: str = "card_declined") -> str:
    """The webhook Stripe sends for the PaymentIntent a charge created."""
    obj: dict[str, Any] = {
        "id": intent_id, "object": "payment_intent", "amount": call.amount, "currency": call.currency.lower(),
        "metadata": call.metadata, "status": "succeeded" if decline is None else "requires_payment_method",
    }  # fmt: skip
    kind = "payment_intent.succeeded"
    if decline is not None:
        kind = "payment_intent.payment_failed"
        obj["last_payment_error"] = {"type": "card_error", "code": code, "decline_code": decline}
    return str(json_body(deliver(stripe_event(kind, obj)))["outcome"])


def test_a_three_installment_plan_is_charged_on_its_dates_and_completes(
    aws: Aws, clock: FixedClock, plan: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    clock.instant = SECOND.replace(hour=14)  # 09:00 in New York: not yet
    assert run()["charged"] == 0
    clock.instant = SECOND
    assert run()["charged"] == 1
    [second] = fake_stripe.calls
    assert second.amount == 3_333 and second.currency == "USD"
    assert second.idempotency_key == f"payportal-installment-{plan['id']}-2-1"
    assert second.metadata == {
        "invoice_id": plan["invoice_id"], "customer_id": plan["customer_id"], "plan_id": plan["id"],
        "installment": "2", "attempt": "1",
    }  # fmt: skip
    assert run()["charged"] == 0  # fired again: nothing is charged twice
    assert settle(second, "pi_second") == "applied"
    assert get_invoice(plan["invoice_id"])["amount_paid"] == 6_667

    clock.instant = THIRD
    assert run()["charged"] == 1
    assert settle(fake_stripe.calls[-1], "pi_third") == "applied"
    shown = get_invoice(plan["invoice_id"])
    assert (shown["status"], shown["amount_paid"], shown["active_plan"]) == ("paid", 10_000, None)
    assert plan_item(aws)["status"] == "completed"
    aws.drain_outbox()
    names = [e["detail-type"] for e in aws.domain_events()]
    assert names.count("plan.installment_paid") == 3 and names.count("plan.completed") == 1
    assert len([e for e in aws.emails() if "receipt" in e.subject.lower() or "payment" in e.subject.lower()]) >= 3


def test_concurrent_runs_create_one_payment_intent(
    aws: Aws, clock: FixedClock, plan: dict[str, Any], fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.wiring import ledger

    clock.instant = SECOND
    store = ledger()
    real = store.due_plans
    raced: list[dict[str, Any]] = []

    def read_then_let_another_run_finish(*args: Any, **kwargs: Any) -> Any:
        page_ = real(*args, **kwargs)
        if page_.items and not raced:
            monkeypatch.setattr(store, "due_plans", real)
            raced.append(run())
            monkeypatch.setattr(store, "due_plans", read_then_let_another_run_finish)
        return page_

    monkeypatch.setattr(store, "due_plans", read_then_let_another_run_finish)
    first = run()
    assert raced[0]["charged"] == 1 and first["charged"] == 0 and first["conflicts"] == 1
    assert len(fake_stripe.calls) == 1


def test_a_run_that_crashed_after_claiming_charges_again_with_the_same_key(
    aws: Aws, clock: FixedClock, plan: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    clock.instant = SECOND
    fake_stripe.answers.append(ConnectionError("Stripe unreachable"))
    failed = run()  # the attempt was claimed, then Stripe did not answer: skipped, the run goes on
    assert (failed["charged"], failed["skipped"]) == (0, 1)
    assert run()["charged"] == 0  # a retry right away finds it claimed
    clock.instant = SECOND + timedelta(minutes=10)
    assert run()["charged"] == 1
    first, again = fake_stripe.calls
    assert first.idempotency_key == again.idempotency_key  # Stripe returns the same PaymentIntent


def test_soft_declines_are_retried_after_3_5_and_7_days_then_the_plan_defaults(
    aws: Aws, clock: FixedClock, plan: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    at = SECOND
    for attempt, wait in enumerate((3, 5, 7, None), start=1):
        clock.instant = at
        assert run()["charged"] == 1, attempt
        call = fake_stripe.calls[-1]
        assert call.idempotency_key.endswith(f"-2-{attempt}")
        assert settle(call, f"pi_try_{attempt}", decline="insufficient_funds") == "applied"
        if wait is not None:
            assert plan_item(aws)["next_action_at"] == (at + timedelta(days=wait)).strftime("%Y-%m-%dT%H:%M:%SZ")
            at += timedelta(days=wait)
    defaulted = plan_item(aws)
    assert defaulted["status"] == "defaulted" and "next_action_at" not in defaulted
    shown = get_invoice(plan["invoice_id"])
    assert shown["active_plan"] is None and shown["next_reminder_at"] is not None  # back in dunning
    aws.drain_outbox()
    names = [e["detail-type"] for e in aws.domain_events()]
    assert names.count("plan.installment_failed") == 4 and names.count("plan.defaulted") == 1


def test_a_hard_decline_is_never_retried(
    aws: Aws, clock: FixedClock, plan: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    clock.instant = SECOND
    run()
    assert settle(fake_stripe.calls[-1], "pi_lost", decline="lost_card") == "applied"
    assert plan_item(aws)["status"] == "defaulted"
    clock.instant = datetime(2027, 4, 30, 15, tzinfo=UTC)
    assert run()["charged"] == 0 and len(fake_stripe.calls) == 1


def test_a_hold_pauses_charges(aws: Aws, clock: FixedClock, plan: dict[str, Any], fake_stripe: FakeStripe) -> None:
    held = operator(
        "POST", f"/v1/invoices/{plan['invoice_id']}/hold", "/v1/invoices/{invoice_id}/hold",
        params={"invoice_id": plan["invoice_id"]}, body={"reason": "customer disputes the amount"},
    )  # fmt: skip
    assert held["statusCode"] == 200, held["body"]
    clock.instant = SECOND
    report = run()
    assert report["paused"] == 1 and fake_stripe.calls == []


def test_a_settlement_that_does_not_match_the_installment_is_flagged(
    aws: Aws, clock: FixedClock, plan: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    clock.instant = SECOND
    run()
    call = fake_stripe.calls[-1]
    assert settle(replace(call, amount=call.amount + 1), "pi_odd") == "flagged"
    assert get_invoice(plan["invoice_id"])["amount_paid"] == 3_334


def test_a_declined_installment_can_be_paid_on_the_pay_page_and_the_plan_goes_on(
    aws: Aws, clock: FixedClock, plan: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    from tests.integration.test_pay_pages import headers

    clock.instant = SECOND
    run()
    assert settle(fake_stripe.calls[-1], "pi_declined", decline="insufficient_funds") == "applied"
    aws.drain_outbox()
    [email] = [e for e in aws.emails() if "could not charge installment 2" in e.subject]
    assert "try again on Mar 3, 2027" in email.text and "/pay/" in email.text

    body = page("GET", plan["token"])["body"]
    assert "Pay installment 2" in body and "$33.33" in body
    response = page("POST", plan["token"], "/installment")
    assert response["statusCode"] == 303 and "/checkout/" in headers(response)["location"]
    [checkout] = [i for i in aws.items("INVOICE#") if i.get("type") == "checkout" and i["amount"] == 3_333]
    session = session_object(
        session_id=checkout["session_id"], invoice_id=plan["invoice_id"], checkout_ref=checkout["ref"],
        amount=3_333, payment_intent="pi_paid_by_hand",
    )  # fmt: skip
    session["metadata"] |= {"plan_id": plan["id"], "installment": "2"}
    assert json_body(deliver(stripe_event("checkout.session.completed", session)))["outcome"] == "applied"

    settled = plan_item(aws)
    assert [i["status"] for i in settled["installments"]] == ["paid", "paid", "scheduled"]
    assert settled["next_action_at"] == THIRD.strftime("%Y-%m-%dT%H:%M:%SZ")
    clock.instant = SECOND + timedelta(days=3)  # the retry that is no longer needed
    assert run()["charged"] == 0
    assert get_invoice(plan["invoice_id"])["amount_paid"] == 6_667


def test_an_installment_that_needs_authentication_asks_the_customer_and_a_default_tells_them(
    aws: Aws, clock: FixedClock, plan: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    clock.instant = SECOND
    run()
    settle(fake_stripe.calls[-1], "pi_3ds", decline="authentication_required", code="authentication_required")
    clock.instant = SECOND + timedelta(days=7)
    run()
    settle(fake_stripe.calls[-1], "pi_stolen", decline="stolen_card")
    aws.drain_outbox()
    subjects = [e.subject for e in aws.emails()]
    assert "Please confirm installment 2 for invoice INV-C1" in subjects
    assert "Your installment plan for invoice INV-C1 has ended" in subjects


def test_a_card_that_expires_before_the_next_installment_gets_a_notice_and_can_be_replaced(
    aws: Aws, clock: FixedClock, plan: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    from tests.integration.test_pay_pages import headers

    clock.instant = SECOND
    fake_stripe.answers.append(ChargeOutcome(payment_intent_id="pi_2", status="processing", card_expires=(2027, 2)))
    run()
    aws.drain_outbox()
    [notice] = [e for e in aws.emails() if "expires before your next installment" in e.subject]
    assert "installment 3 ($33.33) is charged on March 31, 2027" in notice.text

    response = page("POST", plan["token"], "/card")  # the pay page's "Use another card" button
    assert response["statusCode"] == 303 and "/checkout/" in headers(response)["location"]
    assert "Your new card is saved" in page("GET", plan["token"], query={"card": "saved"})["body"]
    # Checkout in setup mode completes: no money moves
    setup = {
        "id": "cs_setup_1",
        "object": "checkout.session",
        "mode": "setup",
        "status": "complete",
        "setup_intent": "seti_1",
        "metadata": {"invoice_id": plan["invoice_id"], "purpose": "card_update"},
    }
    assert json_body(deliver(stripe_event("checkout.session.completed", setup)))["outcome"] == "ignored"
    assert get_invoice(plan["invoice_id"])["amount_paid"] == 3_334


def test_no_notice_when_the_card_outlives_the_plan(
    aws: Aws, clock: FixedClock, plan: dict[str, Any], fake_stripe: FakeStripe
) -> None:
    clock.instant = SECOND
    fake_stripe.answers.append(ChargeOutcome(payment_intent_id="pi_2", status="processing", card_expires=(2027, 3)))
    run()
    aws.drain_outbox()
    assert not [e for e in aws.emails() if "expires" in e.subject]


def test_the_retry_days_are_configurable(
    aws: Aws, clock: FixedClock, plan: dict[str, Any], fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared import config

    monkeypatch.setenv("PAYPORTAL_CHARGE_RETRY_DAYS", "1,2")
    config.settings.cache_clear()
    at = SECOND
    for attempt, wait in enumerate((1, 2, None), start=1):
        clock.instant = at
        assert run()["charged"] == 1, attempt
        settle(fake_stripe.calls[-1], f"pi_cfg_{attempt}", decline="insufficient_funds")
        if wait is not None:
            at += timedelta(days=wait)
            assert plan_item(aws)["next_action_at"] == at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert plan_item(aws)["status"] == "defaulted"
    config.settings.cache_clear()


@pytest.mark.parametrize("raw", ["", "3,x", "0,5", "-1"])
def test_impossible_retry_days_are_a_configuration_error(raw: str) -> None:
    from shared.config import ConfigurationError, Settings

    env = {"PAYPORTAL_TABLE": "t", "PAYPORTAL_PUBLIC_BASE_URL": "https://pay.example.com"}
    with pytest.raises(ConfigurationError):
        Settings.from_environment(env | {"PAYPORTAL_CHARGE_RETRY_DAYS": raw})
