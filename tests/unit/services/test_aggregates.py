"""Running aggregates over the fakes: every counter derived from the invoice's before and after, written with
the change, and equal to a recomputation from the invoices after any history of money moving."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.clock import AdjustableClock
from shared.domain.errors import DomainError
from shared.domain.invoices import Hold, Invoice, InvoiceStatus, PaymentStatus
from shared.domain.local_time import local_date
from shared.domain.records import Installment, InstallmentStatus, OfflineMethod, PlanStatus
from shared.services import aggregates
from shared.services.aggregates import PROMISE_REASON, owed_by, tallied, tallies_for
from shared.services.checkout import PayPage, promise_to_pay
from shared.services.corrections import CreditNoteAsk, InvoiceCorrection, correct_invoice, issue_credit_note_once
from shared.services.counters_backfill import backfill_counters
from shared.services.invoices import InvoiceDraft, create_invoice, void_invoice
from shared.services.offline_payments import (
    OfflinePaymentAsk,
    record_offline_payment_once,
    reverse_offline_payment_once,
)
from shared.services.ports import Change, merged_tallies
from shared.services.refunds import RefundAsk, refund_payment_once
from tests.fakes import FakeGateway, InMemoryLedger
from tests.fakes.ledger import UntalliedChange
from tests.fakes.records import NOW, a_customer, a_payment, a_plan, an_invoice
from tests.fakes.run_once import InMemoryRunOnce

OPS = "arn:aws:iam::1:user/ops"
DAY = date(2026, 11, 2)


def counters(ledger: InMemoryLedger, scope: str) -> dict[str, dict[str, int]]:
    return ledger.read_tallies(scope, between=("", "~"))


def within(ledger: InMemoryLedger, prefix: str) -> dict[str, dict[str, int]]:
    """Every counter of the scopes starting with `prefix` (a currency's due years, or months of moves)."""
    found: dict[str, dict[str, int]] = {}
    for (scope, bucket), counts in ledger.tallies.items():
        if scope.startswith(prefix):
            assert bucket not in found or scope.startswith("owedmoves"), bucket
            found[f"{scope}|{bucket}" if scope.startswith("owedmoves") else bucket] = counts
    return found


def flows(tallies: list[aggregates.Tally], bucket: str) -> dict[str, int]:
    found = [t for t in merged_tallies(tallies) if t.scope.startswith("flows#") and t.bucket == bucket]
    return found[0].deltas if found else {}


# ----- the derivation, one move at a time ------------------------------------------------------------------


def test_a_new_invoice_is_owed_on_its_due_date_and_invoiced_today() -> None:
    # Given a new invoice of USD 125.00 due 2026-12-15, created on 2026-11-02
    invoice = an_invoice(due_date=date(2026, 12, 15))

    # When its tallies are derived
    tallies = merged_tallies(tallies_for(None, invoice, NOW))

    # Then it is owed on its due day and month, moved today, invoiced today, and its currency is known
    by_key = {(t.scope, t.bucket): t.deltas for t in tallies}
    assert by_key[("owed#USD#2026", "D#2026-12-15")] == {"amount": 12_500, "invoices": 1}
    assert by_key[("owed#USD", "M#2026-12")] == {"amount": 12_500, "invoices": 1}
    moves = (f"owedmoves#USD#{NOW.strftime('%Y-%m')}", f"{NOW.date().isoformat()}#2026-12-15")
    assert by_key[moves] == {"amount": 12_500, "invoices": 1}
    assert by_key[("flows#USD", f"D#{NOW.date().isoformat()}")] == {"invoiced": 12_500, "invoices_created": 1}
    assert by_key[("currencies", "USD")] == {"invoices": 1}


def test_a_payment_in_full_on_time_lowers_what_is_owed_and_counts_days_to_pay() -> None:
    # Given an invoice created on 2026-11-02, due 2026-12-15; When paid in full ten days later
    before = an_invoice(due_date=date(2026, 12, 15), created_at=NOW)
    after = before.with_payment(12_500)
    at = NOW + timedelta(days=10)

    tallies = tallies_for(before, after, at)

    # Then it owes nothing any more, and the day's flows count it paid, on time, after ten days
    owed = {t.bucket: t.deltas for t in merged_tallies(tallies) if t.scope.startswith("owed#USD")}
    assert owed == {
        "D#2026-12-15": {"amount": -12_500, "invoices": -1},
        "M#2026-12": {"amount": -12_500, "invoices": -1},
    }
    assert flows(tallies, f"D#{at.date().isoformat()}") == {
        "collected": 12_500, "invoices_paid": 1, "days_to_pay": 10, "paid_on_time": 1,
    }  # fmt: skip


def test_a_late_partial_payment_moves_what_is_owed_and_settles_nothing() -> None:
    before = an_invoice(due_date=date(2026, 10, 1))
    after = before.with_payment(2_500)

    tallies = tallies_for(before, after, NOW)

    owed = {t.bucket: t.deltas for t in merged_tallies(tallies) if t.scope.startswith("owed#USD")}
    assert owed == {"D#2026-10-01": {"amount": -2_500}, "M#2026-10": {"amount": -2_500}}
    assert flows(tallies, f"D#{NOW.date().isoformat()}") == {"collected": 2_500}


def test_a_void_and_a_write_off_count_what_was_owed() -> None:
    invoice = an_invoice()
    voided = flows(tallies_for(invoice, invoice.voided(), NOW), f"D#{NOW.date().isoformat()}")
    written_off = replace(invoice, status=InvoiceStatus.UNCOLLECTIBLE, version=2)
    off = flows(tallies_for(invoice, written_off, NOW), f"D#{NOW.date().isoformat()}")

    assert voided == {"voided": 12_500}
    assert off == {"written_off": 12_500}


def test_a_change_that_moves_no_money_has_no_tallies() -> None:
    invoice = an_invoice()
    rescheduled = replace(invoice, next_action_at=NOW + timedelta(days=3), version=2)

    assert merged_tallies(tallies_for(invoice, rescheduled, NOW)) == []


def test_a_promise_is_due_on_its_date_and_kept_when_paid_before_its_end() -> None:
    # Given a promise to pay by 2026-11-05 (the hold ends at the start of the next day)
    invoice = an_invoice()
    until = datetime(2026, 11, 6, tzinfo=UTC)
    promised = replace(invoice, hold=Hold(PROMISE_REASON, until), promised_at=NOW, version=2)

    # When promised, and then paid on 2026-11-04
    made = tallies_for(invoice, promised, NOW)
    paid = tallies_for(promised, promised.with_payment(12_500), datetime(2026, 11, 4, 12, tzinfo=UTC))

    # Then the promise is due on the 5th, and kept there
    assert flows(made, "D#2026-11-05") == {"promises_due": 1}
    assert flows(paid, "D#2026-11-05") == {"promises_kept": 1}


def test_a_promise_paid_after_its_day_is_not_kept() -> None:
    promised = replace(an_invoice(), hold=Hold(PROMISE_REASON, datetime(2026, 11, 6, tzinfo=UTC)), version=2)

    late = tallies_for(promised, promised.with_payment(12_500), datetime(2026, 11, 7, tzinfo=UTC))

    assert flows(late, "D#2026-11-05") == {}


def _moved(before: Invoice, after: Invoice, at: datetime) -> tuple[Invoice, list[aggregates.Tally]]:
    """What a use case writes: the invoice as tallied() leaves it, and its tallies."""
    change = tallied(Change(invoice_update=after), at, invoice_before=before)
    assert change.invoice_update is not None
    return change.invoice_update, change.tallies


def test_an_invoice_paid_reopened_and_paid_again_counts_as_paid_once_when_first_paid() -> None:
    # Given an invoice created on 2026-11-02, due 2026-12-15, paid in full (on time) on 2026-11-12
    created = an_invoice(due_date=date(2026, 12, 15), created_at=NOW)
    first_at, again_at = NOW + timedelta(days=10), NOW + timedelta(days=60)
    paid, first = _moved(created, created.with_payment(12_500), first_at)

    # When a refund reopens 50.00 of it and the customer pays that again, late, on 2027-01-01
    reopened, _ = _moved(paid, paid.with_refunds(5_000, 5_000, first_at + timedelta(days=5)), first_at)
    assert reopened.status is InvoiceStatus.PARTIALLY_PAID
    _settled, again = _moved(reopened, reopened.with_payment(5_000), again_at)

    # Then it was paid once, on the first day it was settled (ten days, on time); paying again collects only
    assert flows(first, f"D#{first_at.date().isoformat()}") == {
        "collected": 12_500, "invoices_paid": 1, "days_to_pay": 10, "paid_on_time": 1,
    }  # fmt: skip
    assert flows(again, f"D#{again_at.date().isoformat()}") == {"collected": 5_000}


def test_a_promise_kept_is_kept_once_even_if_the_invoice_is_reopened_and_paid_again_in_time() -> None:
    # Given a promise to pay by 2026-11-20, paid on the 10th, reopened by a refund and paid again on the 15th
    invoice = an_invoice()
    until = datetime(2026, 11, 21, tzinfo=UTC)
    promise = replace(invoice, hold=Hold(PROMISE_REASON, until), promised_at=NOW, version=2)
    promised, made = _moved(invoice, promise, NOW)
    paid, first = _moved(promised, promised.with_payment(12_500), datetime(2026, 11, 10, tzinfo=UTC))
    reopened, _ = _moved(paid, paid.with_refunds(12_500, 12_500, NOW), datetime(2026, 11, 12, tzinfo=UTC))
    _, again = _moved(reopened, reopened.with_payment(12_500), datetime(2026, 11, 15, tzinfo=UTC))

    # Then the promise is due once and kept once (a share of kept promises never exceeds 1)
    assert flows(made, "D#2026-11-20") == {"promises_due": 1}
    assert flows(first, "D#2026-11-20") == {"promises_kept": 1}
    assert flows(again, "D#2026-11-20") == {}


def test_a_promise_made_after_an_earlier_settlement_is_kept_once_when_paid_in_time() -> None:
    # Given an invoice paid, then reopened by a refund (it counted as paid then)
    invoice = an_invoice()
    paid, _ = _moved(invoice, invoice.with_payment(12_500), NOW)
    reopened, _ = _moved(paid, paid.with_refunds(2_500, 2_500, NOW), NOW + timedelta(days=1))
    # When the customer promises to pay the rest by 2026-11-20 and pays it on the 10th, then again after a refund
    until = datetime(2026, 11, 21, tzinfo=UTC)
    promise = replace(reopened, hold=Hold(PROMISE_REASON, until), promised_at=NOW + timedelta(days=2), version=4)
    promised, _ = _moved(reopened, promise, NOW + timedelta(days=2))
    settled, kept = _moved(promised, promised.with_payment(2_500), datetime(2026, 11, 10, tzinfo=UTC))
    again, _ = _moved(settled, settled.with_refunds(2_500, 2_500, NOW), datetime(2026, 11, 11, tzinfo=UTC))
    _, twice = _moved(again, again.with_payment(2_500), datetime(2026, 11, 12, tzinfo=UTC))

    # Then the promise counts kept once, and the invoice is not counted paid again
    assert flows(kept, "D#2026-11-20") == {"promises_kept": 1}
    assert flows(kept, "D#2026-11-10") == {"collected": 2_500}
    assert flows(twice, "D#2026-11-20") == {}


def test_an_invoice_paid_in_full_before_the_counters_is_not_counted_paid_when_paid_again() -> None:
    # Given an invoice from before the aggregates, paid in full then, and a refund that reopened it since
    old = replace(
        an_invoice(), amount_paid=12_500, amount_refunded=5_000, amount_reopened=5_000,
        status=InvoiceStatus.PARTIALLY_PAID, counted=False,
    )  # fmt: skip
    # When it is paid again (the change that counts it)
    _, tallies = _moved(old, old.with_payment(5_000), NOW)

    # Then it is not counted paid: its first payment in full was before the counters (they never held it)
    assert flows(tallies, f"D#{NOW.date().isoformat()}") == {"collected": 5_000}


def test_a_promise_made_before_the_counters_is_not_counted_kept() -> None:
    # Given an invoice from before the aggregates with a promise running (never in promises_due)
    until = datetime(2026, 11, 21, tzinfo=UTC)
    old = replace(an_invoice(), hold=Hold(PROMISE_REASON, until), promised_at=NOW, counted=False)

    # When it is paid in time
    _, tallies = _moved(old, old.with_payment(12_500), NOW + timedelta(days=1))

    # Then it is paid, but no promise is counted kept (none was counted due)
    assert flows(tallies, "D#2026-11-20") == {}
    assert flows(tallies, f"D#{(NOW + timedelta(days=1)).date().isoformat()}")["invoices_paid"] == 1


def test_off_session_first_attempts_failures_and_recoveries() -> None:
    # Given a plan whose second installment is charging on its first attempt
    charging = Installment(2, date(2026, 12, 1), 5_000, InstallmentStatus.CHARGING, attempts=1)
    plan = a_plan(status=PlanStatus.ACTIVE)
    plan = replace(plan, installments=(plan.installments[0], charging))
    failed = replace(plan, installments=(plan.installments[0], replace(charging, status=InstallmentStatus.FAILED)))
    retried = replace(failed, installments=(plan.installments[0], replace(charging, attempts=2)))
    paid = replace(
        retried, installments=(plan.installments[0], replace(charging, attempts=2, status=InstallmentStatus.PAID))
    )
    invoice = an_invoice()
    day = f"D#{NOW.date().isoformat()}"

    # When the first attempt fails, then the second succeeds
    first = flows(tallies_for(invoice, invoice, NOW, plan_before=plan, plan_after=failed), day)
    second = flows(tallies_for(invoice, invoice, NOW, plan_before=retried, plan_after=paid), day)

    # Then one first attempt, failed, and one recovery
    assert first == {"offsession_first_attempts": 1, "offsession_first_failed": 1}
    assert second == {"offsession_recovered": 1}


def test_an_update_needs_the_invoice_it_was_made_from() -> None:
    with pytest.raises(ValueError, match="made from"):
        tallied(Change(invoice_update=an_invoice(version=2)), NOW)


def test_the_fake_ledger_refuses_a_use_case_moving_money_without_its_tallies() -> None:
    # Given a use case module that forgets the tallies (a change committed from shared.services)
    ledger = InMemoryLedger(require_audit=False)
    ledger.commit(Change(new_customer=a_customer(), new_invoice=an_invoice()))
    forgetful = {"__name__": "shared.services.forgetful", "ledger": ledger, "Change": Change, "paid": an_invoice()}

    # When it commits a payment without them; Then the fake says so
    with pytest.raises(UntalliedChange):
        exec("ledger.commit(Change(invoice_update=paid.with_payment(100)))", forgetful)


# ----- a random history, recomputed ------------------------------------------------------------------------

CURRENCIES = ("USD", "EUR")
percent = st.one_of(st.just(100), st.integers(1, 100))  # often the whole remainder: invoices get settled
operation = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(CURRENCIES), st.integers(1, 40), st.integers(-120, 60)),
    st.tuples(st.just("pay_offline"), st.integers(0, 9), percent),
    st.tuples(st.just("pay_stripe"), st.integers(0, 9), percent),
    st.tuples(st.just("refund"), st.integers(0, 9), st.integers(1, 100), st.booleans()),
    st.tuples(st.just("credit"), st.integers(0, 9), st.integers(1, 100)),
    st.tuples(st.just("void"), st.integers(0, 9)),
    st.tuples(st.just("reverse"), st.integers(0, 9)),
    st.tuples(st.just("due"), st.integers(0, 9), st.integers(-60, 60)),
    # an invoice written before the aggregates (uncounted, partly paid or not), and the backfill counting them
    st.tuples(
        st.just("old"), st.sampled_from(CURRENCIES), st.integers(1, 40), st.integers(-120, 60), st.integers(0, 90)
    ),
    st.tuples(st.just("backfill")),
    st.tuples(st.just("promise"), st.integers(0, 9), st.integers(0, 3)),
)


