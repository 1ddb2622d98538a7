"""Pay-together links: one link in a grouped reminder that pays every invoice it names in one Checkout Session.

Like a pay link: a 256-bit token that exists only in the email (its SHA-256 in the table), expiring and
revocable, never sent to Stripe. Scoped to exactly the invoices and the customer it was minted for; an invoice
paid, voided or whose links were revoked since drops off its page; a link left with none is invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shared.clock import Clock
from shared.domain.errors import PayLinkInvalid
from shared.domain.invoices import Invoice
from shared.domain.records import (
    MAX_COMBINED_INVOICES,
    CombinedCheckout,
    Customer,
    PayLink,
    PayTogetherLink,
    ReminderAttribution,
)
from shared.services.checkout import CheckoutConfig
from shared.services.combined_checkout import AllocationAsk, start_combined_checkout
from shared.services.gateway import PaymentGateway
from shared.services.ports import Ledger


@dataclass(frozen=True, slots=True)
class IssuedPayTogether:
    link: PayTogetherLink
    token: str  # handed to the email once; never stored

    def url(self, base_url: str) -> str:
        return f"{base_url}/pay/together/{self.token}"


def issue_pay_together_link(
    invoices: list[tuple[Invoice, ReminderAttribution | None]], clock: Clock, ttl_days: int
) -> IssuedPayTogether:
    """A fresh link for these invoices of one customer (not yet stored)."""
    now = clock.now()
    token = PayLink.new_token()
    link = PayTogetherLink(
        token_hash=PayLink.hash_token(token),
        customer_id=invoices[0][0].customer_id,
        invoice_ids=tuple(i.id for i, _ in invoices),
        generations=tuple(i.pay_link_generation for i, _ in invoices),
        reminders=tuple(r for _, r in invoices),
        expires_at=now + timedelta(days=ttl_days),
        created_at=now,
    )
    return IssuedPayTogether(link=link, token=token)


@dataclass(frozen=True, slots=True)
class PayTogetherPage:
    link: PayTogetherLink
    customer: Customer
    invoices: list[Invoice]  # those of the link still payable, in the link's order

    @property
    def total(self) -> int:
        return sum(i.amount_remaining for i in self.invoices)

    @property
    def currency(self) -> str:
        return self.invoices[0].currency

    @property
    def lang(self) -> str:
        return self.customer.locale.split("-")[0]


def open_pay_together(ledger: Ledger, clock: Clock, token: str) -> PayTogetherPage:
    """The invoices behind a pay-together link still to pay; unknown, expired, revoked and spent links all look
    the same."""
    if not token or len(token) > 128 or not token.isascii():
        raise PayLinkInvalid("this payment link is not valid")
    link = ledger.get_pay_together_link(PayLink.hash_token(token))
    now = clock.now()
    if link is None or not link.usable_at(now) or len(link.invoice_ids) > MAX_COMBINED_INVOICES:
        raise PayLinkInvalid("this payment link is not valid")
    customer = ledger.get_customer(link.customer_id)
    invoices = [ledger.get_invoice(invoice_id) for invoice_id in link.invoice_ids]
    payable = [i for i in invoices if i is not None and link.still_covers(i) and i.accepts_payment]
    if customer is None or not payable or len({i.currency for i in payable}) != 1:
        raise PayLinkInvalid("this payment link is not valid")
    return PayTogetherPage(link=link, customer=customer, invoices=payable)


def pay_together(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, config: CheckoutConfig, page: PayTogetherPage
) -> CombinedCheckout:
    """One Checkout Session paying what remains of every invoice on the page; each payment is credited to the
    reminder that sent its invoice's line."""
    reminders = {i.id: r for i in page.invoices if (r := page.link.reminder_for(i.id)) is not None}
    asks = [AllocationAsk(i.id) for i in page.invoices]
    return start_combined_checkout(ledger, gateway, clock, config, page.customer.id, asks, reminders=reminders)
