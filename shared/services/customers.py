"""Customers: created by the operator's systems, read back with their payments; held, corrected, and marked
unreachable when their address bounces or complains."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from shared.clock import Clock, wall_clock_now
from shared.domain.errors import ConcurrentUpdate, CustomerErased, InvalidHold, NotFound
from shared.domain.invoices import Hold
from shared.domain.messages import EventName, outgoing_event
from shared.domain.records import AuditEntry, AuditSubject, Customer, EmailUndeliverable, new_id
from shared.services.audit import what_changed
from shared.services.gateway import PaymentGateway
from shared.services.once import create_once, scoped_key
from shared.services.ports import Change, ChangeRejected, Ledger, Page, RunOnce

WAKE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class CustomerDraft:
    """A new customer as the operator describes them (already validated at the edge)."""

    email: str
    name: str
    external_id: str | None = None
    timezone: str = "UTC"
    locale: str = "en-US"


@dataclass(frozen=True, slots=True)
class CustomerCorrection:
    """Corrected fields that identify or reach the customer (already validated at the edge); None leaves a
    field as it is; `external_id` "" removes it."""

    email: str | None = None
    name: str | None = None
    locale: str | None = None
    timezone: str | None = None
    external_id: str | None = None

    def fields(self) -> list[str]:
        return sorted(name for name in CORRECTABLE if getattr(self, name) is not None)


CORRECTABLE = ("email", "name", "locale", "timezone", "external_id")


def create_customer(
    ledger: Ledger, clock: Clock, request: CustomerDraft, *, actor: str, customer_id: str | None = None
) -> Customer:
    """A new customer; an `external_id` another customer holds is refused (DUPLICATE_EXTERNAL_ID)."""
    now = clock.now()
    customer = Customer(
        id=customer_id or new_id("cust"),
        email=request.email,
        name=request.name,
        external_id=request.external_id,
        timezone=request.timezone,
        locale=request.locale,
        created_at=now,
    )
    audit = AuditEntry(
        subject=AuditSubject.CUSTOMER, subject_id=customer.id, action="customer.created", actor=actor, at=now
    )
    ledger.commit(Change(new_customer=customer, audit=[audit]))
    return customer


def create_customer_once(
    ledger: Ledger,
    clock: Clock,
    once: RunOnce,
    request: CustomerDraft,
    *,
    key: str | None,
    fingerprint: dict[str, Any],
    actor: str,
) -> Customer:
    """With an Idempotency-Key, the customer is created once per (caller, key); without one, every request
    creates (and the external id, when given, still keeps a second copy out)."""
    if key is None:
        return create_customer(ledger, clock, request, actor=actor)
    customer_id = create_once(
        once,
        scoped=scoped_key(actor, key),
        fingerprint=fingerprint,
        prefix="cust",
        result_key="customer_id",
        create=lambda wanted: create_customer(ledger, clock, request, actor=actor, customer_id=wanted),
        exists=lambda wanted: ledger.get_customer(wanted) is not None,
    )
    return get_customer(ledger, customer_id)


def find_by_external_id(ledger: Ledger, external_id: str) -> Customer | None:
    return ledger.customer_by_external_id(external_id)


def get_customer(ledger: Ledger, customer_id: str) -> Customer:
    customer = ledger.get_customer(customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}", field="customer_id")
    return customer


def ensure_stripe_customer(ledger: Ledger, gateway: PaymentGateway, customer: Customer) -> str:
    """The customer's id at Stripe, created (and remembered) the first time they pay or save a card; a
    correction whose push to Stripe failed is pushed now."""
    if customer.stripe_customer_id is not None:
        if customer.stripe_push_pending:
            push_to_stripe(ledger, gateway, customer, wall_clock_now())
        return customer.stripe_customer_id
    stripe_customer_id = gateway.ensure_customer(customer)
    ledger.remember_stripe_customer(customer.id, stripe_customer_id)
    return stripe_customer_id


def list_transactions(ledger: Ledger, customer_id: str, *, limit: int, cursor: str | None) -> Page:
    get_customer(ledger, customer_id)
    return ledger.list_customer_payments(customer_id, limit, cursor)


def update_customer(
    ledger: Ledger,
    clock: Clock,
    customer_id: str,
    changes: CustomerCorrection,
    *,
    actor: str,
    gateway: PaymentGateway | None = None,
) -> Customer:
    """Correct what identifies or reaches the customer (GDPR Art. 16). A new address is deliverable until SES
    says otherwise, so reminders held back by a bounce or complaint resume. A new external id is refused when
    another customer holds it (DUPLICATE_EXTERNAL_ID); the old one is freed. With `gateway`, the correction is
    then pushed to their Stripe customer: a failed push stays marked (`stripe_push_pending`) and is made on the
    customer's next payment or card (`ensure_stripe_customer`) or by repeating the correction (decision 131)."""
    customer = get_customer(ledger, customer_id)
    if customer.erased_at is not None:
        raise CustomerErased(f"customer {customer.id} was erased: there is nothing left to correct")
    now = clock.now()
    updated = customer
    for name in ("name", "email", "locale", "timezone"):
        if getattr(changes, name) is not None:
            updated = replace(updated, **{name: getattr(changes, name)})
    if changes.external_id is not None:
        updated = replace(updated, external_id=changes.external_id or None)
    new_address = changes.email is not None and changes.email.lower() != customer.email.lower()
    if new_address:
        updated = replace(updated, email_undeliverable=None)
    if updated == customer:
        if gateway is not None and customer.stripe_push_pending:
            return push_to_stripe(ledger, gateway, customer, now)  # a repeat of a correction whose push failed
        return customer
    pushes = customer.stripe_customer_id is not None and _stripe_view(updated) != _stripe_view(customer)
    updated = replace(updated, version=customer.version + 1, stripe_push_pending=pushes or customer.stripe_push_pending)
    moved = what_changed(customer, updated, redacted=("email",))
    details = {"fields": changes.fields(), "changes": {k: v for k, v in moved.items() if k != "stripe_push_pending"}}
    audit = AuditEntry(
        subject=AuditSubject.CUSTOMER,
        subject_id=customer.id,
        action="customer.updated",
        actor=actor,
        at=now,
        details=details,
    )
    claimed = updated if updated.external_id not in (None, customer.external_id) else None
    try:
        ledger.commit(Change(customer_update=updated, claimed_external_id=claimed, audit=[audit]))
    except ChangeRejected as rejected:
        if rejected.reason == "stale_customer":
            raise ConcurrentUpdate("the customer changed meanwhile; try again") from None
        raise  # duplicate_external_id: another customer holds it (409, as on create)
    if customer.external_id is not None and customer.external_id != updated.external_id:
        ledger.release_external_id(customer.external_id, customer.id)
    if customer.reminders_paused_at(now) and not updated.reminders_paused_at(now):
        wake_reminders(ledger, customer.id, now)
    if gateway is not None and updated.stripe_push_pending:
        return push_to_stripe(ledger, gateway, updated, now)
    return updated