class History:
    def __init__(self) -> None:
        self.ledger = InMemoryLedger()
        self.gateway = FakeGateway()
        self.clock = AdjustableClock()
        self.clock.set(datetime(2026, 6, 1, 9, tzinfo=UTC))
        self.once = InMemoryRunOnce()
        self.invoices: list[str] = []
        self.offline: list[str] = []
        self.stripe: list[str] = []
        self.keys = 0
        self.old: dict[str, Invoice] = {}  # invoices from before the aggregates, as they were then
        # What a finance person counts, watched from outside the counters: the first time a payment settled
        # each invoice in full (the instant, and whether that was on or before its due date then), and each
        # promise kept (its promised day), once per invoice.
        self.first_paid: dict[str, tuple[datetime, bool]] = {}
        self.kept: dict[str, date] = {}
        self.ledger.commit(Change(new_customer=a_customer()))

    def key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    def invoice(self, index: int) -> Invoice | None:
        return self.ledger.get_invoice(self.invoices[index % len(self.invoices)]) if self.invoices else None

    def apply(self, op: tuple[object, ...]) -> None:
        self.clock.set(self.clock.now() + timedelta(hours=7))
        kind, *args = op
        before = dict(self.ledger.invoices)
        with contextlib.suppress(DomainError):  # not allowed in that state (a void after a payment...)
            getattr(self, f"_{kind}")(*args)
        self._watch(before, self.clock.now())

    def _watch(self, before: dict[str, Invoice], at: datetime) -> None:
        for invoice_id, after in self.ledger.invoices.items():
            was = before.get(invoice_id)
            settled = (
                was is not None
                and was.status is not InvoiceStatus.PAID
                and after.status is InvoiceStatus.PAID
                and after.amount_paid > was.amount_paid
            )
            if not settled or was is None:
                continue
            zone = after.customer_timezone
            if invoice_id not in self.first_paid:
                self.first_paid[invoice_id] = (at, local_date(at, zone) <= after.due_date)
            hold = was.hold
            if (
                hold is not None and hold.reason == PROMISE_REASON and hold.until is not None and at < hold.until
                and invoice_id not in self.kept
            ):  # fmt: skip
                self.kept[invoice_id] = local_date(hold.until, zone) - timedelta(days=1)

    def _create(self, currency: str, hundreds: int, due_in: int) -> None:
        today = self.clock.now().date()
        draft = InvoiceDraft(
            "cus_1", f"N{len(self.invoices)}", currency, hundreds * 100, today + timedelta(days=due_in)
        )
        self.invoices.append(create_invoice(self.ledger, self.clock, draft, actor=OPS).id)

    def _old(self, currency: str, hundreds: int, due_in: int, paid_percent: int) -> None:
        amount = hundreds * 100
        paid = amount * paid_percent // 100 // 100 * 100
        n = len(self.invoices)
        invoice = an_invoice(
            f"old_{n}", number=f"N{n}", currency=currency, amount_due=amount, amount_paid=paid,
            status=InvoiceStatus.PARTIALLY_PAID if paid else InvoiceStatus.OPEN, allow_partial=True,
            due_date=self.clock.now().date() + timedelta(days=due_in), created_at=self.clock.now(),
        )  # fmt: skip
        self.old[invoice.id] = self.ledger.seed_uncounted(invoice)
        self.invoices.append(invoice.id)

    def _promise(self, index: int, days: int) -> None:
        invoice, customer = self.invoice(index), self.ledger.get_customer("cus_1")
        if invoice is None or customer is None:
            return
        promised = self.clock.now().date() + timedelta(days=days)
        promise_to_pay(self.ledger, self.clock, PayPage(invoice, customer), promised=promised, max_days=14)

    def _backfill(self) -> None:
        backfill_counters(self.ledger, self.ledger.every_invoice(), self.clock)

    def _part(self, invoice: Invoice, percent: int) -> int:
        return max(100, invoice.amount_remaining * percent // 100 // 100 * 100)

    def _pay_offline(self, index: int, percent: int) -> None:
        invoice = self.invoice(index)
        if invoice is None or invoice.amount_remaining == 0:
            return
        invoice = replace(invoice, allow_partial=True)
        ask = OfflinePaymentAsk(self._part(invoice, percent), OfflineMethod.CHECK, "1", self.clock.now().date())
        made = record_offline_payment_once(
            self.ledger, self.gateway, self.clock, self.once, invoice.id, ask, key=self.key(), fingerprint={}, actor=OPS
        )
        self.offline.append(made.payment.key)

    def _pay_stripe(self, index: int, percent: int) -> None:
        """A card payment as the webhook records it (shared.services.stripe_events), tallied the same way."""
        invoice = self.invoice(index)
        if invoice is None or not invoice.accepts_payment:
            return
        amount = min(self._part(invoice, percent), invoice.amount_remaining)
        key = f"pi_{len(self.stripe)}"
        payment = a_payment(
            key, PaymentStatus.SUCCEEDED, invoice_id=invoice.id, amount=amount, currency=invoice.currency
        )
        change = Change(payment=payment, invoice_update=invoice.with_payment(amount))
        self.ledger.commit(tallied(change, self.clock.now(), invoice_before=invoice))
        self.stripe.append(key)

    def _refund(self, index: int, percent: int, reopen: bool) -> None:
        if not self.stripe:
            return
        key = self.stripe[index % len(self.stripe)]
        payment = self.ledger.get_payment_context(self.ledger.invoice_for_payment_intent(key) or "", None, key).payment
        if payment is None or payment.amount_refundable <= 0:
            return
        amount = max(1, payment.amount_refundable * percent // 100)
        ask = RefundAsk(amount, "requested_by_customer", reopen)
        refund_payment_once(
            self.ledger, self.gateway, self.clock, self.once, key, ask, key=self.key(), fingerprint={}, actor=OPS
        )

    def _credit(self, index: int, percent: int) -> None:
        invoice = self.invoice(index)
        if invoice is None or invoice.amount_remaining == 0:
            return
        ask = CreditNoteAsk(self._part(invoice, percent), "goodwill")
        issue_credit_note_once(
            self.ledger, self.gateway, self.clock, self.once, invoice.id, ask, key=self.key(), fingerprint={}, actor=OPS
        )

    def _void(self, index: int) -> None:
        invoice = self.invoice(index)
        if invoice is not None:
            void_invoice(self.ledger, self.clock, invoice.id, actor=OPS)

    def _reverse(self, index: int) -> None:
        if self.offline:
            key = self.offline[index % len(self.offline)]
            reverse_offline_payment_once(
                self.ledger, self.clock, self.once, key, "bounced", key=self.key(), fingerprint={}, actor=OPS
            )

    def _due(self, index: int, days: int) -> None:
        invoice = self.invoice(index)
        if invoice is not None:
            moved = InvoiceCorrection(due_date=invoice.due_date + timedelta(days=days))
            correct_invoice(self.ledger, self.gateway, self.clock, invoice.id, moved, actor=OPS)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=4, max_size=40))
