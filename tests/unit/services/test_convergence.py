"""Convergence, proven: however Stripe delivers a payment's events (shuffled, each up to three times, an
early one answered "retry later" and delivered again), the ledger ends in the money state the true order
gives.

Each example draws one payment history as Stripe would live it and sends it as Stripe's JSON: a Checkout
payment of the invoice or of a plan's first installment (a card paid, maybe after a declined attempt; a bank
debit that succeeded, failed or is still processing; a session that expired unpaid), or an off-session
charge (an installment of a plan, an autopay charge) that succeeded or was declined (soft, hard,
authentication required), a declined installment perhaps then paid on Checkout; then, on money received,
refunds full or partial (instant, pending then succeeded, failed or canceled, from the Dashboard or by the
operator's POST /v1/payments/{id}/refunds, some reopening the balance) and a dispute opened, won or lost.
Each event goes through the webhook's own path (`parse_event`, then `record_stripe_event`) over the
in-memory ledger, once in the true order and once as drawn; then, as reconciliation does, every event of
Stripe's list is applied again in created order.

Equal means (docs/decisions.md, "Convergence, proven"): the same money state (`money_state`), the same
outbox with nothing in it twice, except that an out-of-order run may lack a message that announced a state
the true history later left (a declined attempt that was then paid, a declined installment then paid on
Checkout, a refund that then failed, a dispute that was closed before its opening arrived), and nothing
flagged.
"""

from __future__ import annotations

import copy
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from random import Random
from typing import Any

from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from shared.adapters.stripe_events import STRIPE_REFUND_STATUS, parse_event
from shared.clock import FixedClock
from shared.domain.invoices import InvoiceStatus, PaymentStatus
from shared.domain.messages import Event, OutboxMessage, PaymentFailedEmail, PlanUpdateEmail, RefundEmail
from shared.domain.records import (
    DisputeStatus,
    Installment,
    InstallmentStatus,
    OpenCheckout,
    PlanKind,
    PlanStatus,
    RefundStatus,
)
from shared.services.gateway import RefundCreated, RefundRequest
from shared.services.once import entity_id, scoped_key
from shared.services.ports import Change
from shared.services.refunds import RefundAsk, refund_payment_once
from shared.services.stripe_events.engine import Outcome
from shared.services.stripe_events.router import record_stripe_event
from tests.fakes import FakeGateway, InMemoryLedger
from tests.fakes.records import NOW, a_checkout, a_customer, a_plan, an_invoice
from tests.fakes.run_once import InMemoryRunOnce

CLOCK = FixedClock(NOW)
INVOICE_AMOUNT = 12_500  # USD 125.00, as tests/fakes/records.py's inv_1
INSTALLMENT_AMOUNT = 6_250  # half of it: the plan's second installment
DECLINES = ["insufficient_funds", "stolen_card", "authentication_required"]  # soft, hard, the customer's turn
CHECKOUT_METADATA = {"invoice_id": "inv_1", "customer_id": "cus_1", "checkout_ref": "chk_1"}
MAX_REDELIVERIES = 10  # Stripe retries an event for three days; this many is plenty here
FIRST_CREATED = 1_790_000_000

# ----- a payment history, as Stripe lives it and tells it ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class History:
    """One payment's story: the ledger it starts from and Stripe's events in the order they happened."""

    kind: str  # "setup: what happened to the payment", for hypothesis's statistics
    setup: str  # "checkout", "installments" or "autopay"
    events: tuple[dict[str, Any], ...]
    after: frozenset[str]  # what followed on the money received: "refund", "partial refund", "dispute lost" ...


@dataclass(frozen=True, slots=True)
class Session:
    """A Checkout Session payportal created (and recorded) for the history, and its PaymentIntent."""

    session_id: str
    intent: str
    amount: int
    metadata: dict[str, str]


