"""Between the API's models and the services: requests to service inputs, domain records to responses."""

from __future__ import annotations

from typing import Any

from functions.operator_api.schemas import (
    AuditEntryOut,
    CausedBy,
    CreditNoteOut,
    CustomerChanges,
    CustomerOut,
    EmailUndeliverableOut,
    FeeOut,
    HoldOut,
    InstallmentOut,
    InvoiceChanges,
    InvoiceOut,
    InvoiceRowOut,
    LateFeeLineOut,
    NewCustomer,
    NewInvoice,
    NewOfflinePayment,
    NewRecurringCharge,
    NewRefund,
    OfflinePaymentMadeOut,
    OfflineReceiptOut,
    PaymentOut,
    PaymentRowOut,
    PlanOut,
    RecurringChanges,
    RecurringChargeOut,
    RefundMadeOut,
    RefundOut,
    ReminderFiguresOut,
    ReminderOut,
    ReminderPaidOut,
    ReminderReportOut,
    ReplayOut,
    StripeEventOut,
)
from shared.domain.invoices import CreditNote, Invoice
from shared.domain.records import (
    AuditEntry,
    Customer,
    OfflineMethod,
    Payment,
    Plan,
    RecurringCharge,
    Refund,
    StripeEventRecord,
)
from shared.dunning_policy_model import plan_offer_in, plan_offer_out
from shared.services.corrections import InvoiceCorrection
from shared.services.customers import CustomerCorrection, CustomerDraft
from shared.services.invoices import InvoiceDetails, InvoiceDraft
from shared.services.lists import InvoiceRow, payment_method
from shared.services.offline_payments import OfflinePaymentAsk, OfflinePaymentMade
from shared.services.recurring import RecurringCorrection, RecurringDraft
from shared.services.refunds import RefundAsk, RefundMade
from shared.services.reminder_report import ReminderFigures, ReminderReport
from shared.services.stripe_events.replay import Replayed


def customer_draft(m: NewCustomer) -> CustomerDraft:
    return CustomerDraft(email=m.email, name=m.name, external_id=m.external_id, timezone=m.timezone, locale=m.locale)


def customer_correction(m: CustomerChanges) -> CustomerCorrection:
    return CustomerCorrection(
        email=m.email, name=m.name, locale=m.locale, timezone=m.timezone, external_id=m.external_id
    )


def invoice_draft(m: NewInvoice) -> InvoiceDraft:
    return InvoiceDraft(
        customer_id=m.customer_id,
        number=m.number,
        currency=m.currency,
        amount_due=m.amount_due,
        due_date=m.due_date,
        description=m.description,
        allow_partial=m.allow_partial,
        min_partial_amount=m.min_partial_amount,
        notify=m.notify,
        plan_offer=plan_offer_in(m.installments) if m.installments else None,
    )


def recurring_draft(m: NewRecurringCharge) -> RecurringDraft:
    return RecurringDraft(
        customer_id=m.customer_id,
        amount=m.amount,
        currency=m.currency,
        interval=m.interval,
        start_date=m.start_date,
        end_date=m.end_date,
        count=m.count,
        description=m.description,
    )


def recurring_correction(m: RecurringChanges) -> RecurringCorrection:
    return RecurringCorrection(paused=m.paused, amount=m.amount)


def customer_out(c: Customer) -> CustomerOut:
    return CustomerOut(
        id=c.id,
        email=c.email,
        name=c.name,
        external_id=c.external_id,
        timezone=c.timezone,
        locale=c.locale,
        created_at=c.created_at,
        hold=HoldOut(reason=c.hold.reason, until=c.hold.until) if c.hold else None,
        autopay_enabled_at=c.autopay.enabled_at if c.autopay else None,
        email_undeliverable=EmailUndeliverableOut(
            reason=c.email_undeliverable.reason, at=c.email_undeliverable.at, detail=c.email_undeliverable.detail
        )
        if c.email_undeliverable
        else None,
        erased_at=c.erased_at,
        restricted_at=c.restricted_at,
        stripe_push_pending=c.stripe_push_pending,
    )


