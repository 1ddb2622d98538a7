"""Builders for services' unit tests: a ledger holding given records, and a pay link whose token the test keeps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from shared.clock import wall_clock_now
from shared.domain.invoices import Invoice
from shared.domain.records import Customer, PayLink
from shared.services.ports import Change
from tests.fakes.ledger import InMemoryLedger
from tests.fakes.records import NOW, a_customer, an_invoice


def a_ledger_with(*records: Customer | Invoice, wall_clock: Callable[[], datetime] = wall_clock_now) -> InMemoryLedger:
    """An in-memory ledger holding the records, each committed as a new one (so guards apply as in use);
    `wall_clock` times its outbox leases."""
    ledger = InMemoryLedger(wall_clock=wall_clock)
    for record in records:
        if isinstance(record, Customer):
            ledger.commit(Change(new_customer=record))
        else:
            ledger.commit(Change(new_invoice=record))
    return ledger


def a_stored_pay_link(
    ledger: InMemoryLedger,
    invoice: Invoice,
    *,
    token: str = "tok-of-the-test",
    ttl: timedelta = timedelta(days=30),
    revoked: bool = False,
) -> str:
    """Stores a pay link for the invoice and gives back its token (the ledger keeps only the hash)."""
    ledger.commit(
        Change(
            pay_link=PayLink(
                token_hash=PayLink.hash_token(token),
                invoice_id=invoice.id,
                customer_id=invoice.customer_id,
                expires_at=NOW + ttl,
                created_at=NOW,
                revoked=revoked,
            )
        )
    )
    return token


def a_payable_setup(**invoice_fields: Any) -> tuple[InMemoryLedger, Invoice, str]:
    """Customer cus_1 owing invoice inv_1, with a live pay link: (ledger, invoice, token)."""
    invoice = an_invoice(**invoice_fields)
    ledger = a_ledger_with(a_customer(), invoice)
    return ledger, invoice, a_stored_pay_link(ledger, invoice)