def _stripe_view(customer: Customer) -> tuple[str, str, str, str | None]:
    """What the Stripe customer carries of ours."""
    return customer.name, customer.email, customer.locale, customer.external_id


def push_to_stripe(ledger: Ledger, gateway: PaymentGateway, customer: Customer, now: datetime) -> Customer:
    """Send the customer's correction to Stripe, then clear the mark. A failure leaves the mark for the next
    try (the customer's next payment or card, or the correction repeated) and the local correction stands."""
    if customer.stripe_customer_id is None or customer.erased_at is not None:
        return customer
    try:
        gateway.update_customer(customer.stripe_customer_id, customer)
    except Exception:  # Stripe unreachable or refusing: the correction is committed; the mark keeps the push
        return customer
    return _clear_push_mark(ledger, customer, now)


def _clear_push_mark(ledger: Ledger, customer: Customer, now: datetime) -> Customer:
    cleared = replace(customer, stripe_push_pending=False, version=customer.version + 1)
    audit = AuditEntry(
        subject=AuditSubject.CUSTOMER,
        subject_id=customer.id,
        action="customer.pushed_to_stripe",
        actor="payportal",
        at=now,
    )
    try:
        ledger.commit(Change(customer_update=cleared, audit=[audit]))
    except ChangeRejected:
        return customer  # changed meanwhile: a later push (of the newer values) clears it
    return cleared


