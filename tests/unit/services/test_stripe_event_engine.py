"""The apply-once engine: a lost race is read and decided again, a conflict that never ends is left to
Stripe's retry, and any delivery order of one invoice's events gives the same money."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.clock import FixedClock
from shared.domain.invoices import InvoiceStatus, PaymentStatus
from shared.services.ports import Change
from shared.services.stripe_events.checkout_payments import record_session
from shared.services.stripe_events.engine import MAX_ATTEMPTS, Outcome
from shared.services.stripe_events.facts import SessionState, StripeFact
from shared.services.stripe_events.router import record_stripe_event
from tests.fakes import InMemoryLedger
from tests.fakes.records import NOW, a_checkout, a_customer, a_payment, an_invoice
from tests.fakes.stripe_facts import a_session_fact, an_intent_fact, checkout_tags

CLOCK = FixedClock(NOW)


class RacingLedger(InMemoryLedger):
    """Before each of its first `races` commits, another payment of 25.00 on inv_1 lands first."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races
        self.attempts = 0

    def commit(self, change: Change) -> None:
        if change.stripe_event is not None:
            self.attempts += 1
            if self.attempts <= self.races:
                invoice = self.invoices["inv_1"]
                rival = a_payment(f"pi_rival_{self.attempts}", amount=2_500, checkout_session_id=None)
                super().commit(Change(invoice_update=invoice.with_payment(2_500), payment=rival))
        super().commit(change)


def racing_ledger(races: int) -> RacingLedger:
    ledger = RacingLedger(races)
    ledger.commit(Change(new_customer=a_customer(), new_invoice=an_invoice(), checkout=a_checkout()))
    return ledger


def test_a_lost_race_is_read_again_and_both_payments_count() -> None:
    ledger = racing_ledger(races=1)

    outcome = record_session(ledger, CLOCK, a_session_fact())

    assert outcome is Outcome.APPLIED and ledger.attempts == 2
    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.amount_paid == 2_500 + 12_500 and invoice.amount_credit == 2_500
    assert {p.key for p in ledger.get_invoice_payments("inv_1")} == {"pi_rival_1", "pi_1"}
    assert ledger.audit_actions("inv_1") == ["payment.succeeded", "invoice.overpaid"]


def test_a_race_lost_every_time_raises_for_stripe_to_retry_and_records_nothing() -> None:
    ledger = racing_ledger(races=MAX_ATTEMPTS)

    with pytest.raises(RuntimeError, match="evt_1"):
        record_session(ledger, CLOCK, a_session_fact())

    assert ledger.attempts == MAX_ATTEMPTS
    assert "evt_1" not in ledger.stripe_events
    assert "pi_1" not in {p.key for p in ledger.get_invoice_payments("inv_1")}


# ----- any order converges ------------------------------------------------------------------------------

# inv_1 (USD 125.00, partial payments allowed) is paid in three Checkout sessions; a fourth is declined.
SESSIONS = (("chk_1", "cs_1", "pi_1", 3_000), ("chk_2", "cs_2", "pi_2", 4_000), ("chk_3", "cs_3", "pi_3", 5_500))
DECLINED = ("chk_4", "cs_4", "pi_4", 2_000)


def facts_about_one_invoice() -> list[StripeFact]:
    facts: list[StripeFact] = []
    for ref, session, intent, amount in SESSIONS:
        tags = checkout_tags(checkout_ref=ref)
        facts += [
            a_session_fact(
                f"evt_{ref}_done", paid=False, session_id=session, payment_intent_id=intent, amount=amount, tags=tags
            ),
            a_session_fact(
                f"evt_{ref}_paid",
                SessionState.ASYNC_SUCCEEDED,
                session_id=session,
                payment_intent_id=intent,
                amount=amount,
                tags=tags,
            ),
            # a Checkout PaymentIntent's failure of an earlier try, delivered in any order
            an_intent_fact(f"evt_{ref}_failed", succeeded=False, payment_intent_id=intent, amount=amount, tags=tags),
        ]
    ref, _, intent, amount = DECLINED
    facts.append(
        an_intent_fact(
            "evt_declined",
            succeeded=False,
            payment_intent_id=intent,
            amount=amount,
            tags=checkout_tags(checkout_ref=ref),
        )
    )
    return facts + facts[:4]  # Stripe delivers some events more than once


def ledger_for_order_test() -> InMemoryLedger:
    ledger = InMemoryLedger()
    checkouts = [replace(a_checkout(ref, session), amount=amount) for ref, session, _, amount in (*SESSIONS, DECLINED)]
    ledger.commit(Change(new_customer=a_customer(), new_invoice=an_invoice(allow_partial=True, min_partial_amount=1)))
    for checkout in checkouts:
        ledger.commit(Change(checkout=checkout))
    return ledger


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(facts_about_one_invoice()))
def test_any_delivery_order_gives_the_same_money_and_payments(order: list[StripeFact]) -> None:
    ledger = ledger_for_order_test()

    for fact in order:
        record_stripe_event(ledger, CLOCK, fact)

    invoice = ledger.get_invoice("inv_1")
    assert invoice is not None
    assert (invoice.amount_paid, invoice.status) == (12_500, InvoiceStatus.PAID)
    payments = {p.key: (p.status, p.amount) for p in ledger.get_invoice_payments("inv_1")}
    assert payments == {
        "pi_1": (PaymentStatus.SUCCEEDED, 3_000),
        "pi_2": (PaymentStatus.SUCCEEDED, 4_000),
        "pi_3": (PaymentStatus.SUCCEEDED, 5_500),
        "pi_4": (PaymentStatus.FAILED, 2_000),
    }
    receipts = [m for m in ledger.outbox_messages() if m.name == "receipt"]
    assert len(receipts) == 3
