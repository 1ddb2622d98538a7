"""How a stored installment plan moves: when its installments are charged, what paying the first one and
each next one does, and the one-charge plan that carries an autopay invoice.

Pure: no I/O, no clock. The caller passes the instants.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.domain.invoices import Invoice, invoice_event_detail
from shared.domain.messages import EventName, OutboxMessage, outgoing_event
from shared.domain.records import Customer, Installment, InstallmentStatus, Plan, PlanKind, PlanStatus

# Installments are charged at this local time on their due date, inside anyone's working day.
CHARGE_LOCAL_TIME = time(10)


def charge_at(due_on: date, timezone: str) -> datetime:
    """When an installment due on `due_on` is charged: 10:00 in the customer's zone, as UTC."""
    return datetime.combine(due_on, CHARGE_LOCAL_TIME, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def plan_event_detail(plan: Plan) -> dict[str, object]:
    return {
        "plan_id": plan.id,
        "invoice_id": plan.invoice_id,
        "customer_id": plan.customer_id,
        "status": plan.status.value,
        "currency": plan.currency,
        "frequency": plan.frequency,
        "installments": [
            {"number": i.number, "due_on": i.due_on.isoformat(), "amount": i.amount, "status": i.status.value}
            for i in plan.installments
        ],
    }


def activate(
    plan: Plan, invoice: Invoice, payment_intent_id: str | None, now: datetime
) -> tuple[Plan, list[OutboxMessage]]:
    """The first installment is paid: the plan runs (or is complete, if that was all), and the events
    announcing it."""
    installments = list(plan.installments)
    installments[0] = replace(
        installments[0], status=InstallmentStatus.PAID, attempts=1, payment_intent_id=payment_intent_id
    )
    following = installments[1] if len(installments) > 1 else None
    active = replace(
        plan,
        installments=tuple(installments),
        status=PlanStatus.ACTIVE if following else PlanStatus.COMPLETED,
        next_action_at=charge_at(following.due_on, plan.customer_timezone) if following else None,
        version=plan.version + 1,
    )
    detail = plan_event_detail(active) | {"invoice": invoice_event_detail(invoice)}
    announced = [
        outgoing_event(EventName.PLAN_CREATED, detail, now),
        outgoing_event(
            EventName.PLAN_INSTALLMENT_PAID,
            plan_event_detail(active) | {"installment": 1, "payment_intent_id": payment_intent_id},
            now,
        ),
    ]
    return active, announced


def settle_installment(plan: Plan, number: int, payment_intent_id: str | None) -> Plan:
    """Installment `number` is paid: the plan waits for the next one's date, or is completed."""
    paid = tuple(
        replace(i, status=InstallmentStatus.PAID, payment_intent_id=payment_intent_id, failure=None)
        if i.number == number
        else i
        for i in plan.installments
    )
    settled = replace(plan, installments=paid, version=plan.version + 1)
    following = settled.current
    if following is None:
        return replace(settled, status=PlanStatus.COMPLETED, next_action_at=None)
    if settled.status is PlanStatus.ACTIVE:
        return replace(settled, next_action_at=charge_at(following.due_on, plan.customer_timezone))
    return settled


def with_installment(plan: Plan, installment: Installment) -> Plan:
    """The plan with one installment replaced, as a new version."""
    installments = tuple(installment if i.number == installment.number else i for i in plan.installments)
    return replace(plan, installments=installments, version=plan.version + 1)


def autopay_plan(invoice: Invoice, customer: Customer, now: datetime, notice_days: int) -> Plan:
    """The one-charge plan that pays `invoice` on its due date for a customer on autopay. It first waits
    for the notice time; the charge run sends the notice, then charges on the due date."""
    notice_at = charge_at(invoice.due_date, customer.timezone) - timedelta(days=notice_days)
    return Plan(
        id=f"plan_autopay_{invoice.id.removeprefix('inv_')}",
        invoice_id=invoice.id,
        customer_id=customer.id,
        currency=invoice.currency,
        frequency="once",
        installments=(Installment(1, invoice.due_date, invoice.amount_remaining),),
        status=PlanStatus.ACTIVE,
        created_at=now,
        customer_timezone=customer.timezone,
        next_action_at=max(notice_at, now),
        kind=PlanKind.AUTOPAY,
    )
