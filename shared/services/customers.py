"""Customers: created by the operator's systems, read back with their payments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.clock import Clock
from shared.domain.errors import NotFound
from shared.domain.records import AuditEntry, Customer, new_id
from shared.services.ports import Change, Ledger, Page

if TYPE_CHECKING:
    from shared.models import NewCustomer


def create_customer(ledger: Ledger, clock: Clock, request: NewCustomer, *, actor: str) -> Customer:
    now = clock.now()
    customer = Customer(
        id=new_id("cust"),
        email=request.email,
        name=request.name,
        external_id=request.external_id,
        timezone=request.timezone,
        locale=request.locale,
        created_at=now,
    )
    audit = AuditEntry(entity=f"CUSTOMER#{customer.id}", action="customer.created", actor=actor, at=now)
    ledger.commit(Change(new_customer=customer, audit=[audit]))
    return customer


def get_customer(ledger: Ledger, customer_id: str) -> Customer:
    customer = ledger.get_customer(customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}", field="customer_id")
    return customer


def list_transactions(ledger: Ledger, customer_id: str, *, limit: int, cursor: str | None) -> Page:
    get_customer(ledger, customer_id)
    return ledger.list_customer_payments(customer_id, limit, cursor)