# paid in full, reopened by a refund, paid again: one invoice paid, once (issue 12)
@example([("create", "USD", 10, 5), ("pay_stripe", 0, 100), ("refund", 0, 50, True), ("pay_stripe", 0, 100)])
# promised, paid in time, reopened, paid again in time: one promise kept, once
@example(
    [
        ("create", "EUR", 10, 5),
        ("promise", 0, 3),
        ("pay_stripe", 0, 100),
        ("refund", 0, 100, True),
        ("pay_stripe", 0, 100),
    ]
)
# promised, paid in time, the cheque bounces, promised again for today: the promise stays due and kept on
# its first day (it was counted kept there; the new date only pauses reminders)
@example([("create", "USD", 1, 0), ("promise", 0, 2), ("pay_offline", 0, 100), ("reverse", 0), ("promise", 0, 0)])
def test_after_any_history_the_aggregates_equal_a_recomputation_from_the_invoices(
    ops: list[tuple[object, ...]],
) -> None:
    # Given a random history of invoices, payments, refunds, credit notes, voids, reversals and due date moves
    history = History()
    for op in ops:
        history.apply(op)
    # (and the backfill at the end, counting the invoices from before the aggregates no change counted)
    history.apply(("backfill",))
    ledger = history.ledger
    assert ledger.counters_ready() is not None

    for currency in CURRENCIES:
        invoices = [i for i in ledger.invoices.values() if i.currency == currency]
        old = [history.old[i.id] for i in invoices if i.id in history.old]  # as they were before the aggregates
        # Then what is owed per due day and per due month equals the invoices' remainders, to the cent
        by_day: dict[str, tuple[int, int]] = {}
        by_month: dict[str, tuple[int, int]] = {}
        for invoice in invoices:
            owed = owed_by(invoice)
            if owed:
                for table, key in (
                    (by_day, invoice.due_date.isoformat()),
                    (by_month, invoice.due_date.strftime("%Y-%m")),
                ):
                    amount, count = table.get(key, (0, 0))
                    table[key] = (amount + owed, count + 1)
        owed_counters = within(ledger, f"owed#{currency}")
        kept_days = {b[2:]: (c.get("amount", 0), c.get("invoices", 0)) for b, c in owed_counters.items() if b[0] == "D"}
        kept_months = {
            b[2:]: (c.get("amount", 0), c.get("invoices", 0)) for b, c in owed_counters.items() if b[0] == "M"
        }
        assert {k: v for k, v in kept_days.items() if v != (0, 0)} == by_day
        assert {k: v for k, v in kept_months.items() if v != (0, 0)} == by_month

        # And the flows add up to what the invoices say was billed, credited, received and refunded
        flow_days = [c for b, c in counters(ledger, f"flows#{currency}").items() if b.startswith("D#")]
        flow_months = [c for b, c in counters(ledger, f"flows#{currency}").items() if b.startswith("M#")]
        for kept in (flow_days, flow_months):
            total = lambda name, kept=kept: sum(c.get(name, 0) for c in kept)  # noqa: E731
            # (the flows are what happened since: an old invoice's billing and payments before are not in them)
            assert total("invoiced") == sum(i.amount_due + i.amount_credited for i in invoices) - sum(
                i.amount_due for i in old
            )
            assert total("credited") == sum(i.amount_credited for i in invoices)
            assert total("collected") == sum(i.amount_paid for i in invoices) - sum(i.amount_paid for i in old)
            assert total("refunded") == sum(i.amount_refunded for i in invoices)
            assert total("invoices_created") == len(invoices) - len(old)
            assert total("voided") == sum(i.amount_due for i in invoices if i.status is InvoiceStatus.VOID)
            # and each invoice settled in full by a payment is paid once, when it first was (a refund that
            # reopened it and a second payment count nothing more), with its days to pay and punctuality then
            paid = [(i, *history.first_paid[i.id]) for i in invoices if i.id in history.first_paid]
            assert total("invoices_paid") == len(paid)
            assert total("days_to_pay") == sum(
                max(0, (local_date(at, i.customer_timezone) - local_date(i.created_at, i.customer_timezone)).days)
                for i, at, _ in paid
            )
            assert total("paid_on_time") == sum(1 for _, _, on_time in paid if on_time)
            # and every promise is due once and kept at most once, on its promised day
            promised = [i for i in invoices if i.promised_at is not None]
            assert total("promises_due") == len(promised)
            assert total("promises_kept") == sum(1 for i in invoices if i.id in history.kept)
        for bucket, kept_flows in counters(ledger, f"flows#{currency}").items():
            assert kept_flows.get("promises_kept", 0) <= kept_flows.get("promises_due", 0), bucket

        # And what owedmoves kept per day adds up to what is owed, as do the quarter hours' moves; and the quarter
        # hours' money in and invoices paid add up to the daily flows'
        moves = within(ledger, f"owedmoves#{currency}#")
        assert sum(c.get("amount", 0) for c in moves.values()) == sum(owed_by(i) for i in invoices)
        quarters = counters(ledger, f"quarters#{currency}")
        assert sum(c.get("owed", 0) for c in quarters.values()) == sum(owed_by(i) for i in invoices)
        for name in ("collected", "invoices_paid"):
            assert sum(c.get(name, 0) for c in quarters.values()) == sum(c.get(name, 0) for c in flow_days)
        # (each quarter's moves by due date are some of its moves, the rest due after its day)
        for bucket, kept_quarter in quarters.items():
            day = date.fromisoformat(bucket[:10])
            assert all(
                day - timedelta(days=3) <= date.fromisoformat(name[9:]) <= day
                for name in kept_quarter
                if name.startswith("owed_due#")
            ), bucket
        # (and each quarter hour's counter expires 35 days after its quarter began; no other counter does)
        for bucket in quarters:
            began = datetime.fromisoformat(bucket).replace(tzinfo=UTC)
            assert ledger.tally_expiries[(f"quarters#{currency}", bucket)] == (began + timedelta(days=35)).timestamp()
        # And every invoice is counted, once, in its currency's line of the reports
        assert all(i.counted for i in invoices)
        kept = counters(ledger, "currencies").get(currency, {}).get("invoices", 0)
        assert kept == len(invoices)
    # And only the quarter hours' counters expire (the digest's own are not moved by this history)
    assert {scope for scope, _ in ledger.tally_expiries} <= {f"quarters#{c}" for c in CURRENCIES}


def test_the_digests_quarter_hour_counters_expire_35_days_after_their_quarter_began() -> None:
    from shared.services import digest_tallies
    from tests.fakes.records import a_payment

    at = datetime(2026, 12, 1, 10, 44, 59, tzinfo=UTC)
    began = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    failed = digest_tallies.charge_failed(a_payment(), at)
    assert failed.bucket.startswith("2026-12-01T10:30#")
    assert failed.expires_at == int((began + timedelta(days=35)).timestamp())
    # And the same instant whatever second of the quarter moved it: every write of the item agrees
    assert digest_tallies.charge_failed(a_payment(), began).expires_at == failed.expires_at
