"""The operator's control over an invoice's pay links: mint a fresh one (and email it), or revoke them all.

Links are stored only as hashes (decision 5), so a revocation cannot find them by token, and listing them
would need an index per invoice that grows with every email sent. Instead each link carries the invoice's
pay-link generation when it was minted; revoking moves the invoice's generation on in one conditional
write, and every link of an older generation is dead from that commit on (`PayLink.usable_for`, checked
where every pay page opens its link). One write revokes any number of links, with no read of them, and a
link minted by a delivery that read the invoice before the revocation is dead too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from shared.clock import Clock
from shared.domain.errors import InvalidStateTransition
from shared.domain.invoices import Invoice, invoice_event_detail
from shared.domain.messages import EventName, InvoiceIssuedEmail, outgoing_email, outgoing_event
from shared.domain.records import AuditEntry, AuditSubject
from shared.services.corrections import close_open_checkout, commit_planned
from shared.services.gateway import PaymentGateway
from shared.services.invoices import IssuedPayLink, get_invoice, new_pay_link
from shared.services.once import scoped_key
from shared.services.ports import Change, Ledger, RunOnce


@dataclass(frozen=True, slots=True)
class PayLinkIssued:
    invoice: Invoice
    link: IssuedPayLink
    sent: bool  # an email with a link of its own is on its way to the customer


def issue_pay_link_once(
    ledger: Ledger,
    clock: Clock,
    once: RunOnce,
    invoice_id: str,
    *,
    send: bool,
    key: str | None,
    fingerprint: dict[str, Any],
    actor: str,
    ttl_days: int,
) -> PayLinkIssued:
    """A fresh pay link for the caller, and with `send` the email, once per (caller, Idempotency-Key). The
    token is never stored, so a replay hands out another fresh link; the email goes once. The email carries
    a link of its own, minted when it is delivered, as every email does: no token waits in the table."""
    scoped = scoped_key(actor, key)

    def work() -> dict[str, str]:
        invoice = get_invoice(ledger, invoice_id)
        if not invoice.accepts_payment:
            raise InvalidStateTransition(f"invoice {invoice.number} is {invoice.status.value}: nothing to pay")
        now = clock.now()
        change = Change(
            audit=[
                AuditEntry(
                    subject=AuditSubject.INVOICE,
                    subject_id=invoice.id,
                    action="invoice.pay_link_issued",
                    actor=f"operator:{actor}",
                    at=now,
                    details={"sent": send},
                )
            ]
        )
        if send:
            change.outbox.append(outgoing_email(InvoiceIssuedEmail(invoice.id), now))
        ledger.commit(change)
        return {"invoice_id": invoice.id, "sent": "true" if send else "false"}

    done = once(scoped, fingerprint | {"invoice_id": invoice_id}, work)
    invoice = get_invoice(ledger, invoice_id)
    link = new_pay_link(ledger, clock, invoice, ttl_days=ttl_days)
    return PayLinkIssued(invoice=invoice, link=link, sent=done["sent"] == "true")


def revoke_pay_links(ledger: Ledger, gateway: PaymentGateway, clock: Clock, invoice_id: str, *, actor: str) -> Invoice:
    """Every link of the invoice minted so far stops working: its page says the link is not valid and
    nothing can be paid through it, and the Checkout Session opened from one is expired. Links minted
    afterwards (a new email, POST .../pay-links) work."""
    return commit_planned(ledger, lambda: _revoke(ledger, gateway, clock, invoice_id, actor))


def _revoke(
    ledger: Ledger, gateway: PaymentGateway, clock: Clock, invoice_id: str, actor: str
) -> tuple[Invoice, Change]:
    invoice = get_invoice(ledger, invoice_id)
    now = clock.now()
    closed = close_open_checkout(ledger, gateway, invoice.id, now, completed_blocks=False)
    revoked = replace(invoice, pay_link_generation=invoice.pay_link_generation + 1, version=invoice.version + 1)
    detail = invoice_event_detail(revoked) | {"pay_link_generation": revoked.pay_link_generation}
    change = Change(
        invoice_update=revoked,
        open_checkout=closed,
        outbox=[outgoing_event(EventName.INVOICE_PAY_LINKS_REVOKED, detail, now)],
        audit=[
            AuditEntry(
                subject=AuditSubject.INVOICE,
                subject_id=invoice.id,
                action="invoice.pay_links_revoked",
                actor=f"operator:{actor}",
                at=now,
                details={
                    "pay_link_generation": {"from": invoice.pay_link_generation, "to": revoked.pay_link_generation}
                },
            )
        ],
    )
    return revoked, change
