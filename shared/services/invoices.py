"""Invoices: created with a pay link (once per idempotency key), read with their payments and plan, held,
voided."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.clock import Clock
from shared.domain.dunning import DunningPolicy, due_reminder, uncollectible_at
from shared.domain.errors import ConcurrentUpdate, CustomerErased, InvalidHold, InvalidStateTransition, NotFound
from shared.domain.invoices import (
    Hold,
    Invoice,
    InvoiceStatus,
    invoice_event_detail,
)
from shared.domain.messages import EventName, InvoiceIssuedEmail, InvoiceVoidedEmail, outgoing_email, outgoing_event
from shared.domain.plan_lifecycle import autopay_plan
from shared.domain.records import (
    AuditEntry,
    AuditSubject,
    Customer,
    PayLink,
    Payment,
    Plan,
    ReminderAttribution,
    new_id,
)
from shared.domain.stripe_amounts import check_chargeable
from shared.services.aggregates import tallied
from shared.services.audit import what_changed
from shared.services.dunning_policy import current_policy
from shared.services.once import create_once, scoped_key
from shared.services.ports import Change, ChangeRejected, Ledger, RunOnce

if TYPE_CHECKING:  # annotations only: the outbox's cold path does not load the plan rules
    from shared.domain.plans import PlanOffer


@dataclass(frozen=True, slots=True)
class Known:
    """What a caller creating many invoices has just read, so each creation need not read it again."""

    customer: Customer | None = None
    policy: DunningPolicy | None = None


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    """A new invoice as the operator (or a recurring charge) describes it, already validated."""

    customer_id: str
    number: str
    currency: str
    amount_due: int
    due_date: date
    description: str = ""
    allow_partial: bool = False
    min_partial_amount: int | None = None
    notify: bool = False  # email the pay link to the customer
    plan_offer: PlanOffer | None = None  # installment plans on offer; None takes the policy's default


@dataclass(frozen=True, slots=True)
class IssuedPayLink:
    link: PayLink
    token: str  # handed to the caller once; never stored

    def url(self, base_url: str) -> str:
        return f"{base_url}/pay/{self.token}"


def issue_pay_link(
    invoice: Invoice, clock: Clock, ttl_days: int, *, reminder: ReminderAttribution | None = None
) -> IssuedPayLink:
    """A fresh link (not yet stored); `reminder`: the reminder whose email carries it."""
    now = clock.now()
    token = PayLink.new_token()
    link = PayLink(
        token_hash=PayLink.hash_token(token),
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        created_at=now,
        expires_at=now + timedelta(days=ttl_days),
        generation=invoice.pay_link_generation,
        reminder=reminder,
    )
    return IssuedPayLink(link=link, token=token)


def new_pay_link(ledger: Ledger, clock: Clock, invoice: Invoice, *, ttl_days: int) -> IssuedPayLink:
    """Store a fresh pay link for an invoice and hand back its token, once."""
    issued = issue_pay_link(invoice, clock, ttl_days)
    ledger.commit(Change(pay_link=issued.link))
    return issued


def create_invoice(
    ledger: Ledger,
    clock: Clock,
    request: InvoiceDraft,
    *,
    actor: str,
    autopay_notice_days: int = 3,
    invoice_id: str | None = None,
    known: Known | None = None,
) -> Invoice:
    """The invoice, its audit entry and its events in one transaction. Pay links are minted by the
    caller (`new_pay_link`), so a replayed request can hand out a link without any token being stored."""
    invoice, change = invoice_creation(
        ledger, clock, request, actor=actor, autopay_notice_days=autopay_notice_days, invoice_id=invoice_id,
        known=known,
    )  # fmt: skip
    ledger.commit(change)
    return invoice


def invoice_creation(
    ledger: Ledger,
    clock: Clock,
    request: InvoiceDraft,
    *,
    actor: str,
    autopay_notice_days: int = 3,
    invoice_id: str | None = None,
    known: Known | None = None,
) -> tuple[Invoice, Change]:
    """The new invoice and the Change that creates it (with its autopay plan, events and audit entry),
    for callers that commit it together with changes of their own. `known`: the customer and the policy
    as the caller has just read them (a bulk import, per chunk), so they are not read again."""
    # Only what Stripe can charge gets in: whatever is later sent for it (the whole, a part, an installment,
    # with late fees) can then be kept valid at Stripe.
    check_chargeable(request.amount_due, request.currency, field="amount_due")
    if request.min_partial_amount is not None:
        check_chargeable(request.min_partial_amount, request.currency, field="min_partial_amount")
    customer = (
        known.customer
        if known is not None and known.customer is not None and known.customer.id == request.customer_id
        else ledger.get_customer(request.customer_id)
    )
    if customer is None:
        raise NotFound(f"no customer {request.customer_id}", field="customer_id")
    if customer.erased_at is not None:
        raise CustomerErased(f"customer {customer.id} was erased: nothing more is billed to them", field="customer_id")
    now = clock.now()
    invoice = Invoice(
        id=invoice_id or new_id("inv"),
        customer_id=customer.id,
        number=request.number,
        currency=request.currency,
        amount_due=request.amount_due,
        amount_paid=0,
        status=InvoiceStatus.OPEN,
        due_date=request.due_date,
        description=request.description,
        allow_partial=request.allow_partial,
        min_partial_amount=request.min_partial_amount,
        version=1,
        created_at=now,
        customer_timezone=customer.timezone,
        plan_offer=request.plan_offer,
    )
    policy = known.policy if known is not None and known.policy is not None else current_policy(ledger)
    default = policy.default_installments
    if invoice.plan_offer is None and default and default.min_installment_amount * 2 <= invoice.amount_due:
        invoice = replace(invoice, plan_offer=default)
    first = due_reminder(policy, invoice.due_date, customer.timezone, frozenset(), now)
    invoice = replace(invoice, next_action_at=first.send_at if first else None)
    plan = None
    if customer.autopay is not None:
        # Charged on the due date to the saved card, after a notice: no reminders meanwhile.
        plan = autopay_plan(invoice, customer, now, autopay_notice_days)
        invoice = replace(invoice, active_plan=plan.id, next_action_at=None)
    outbox = [outgoing_event(EventName.INVOICE_CREATED, invoice_event_detail(invoice), now)]
    if request.notify:
        # The email gets a pay link of its own, minted at delivery: no token waits in the table.
        outbox.append(outgoing_email(InvoiceIssuedEmail(invoice.id), now))
    audit = AuditEntry(
        subject=AuditSubject.INVOICE,
        subject_id=invoice.id,
        action="invoice.created",
        actor=actor,
        at=now,
        details={"amount_due": invoice.amount_due, "currency": invoice.currency, "number": invoice.number},
    )
    return invoice, tallied(Change(new_invoice=invoice, new_plan=plan, outbox=outbox, audit=[audit]), now)


def get_invoice(ledger: Ledger, invoice_id: str) -> Invoice:
    invoice = ledger.get_invoice(invoice_id)
    if invoice is None:
        raise NotFound(f"no invoice {invoice_id}", field="invoice_id")
    return invoice


def get_invoice_with_payments(ledger: Ledger, invoice_id: str) -> tuple[Invoice, list[Payment]]:
    return get_invoice(ledger, invoice_id), ledger.get_invoice_payments(invoice_id)


@dataclass(frozen=True, slots=True)
class InvoiceDetails:
    """An invoice with its payments and, while one pays it off, its plan."""

    invoice: Invoice
    payments: list[Payment]
    plan: Plan | None = None


def invoice_details(ledger: Ledger, invoice_id: str) -> InvoiceDetails:
    invoice, payments = get_invoice_with_payments(ledger, invoice_id)
    plan = ledger.get_plan(invoice.id, invoice.active_plan) if invoice.active_plan else None
    return InvoiceDetails(invoice=invoice, payments=payments, plan=plan)


@dataclass(frozen=True, slots=True)
class IssuedInvoice:
    """A created invoice, its payments (a replay may find some) and a fresh pay link."""

    invoice: Invoice
    payments: list[Payment]
    link: IssuedPayLink


def create_invoice_once(
    ledger: Ledger,
    clock: Clock,
    once: RunOnce,
    draft: InvoiceDraft,
    *,
    key: str | None,
    fingerprint: dict[str, Any],
    actor: str,
    pay_link_ttl_days: int,
    autopay_notice_days: int,
) -> IssuedInvoice:
    """Create the invoice once per (caller, Idempotency-Key): a replay with the same `fingerprint` (the
    request as sent) gets the same invoice, a different one is refused by `once`."""
    invoice_id = create_once(
        once,
        scoped=scoped_key(actor, key),
        fingerprint=fingerprint,
        prefix="inv",
        result_key="invoice_id",
        create=lambda new_id: create_invoice(
            ledger, clock, draft, actor=actor, autopay_notice_days=autopay_notice_days, invoice_id=new_id
        ),
        exists=lambda wanted: ledger.get_invoice(wanted) is not None,
    )
    invoice, payments = get_invoice_with_payments(ledger, invoice_id)
    # Links are stored only as hashes, so a replay gets a fresh link to the same invoice.
    link = new_pay_link(ledger, clock, invoice, ttl_days=pay_link_ttl_days)
    return IssuedInvoice(invoice=invoice, payments=payments, link=link)


def void_invoice(ledger: Ledger, clock: Clock, invoice_id: str, *, actor: str) -> InvoiceDetails:
    """Void an open invoice no one has paid anything on; voiding twice is a no-op, not an error."""
    invoice = get_invoice(ledger, invoice_id)
    voided = invoice.voided()
    if voided is not invoice:
        now = clock.now()
        audit = AuditEntry(
            subject=AuditSubject.INVOICE,
            subject_id=invoice.id,
            action="invoice.voided",
            actor=actor,
            at=now,
            details={"changes": what_changed(invoice, voided)},
        )
        event = outgoing_event(EventName.INVOICE_VOIDED, invoice_event_detail(voided), now)
        cancelled = outgoing_email(InvoiceVoidedEmail(invoice.id), now)  # the customer is told it is cancelled
        try:
            change = Change(invoice_update=voided, outbox=[event, cancelled], audit=[audit])
            ledger.commit(tallied(change, now, invoice_before=invoice))
        except ChangeRejected as rejected:
            if rejected.reason == "stale_invoice":
                # A payment landed in between; void is only for untouched invoices, so say so.
                raise InvalidStateTransition(
                    f"invoice {invoice.number} changed while voiding; it may have been paid"
                ) from None
            raise
    return InvoiceDetails(*get_invoice_with_payments(ledger, invoice_id))


def place_hold(
    ledger: Ledger, clock: Clock, invoice_id: str, *, reason: str, until: datetime | None, actor: str
) -> InvoiceDetails:
    """Pause reminders for an invoice (a dispute with the operator, a payment arranged by phone...)."""
    invoice = get_invoice(ledger, invoice_id)
    now = clock.now()
    if not invoice.accepts_payment:
        raise InvalidStateTransition(f"invoice {invoice.number} is {invoice.status.value}: nothing to hold")
    if until is not None and until <= now:
        raise InvalidHold("until must be in the future", field="until")
    held = replace(invoice, hold=Hold(reason=reason, until=until), next_action_at=until, version=invoice.version + 1)
    audit = AuditEntry(
        subject=AuditSubject.INVOICE,
        subject_id=invoice.id,
        action="invoice.hold_placed",
        actor=actor,
        at=now,
        details={
            "reason": reason,
            "until": until.isoformat() if until else None,
            "changes": what_changed(invoice, held),
        },
    )
    _commit_update(ledger, held, audit)
    return InvoiceDetails(*get_invoice_with_payments(ledger, invoice_id))


def release_hold(ledger: Ledger, clock: Clock, invoice_id: str, *, actor: str) -> InvoiceDetails:
    """Resume reminders now: the latest step that applies goes out in the customer's next window."""
    invoice = get_invoice(ledger, invoice_id)
    if invoice.hold is None:
        return InvoiceDetails(*get_invoice_with_payments(ledger, invoice_id))
    now = clock.now()
    released = replace(invoice, hold=None, version=invoice.version + 1)
    released = replace(released, next_action_at=next_dunning_action(current_policy(ledger), released, now))
    audit = AuditEntry(
        subject=AuditSubject.INVOICE,
        subject_id=invoice.id,
        action="invoice.hold_released",
        actor=actor,
        at=now,
        details={"changes": what_changed(invoice, released)},
    )
    _commit_update(ledger, released, audit)
    return InvoiceDetails(*get_invoice_with_payments(ledger, invoice_id))


def next_dunning_action(policy: DunningPolicy, invoice: Invoice, now: datetime) -> datetime | None:
    """When the dunning run should next look at the invoice: its next reminder, or once every reminder has
    gone out, the policy's write-off (never a reminder after it); None when it is not being collected."""
    if not invoice.in_dunning:
        return None
    following = due_reminder(policy, invoice.due_date, invoice.customer_timezone, invoice.reminders_sent, now)
    write_off = uncollectible_at(policy, invoice.due_date, invoice.customer_timezone)
    if following is None or (write_off is not None and following.send_at >= write_off):
        return write_off
    return following.send_at


def _commit_update(ledger: Ledger, updated: Invoice, audit: AuditEntry) -> None:
    try:
        ledger.commit(Change(invoice_update=updated, audit=[audit]))
    except ChangeRejected as rejected:
        if rejected.reason == "stale_invoice":
            raise ConcurrentUpdate(f"invoice {updated.number} changed meanwhile; try again") from None
        raise
