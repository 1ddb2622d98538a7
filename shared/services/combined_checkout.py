"""Several invoices of one customer paid in one Checkout Session (the customer's account and the pay-together
link of a grouped reminder both open one here).

What each invoice gets is decided and recorded before the session is handed out: one CombinedCheckout with
an allocation per invoice, and a CheckoutAttempt per invoice under the same ref, in one transaction. Stripe's
metadata carries only the ref. The webhook (stripe_events/combined_payments.py) applies each invoice's share
through the same rules as a single invoice's payment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from shared.clock import Clock
from shared.domain.errors import ConcurrentUpdate, InvalidAmount, InvoiceNotPayable, NotFound, PaymentInProgress
from shared.domain.invoices import Invoice, PaymentStatus
from shared.domain.records import (
    MAX_COMBINED_INVOICES,
    Allocation,
    AuditEntry,
    AuditSubject,
    CombinedCheckout,
    Customer,
    ReminderAttribution,
)
from shared.domain.stripe_amounts import check_chargeable
from shared.services.checkout import REUSE_MARGIN, SESSION_LIFETIME, CheckoutConfig
from shared.services.customers import ensure_stripe_customer
from shared.services.gateway import CheckoutLine, CheckoutSessionRequest, PaymentGateway
from shared.services.ports import Change, ChangeRejected, Ledger, Rejection

# How many sessions one selection may have opened before (each paid, pending or expired) when a new one is
# asked for: each is one read, and a customer paying the same selection this often is not paying it.
MAX_SESSIONS_PER_SELECTION: Final = 20
MAX_INVOICE_ID: Final = 128  # ours are far shorter


@dataclass(frozen=True, slots=True)
class AllocationAsk:
    """An invoice the customer picked, and how much of it to pay (None: all that remains)."""

    invoice_id: str
    amount: int | None = None


def start_combined_checkout(
    ledger: Ledger,
    gateway: PaymentGateway,
    clock: Clock,
    config: CheckoutConfig,
    customer_id: str,
    allocations: Sequence[AllocationAsk],
    *,
    reminders: Mapping[str, ReminderAttribution] | None = None,
) -> CombinedCheckout:
    """One Checkout Session paying each picked invoice its amount, opened or handed out again.

    Every invoice must be the customer's, payable, in one currency, its amount allowed by the invoice (in full
    unless it takes partial payments) and chargeable by Stripe; the total too. The same selection again (a
    double click, a second tab) gets its open session back. `reminders`: per invoice, the reminder whose
    pay-together link opened it (its payment is credited to that reminder)."""
    customer = ledger.get_customer(customer_id)
    if customer is None:
        raise NotFound("no such customer")
    chosen = _allocations(ledger, customer, allocations, reminders or {})
    currency = _one_currency(chosen)
    total = sum(a.amount for _, a in chosen)
    check_chargeable(total, currency, field="amount")
    allocated = tuple(a for _, a in chosen)
    now = clock.now()
    for n in range(MAX_SESSIONS_PER_SELECTION):
        ref = combined_ref(customer.id, currency, allocated, n)
        earlier = ledger.get_combined_checkout(ref)
        if earlier is None:
            return _open(ledger, gateway, config, customer, ref, currency, allocated, now)
        if _reusable(earlier, now):
            return earlier
        if earlier.payment_status is PaymentStatus.PENDING:  # a bank debit of these invoices is settling
            raise PaymentInProgress("a payment for these invoices is being confirmed; please check back shortly")
    raise ConcurrentUpdate("these invoices were just paid or are being paid; please check back shortly")


def _allocations(
    ledger: Ledger,
    customer: Customer,
    asked: Sequence[AllocationAsk],
    reminders: Mapping[str, ReminderAttribution],
) -> list[tuple[Invoice, Allocation]]:
    if not asked:
        raise InvalidAmount("choose at least one invoice to pay", field="invoices")
    if len(asked) > MAX_COMBINED_INVOICES:
        raise InvalidAmount(f"at most {MAX_COMBINED_INVOICES} invoices can be paid at once", field="invoices")
    ids = [a.invoice_id for a in asked]
    if len(set(ids)) != len(ids):
        raise InvalidAmount("an invoice is chosen twice", field="invoices")
    chosen = []
    for ask in asked:
        invoice = ledger.get_invoice(ask.invoice_id) if _well_formed_id(ask.invoice_id) else None
        if invoice is None or invoice.customer_id != customer.id:
            raise NotFound("no such invoice", field="invoices")  # another customer's looks like none at all
        amount = invoice.amount_remaining if ask.amount is None else ask.amount
        if type(amount) is not int:
            raise InvalidAmount("an amount is a whole number of minor units", field="amount")
        invoice.check_payable(amount)
        chosen.append((invoice, Allocation(invoice.id, invoice.number, amount, reminders.get(invoice.id))))
    return chosen


def _well_formed_id(invoice_id: object) -> bool:
    """An id payportal could have made: short printable ASCII (anything else is no invoice, never a 500)."""
    return (
        isinstance(invoice_id, str)
        and 0 < len(invoice_id) <= MAX_INVOICE_ID
        and invoice_id.isascii()
        and (invoice_id.isprintable())
    )


def _one_currency(chosen: list[tuple[Invoice, Allocation]]) -> str:
    currencies = {invoice.currency for invoice, _ in chosen}
    if len(currencies) != 1:
        raise InvoiceNotPayable("invoices in different currencies are paid separately", field="invoices")
    return currencies.pop()


def combined_ref(customer_id: str, currency: str, allocations: tuple[Allocation, ...], n: int) -> str:
    """The ref of the n-th session opened for this selection: the same request again names the same one, so a
    retry never opens a second session (Stripe's idempotency key derives from it too)."""
    picked = ",".join(f"{a.invoice_id}={a.amount}" for a in sorted(allocations, key=lambda a: a.invoice_id))
    return "cmb_" + hashlib.sha256(f"{customer_id}:{currency}:{picked}:{n}".encode()).hexdigest()[:32]


def _reusable(earlier: CombinedCheckout, now: datetime) -> bool:
    """Still open at Stripe long enough to be paid, and nothing paid on it yet."""
    if earlier.payment_status is not None:
        return False
    return earlier.expires_at is not None and earlier.expires_at - now > REUSE_MARGIN


def _open(
    ledger: Ledger,
    gateway: PaymentGateway,
    config: CheckoutConfig,
    customer: Customer,
    ref: str,
    currency: str,
    allocated: tuple[Allocation, ...],
    now: datetime,
) -> CombinedCheckout:
    stripe_customer_id = ensure_stripe_customer(ledger, gateway, customer)
    back = combined_return_path(ref)
    total = sum(a.amount for a in allocated)
    session = gateway.create_checkout_session(
        CheckoutSessionRequest(
            stripe_customer_id=stripe_customer_id,
            amount=total,
            currency=currency,
            description=f"{len(allocated)} invoices",
            payment_method_types=config.payment_method_types,
            success_url=f"{config.base_url}{back}?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{config.base_url}{back}?cancelled=1",
            metadata={"combined_ref": ref, "customer_id": customer.id},
            idempotency_scope=f"payportal-combined-{ref}",
            lines=tuple(CheckoutLine(f"Invoice {a.invoice_number}", a.amount) for a in allocated),
        )
    )
    combined = CombinedCheckout(
        ref=ref,
        customer_id=customer.id,
        currency=currency,
        allocations=allocated,
        session_id=session.id,
        created_at=now,
        url=session.url,
        expires_at=now + SESSION_LIFETIME,
    )
    audit = [
        AuditEntry(
            subject=AuditSubject.INVOICE,
            subject_id=a.invoice_id,
            action="checkout.combined_opened",
            actor="customer",
            at=now,
            details={"combined": ref, "amount": a.amount, "currency": currency, "invoices": len(allocated)},
        )
        for a in allocated
    ]
    try:
        ledger.commit(Change(combined_checkout=combined, audit=audit))
    except ChangeRejected as rejected:
        if rejected.reason is not Rejection.COMBINED_CONFLICT:
            raise
        stored = ledger.get_combined_checkout(ref)  # the same request at once: Stripe gave both one session
        if stored is None:
            raise ConcurrentUpdate("these invoices are being paid from elsewhere; please try again") from None
        return stored
    return combined


def combined_return_path(ref: str) -> str:
    """Where Checkout sends the customer back to after paying several invoices: names the payment, no secret."""
    return f"/pay/together/return/{ref}"


class CombinedState(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CombinedOutcome:
    combined: CombinedCheckout
    invoices: list[Invoice]
    state: CombinedState
    locale: str = "en"  # the customer's

    @property
    def lang(self) -> str:
        return self.locale.split("-")[0]


def combined_outcome(ledger: Ledger, ref: str) -> CombinedOutcome:
    """What the customer sees after Checkout: never marks anything paid."""
    well_formed = ref.startswith("cmb_") and len(ref) <= 64 and ref.isascii() and ref.isprintable()
    combined = ledger.get_combined_checkout(ref) if well_formed else None
    if combined is None:
        raise NotFound("no such checkout")
    invoices = [i for i in (ledger.get_invoice(a.invoice_id) for a in combined.allocations) if i is not None]
    status = combined.payment_status
    state = (
        CombinedState.RECEIVED
        if status is PaymentStatus.SUCCEEDED
        else CombinedState.FAILED
        if status is PaymentStatus.FAILED
        else CombinedState.PROCESSING
    )
    customer = ledger.get_customer(combined.customer_id)
    return CombinedOutcome(combined, invoices, state, locale=customer.locale if customer else "en")