def place_customer_hold(
    ledger: Ledger, clock: Clock, customer_id: str, *, reason: str, until: datetime | None, actor: str
) -> Customer:
    """Pause reminders for every invoice of the customer (bankruptcy, a dispute handled by phone...)."""
    customer = get_customer(ledger, customer_id)
    _not_erased(customer)
    now = clock.now()
    if until is not None and until <= now:
        raise InvalidHold("until must be in the future", field="until")
    held = replace(customer, hold=Hold(reason=reason, until=until), version=customer.version + 1)
    audit = AuditEntry(
        subject=AuditSubject.CUSTOMER,
        subject_id=customer.id,
        action="customer.hold_placed",
        actor=actor,
        at=now,
        details={
            "reason": reason,
            "until": until.isoformat() if until else None,
            "changes": what_changed(customer, held),
        },
    )
    _commit_customer(ledger, Change(customer_update=held, audit=[audit]))
    return held


def release_customer_hold(ledger: Ledger, clock: Clock, customer_id: str, *, actor: str) -> Customer:
    """Resume reminders now: each invoice's latest applicable step goes out in the customer's next window."""
    customer = get_customer(ledger, customer_id)
    if customer.hold is None:
        return customer
    now = clock.now()
    released = replace(customer, hold=None, version=customer.version + 1)
    audit = AuditEntry(
        subject=AuditSubject.CUSTOMER,
        subject_id=customer.id,
        action="customer.hold_released",
        actor=actor,
        at=now,
        details={"changes": what_changed(customer, released)},
    )
    _commit_customer(ledger, Change(customer_update=released, audit=[audit]))
    if not released.reminders_paused_at(now):
        wake_reminders(ledger, customer.id, now)
    return released


def restrict_customer(ledger: Ledger, clock: Clock, customer_id: str, *, actor: str) -> Customer:
    """Restrict the processing of the customer's data (GDPR Art. 18): the records stay; no reminder, notice,
    autopay or plan charge, pay-together invitation, digest mention or integration export uses them, and only
    what their own payments need (receipts, refunds) is still emailed. Restricting twice changes nothing."""
    customer = get_customer(ledger, customer_id)
    _not_erased(customer)
    if customer.restricted_at is not None:
        return customer
    now = clock.now()
    restricted = replace(customer, restricted_at=now, version=customer.version + 1)
    _commit_customer(
        ledger, _restriction_change(restricted, "customer.restricted", EventName.CUSTOMER_RESTRICTED, now, actor)
    )
    return restricted


def restrict_customer_once(
    ledger: Ledger, clock: Clock, once: RunOnce, customer_id: str, *, key: str | None, actor: str
) -> Customer:
    """`restrict_customer` once per (caller, Idempotency-Key)."""
    once(
        scoped_key(actor, key),
        {"customer_id": customer_id},
        lambda: {"customer_id": restrict_customer(ledger, clock, customer_id, actor=actor).id},
    )
    return get_customer(ledger, customer_id)


def lift_restriction(ledger: Ledger, clock: Clock, customer_id: str, *, actor: str) -> Customer:
    """The restriction ends: reminders resume in the customer's next window."""
    customer = get_customer(ledger, customer_id)
    _not_erased(customer)
    if customer.restricted_at is None:
        return customer
    now = clock.now()
    lifted = replace(customer, restricted_at=None, version=customer.version + 1)
    _commit_customer(
        ledger, _restriction_change(lifted, "customer.restriction_lifted", EventName.CUSTOMER_UNRESTRICTED, now, actor)
    )
    if not lifted.reminders_paused_at(now):
        wake_reminders(ledger, customer.id, now)
    return lifted