def payment_out(p: Payment) -> PaymentOut:
    return PaymentOut(
        id=p.key,
        invoice_id=p.invoice_id,
        amount=p.amount,
        currency=p.currency,
        status=p.state,
        created_at=p.created_at,
        updated_at=p.updated_at,
        failure_reason=p.failure_reason,
        amount_refunded=p.amount_refunded,
        refunds=[refund_out(r) for r in p.refunds],
        offline=OfflineReceiptOut(
            method=p.offline.method.value,
            reference=p.offline.reference,
            received_on=p.offline.received_on,
            reversed_at=p.offline.reversed_at,
            reversal_reason=p.offline.reversal_reason,
        )
        if p.offline
        else None,
        reminder=ReminderOut(
            step=p.reminder.step, template=p.reminder.template, channel=p.reminder.channel, sent_at=p.reminder.sent_at
        )
        if p.reminder
        else None,
        fee=FeeOut(amount=p.fee.amount, currency=p.fee.currency, balance_transaction=p.fee.balance_transaction)
        if p.fee
        else None,
    )


def offline_payment_ask(m: NewOfflinePayment) -> OfflinePaymentAsk:
    return OfflinePaymentAsk(
        amount=m.amount, method=OfflineMethod(m.method), reference=m.reference, received_on=m.received_on
    )


def offline_payment_out(made: OfflinePaymentMade) -> OfflinePaymentMadeOut:
    return OfflinePaymentMadeOut(
        payment=payment_out(made.payment),
        invoice_id=made.invoice.id,
        invoice_status=made.invoice.status.value,
        invoice_amount_remaining=made.invoice.amount_remaining,
        invoice_amount_credit=made.invoice.amount_credit,
    )


def credit_note_out(n: CreditNote) -> CreditNoteOut:
    return CreditNoteOut(id=n.id, amount=n.amount, reason=n.reason, created_at=n.created_at)


def invoice_correction(m: InvoiceChanges) -> InvoiceCorrection:
    return InvoiceCorrection(description=m.description, due_date=m.due_date, amount_due=m.amount_due)


def refund_out(r: Refund) -> RefundOut:
    return RefundOut(
        id=r.id,
        amount=r.amount,
        status=r.status.value,
        reopens_balance=r.reopens_balance,
        reason=r.reason,
        updated_at=r.updated_at,
    )


def refund_made_out(made: RefundMade) -> RefundMadeOut:
    return RefundMadeOut(
        refund=refund_out(made.refund),
        payment=payment_out(made.payment),
        invoice_id=made.invoice.id,
        invoice_status=made.invoice.status.value,
        invoice_amount_remaining=made.invoice.amount_remaining,
    )


def refund_ask(request: NewRefund) -> RefundAsk:
    return RefundAsk(
        amount=request.amount, reason=request.reason, reopen_balance=request.reopen_balance, credit=request.credit
    )


def plan_out(p: Plan) -> PlanOut:
    return PlanOut(
        id=p.id,
        status=p.status.value,
        kind=p.kind.value,
        frequency=p.frequency,
        installments=[
            InstallmentOut(
                number=i.number,
                due_on=i.due_on,
                amount=i.amount,
                status=i.status.value,
                attempts=i.attempts,
                failure=i.failure,
            )
            for i in p.installments
        ],
        next_charge_at=p.next_action_at,
    )


def details_out(d: InvoiceDetails) -> InvoiceOut:
    return invoice_out(d.invoice, d.payments, d.plan)


def _invoice_summary(i: Invoice) -> dict[str, Any]:
    """What an invoice's detail and its list row both show."""
    return {
        "id": i.id,
        "customer_id": i.customer_id,
        "number": i.number,
        "status": i.status.value,
        "currency": i.currency,
        "amount_due": i.amount_due,
        "amount_paid": i.amount_paid,
        "amount_remaining": i.amount_remaining,
        "amount_credit": i.amount_credit,
        "amount_refunded": i.amount_refunded,
        "due_date": i.due_date,
        "description": i.description,
        "created_at": i.created_at,
        "hold": HoldOut(reason=i.hold.reason, until=i.hold.until) if i.hold else None,
        "open_disputes": sorted(i.open_disputes),
        "active_plan": i.active_plan,
        "next_reminder_at": i.next_action_at,
    }