INVOICE_SESSION = Session("cs_1", "pi_1", INVOICE_AMOUNT, CHECKOUT_METADATA)
# The first of two installments, paid on Checkout when the customer chose the plan on the pay page.
FIRST_INSTALLMENT_SESSION = Session("cs_1", "pi_1", INSTALLMENT_AMOUNT, CHECKOUT_METADATA | {"plan_id": "plan_1"})
# The second installment, paid on Checkout after it was declined off-session (the email's link).
SECOND_INSTALLMENT_SESSION = Session(
    "cs_2",
    "pi_9",
    INSTALLMENT_AMOUNT,
    {"invoice_id": "inv_1", "customer_id": "cus_1", "checkout_ref": "chk_2", "plan_id": "plan_1", "installment": "2"},
)


OPERATOR = "arn:aws:iam::123456789012:user/finance"
OPERATOR_REFUND = "operator.refund"  # not Stripe's: the operator's request, in the history at its moment


def refund_ref(key: str) -> str:
    """The ref payportal gives an operator's refund (its Stripe metadata `refund_ref`)."""
    return entity_id("rfq", scoped_key(OPERATOR, key))


@dataclass
class StripeRefunds(FakeGateway):
    """Stripe's answers to the operator's refunds: each the refund the history made, as it was created."""

    answers: dict[str, RefundCreated] = field(default_factory=dict)  # by Stripe idempotency key

    def create_refund(self, request: RefundRequest) -> RefundCreated:
        return self.answers[request.idempotency_key]


