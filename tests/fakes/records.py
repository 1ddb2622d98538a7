"""Records as tests build them: one builder per record, plain defaults, any field overridden by keyword.

Every builder's records belong together: customer cus_1 owes invoice inv_1 (USD 125.00) and so on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.domain.console_roles import Role
from shared.domain.console_session import ConsoleSession, Stage
from shared.domain.invoices import Invoice, InvoiceStatus, PaymentStatus
from shared.domain.messages import Event, EventName, OutboxMessage
from shared.domain.records import (
    AuditEntry,
    AuditSubject,
    CheckoutAttempt,
    Customer,
    Dispute,
    DisputeStatus,
    Installment,
    InstallmentStatus,
    PayLink,
    Payment,
    Plan,
    PlanStatus,
    ProcessorFee,
    RecurringCharge,
    RecurringStatus,
    StripeEventRecord,
)

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def a_customer(customer_id: str = "cus_1", **overrides: Any) -> Customer:
    fields: dict[str, Any] = {
        "id": customer_id,
        "email": f"{customer_id}@example.com",
        "name": "Ada Lovelace",
        "external_id": None,
        "timezone": "Europe/London",
        "locale": "en-GB",
        "created_at": NOW,
    }
    return Customer(**(fields | overrides))


def an_invoice(invoice_id: str = "inv_1", **overrides: Any) -> Invoice:
    fields: dict[str, Any] = {
        "id": invoice_id,
        "customer_id": "cus_1",
        "number": f"N-{invoice_id}",
        "currency": "USD",
        "amount_due": 12_500,
        "amount_paid": 0,
        "status": InvoiceStatus.OPEN,
        "due_date": date(2026, 12, 15),
        "description": "Consulting, November",
        "allow_partial": False,
        "min_partial_amount": None,
        "version": 1,
        "created_at": NOW,
    }
    return Invoice(**(fields | overrides))


def a_checkout(ref: str = "chk_1", session_id: str = "cs_1", invoice_id: str = "inv_1") -> CheckoutAttempt:
    return CheckoutAttempt(
        ref=ref,
        invoice_id=invoice_id,
        customer_id="cus_1",
        session_id=session_id,
        amount=12_500,
        currency="USD",
        created_at=NOW,
        url=f"https://checkout.example.test/{session_id}",
    )


A_FEE = ProcessorFee(392, "USD", "txn_1")  # what Stripe kept of a_payment()'s 125.00: 2.9% + 0.30


def a_payment(key: str = "pi_1", status: PaymentStatus = PaymentStatus.SUCCEEDED, **overrides: Any) -> Payment:
    fields: dict[str, Any] = {
        "key": key,
        "invoice_id": "inv_1",
        "customer_id": "cus_1",
        "amount": 12_500,
        "currency": "USD",
        "status": status,
        "checkout_session_id": "cs_1",
        "payment_intent_id": key if key.startswith("pi_") else None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Payment(**(fields | overrides))


def a_plan(plan_id: str = "plan_1", **overrides: Any) -> Plan:
    fields: dict[str, Any] = {
        "id": plan_id,
        "invoice_id": "inv_1",
        "customer_id": "cus_1",
        "currency": "USD",
        "frequency": "monthly",
        "installments": (
            Installment(1, date(2026, 11, 2), 6_250, InstallmentStatus.PAID, 1, "pi_1"),
            Installment(2, date(2026, 12, 2), 6_250, InstallmentStatus.FAILED, 2, "pi_2", "card_declined"),
        ),
        "status": PlanStatus.ACTIVE,
        "created_at": NOW,
        "customer_timezone": "Europe/London",
        "next_action_at": NOW + timedelta(days=30),
        "version": 1,
    }
    return Plan(**(fields | overrides))


def a_recurring(recurring_id: str = "rec_1", **overrides: Any) -> RecurringCharge:
    fields: dict[str, Any] = {
        "id": recurring_id,
        "customer_id": "cus_1",
        "amount": 9_900,
        "currency": "EUR",
        "interval": "monthly",
        "start_date": date(2026, 11, 1),
        "description": "Support plan",
        "status": RecurringStatus.ACTIVE,
        "created_at": NOW,
        "end_date": date(2027, 10, 31),
        "count": 12,
        "periods_created": 1,
        "next_action_at": NOW + timedelta(days=29),
        "version": 1,
    }
    return RecurringCharge(**(fields | overrides))


def a_dispute(status: DisputeStatus = DisputeStatus.OPEN, dispute_id: str = "dp_1") -> Dispute:
    return Dispute(
        id=dispute_id,
        invoice_id="inv_1",
        payment_intent_id="pi_1",
        amount=12_500,
        currency="USD",
        reason="fraudulent",
        status=status,
        updated_at=NOW,
    )


def a_pay_link(token_hash: str = "a" * 64) -> PayLink:
    return PayLink(
        token_hash=token_hash,
        invoice_id="inv_1",
        customer_id="cus_1",
        expires_at=NOW + timedelta(days=30),
        created_at=NOW,
    )


def an_event(event_id: str = "evt_1") -> StripeEventRecord:
    return StripeEventRecord(
        event_id=event_id, type="checkout.session.completed", object_id="cs_1", outcome="applied", received_at=NOW
    )


def a_message(name: EventName = EventName.INVOICE_CREATED, **data: Any) -> OutboxMessage:
    return OutboxMessage(Event(name, {"invoice_id": "inv_1", **data}), NOW)


def an_audit_entry(action: str = "invoice.created") -> AuditEntry:
    return AuditEntry(
        subject=AuditSubject.INVOICE, subject_id="inv_1", action=action, actor="operator:test", at=NOW, details={"n": 1}
    )


def a_staff_session(*roles: Role) -> ConsoleSession:
    """A console session signed in (MFA passed) by ada@example.com with `roles`, at 2026-11-02 09:00 UTC."""
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    return ConsoleSession(
        session_hash="h", stage=Stage.SIGNED_IN, username="ada@example.com", csrf_token="t", created_at=at,
        last_seen_at=at, staff_id="sub-1", email="ada@example.com", roles=frozenset(roles),
    )  # fmt: skip