def invoice_out(i: Invoice, payments: list[Payment], plan: Plan | None = None) -> InvoiceOut:
    return InvoiceOut(
        **_invoice_summary(i),
        amount_original=i.amount_original,
        late_fees=[LateFeeLineOut(step=f.step, amount=f.amount) for f in i.late_fees],
        allow_partial=i.allow_partial,
        min_partial_amount=i.min_partial_amount,
        installments=plan_offer_out(i.plan_offer) if i.plan_offer else None,
        plan=plan_out(plan) if plan else None,
        payments=[payment_out(p) for p in payments],
        amount_credited=i.amount_credited,
        credit_notes=[credit_note_out(n) for n in i.credit_notes],
    )


def invoice_row_out(row: InvoiceRow) -> InvoiceRowOut:
    return InvoiceRowOut(
        **_invoice_summary(row.invoice), days_overdue=row.days_overdue, promised_at=row.invoice.promised_at
    )


def payment_row_out(p: Payment) -> PaymentRowOut:
    return PaymentRowOut(
        **payment_out(p).model_dump(),
        invoice_number=p.invoice_number,
        customer_id=p.customer_id,
        method=payment_method(p),
    )


def recurring_out(r: RecurringCharge) -> RecurringChargeOut:
    return RecurringChargeOut(
        id=r.id,
        customer_id=r.customer_id,
        amount=r.amount,
        currency=r.currency,
        interval=r.interval,
        start_date=r.start_date,
        end_date=r.end_date,
        count=r.count,
        description=r.description,
        status=r.status.value,
        periods_created=r.periods_created,
        next_invoice_at=r.next_action_at,
        created_at=r.created_at,
    )


def audit_entry_out(a: AuditEntry) -> AuditEntryOut:
    # An operator is its IAM identity, whichever way the entry was written (older services stored the ARN
    # bare, newer ones as "operator:<ARN>"): the trail reads one way.
    actor = a.actor.removeprefix("operator:")
    return AuditEntryOut(
        id=a.id, at=a.at, action=a.action, actor=actor, caused_by=caused_by(a), details=dict(a.details)
    )


def caused_by(a: AuditEntry) -> CausedBy:
    """What made the change: the Stripe event the engine stamped, else who the actor was."""
    if a.cause.startswith("stripe_event:"):
        return CausedBy(kind="stripe_event", id=a.cause.removeprefix("stripe_event:"))
    if a.actor == "stripe":  # entries written before the engine stamped the event name it in their details
        event_id = a.details.get("event_id")
        return CausedBy(kind="stripe_event", id=event_id if isinstance(event_id, str) else None)
    if a.actor == "customer":
        return CausedBy(kind="customer", id=None)
    if a.actor == "scheduler" or a.actor.startswith("job:"):
        return CausedBy(kind="job", id=a.actor.removeprefix("job:") if a.actor.startswith("job:") else None)
    if a.actor.startswith("arn:") or a.actor.startswith("operator:"):
        return CausedBy(kind="operator", id=a.actor.removeprefix("operator:"))
    return CausedBy(kind="system", id=a.actor or None)


def stripe_event_out(e: StripeEventRecord) -> StripeEventOut:
    return StripeEventOut(
        id=e.event_id,
        type=e.type,
        object_id=e.object_id,
        outcome=e.outcome,  # pydantic checks it is one of the outcomes kept
        detail=e.detail or None,
        received_at=e.received_at,
    )


def replay_out(r: Replayed) -> ReplayOut:
    return ReplayOut(
        id=r.event_id,
        type=r.type,
        outcome=r.outcome.value,  # as above
        previous_outcome=r.previous.outcome if r.previous else None,
    )


def reminder_figures_out(f: ReminderFigures) -> ReminderFiguresOut:
    return ReminderFiguresOut(
        day=f.day,
        step=f.step,
        template=f.template,
        sent=f.sent,
        opened=f.opened,
        paid_within_7_days=[
            ReminderPaidOut(currency=p.currency, payments=p.payments, amount=p.amount, invoices_paid=p.invoices_paid)
            for p in f.paid
        ],
    )


def reminder_report_out(r: ReminderReport) -> ReminderReportOut:
    return ReminderReportOut.model_validate(
        {
            "from": r.first_day,
            "to": r.last_day,
            "rows": [reminder_figures_out(f) for f in r.rows],
            "totals": [reminder_figures_out(f) for f in r.totals],
        }
    )