class StripeWorld:
    """Stripe's side: objects in their current state, and every event in the order Stripe created them, each
    carrying its object as it was when the event was sent."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.refunds: dict[str, dict[str, Any]] = {}
        self.request_keys: dict[str, str] = {}  # refund id -> the Idempotency-Key the operator sent

    def emit(self, type_: str, obj: dict[str, Any]) -> None:
        number = len(self.events) + 1
        self.events.append(
            {
                "id": f"evt_{number:03d}",
                "object": "event",
                "type": type_,
                "created": FIRST_CREATED + number,
                "livemode": False,
                "data": {"object": copy.deepcopy(obj)},
            }
        )

    def session(
        self, type_: str, session: Session, *, paid: bool, intent: str | None, status: str = "complete"
    ) -> None:
        obj = {
            "id": session.session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": status,
            "payment_status": "paid" if paid else "unpaid",
            "payment_intent": intent,
            "amount_total": session.amount,
            "currency": "usd",
            "metadata": session.metadata,
        }
        self.emit(type_, obj)

    def intent(self, intent: str, amount: int, metadata: dict[str, str], *, decline: str | None = None) -> None:
        obj: dict[str, Any] = {
            "id": intent,
            "object": "payment_intent",
            "amount": amount,
            "currency": "usd",
            "status": "succeeded" if decline is None else "requires_payment_method",
            "metadata": metadata,
        }
        if decline is None:
            self.emit("payment_intent.succeeded", obj)
            return
        code = "authentication_required" if decline == "authentication_required" else "card_declined"
        obj["last_payment_error"] = {"code": code, "decline_code": decline}
        self.emit("payment_intent.payment_failed", obj)

    def charge(self, intent: str, amount: int, *, lists_refunds: bool) -> dict[str, Any]:
        refunds = [r for r in self.refunds.values() if r["payment_intent"] == intent]
        counted = sum(r["amount"] for r in refunds if r["status"] in ("pending", "succeeded"))
        obj: dict[str, Any] = {
            "id": f"ch_{intent}",
            "object": "charge",
            "payment_intent": intent,
            "amount": amount,
            "amount_refunded": counted,
            "refunded": counted == amount,
            "currency": "usd",
        }
        if lists_refunds:  # API versions before 2022-11-15 list them; later ones leave it to refund.* events
            obj["refunds"] = {"object": "list", "data": list(refunds)}
        return obj

    def refund_step(self, refund_id: str, step: str, *, charge: tuple[str, int], lists_refunds: bool) -> None:
        refund = self.refunds[refund_id]
        if step in ("pending", "succeeded") and refund["status"] == "new":  # created
            refund["status"] = step
            if refund["metadata"]:  # the operator asked payportal, which asked Stripe
                self.emit(OPERATOR_REFUND, {"refund": refund, "key": self.request_keys[refund_id]})
            self.emit("refund.created", refund)
            self.emit("charge.refunded", self.charge(*charge, lists_refunds=lists_refunds))
        elif step == "failed":
            refund["status"] = "failed"
            self.emit("refund.updated", refund)
            self.emit("refund.failed", refund)
        else:
            refund["status"] = step
            self.emit("refund.updated", refund)

    def dispute(self, intent: str, amount: int, outcome: str) -> None:
        obj = {
            "id": f"dp_{intent}",
            "object": "dispute",
            "payment_intent": intent,
            "amount": amount,
            "currency": "usd",
            "reason": "fraudulent",
            "status": "needs_response",
        }
        self.emit("charge.dispute.created", obj)
        self.emit("charge.dispute.funds_withdrawn", obj)  # not one payportal acts on: ignored in any order
        if outcome != "open":
            self.emit("charge.dispute.closed", obj | {"status": outcome})


REFUND_PATHS: dict[str, tuple[str, ...]] = {
    "instant": ("succeeded",),
    "pending then succeeded": ("pending", "succeeded"),
    "pending then failed": ("pending", "failed"),
    "pending then canceled": ("pending", "canceled"),
    "still pending": ("pending",),
}


@st.composite
def after_payment(draw: st.DrawFn, world: StripeWorld, intent: str, amount: int) -> frozenset[str]:
    """Refunds (none, one full or partial, or two partial, their steps interleaved as Stripe may), then
    perhaps a dispute of what was not refunded."""
    lists_refunds = draw(st.booleans())
    count = draw(st.integers(0, 2))
    amounts = [draw(st.sampled_from([amount, amount // 5, amount - 1]))] if count == 1 else []
    if count == 2:
        first = draw(st.integers(1, amount - 1))
        amounts = [first, draw(st.integers(1, amount - first))]
    paths = [draw(st.sampled_from(sorted(REFUND_PATHS))) for _ in amounts]
    for number, value in enumerate(amounts, start=1):
        # From the Dashboard (no metadata: a credit), or the operator's POST /v1/payments/{id}/refunds (ours).
        metadata: dict[str, str] = {}
        if draw(st.booleans()):
            key = f"key-{intent}-{number}"
            reopen = "true" if draw(st.booleans()) else "false"
            metadata = {"invoice_id": "inv_1", "refund_ref": refund_ref(key), "reopen_balance": reopen}
            world.request_keys[f"re_{intent}_{number}"] = key
        world.refunds[f"re_{intent}_{number}"] = {
            "id": f"re_{intent}_{number}",
            "object": "refund",
            "amount": value,
            "currency": "usd",
            "payment_intent": intent,
            "reason": "requested_by_customer",
            "status": "new",
            "metadata": metadata,
        }
    # The refunds' steps, interleaved: each refund's own steps stay in their order.
    tokens = [n for n, path in enumerate(paths) for _ in REFUND_PATHS[path]]
    taken = Counter[int]()
    for n in draw(st.permutations(tokens)):
        step = REFUND_PATHS[paths[n]][taken[n]]
        taken[n] += 1
        world.refund_step(f"re_{intent}_{n + 1}", step, charge=(intent, amount), lists_refunds=lists_refunds)
    after = {f"refund {path}" for path in paths}
    if any(r["metadata"] for r in world.refunds.values()):
        after.add("operator refund")
    if any(value == amount for value in amounts):
        after.add("full refund")
    elif amounts:
        after.add("partial refund")
    counted = sum(r["amount"] for r in world.refunds.values() if r["status"] in ("pending", "succeeded"))
    disputed = draw(st.sampled_from(["none", "open", "won", "lost"])) if counted < amount else "none"
    if disputed != "none":
        world.dispute(intent, amount - counted, disputed)
        after.add(f"dispute {disputed}")
    return frozenset(after)


ON_CHECKOUT = (
    "card paid",
    "card paid after a decline",
    "debit succeeded",
    "debit failed",
    "debit processing",
    "expired",
    "expired after a decline",
)
OFF_SESSION = ("succeeded", *(f"declined: {code}" for code in DECLINES))
# Every kind of history, drawn evenly so that each is in every run (the run asserts it): (setup, kind).
KINDS: tuple[tuple[str, str], ...] = (
    *(("checkout", kind) for kind in ON_CHECKOUT),
    *(("plan on checkout", kind) for kind in ON_CHECKOUT),
    *(("installments", kind) for kind in OFF_SESSION),
    *(("autopay", kind) for kind in OFF_SESSION),
    *(("installment on checkout", kind) for kind in ON_CHECKOUT),
)


def pay_on_checkout(draw: st.DrawFn, world: StripeWorld, session: Session, kind: str) -> frozenset[str]:
    """The customer on Checkout, as `kind` says; what followed on money received."""
    intent, amount, metadata = session.intent, session.amount, session.metadata
    declined_first = kind.endswith(" after a decline")
    if declined_first:  # a card declined on the page before the customer paid (or left)
        world.intent(intent, amount, metadata, decline=draw(st.sampled_from(DECLINES)))
    if kind.startswith("card paid"):
        world.session("checkout.session.completed", session, paid=True, intent=intent)
        world.intent(intent, amount, metadata)
    elif kind.startswith("expired"):
        world.session(
            "checkout.session.expired", session, paid=False, intent=intent if declined_first else None, status="expired"
        )
    else:
        world.session("checkout.session.completed", session, paid=False, intent=intent)
        if kind == "debit succeeded":
            world.session("checkout.session.async_payment_succeeded", session, paid=True, intent=intent)
            world.intent(intent, amount, metadata)
        elif kind == "debit failed":
            world.session("checkout.session.async_payment_failed", session, paid=False, intent=intent)
            world.intent(intent, amount, metadata, decline="debit_returned")
    paid = kind.startswith("card paid") or kind == "debit succeeded"
    return draw(after_payment(world, intent, amount)) if paid else frozenset()


def charge_off_session(draw: st.DrawFn, world: StripeWorld, setup: str, decline: str | None) -> frozenset[str]:
    """Installment 2 of plan_1 (or the one autopay charge) is charged off-session: it succeeds or is declined."""
    number, amount = (1, INVOICE_AMOUNT) if setup == "autopay" else (2, INSTALLMENT_AMOUNT)
    intent = f"pi_inst_{number}_1"
    metadata = {"invoice_id": "inv_1", "customer_id": "cus_1", "plan_id": "plan_1", "installment": str(number)}
    world.intent(intent, amount, metadata | {"attempt": "1"}, decline=decline)
    return draw(after_payment(world, intent, amount)) if decline is None else frozenset()


@st.composite
def histories(draw: st.DrawFn) -> History:
    setup, kind = draw(st.sampled_from(KINDS))
    world = StripeWorld()
    if setup == "checkout":
        after = pay_on_checkout(draw, world, INVOICE_SESSION, kind)
    elif setup == "plan on checkout":  # the plan starts when its first installment is paid
        after = pay_on_checkout(draw, world, FIRST_INSTALLMENT_SESSION, kind)
    elif setup == "installment on checkout":
        # Declined off-session, the plan goes on (a soft decline is retried; authentication waits on the
        # customer), and the customer pays that installment on Checkout from the email's link.
        charge_off_session(draw, world, setup, draw(st.sampled_from(["insufficient_funds", "authentication_required"])))
        after = pay_on_checkout(draw, world, SECOND_INSTALLMENT_SESSION, kind)
    else:
        after = charge_off_session(draw, world, setup, None if kind == "succeeded" else kind.removeprefix("declined: "))
    return History(f"{setup}: {kind}", setup, tuple(world.events), after)


# ----- the ledger each history starts from --------------------------------------------------------------------


def starting_ledger(setup: str) -> InMemoryLedger:
    """inv_1 (USD 125.00, due, reminders planned) and what payportal recorded before Stripe said anything."""
    ledger = InMemoryLedger()
    later = NOW + timedelta(days=3)
    if setup in ("checkout", "plan on checkout"):
        # Opened as the invoice's first payable session, as the pay page opens it (closing it moves that on).
        amount = INVOICE_AMOUNT if setup == "checkout" else INSTALLMENT_AMOUNT
        checkout = replace(a_checkout(), amount=amount, opened_as=1, expires_at=NOW + timedelta(hours=24))
        choice = Change(
            new_customer=a_customer(),
            new_invoice=an_invoice(next_action_at=later),
            checkout=checkout,
            open_checkout=OpenCheckout("inv_1", 1, checkout, f"pay:{checkout.amount}"),
        )
        if setup == "plan on checkout":  # chosen on the pay page: two installments, the first on Checkout
            installments = (
                Installment(1, date(2026, 11, 2), INSTALLMENT_AMOUNT),
                Installment(2, date(2026, 12, 2), INSTALLMENT_AMOUNT),
            )
            choice.new_plan = a_plan(status=PlanStatus.AWAITING_FIRST, installments=installments, next_action_at=None)
        ledger.commit(choice)
        return ledger
    if setup in ("installments", "installment on checkout"):
        # The first installment was paid on Checkout; the second is being charged.
        installments = (
            Installment(1, date(2026, 10, 2), INSTALLMENT_AMOUNT, InstallmentStatus.PAID, 1, "pi_1"),
            Installment(2, date(2026, 11, 2), INSTALLMENT_AMOUNT, InstallmentStatus.CHARGING, 1, "pi_inst_2_1"),
        )
        plan = a_plan(installments=installments, next_action_at=None)
        invoice = an_invoice(amount_paid=INSTALLMENT_AMOUNT, status=InvoiceStatus.PARTIALLY_PAID, active_plan="plan_1")
    else:
        charging = Installment(1, date(2026, 11, 2), INVOICE_AMOUNT, InstallmentStatus.CHARGING, 1, "pi_inst_1_1")
        plan = a_plan(installments=(charging,), next_action_at=None, kind=PlanKind.AUTOPAY)
        invoice = an_invoice(active_plan="plan_1")
    ledger.commit(Change(new_customer=a_customer(), new_invoice=invoice, new_plan=plan))
    if setup == "installment on checkout":  # the customer opened Checkout from the decline's email
        second = replace(
            a_checkout("chk_2", "cs_2"), amount=INSTALLMENT_AMOUNT, opened_as=1, expires_at=NOW + timedelta(hours=24)
        )
        ledger.commit(Change(checkout=second, open_checkout=OpenCheckout("inv_1", 1, second, "installment:2")))
    return ledger


# ----- delivery, as Stripe and reconciliation do it -----------------------------------------------------------


def deliver(
    ledger: InMemoryLedger,
    deliveries: list[dict[str, Any]],
    events: tuple[dict[str, Any], ...],
    shuffle: Random | None = None,
) -> Counter[str]:
    """Each delivery through the webhook's path; one answered "retry later" is delivered again after the
    others, as Stripe retries. Then reconciliation: Stripe's event list, oldest first, through the same path
    (an event already recorded is a duplicate there). The outcomes, counted.

    An operator's refund is made once the ledger shows the payment succeeded; nothing Stripe created after it
    is delivered before Stripe has made it. With `shuffle`, its ledger write lands anywhere after that
    (the refund's own webhooks may overtake the API's reply); without, at once. A copy of it is the
    operator's retry with the same Idempotency-Key."""
    outcomes = Counter[str]()
    gateway, once = StripeRefunds(), InMemoryRunOnce()
    for request in (e for e in events if e["type"] == OPERATOR_REFUND):
        refund = request["data"]["object"]["refund"]
        answer = RefundCreated(refund["id"], refund["amount"], STRIPE_REFUND_STATUS[refund["status"]])
        gateway.answers[f"payportal-refund-{refund['metadata']['refund_ref']}"] = answer
    made: set[str] = set()  # the operator's refunds Stripe has made
    queue, retries, held = deque(deliveries), Counter[str](), list[dict[str, Any]]()
    waits = 0
    while queue:
        payload = queue.popleft()
        waiting = [e["created"] for e in events if e["type"] == OPERATOR_REFUND and e["id"] not in made]
        if payload["type"] == OPERATOR_REFUND:
            request = payload["data"]["object"]
            if payload["id"] not in made:
                if not payment_succeeded(ledger, request["refund"]["payment_intent"]):
                    waits += 1
                    assert waits < 10_000, "the operator never saw the payment succeed"
                    queue.append(payload)  # the operator sees nothing to refund yet, and comes back later
                    continue
                made.add(payload["id"])
                queue.extendleft(reversed(held))
                held.clear()
                if shuffle is not None:  # Stripe made it; the API's ledger write lands later
                    queue.insert(shuffle.randint(0, len(queue)), payload)
                    continue
            if payment_has_refund(ledger, request["refund"]["payment_intent"], request["refund"]["id"]):
                outcomes["operator refund overtaken by its webhook"] += 1
            refund_payment_once(
                ledger,
                gateway,
                CLOCK,
                once,
                request["refund"]["payment_intent"],
                RefundAsk(
                    request["refund"]["amount"],
                    "requested_by_customer",
                    request["refund"]["metadata"]["reopen_balance"] == "true",
                ),
                key=request["key"],
                fingerprint={"amount": request["refund"]["amount"]},
                actor=OPERATOR,
            )
            outcomes["operator refund"] += 1
            continue
        if waiting and payload["created"] > min(waiting):
            held.append(payload)  # not yet created at Stripe
            continue
        outcome = record_stripe_event(ledger, CLOCK, parse_event(payload))
        outcomes[outcome.value] += 1
        if outcome is Outcome.RETRY_LATER and retries[payload["id"]] < MAX_REDELIVERIES:
            retries[payload["id"]] += 1
            queue.append(payload)
    assert not held
    for payload in (e for e in events if e["type"] != OPERATOR_REFUND):
        outcomes[f"reconciled {record_stripe_event(ledger, CLOCK, parse_event(payload)).value}"] += 1
    return outcomes


