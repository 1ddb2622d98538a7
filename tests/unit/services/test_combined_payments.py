"""A payment of several invoices, recorded from Stripe's facts: each invoice gets its share exactly once, in any
order of events, delivered again, cut short halfway, or read again by reconciliation; one receipt lists them."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.clock import FixedClock
from shared.domain.errors import RefundExceedsRefundable
from shared.domain.invoices import InvoiceStatus, PaymentStatus
from shared.domain.messages import (
    CombinedPaymentFailedEmail,
    CombinedReceiptEmail,
    Event,
    EventName,
    PaymentFailedEmail,
    ReceiptEmail,
)
from shared.domain.records import REMINDER_CHANNEL_EMAIL, CombinedCheckout, RefundStatus, ReminderAttribution
from shared.services.aggregates import tallied
from shared.services.checkout import CheckoutConfig
from shared.services.combined_checkout import AllocationAsk, start_combined_checkout
from shared.services.outbox import Branding, compose_email
from shared.services.ports import Change
from shared.services.refunds import RefundAsk, RefundMade, refund_payment_once
from shared.services.stripe_events.engine import Outcome
from shared.services.stripe_events.facts import RefundFact, RefundSeen, SessionState, StripeFact, Tags
from shared.services.stripe_events.router import record_stripe_event
from tests.fakes import FakeGateway, InMemoryLedger
from tests.fakes.records import NOW, a_customer, an_invoice
from tests.fakes.run_once import InMemoryRunOnce
from tests.fakes.stripe_facts import a_dispute_fact, a_session_fact, an_event_meta, an_intent_fact

CLOCK = FixedClock(NOW)
CONFIG = CheckoutConfig(base_url="https://pay.example.test", payment_method_types=("card",))
SHARES = {"inv_1": 12_500, "inv_2": 3_000}  # inv_1 in full; 30.00 of inv_2's 80.00
TOTAL = sum(SHARES.values())
INTENT = "pi_combined"
BRANDING = Branding("Acme Ltd", "billing@acme.example", "https://pay.example.test", 90)


def paying_two(
    ledger: InMemoryLedger | None = None, reminders: dict[str, ReminderAttribution] | None = None
) -> tuple[InMemoryLedger, CombinedCheckout]:
    """Given cus_1 owes inv_1 (USD 125.00) and inv_2 (USD 80.00, partial payments allowed), and opened one
    session paying all of inv_1 and 30.00 of inv_2."""
    ledger = ledger or InMemoryLedger()
    ledger.commit(Change(new_customer=a_customer()))
    ledger.commit(tallied(Change(new_invoice=an_invoice()), NOW))
    ledger.commit(tallied(Change(new_invoice=an_invoice("inv_2", amount_due=8_000, allow_partial=True)), NOW))
    asks = [AllocationAsk(invoice_id, amount) for invoice_id, amount in SHARES.items()]
    combined = start_combined_checkout(ledger, FakeGateway(), CLOCK, CONFIG, "cus_1", asks, reminders=reminders)
    return ledger, combined


def tags(combined: CombinedCheckout) -> Tags:
    return Tags(customer_id="cus_1", combined_ref=combined.ref)


def completed(combined: CombinedCheckout, event_id: str = "evt_done", *, paid: bool = True, **kw: Any) -> StripeFact:
    fields: dict[str, Any] = {"session_id": combined.session_id, "payment_intent_id": INTENT, "amount": TOTAL}
    return a_session_fact(event_id, paid=paid, tags=tags(combined), **(fields | kw))


def session_event(combined: CombinedCheckout, event_id: str, state: SessionState) -> StripeFact:
    return a_session_fact(
        event_id, state, session_id=combined.session_id, payment_intent_id=INTENT, amount=TOTAL, tags=tags(combined)
    )


def intent_failed(combined: CombinedCheckout, event_id: str = "evt_pi_failed") -> StripeFact:
    return an_intent_fact(event_id, succeeded=False, payment_intent_id=INTENT, amount=TOTAL, tags=tags(combined))


def bodies(ledger: InMemoryLedger, kind: type) -> list[Any]:
    return [m.body for m in ledger.outbox_messages() if isinstance(m.body, kind)]


def announced(ledger: InMemoryLedger, name: EventName) -> Counter[str]:
    return Counter(str(e.detail["invoice_id"]) for e in bodies(ledger, Event) if e.name is name)


def owed_counted(ledger: InMemoryLedger) -> int:
    return sum(
        v.get("amount", 0)
        for (scope, bucket), v in ledger.tallies.items()
        if scope == "owed#USD" and bucket.startswith("M#")
    )


def test_a_paid_session_pays_each_invoice_its_share_with_one_receipt_listing_both() -> None:
    ledger, combined = paying_two()

    outcome = record_stripe_event(ledger, CLOCK, completed(combined))

    assert outcome is Outcome.APPLIED
    inv_1, inv_2 = ledger.get_invoice("inv_1"), ledger.get_invoice("inv_2")
    assert inv_1 is not None and inv_1.status is InvoiceStatus.PAID and inv_1.amount_paid == 12_500
    assert inv_2 is not None and inv_2.status is InvoiceStatus.PARTIALLY_PAID and inv_2.amount_remaining == 5_000
    # Each invoice has one payment of its share, under its own id, on the one PaymentIntent
    for invoice_id, share in SHARES.items():
        [payment] = ledger.get_invoice_payments(invoice_id)
        assert (payment.key, payment.amount, payment.status) == (
            combined.share_key(invoice_id),
            share,
            PaymentStatus.SUCCEEDED,
        )
        assert payment.payment_intent_id == INTENT and payment.combined_ref == combined.ref
        assert ledger.invoice_for_payment_intent(payment.key) == invoice_id
    assert ledger.combined_for_payment_intent(INTENT) == combined.ref
    # And each invoice announces its own payment; one receipt, none per invoice
    assert announced(ledger, EventName.PAYMENT_SUCCEEDED) == Counter({"inv_1": 1, "inv_2": 1})
    assert announced(ledger, EventName.INVOICE_PAID) == Counter({"inv_1": 1})
    assert announced(ledger, EventName.INVOICE_PARTIALLY_PAID) == Counter({"inv_2": 1})
    assert bodies(ledger, ReceiptEmail) == []
    assert bodies(ledger, CombinedReceiptEmail) == [CombinedReceiptEmail("inv_1", combined.ref, paid_at=NOW)]
    assert ledger.stripe_events["evt_done"].outcome == "applied"
    assert owed_counted(ledger) == 5_000
    stored = ledger.get_combined_checkout(combined.ref)
    assert stored is not None and stored.payment_status is PaymentStatus.SUCCEEDED


def test_the_receipt_lists_every_invoice_and_its_share() -> None:
    ledger, combined = paying_two()
    record_stripe_event(ledger, CLOCK, completed(combined))
    [receipt] = bodies(ledger, CombinedReceiptEmail)

    email = compose_email(receipt, "msg_1", ledger, CLOCK, BRANDING, FakeGateway())

    assert email is not None and email.to == "cus_1@example.com"
    assert "N-inv_1" in email.text and "N-inv_2" in email.text and "N-inv_1" in email.html
    assert "$125.00" in email.text and "$30.00" in email.text and "$155.00" in email.text
    assert "$50.00 still to pay" in email.text  # what remains of inv_2
    assert "<title>" in email.html and "155.00" in email.subject


def test_an_event_that_does_not_match_the_recorded_payment_is_flagged_and_pays_nothing() -> None:
    ledger, combined = paying_two()

    outcome = record_stripe_event(ledger, CLOCK, completed(combined, amount=TOTAL - 1))

    assert outcome is Outcome.FLAGGED
    assert ledger.get_invoice_payments("inv_1") == ledger.get_invoice_payments("inv_2") == []
    assert "stripe_event.flagged" in ledger.audit_actions("inv_1")
    assert bodies(ledger, CombinedReceiptEmail) == []


def test_an_unknown_combined_payment_is_flagged() -> None:
    ledger, combined = paying_two()
    unknown = replace(combined, ref="cmb_unknown")

    assert record_stripe_event(ledger, CLOCK, completed(unknown)) is Outcome.FLAGGED
    assert ledger.get_invoice_payments("inv_1") == []


def test_an_invoice_paid_meanwhile_keeps_its_share_as_credit() -> None:
    # Given inv_1 was paid in full by another route after the combined session was opened
    ledger, combined = paying_two()
    inv_1 = ledger.get_invoice("inv_1")
    assert inv_1 is not None
    paid_elsewhere = replace(inv_1.with_payment(12_500), version=inv_1.version + 1)
    ledger.commit(tallied(Change(invoice_update=paid_elsewhere), NOW, invoice_before=inv_1))

    record_stripe_event(ledger, CLOCK, completed(combined))

    # Then its share is kept as the customer's credit, and the operator is told
    paid = ledger.get_invoice("inv_1")
    assert paid is not None and paid.amount_credit == 12_500
    assert "invoice.overpaid" in ledger.audit_actions("inv_1")
    assert announced(ledger, EventName.INVOICE_OVERPAID) == Counter({"inv_1": 1})


def test_each_share_is_credited_to_the_reminder_that_opened_it() -> None:
    sent = ReminderAttribution("7:overdue", "overdue", REMINDER_CHANNEL_EMAIL, NOW)
    ledger, combined = paying_two(reminders={"inv_1": sent})

    record_stripe_event(ledger, CLOCK, completed(combined))

    [first] = ledger.get_invoice_payments("inv_1")
    [second] = ledger.get_invoice_payments("inv_2")
    assert first.reminder == sent and second.reminder is None


def test_a_delayed_debit_that_fails_tells_the_customer_once_for_all_invoices() -> None:
    ledger, combined = paying_two()

    record_stripe_event(ledger, CLOCK, completed(combined, paid=False))
    record_stripe_event(ledger, CLOCK, session_event(combined, "evt_failed", SessionState.ASYNC_FAILED))
    record_stripe_event(ledger, CLOCK, intent_failed(combined))

    assert [p.status for i in SHARES for p in ledger.get_invoice_payments(i)] == [PaymentStatus.FAILED] * 2
    assert bodies(ledger, CombinedPaymentFailedEmail) == [CombinedPaymentFailedEmail("inv_1", combined.ref)]
    assert bodies(ledger, PaymentFailedEmail) == []
    [told] = bodies(ledger, CombinedPaymentFailedEmail)
    email = compose_email(told, "msg_2", ledger, CLOCK, BRANDING, FakeGateway())
    assert email is not None and "N-inv_1" in email.text and "/pay/" in email.text


# ----- any order, any repeat, cut short anywhere ----------------------------------------------------------------

# What happened at Stripe, in the order it happened, and what the payment became.
SCENARIOS: dict[str, tuple[tuple[str, ...], PaymentStatus | None]] = {
    "card": (("paid",), PaymentStatus.SUCCEEDED),
    "declined, then a card": (("intent_failed", "paid"), PaymentStatus.SUCCEEDED),
    "debit succeeded": (("unpaid", "async_succeeded"), PaymentStatus.SUCCEEDED),
    "debit failed": (("unpaid", "async_failed", "intent_failed"), PaymentStatus.FAILED),
    "debit processing": (("unpaid",), PaymentStatus.PENDING),
    "expired": (("expired",), None),
}


def fact_of(combined: CombinedCheckout, name: str) -> StripeFact:
    match name:
        case "paid":
            return completed(combined, "evt_paid")
        case "unpaid":
            return completed(combined, "evt_unpaid", paid=False)
        case "async_succeeded":
            return session_event(combined, "evt_async_ok", SessionState.ASYNC_SUCCEEDED)
        case "async_failed":
            return session_event(combined, "evt_async_failed", SessionState.ASYNC_FAILED)
        case "intent_failed":
            return intent_failed(combined)
        case _:
            return session_event(combined, "evt_expired", SessionState.EXPIRED)


class CrashingLedger(InMemoryLedger):
    """A delivery that dies once, at the n-th read of an invoice's payment (after the shares before it were
    committed): the webhook answers 500 and Stripe delivers the event again."""

    def __init__(self, crash_at: int | None) -> None:
        super().__init__()
        self.crash_at, self.reads = crash_at, 0

    def get_payment_context(self, *args: Any, **kwargs: Any) -> Any:
        self.reads += 1
        if self.reads == self.crash_at:
            raise TimeoutError("the function died here")
        return super().get_payment_context(*args, **kwargs)


@settings(max_examples=150, deadline=None)
@given(
    scenario=st.sampled_from(sorted(SCENARIOS)),
    data=st.data(),
    crash_at=st.none() | st.integers(min_value=1, max_value=8),
)
def test_each_invoice_gets_its_share_once_whatever_the_order(
    scenario: str, data: st.DataObject, crash_at: int | None
) -> None:
    happened, became = SCENARIOS[scenario]
    crashing = CrashingLedger(crash_at)
    ledger, combined = paying_two(crashing)
    crashing.reads = 0
    # When Stripe delivers each event at least once, some again, in any order
    repeats = data.draw(st.lists(st.sampled_from(happened), max_size=3), label="repeats")
    queue = list(data.draw(st.permutations(list(happened) + repeats), label="deliveries"))
    while queue:
        name = queue.pop(0)
        try:
            record_stripe_event(ledger, CLOCK, fact_of(combined, name))
        except TimeoutError:
            queue.append(name)  # answered 500: Stripe delivers it again later
    # And reconciliation then reads every event of Stripe's list, in the order Stripe created them
    for name in happened:
        assert record_stripe_event(ledger, CLOCK, fact_of(combined, name)) is Outcome.DUPLICATE_EVENT

    # Then each invoice was paid its share exactly once (or nothing), and nothing was flagged
    for invoice_id, share in SHARES.items():
        invoice = ledger.get_invoice(invoice_id)
        assert invoice is not None
        assert invoice.amount_paid == (share if became is PaymentStatus.SUCCEEDED else 0)
        payments = ledger.get_invoice_payments(invoice_id)
        assert [(p.key, p.amount, p.status) for p in payments] == (
            [(combined.share_key(invoice_id), share, became)] if became else []
        )
    assert not [e for e in ledger.stripe_events.values() if e.outcome == "flagged"]
    # And the aggregates hold what is still owed, to the minor unit
    owed = sum(i.amount_remaining for i in ledger.invoices.values() if i.status is not InvoiceStatus.PAID)
    assert owed_counted(ledger) == owed
    collected = sum(
        v.get("collected", 0) for (scope, b), v in ledger.tallies.items() if scope == "flows#USD" and b.startswith("D#")
    )
    assert collected == (TOTAL if became is PaymentStatus.SUCCEEDED else 0)
    # And one receipt at most, one failure email for a failed debit, never one per invoice
    succeeded = became is PaymentStatus.SUCCEEDED
    assert len(bodies(ledger, CombinedReceiptEmail)) == int(succeeded)
    assert len(bodies(ledger, CombinedPaymentFailedEmail)) == int(scenario == "debit failed")
    assert bodies(ledger, ReceiptEmail) == bodies(ledger, PaymentFailedEmail) == []
    assert announced(ledger, EventName.PAYMENT_SUCCEEDED) == (Counter(SHARES.keys()) if succeeded else Counter())
    stored = ledger.get_combined_checkout(combined.ref)
    assert stored is not None and stored.payment_status is became


# ----- refunds of one share -----------------------------------------------------------------------------------


def paid_two() -> tuple[InMemoryLedger, CombinedCheckout]:
    ledger, combined = paying_two()
    record_stripe_event(ledger, CLOCK, completed(combined))
    return ledger, combined


def refund(ledger: InMemoryLedger, gateway: FakeGateway, payment_id: str, amount: int | None) -> RefundMade:
    ask = RefundAsk(amount=amount, reason="requested_by_customer", reopen_balance=False)
    return refund_payment_once(
        ledger, gateway, CLOCK, InMemoryRunOnce(), payment_id, ask, key=f"k-{amount}", fingerprint={}, actor="arn:op"
    )


def refund_seen(refund_id: str, amount: int, invoice_id: str = "") -> RefundSeen:
    return RefundSeen(refund_id, amount, "USD", RefundStatus.SUCCEEDED, "requested_by_customer", False, "", invoice_id)


def refund_event(event_id: str, *seen: RefundSeen) -> RefundFact:
    return RefundFact(an_event_meta(event_id, "charge.refunded", "ch_c"), INTENT, seen)


def test_a_share_is_refunded_on_the_shared_payment_intent_up_to_that_share() -> None:
    ledger, combined = paid_two()
    gateway = FakeGateway()
    share = combined.share_key("inv_2")

    made = refund(ledger, gateway, share, None)

    # Then Stripe is asked to refund the share on the one PaymentIntent, naming the share's invoice
    [asked] = gateway.refund_requests
    assert (asked.payment_intent_id, asked.amount, asked.metadata["invoice_id"]) == (INTENT, 3_000, "inv_2")
    assert made.payment.key == share and made.payment.amount_refunded == 3_000
    [other] = ledger.get_invoice_payments("inv_1")
    assert other.amount_refunded == 0
    # And never beyond the share, though the PaymentIntent holds more
    with pytest.raises(RefundExceedsRefundable):
        refund(ledger, FakeGateway(), combined.share_key("inv_1"), 12_501)

    # When Stripe's event for that refund arrives; Then it changes nothing more
    made_id = made.refund.id
    assert record_stripe_event(ledger, CLOCK, refund_event("evt_r1", refund_seen(made_id, 3_000, "inv_2"))) in (
        Outcome.NO_CHANGE,
        Outcome.APPLIED,
    )
    [still] = ledger.get_invoice_payments("inv_2")
    assert still.amount_refunded == 3_000 and len(still.refunds) == 1


def test_refunds_naming_their_invoices_go_to_each_share_once() -> None:
    ledger, _ = paid_two()
    event = refund_event("evt_r2", refund_seen("re_a", 2_500, "inv_1"), refund_seen("re_b", 1_000, "inv_2"))

    assert record_stripe_event(ledger, CLOCK, event) is Outcome.APPLIED
    assert record_stripe_event(ledger, CLOCK, event) is Outcome.DUPLICATE_EVENT

    [first] = ledger.get_invoice_payments("inv_1")
    [second] = ledger.get_invoice_payments("inv_2")
    assert (first.amount_refunded, second.amount_refunded) == (2_500, 1_000)
    inv_1 = ledger.get_invoice("inv_1")
    assert inv_1 is not None and inv_1.amount_refunded == 2_500


@pytest.mark.parametrize(
    "seen",
    [
        refund_seen("re_dash", 1_000),  # the dashboard's: names no invoice
        refund_seen("re_x", 1_000, "inv_elsewhere"),  # names an invoice not in the payment
        refund_seen("re_big", 3_001, "inv_2"),  # more than inv_2's share
    ],
)
def test_a_refund_payportal_cannot_allocate_is_flagged_not_guessed(seen: RefundSeen) -> None:
    ledger, _ = paid_two()

    outcome = record_stripe_event(ledger, CLOCK, refund_event("evt_dash", seen))

    assert outcome is Outcome.FLAGGED
    assert [p.amount_refunded for i in SHARES for p in ledger.get_invoice_payments(i)] == [0, 0]
    assert ledger.stripe_events["evt_dash"].outcome == "flagged"


def test_a_dispute_of_a_combined_payment_is_flagged_for_review() -> None:
    ledger, _ = paid_two()

    outcome = record_stripe_event(ledger, CLOCK, a_dispute_fact(payment_intent_id=INTENT))

    assert outcome is Outcome.FLAGGED
    assert "stripe_event.flagged" in ledger.audit_actions("inv_1")