def _restriction_change(customer: Customer, action: str, event: EventName, now: datetime, actor: str) -> Change:
    audit = AuditEntry(subject=AuditSubject.CUSTOMER, subject_id=customer.id, action=action, actor=actor, at=now)
    return Change(
        customer_update=customer,
        outbox=[outgoing_event(event, {"customer_id": customer.id}, now)],
        audit=[audit],
    )


def _not_erased(customer: Customer) -> None:
    if customer.erased_at is not None:
        raise CustomerErased(f"customer {customer.id} was erased")


def record_email_feedback(
    ledger: Ledger, clock: Clock, customer_id: str, *, reason: str, addresses: list[str], detail: str = ""
) -> bool:
    """SES says mail to `addresses` bounced for good or drew a complaint: stop sending to the customer's
    address, if it is one of them. Returns whether the customer was newly marked; repeats change nothing."""
    customer = ledger.get_customer(customer_id)
    if customer is None or customer.email.lower() not in {a.lower() for a in addresses}:
        return False  # unknown, or the address has been corrected since that email went out
    if customer.email_undeliverable is not None:
        return False
    now = clock.now()
    marked = replace(
        customer,
        email_undeliverable=EmailUndeliverable(reason=reason, at=now, detail=detail),
        version=customer.version + 1,
    )
    data = {"customer_id": customer.id, "reason": reason, "detail": detail}
    change = Change(
        customer_update=marked,
        outbox=[outgoing_event(EventName.CUSTOMER_EMAIL_UNDELIVERABLE, data, now)],
        audit=[
            AuditEntry(
                subject=AuditSubject.CUSTOMER,
                subject_id=customer.id,
                action="customer.email_undeliverable",
                actor="ses",
                at=now,
                details={"reason": reason, "detail": detail},
            )
        ],
    )
    try:
        ledger.commit(change)
    except ChangeRejected as rejected:
        if rejected.reason == "stale_customer":  # changed meanwhile: judge again on fresh state
            return record_email_feedback(ledger, clock, customer_id, reason=reason, addresses=addresses, detail=detail)
        raise
    return True


def wake_reminders(ledger: Ledger, customer_id: str, now: datetime) -> int:
    """Put the customer's invoices that are in dunning back in front of the next run. The run then works
    out what, if anything, is due; returns how many invoices were woken."""
    woken = 0
    cursor: str | None = None
    while True:
        page = ledger.list_customer_invoices(customer_id, 100, cursor)
        for listed in page.items:
            woken += _wake(ledger, listed.id, now)
        cursor = page.next_cursor
        if cursor is None:
            return woken


def _wake(ledger: Ledger, invoice_id: str, now: datetime) -> int:
    for _ in range(WAKE_ATTEMPTS):
        invoice = ledger.get_invoice(invoice_id)  # the index copy may lag; decide on the item itself
        if invoice is None or not invoice.in_dunning or (invoice.hold and invoice.hold.active_at(now)):
            return 0
        # Written even when it is already due: the new version makes a run that is about to take it out of
        # the index (it read the pause before it was lifted) fail its guard and leave it due.
        try:
            ledger.commit(Change(invoice_update=replace(invoice, next_action_at=now, version=invoice.version + 1)))
        except ChangeRejected as rejected:
            if rejected.reason != "stale_invoice":
                raise
            continue
        return 1
    raise ConcurrentUpdate(f"invoice {invoice_id} kept changing while resuming its reminders; try again")


def _commit_customer(ledger: Ledger, change: Change) -> None:
    try:
        ledger.commit(change)
    except ChangeRejected as rejected:
        if rejected.reason == "stale_customer":
            raise ConcurrentUpdate("the customer changed meanwhile; try again") from None
        raise