def payment_has_refund(ledger: InMemoryLedger, intent: str, refund_id: str) -> bool:
    return any(p.refund(refund_id) is not None for (_, key), p in ledger.payments.items() if key == intent)


def payment_succeeded(ledger: InMemoryLedger, intent: str) -> bool:
    return any(p.status is PaymentStatus.SUCCEEDED for (_, key), p in ledger.payments.items() if key == intent)


# ----- what "equal" compares ------------------------------------------------------------------------------------


def money_state(ledger: InMemoryLedger) -> dict[str, Any]:
    """Everything about money a user of payportal would notice (not versions, instants of commits or ids
    of outbox messages)."""
    invoice = ledger.invoices["inv_1"]
    payments = {
        key: {
            "status": p.status,
            "amount": p.amount,
            "failed": p.failure_reason is not None,  # which failure event told it first: see the module doc
            "state": p.state,
            "amount_refunded": p.amount_refunded,
            "refunds": {r.id: (r.amount, r.status, r.reopens_balance, r.request_ref) for r in p.refunds},
        }
        for (_, key), p in ledger.payments.items()
    }
    plans = {
        plan_id: (
            p.status,
            p.next_action_at,
            tuple((i.number, i.status, i.attempts, i.failure) for i in p.installments),
        )
        for (_, plan_id), p in ledger.plans.items()
    }
    open_checkout = ledger.open_checkouts.get("inv_1")
    return {
        "invoice": {
            "status": invoice.status,
            "amount_due": invoice.amount_due,
            "amount_paid": invoice.amount_paid,
            "amount_refunded": invoice.amount_refunded,
            "amount_reopened": invoice.amount_reopened,
            "amount_remaining": invoice.amount_remaining,
            "amount_credit": invoice.amount_credit,
            "open_disputes": sorted(invoice.open_disputes),
            "hold": invoice.hold,
            "active_plan": invoice.active_plan,
            # When the reminders job looks at it next, where it acts on that: an invoice on hold (a lost
            # dispute) or not in dunning gets no reminder whatever its next_action_at says (the job only
            # re-plans it), and that is all an out-of-order history may leave different.
            "chased_from": invoice.next_action_at if invoice.in_dunning and invoice.hold is None else None,
            "in_dunning": invoice.in_dunning,
        },
        "payments": payments,
        "disputes": {d.id: (d.status, d.amount) for d in ledger.disputes.values()},
        "plans": plans,
        "payable_session": open_checkout.current.ref if open_checkout and open_checkout.current else None,
        "session_outcome": {ref: c.payment_status for (_, ref), c in ledger.checkouts.items()},
    }


