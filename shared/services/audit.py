"""Audit trails: every state change of an invoice, customer, recurring charge or the dunning policy wrote
an AuditEntry in its own transaction (who, what, from what to what, caused by which event, request or job);
a subject's trail is read newest first, a page at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import Any, Final

from shared.domain.errors import NotFound
from shared.domain.plain_values import plain
from shared.domain.records import DUNNING_POLICY_ID, AuditSubject
from shared.services.ports import Change, Ledger, Page


def invoice_trail(ledger: Ledger, invoice_id: str, *, limit: int, cursor: str | None) -> Page:
    """The invoice's entries, with its payments', plans', disputes' and refunds' (all kept on the invoice)."""
    if ledger.get_invoice(invoice_id) is None:
        raise NotFound(f"no invoice {invoice_id}")
    return ledger.list_audit(AuditSubject.INVOICE, invoice_id, limit, cursor)


def customer_trail(ledger: Ledger, customer_id: str, *, limit: int, cursor: str | None) -> Page:
    """What happened to the customer record itself (created, corrected, held, autopay, email bounces); its
    invoices' entries are on each invoice's trail."""
    if ledger.get_customer(customer_id) is None:
        raise NotFound(f"no customer {customer_id}")
    return ledger.list_audit(AuditSubject.CUSTOMER, customer_id, limit, cursor)


# What a record carries only to schedule work or guard writes: a change of these alone is bookkeeping (when
# the next reminder or charge is looked at), not a state change of the record, and is not audited.
BOOKKEEPING: Final = frozenset({"next_action_at", "version", "updated_at", "counted"})


def changed_fields(before: Any, after: Any) -> dict[str, dict[str, Any]]:
    """Each field of a record that differs between two versions: {"field": {"from": .., "to": ..}}, values
    as JSON-able text or numbers (what an audit entry's details hold)."""
    if before is None or not is_dataclass(before) or not is_dataclass(after):
        return {}
    changed: dict[str, dict[str, Any]] = {}
    for f in fields(after):
        old, new = getattr(before, f.name, None), getattr(after, f.name)
        if old != new:
            changed[f.name] = {"from": plain(old), "to": plain(new)}
    return changed


def what_changed(before: Any, after: Any, *, redacted: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """The fields an audit entry shows moving, from and to, without the bookkeeping ones; a `redacted`
    field shows only that it changed (an email address: the trail must not keep one the record dropped)."""
    changed = {name: moved for name, moved in changed_fields(before, after).items() if name not in BOOKKEEPING}
    return {name: {"changed": True} if name in redacted else moved for name, moved in changed.items()}


def bookkeeping_only(before: Any, after: Any) -> bool:
    """Whether `after` differs from the stored `before` only in BOOKKEEPING fields."""
    changed = changed_fields(before, after)
    return bool(before is not None) and set(changed) <= BOOKKEEPING


def unaudited(change: Change, stored: Callable[[Any], Any] | None = None) -> list[str]:
    """The records `change` creates or changes that no audit entry in it is about (its subject and id):
    every state change of an invoice (with its payments, refunds, disputes and plans), a customer, a
    recurring charge or the dunning policy carries one. The in-memory ledger refuses a service's commit
    that leaves one out, so every unit test of a use case checks it."""
    about = {(entry.subject, entry.subject_id) for entry in change.audit}
    missing: list[str] = []

    def need(subject: AuditSubject, subject_id: str, what: str, record: Any = None) -> None:
        if (subject, subject_id) in about:
            return
        before = stored(record) if stored is not None and record is not None else None
        if before is not None and bookkeeping_only(before, record):
            return
        changed = ", ".join(changed_fields(before, record)) if before is not None else "new"
        missing.append(f"{what} ({changed})")

    for customer in (change.new_customer, change.customer_update):
        if customer is not None:
            need(AuditSubject.CUSTOMER, customer.id, f"customer {customer.id}", customer)
    for invoice in (change.new_invoice, change.invoice_update):
        if invoice is not None:
            need(AuditSubject.INVOICE, invoice.id, f"invoice {invoice.id}", invoice)
    for payment in (change.payment, change.payment_refunds):
        if payment is not None:
            need(AuditSubject.INVOICE, payment.invoice_id, f"payment {payment.key}", payment)
    if change.dispute is not None:
        need(AuditSubject.INVOICE, change.dispute.invoice_id, f"dispute {change.dispute.id}", change.dispute)
    for plan in (change.new_plan, change.plan_update):
        if plan is not None:
            need(AuditSubject.INVOICE, plan.invoice_id, f"plan {plan.id}", plan)
    for recurring in (change.new_recurring, change.recurring_update):
        if recurring is not None:
            need(AuditSubject.RECURRING_CHARGE, recurring.id, f"recurring charge {recurring.id}", recurring)
    if change.dunning_policy is not None or change.dunning_policy_replacement is not None:
        need(AuditSubject.DUNNING_POLICY, DUNNING_POLICY_ID, "the dunning policy")
    return missing
