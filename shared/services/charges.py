"""The charge run: find the installment plans with a charge due, create one off-session PaymentIntent per
(installment, attempt), exactly once.

Reads only the CHARGE partitions of the sparse due_work index. For each due plan:
1. claim the attempt: the plan is written with the installment `charging` and its attempt number, guarded
   by the plan's version, so a double firing, a concurrent run or a retry claims it once;
2. create the PaymentIntent with an idempotency key derived from (plan, installment, attempt), so a run
   that claimed the attempt and crashed before hearing back calls Stripe again and gets the same
   PaymentIntent instead of a second charge;
3. note the PaymentIntent on the plan. What happened to the money arrives by webhook
   (`payment_intent.succeeded` / `payment_intent.payment_failed`) and is applied by
   `shared.services.stripe_events.installment_charges`, like every other payment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from shared.clock import Clock
from shared.domain.invoices import Invoice
from shared.domain.messages import OutboxMessage, PlanNews, PlanUpdateEmail, outgoing_email
from shared.domain.records import (
    AuditEntry,
    AuditSubject,
    Installment,
    InstallmentStatus,
    Plan,
    PlanKind,
    PlanStatus,
    RecurringCharge,
)
from shared.services.autopay import notice_change
from shared.services.due_work import ALL_SHARDS, walk_due
from shared.services.gateway import OffSessionCharge, PaymentGateway
from shared.services.ports import Change, ChangeRejected, Ledger, SkippedItem
from shared.services.recurring import bill_period

PAGE_SIZE = 50
JOB_ACTOR = "scheduler"  # audit entries the charges job writes (their details name the job)
# A claimed attempt is looked at again after this long if it has no PaymentIntent yet (the run died before
# Stripe answered: the next run calls again with the same idempotency key, well inside Stripe's 24 hours)...
CLAIM_WAIT = timedelta(minutes=10)
# ...and after this long if it has one that no webhook has settled yet.
SETTLE_WAIT = timedelta(hours=1)
# An invoice on hold or in dispute pauses its plan; the run looks again this much later.
PAUSE_RECHECK = timedelta(days=1)


@dataclass(slots=True)
class ChargeReport:
    examined: int = 0
    charged: int = 0  # PaymentIntents created (or found again by their idempotency key)
    failed_at_stripe: int = 0  # Stripe refused at once; the webhook records why
    paused: int = 0  # the invoice is on hold or disputed
    conflicts: int = 0  # another run claimed it first
    waiting: int = 0  # an attempt already has its PaymentIntent; its webhook settles it
    notices: int = 0  # autopay: the customer was told of the coming charge
    invoiced: int = 0  # recurring charges' periods invoiced
    no_card: int = 0  # no saved card to charge: the plan ended and the invoice went back to dunning
    complete: bool = True
    remaining: list[tuple[int, str | None]] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)  # bad plans or recurring charges; the rest ran


def idempotency_key(plan: Plan, installment: int, attempt: int) -> str:
    return f"payportal-installment-{plan.id}-{installment}-{attempt}"


def run_charges(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    *,
    out_of_time: Callable[[], bool] = lambda: False,
    work: Sequence[tuple[int, str | None]] = ALL_SHARDS,
    autopay_notice_days: int = 3,
) -> ChargeReport:
    """First the recurring charges with a period to invoice (so an autopay period can be charged in the same
    cycle as its plan), then the plans with a charge due."""
    now = clock.now()
    report = ChargeReport()
    bill_recurring(ledger, clock, report, autopay_notice_days=autopay_notice_days)
    report.remaining = walk_due(
        work,
        lambda shard, cursor: ledger.due_plans(shard, now, PAGE_SIZE, cursor),
        lambda plan: charge_plan(ledger, gateway, plan, now, report),
        out_of_time,
        kind="plan",
        skip=report.skipped.append,
    )
    report.complete = not report.remaining
    return report


def bill_recurring(ledger: Ledger, clock: Clock, report: ChargeReport, *, autopay_notice_days: int) -> None:

    now = clock.now()

    def bill(charge: RecurringCharge) -> None:
        report.invoiced += bill_period(ledger, clock, charge, autopay_notice_days=autopay_notice_days)

    walk_due(
        ALL_SHARDS,
        lambda shard, cursor: ledger.due_recurring(shard, now, PAGE_SIZE, cursor),
        bill,
        kind="recurring",
        skip=report.skipped.append,
    )


def charge_plan(ledger: Ledger, gateway: PaymentGateway, plan: Plan, now: datetime, report: ChargeReport) -> None:
    report.examined += 1
    installment = plan.current
    if plan.status is not PlanStatus.ACTIVE or installment is None:
        _commit(ledger, replace(plan, next_action_at=None, version=plan.version + 1), report)
        return
    invoice, customer = ledger.get_invoice_and_customer(plan.invoice_id, plan.customer_id)
    if invoice is None or customer is None:
        _commit(ledger, replace(plan, next_action_at=None, version=plan.version + 1), report)  # nothing to charge
        return
    if customer.stripe_customer_id is None:
        _no_card_to_charge(ledger, plan, invoice, now, report)  # no saved card can exist
        return
    if (invoice.hold and invoice.hold.active_at(now)) or invoice.open_disputes:
        if _commit(ledger, replace(plan, next_action_at=now + PAUSE_RECHECK, version=plan.version + 1), report):
            report.paused += 1
        return
    if plan.kind is PlanKind.AUTOPAY:
        if not invoice.accepts_payment:  # paid (or voided) some other way before its due date
            finished = replace(plan, status=PlanStatus.COMPLETED, next_action_at=None, version=plan.version + 1)
            _commit(ledger, finished, report, audit=plan_audit(plan, "plan.completed", now, reason="paid_otherwise"))
            return
        if not plan.notice_sent:
            try:
                ledger.commit(notice_change(plan, invoice, now, actor=JOB_ACTOR))
            except ChangeRejected:
                report.conflicts += 1
                return
            report.notices += 1
            return
        if installment.status is InstallmentStatus.SCHEDULED and installment.amount != invoice.amount_remaining:
            # Charge what is owed now: a partial payment or a late fee since the invoice was issued.
            installment = replace(installment, amount=invoice.amount_remaining)
            plan = replace(plan, installments=(installment,))  # written with the claim below

    if installment.status is InstallmentStatus.CHARGING and installment.payment_intent_id:
        # Created already; the webhook settles it. Look again later in case it never comes.
        if _commit(ledger, replace(plan, next_action_at=now + SETTLE_WAIT, version=plan.version + 1), report):
            report.waiting += 1
        return
    if installment.status is InstallmentStatus.CHARGING:
        attempt, claimed = installment.attempts, plan  # claimed by a run that never heard back: same key again
    else:
        attempt = installment.attempts + 1
        claimed = _with_installment(
            plan,
            replace(installment, status=InstallmentStatus.CHARGING, attempts=attempt, payment_intent_id=None),
            next_action_at=now + CLAIM_WAIT,
        )
        audit = plan_audit(plan, "plan.charge_attempted", now, installment=installment.number, attempt=attempt)
        if not _commit(ledger, claimed, report, audit=audit):
            return

    outcome = gateway.charge_off_session(
        OffSessionCharge(
            stripe_customer_id=customer.stripe_customer_id,
            amount=installment.amount,
            currency=plan.currency,
            description=f"Invoice {invoice.number}: installment {installment.number} of {len(plan.installments)}",
            metadata={
                "invoice_id": plan.invoice_id,
                "customer_id": plan.customer_id,
                "plan_id": plan.id,
                "installment": str(installment.number),
                "attempt": str(attempt),
            },
            idempotency_key=idempotency_key(plan, installment.number, attempt),
        )
    )
    if outcome.status == "no_payment_method":
        # Stripe holds no card to charge, so no PaymentIntent and no webhook will ever come.
        _no_card_to_charge(ledger, claimed, invoice, now, report)
        return
    if outcome.status == "failed":
        report.failed_at_stripe += 1
    else:
        report.charged += 1
    if outcome.payment_intent_id:
        current = claimed.current
        assert current is not None
        noted = _with_installment(
            claimed, replace(current, payment_intent_id=outcome.payment_intent_id), next_action_at=now + SETTLE_WAIT
        )
        notice = _card_expiry_notice(plan, installment, attempt, outcome.card_expires, now)
        created = plan_audit(
            plan, "plan.charge_created", now, installment=installment.number, attempt=attempt,
            payment_intent=outcome.payment_intent_id, status=outcome.status,
        )  # fmt: skip
        # A webhook may have settled it already (newer version): then there is nothing to note.
        _commit(ledger, noted, report, count_conflict=False, outbox=[notice] if notice else [], audit=created)


def _no_card_to_charge(ledger: Ledger, plan: Plan, invoice: Invoice, now: datetime, report: ChargeReport) -> None:
    """The plan cannot go on without a card: it ends, and the invoice returns to normal dunning."""
    failed = replace(plan, status=PlanStatus.DEFAULTED, next_action_at=None, version=plan.version + 1)
    back = replace(invoice, active_plan=None, next_action_at=now, version=invoice.version + 1)
    audit = plan_audit(
        plan,
        "plan.defaulted",
        now,
        reason="no_saved_card",
        status={"from": plan.status.value, "to": failed.status.value},
    )
    try:
        ledger.commit(Change(plan_update=failed, invoice_update=back, audit=[audit]))
    except ChangeRejected:
        report.conflicts += 1
        return
    report.no_card += 1


def plan_audit(plan: Plan, action: str, now: datetime, **details: Any) -> AuditEntry:
    """An entry on the plan's invoice's trail, by the charges job."""
    return AuditEntry(
        subject=AuditSubject.INVOICE,
        subject_id=plan.invoice_id,
        action=action,
        actor=JOB_ACTOR,
        at=now,
        details={"plan": plan.id, "job": "charges", **details},
    )


def card_expires_before(expires: tuple[int, int], day: date) -> bool:
    """A card is good through the last day of its expiry month."""
    year, month = expires
    return (day.year, day.month) > (year, month)


def _card_expiry_notice(
    plan: Plan, installment: Installment, attempt: int, expires: tuple[int, int] | None, now: datetime
) -> OutboxMessage | None:
    """Ask for a new card, once per installment, when the one on file expires before the next charge."""
    following = next((i for i in plan.installments if i.number == installment.number + 1), None)
    if attempt != 1 or expires is None or following is None or not card_expires_before(expires, following.due_on):
        return None
    news = PlanUpdateEmail(
        invoice_id=plan.invoice_id,
        plan_id=plan.id,
        installment=following.number,
        amount=following.amount,
        news=PlanNews.CARD_EXPIRING,
        due_on=following.due_on,
    )
    return outgoing_email(news, now)


def _with_installment(plan: Plan, installment: Installment, *, next_action_at: datetime | None = None) -> Plan:
    installments = tuple(installment if i.number == installment.number else i for i in plan.installments)
    return replace(
        plan,
        installments=installments,
        next_action_at=next_action_at if next_action_at is not None else plan.next_action_at,
        version=plan.version + 1,
    )


def _commit(
    ledger: Ledger,
    plan: Plan,
    report: ChargeReport,
    *,
    audit: AuditEntry | None = None,
    count_conflict: bool = True,
    outbox: list[OutboxMessage] | None = None,
) -> bool:
    try:
        ledger.commit(Change(plan_update=plan, audit=[audit] if audit else [], outbox=outbox or []))
    except ChangeRejected:
        if count_conflict:
            report.conflicts += 1
        return False
    return True