def differences(left: Any, right: Any, at: str = "") -> dict[str, tuple[Any, Any]]:
    """Where two money states differ, by path: what a failure prints."""
    if isinstance(left, dict) and isinstance(right, dict):
        found: dict[str, tuple[Any, Any]] = {}
        for key in left.keys() | right.keys():
            found |= differences(left.get(key), right.get(key), f"{at}/{key}")
        return found
    return {} if left == right else {at: (left, right)}


Identity = tuple[Any, ...]


def identity(message: OutboxMessage) -> Identity:
    """What one message is about: an email is its whole body; an event its name and subject."""
    if not isinstance(message.body, Event):
        return ("email", message.body)
    detail = message.body.detail
    subject = ("payment_id", "refund_id", "dispute_id", "installment", "payment_intent_id")
    return ("event", message.name, *(detail.get(key) for key in subject))


def outbox(ledger: InMemoryLedger) -> Counter[Identity]:
    return Counter(identity(m) for m in ledger.outbox_messages())


def installment_paid(state: dict[str, Any], number: int) -> bool:
    return any((number, InstallmentStatus.PAID) == i[:2] for plan in state["plans"].values() for i in plan[2])


def superseded(message: Identity, state: dict[str, Any]) -> bool:
    """Whether `message` announced a state its subject later left, so a run that learned of the later state
    first rightly never sent it: a declined attempt since paid, a declined installment since paid on
    Checkout, a counted refund since failed or canceled, a dispute closed (its opening arrived after its
    close)."""
    payments: dict[str, Any] = state["payments"]
    refunds = {rid: r for p in payments.values() for rid, r in p["refunds"].items()}
    if message[0] == "email":
        body = message[1]
        if isinstance(body, PlanUpdateEmail):  # a declined installment since paid on Checkout
            return installment_paid(state, body.installment)
        if isinstance(body, RefundEmail):
            return refunds[body.refund_id][1] in (RefundStatus.FAILED, RefundStatus.CANCELED)
        if isinstance(body, PaymentFailedEmail):
            return payments[body.payment_id]["status"] is PaymentStatus.SUCCEEDED
        return False
    name, payment_id, refund_id, dispute_id = message[1], message[2], message[3], message[4]
    if name == "payment.failed":
        return payments[payment_id]["status"] is PaymentStatus.SUCCEEDED
    if name == "payment.refunded":
        return refunds[refund_id][1] in (RefundStatus.FAILED, RefundStatus.CANCELED)
    if name == "plan.installment_failed":
        return installment_paid(state, message[5])
    if name == "invoice.disputed":
        return state["disputes"][dispute_id][0] is not DisputeStatus.OPEN
    return False


# ----- the property ------------------------------------------------------------------------------------------


@st.composite
def deliveries(draw: st.DrawFn, events: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    """Every event at least once, some up to three times, in any order."""
    copies = draw(st.lists(st.integers(1, 3), min_size=len(events), max_size=len(events)))
    sent = [e for e, n in zip(events, copies, strict=True) for _ in range(n)]
    draw(st.randoms(use_true_random=False)).shuffle(sent)
    return sent


AFTER = frozenset(
    {"full refund", "partial refund", "operator refund", *(f"refund {path}" for path in REFUND_PATHS)}
    | {f"dispute {outcome}" for outcome in ("open", "won", "lost")}
)


def test_any_delivery_order_converges_to_the_true_orders_ledger() -> None:
    """At least 1,000 histories, each delivered as drawn; then every kind of history was among them."""
    seen = Counter[str]()

    @settings(max_examples=1_000, deadline=None, print_blob=True)
    @given(data=st.data(), history=histories())
    def converges(data: st.DataObject, history: History) -> None:
        seen[history.kind] += 1
        seen.update(history.after)
        event(history.kind)
        for what in sorted(history.after):
            event(what)
        note(f"true order: {[(e['id'], e['type'], e['data']['object'].get('status')) for e in history.events]}")
        truth = starting_ledger(history.setup)
        true_outcomes = deliver(truth, list(history.events), history.events)
        sent = data.draw(deliveries(history.events), label="deliveries")
        note(f"delivered: {[e['id'] for e in sent]}")
        ledger = starting_ledger(history.setup)
        outcomes = deliver(ledger, sent, history.events, data.draw(st.randoms(use_true_random=False)))
        note(f"outcomes: true order {dict(true_outcomes)}, delivered {dict(outcomes)}")
        if outcomes[Outcome.RETRY_LATER.value]:
            event("an early event was delivered again")
        if outcomes[f"reconciled {Outcome.APPLIED.value}"]:
            event("reconciliation applied an event the webhook could not")
            seen["reconciled"] += 1
        seen["retried"] += bool(outcomes[Outcome.RETRY_LATER.value])
        seen["operator overtaken"] += bool(outcomes["operator refund overtaken by its webhook"])
        seen["out of order"] += sent != sorted(sent, key=lambda e: str(e["id"]))

        assert true_outcomes[Outcome.FLAGGED.value] == 0, "the true order flags nothing"
        assert outcomes[Outcome.FLAGGED.value] == 0, "no order of real events is flagged"
        state, true_state = money_state(ledger), money_state(truth)
        assert state == true_state, f"delivered vs true order: {differences(state, true_state)}"
        sent_messages, true_messages = outbox(ledger), outbox(truth)
        assert max(sent_messages.values(), default=1) == 1, f"a message twice: {sent_messages}"
        assert max(true_messages.values(), default=1) == 1, f"a message twice: {true_messages}"
        extra = set(sent_messages) - set(true_messages)
        assert not extra, f"sent what the true order does not: {extra}"
        missing = set(true_messages) - set(sent_messages)
        assert all(superseded(m, state) for m in missing), f"missing: {missing}"
        if missing:
            event("a superseded announcement was rightly not sent")

    converges()

    kinds = {f"{setup}: {kind}" for setup, kind in KINDS}
    assert sum(seen[kind] for kind in kinds) >= 1_000
    assert set(seen) >= kinds | AFTER, f"not covered: {sorted(kinds | AFTER - set(seen))}"
    assert seen["out of order"] >= 500, "most deliveries were out of order"
    assert seen["retried"] and seen["reconciled"], "early events were delivered again, and reconciled"
    assert seen["operator overtaken"], "an operator's refund was recorded after its own webhook"
