"""The ledger over one DynamoDB table: the only place that knows item shapes (see shared/schema.py)."""

from __future__ import annotations

import base64
import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shared import schema
from shared.domain.dunning import DunningPolicy, DunningStep, LateFee
from shared.domain.errors import DomainError
from shared.domain.invoices import PAYMENT_STATUS_RANK, Hold, Invoice, InvoiceStatus, LateFeeLine, PaymentStatus
from shared.domain.records import (
    DISPUTE_STATUS_RANK,
    AuditEntry,
    Autopay,
    CheckoutAttempt,
    Customer,
    Dispute,
    DisputeStatus,
    EmailUndeliverable,
    Installment,
    InstallmentStatus,
    OutboxMessage,
    PayLink,
    Payment,
    Plan,
    PlanKind,
    PlanStatus,
    RecurringCharge,
    RecurringStatus,
    StripeEventRecord,
)
from shared.services.ports import Change, ChangeRejected, OutboxBusy, Page, PaymentContext

if TYPE_CHECKING:
    from shared.domain.plans import PlanOffer

PK, SK = schema.PARTITION_KEY, schema.SORT_KEY
EVENT_RETENTION = timedelta(days=400)
OUTBOX_RETENTION = timedelta(days=30)
PAY_LINK_GRACE = timedelta(days=30)


class InvalidCursor(DomainError):
    code = "invalid_cursor"


def _ts(moment: datetime) -> str:
    return moment.isoformat()


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _to_attribute(value: Any) -> dict[str, Any]:
    """DynamoDB's wire format for the few types our items hold. Written here, not taken from
    boto3.dynamodb.types, because importing that loads all of boto3 (docs/decisions.md)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, dict):
        return {"M": {k: _to_attribute(v) for k, v in value.items() if v is not None}}
    if isinstance(value, list | tuple):
        return {"L": [_to_attribute(v) for v in value]}
    if value is None:
        return {"NULL": True}
    raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB (money is an int, never a float)")


def _from_attribute(attribute: dict[str, Any]) -> Any:
    kind, value = next(iter(attribute.items()))
    if kind == "S":
        return value
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else number
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: _from_attribute(v) for k, v in value.items()}
    if kind == "L":
        return [_from_attribute(v) for v in value]
    if kind == "SS":
        return set(value)
    if kind == "B":
        return value
    raise TypeError(f"unexpected DynamoDB type {kind}")


def _serialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _to_attribute(v) for k, v in item.items() if v is not None}


def _deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _from_attribute(v) for k, v in item.items()}


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {PK: {"S": pk}, SK: {"S": sk}}


# ----- item mapping -----------------------------------------------------------------------------------


def customer_item(c: Customer) -> dict[str, Any]:
    return {
        PK: f"CUSTOMER#{c.id}",
        SK: "CUSTOMER",
        "type": "customer",
        "id": c.id,
        "email": c.email,
        "name": c.name,
        "external_id": c.external_id,
        "timezone": c.timezone,
        "locale": c.locale,
        "created_at": _ts(c.created_at),
        "stripe_customer_id": c.stripe_customer_id,
        "version": c.version,
        # Fixed-width UTC, so the reminder guard can compare it with "now" as a string (see _writes).
        "hold_reason": c.hold.reason if c.hold else None,
        "hold_until": _utc_stamp(c.hold.until) if c.hold and c.hold.until else None,
        "email_undeliverable": c.email_undeliverable.reason if c.email_undeliverable else None,
        "email_undeliverable_at": _ts(c.email_undeliverable.at) if c.email_undeliverable else None,
        "email_undeliverable_detail": c.email_undeliverable.detail if c.email_undeliverable else None,
        "autopay_enabled_at": _ts(c.autopay.enabled_at) if c.autopay else None,
    }


def customer_from(item: dict[str, Any]) -> Customer:
    return Customer(
        id=item["id"],
        email=item["email"],
        name=item["name"],
        external_id=item.get("external_id"),
        timezone=item["timezone"],
        locale=item["locale"],
        created_at=datetime.fromisoformat(item["created_at"]),
        stripe_customer_id=item.get("stripe_customer_id"),
        hold=Hold(
            reason=item["hold_reason"],
            until=_from_utc_stamp(item["hold_until"]) if item.get("hold_until") else None,
        )
        if item.get("hold_reason")
        else None,
        email_undeliverable=EmailUndeliverable(
            reason=item["email_undeliverable"],
            at=datetime.fromisoformat(item["email_undeliverable_at"]),
            detail=item.get("email_undeliverable_detail", ""),
        )
        if item.get("email_undeliverable")
        else None,
        autopay=Autopay(enabled_at=datetime.fromisoformat(item["autopay_enabled_at"]))
        if item.get("autopay_enabled_at")
        else None,
        version=int(item.get("version", 0)),
    )


def _utc_stamp(moment: datetime) -> str:
    """Fixed-width UTC, so stamps sort as strings in index keys."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _from_utc_stamp(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def invoice_item(i: Invoice, now: datetime) -> dict[str, Any]:
    item = {
        PK: f"INVOICE#{i.id}",
        SK: "INVOICE",
        schema.BY_OWNER_PK: f"CUSTOMER#{i.customer_id}",
        schema.BY_OWNER_SK: f"INVOICE#{_ts(i.created_at)}#{i.id}",
        "type": "invoice",
        "id": i.id,
        "customer_id": i.customer_id,
        "number": i.number,
        "currency": i.currency,
        "amount_due": i.amount_due,
        "amount_paid": i.amount_paid,
        "status": i.status.value,
        "due_date": i.due_date.isoformat(),
        "description": i.description,
        "allow_partial": i.allow_partial,
        "min_partial_amount": i.min_partial_amount,
        "version": i.version,
        "created_at": _ts(i.created_at),
        "updated_at": _ts(now),
        "customer_timezone": i.customer_timezone,
        "reminders_sent": sorted(i.reminders_sent) or None,
        "late_fees": [{"step": f.step, "amount": f.amount} for f in i.late_fees] or None,
        "hold_reason": i.hold.reason if i.hold else None,
        "hold_until": _ts(i.hold.until) if i.hold and i.hold.until else None,
        "promised_at": _ts(i.promised_at) if i.promised_at else None,
        "open_disputes": sorted(i.open_disputes) or None,
        "plan_offer": _plan_offer_item(i.plan_offer) if i.plan_offer else None,
        "active_plan": i.active_plan,
    }
    if i.next_action_at is not None:  # only invoices with reminder work sit in the sparse index
        stamp = _utc_stamp(i.next_action_at)
        item |= {"next_action_at": stamp, **schema.due_work_keys(i.id, stamp)}
    if i.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID) and i.amount_remaining > 0:
        item |= {schema.OPEN_AMOUNT: i.amount_remaining, **schema.open_balance_keys(i.id, i.currency)}
    return item


def invoice_from(item: dict[str, Any]) -> Invoice:
    return Invoice(
        id=item["id"],
        customer_id=item["customer_id"],
        number=item["number"],
        currency=item["currency"],
        amount_due=item["amount_due"],
        amount_paid=item["amount_paid"],
        status=InvoiceStatus(item["status"]),
        due_date=date.fromisoformat(item["due_date"]),
        description=item.get("description", ""),
        allow_partial=bool(item.get("allow_partial")),
        min_partial_amount=item.get("min_partial_amount"),
        version=item["version"],
        created_at=datetime.fromisoformat(item["created_at"]),
        customer_timezone=item.get("customer_timezone", "UTC"),
        reminders_sent=frozenset(item.get("reminders_sent") or ()),
        next_action_at=datetime.fromisoformat(item["next_action_at"]) if item.get("next_action_at") else None,
        late_fees=tuple(LateFeeLine(str(f["step"]), int(f["amount"])) for f in item.get("late_fees") or ()),
        hold=Hold(
            reason=item["hold_reason"],
            until=datetime.fromisoformat(item["hold_until"]) if item.get("hold_until") else None,
        )
        if item.get("hold_reason")
        else None,
        promised_at=datetime.fromisoformat(item["promised_at"]) if item.get("promised_at") else None,
        open_disputes=frozenset(item.get("open_disputes") or ()),
        plan_offer=_plan_offer_from(item["plan_offer"]) if item.get("plan_offer") else None,
        active_plan=item.get("active_plan"),
    )


def _plan_offer_item(offer: PlanOffer) -> dict[str, Any]:
    return {
        "max_installments": offer.max_installments,
        "min_installment_amount": offer.min_installment_amount,
        "frequencies": [f.value for f in offer.frequencies],
    }


def _plan_offer_from(raw: dict[str, Any]) -> PlanOffer:
    from shared.domain.plans import Frequency, PlanOffer

    return PlanOffer(
        max_installments=int(raw["max_installments"]),
        min_installment_amount=int(raw["min_installment_amount"]),
        frequencies=tuple(Frequency(f) for f in raw["frequencies"]),
    )


def pay_link_item(link: PayLink) -> dict[str, Any]:
    return {
        PK: f"PAYLINK#{link.token_hash}",
        SK: "PAYLINK",
        "type": "pay_link",
        "invoice_id": link.invoice_id,
        "customer_id": link.customer_id,
        "created_at": _ts(link.created_at),
        "expires_at": _ts(link.expires_at),
        "revoked": link.revoked,
        schema.TTL_ATTRIBUTE: _epoch(link.expires_at + PAY_LINK_GRACE),
    }


def pay_link_from(item: dict[str, Any]) -> PayLink:
    return PayLink(
        token_hash=item[PK].removeprefix("PAYLINK#"),
        invoice_id=item["invoice_id"],
        customer_id=item["customer_id"],
        created_at=datetime.fromisoformat(item["created_at"]),
        expires_at=datetime.fromisoformat(item["expires_at"]),
        revoked=bool(item.get("revoked")),
    )


def checkout_item(a: CheckoutAttempt) -> dict[str, Any]:
    return {
        PK: f"INVOICE#{a.invoice_id}",
        SK: f"CHECKOUT#{a.ref}",
        "type": "checkout",
        "ref": a.ref,
        "invoice_id": a.invoice_id,
        "customer_id": a.customer_id,
        "session_id": a.session_id,
        "amount": a.amount,
        "currency": a.currency,
        "url": a.url,
        "created_at": _ts(a.created_at),
    }


def checkout_from(item: dict[str, Any]) -> CheckoutAttempt:
    return CheckoutAttempt(
        ref=item["ref"],
        invoice_id=item["invoice_id"],
        customer_id=item["customer_id"],
        session_id=item["session_id"],
        amount=item["amount"],
        currency=item["currency"],
        url=item.get("url", ""),
        created_at=datetime.fromisoformat(item["created_at"]),
    )


def payment_item(p: Payment) -> dict[str, Any]:
    return {
        PK: f"INVOICE#{p.invoice_id}",
        SK: f"PAYMENT#{p.key}",
        schema.BY_OWNER_PK: f"CUSTOMER#{p.customer_id}",
        schema.BY_OWNER_SK: f"PAYMENT#{_ts(p.created_at)}#{p.key}",
        "type": "payment",
        "key": p.key,
        "invoice_id": p.invoice_id,
        "customer_id": p.customer_id,
        "amount": p.amount,
        "currency": p.currency,
        "status": p.status.value,
        "status_rank": PAYMENT_STATUS_RANK[p.status],
        "checkout_session_id": p.checkout_session_id,
        "payment_intent_id": p.payment_intent_id,
        "failure_reason": p.failure_reason,
        "method": p.method,
        "created_at": _ts(p.created_at),
        "updated_at": _ts(p.updated_at),
    }


def payment_from(item: dict[str, Any]) -> Payment:
    return Payment(
        key=item["key"],
        invoice_id=item["invoice_id"],
        customer_id=item["customer_id"],
        amount=item["amount"],
        currency=item["currency"],
        status=PaymentStatus(item["status"]),
        checkout_session_id=item.get("checkout_session_id"),
        payment_intent_id=item.get("payment_intent_id"),
        failure_reason=item.get("failure_reason"),
        method=item.get("method"),
        created_at=datetime.fromisoformat(item["created_at"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
    )


def payment_intent_lookup_item(p: Payment) -> dict[str, Any]:
    """PaymentIntent -> invoice: disputes name only the PaymentIntent, not our metadata."""
    return {
        PK: f"PAYMENTINTENT#{p.payment_intent_id}",
        SK: "PAYMENTINTENT",
        "type": "payment_intent",
        "invoice_id": p.invoice_id,
    }


def plan_item(p: Plan) -> dict[str, Any]:
    item: dict[str, Any] = {
        PK: f"INVOICE#{p.invoice_id}",
        SK: f"PLAN#{p.id}",
        "type": "plan",
        "id": p.id,
        "invoice_id": p.invoice_id,
        "customer_id": p.customer_id,
        "currency": p.currency,
        "frequency": p.frequency,
        "status": p.status.value,
        "created_at": _ts(p.created_at),
        "customer_timezone": p.customer_timezone,
        "version": p.version,
        "kind": p.kind.value,
        "notice_sent": p.notice_sent,
        "installments": [
            {
                "number": i.number,
                "due_on": i.due_on.isoformat(),
                "amount": i.amount,
                "status": i.status.value,
                "attempts": i.attempts,
                "payment_intent_id": i.payment_intent_id,
                "failure": i.failure,
            }
            for i in p.installments
        ],
    }
    if p.next_action_at is not None:  # only plans with a charge to make sit in the charge partitions
        stamp = _utc_stamp(p.next_action_at)
        item |= {"next_action_at": stamp, **schema.due_work_keys(p.id, stamp, schema.CHARGE_WORK)}
    return item


def plan_from(item: dict[str, Any]) -> Plan:
    return Plan(
        id=item["id"],
        invoice_id=item["invoice_id"],
        customer_id=item["customer_id"],
        currency=item["currency"],
        frequency=item["frequency"],
        status=PlanStatus(item["status"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        customer_timezone=item.get("customer_timezone", "UTC"),
        version=int(item["version"]),
        next_action_at=_from_utc_stamp(item["next_action_at"]) if item.get("next_action_at") else None,
        kind=PlanKind(item.get("kind", "installments")),
        notice_sent=bool(item.get("notice_sent")),
        installments=tuple(
            Installment(
                number=int(i["number"]),
                due_on=date.fromisoformat(i["due_on"]),
                amount=int(i["amount"]),
                status=InstallmentStatus(i["status"]),
                attempts=int(i.get("attempts", 0)),
                payment_intent_id=i.get("payment_intent_id"),
                failure=i.get("failure"),
            )
            for i in item["installments"]
        ),
    )


def recurring_item(r: RecurringCharge) -> dict[str, Any]:
    item: dict[str, Any] = {
        PK: f"RECURRING#{r.id}",
        SK: "RECURRING",
        schema.BY_OWNER_PK: f"CUSTOMER#{r.customer_id}",
        schema.BY_OWNER_SK: f"RECURRING#{_ts(r.created_at)}#{r.id}",
        "type": "recurring",
        "id": r.id,
        "customer_id": r.customer_id,
        "amount": r.amount,
        "currency": r.currency,
        "interval": r.interval,
        "start_date": r.start_date.isoformat(),
        "end_date": r.end_date.isoformat() if r.end_date else None,
        "count": r.count,
        "description": r.description,
        "status": r.status.value,
        "created_at": _ts(r.created_at),
        "periods_created": r.periods_created,
        "version": r.version,
    }
    if r.next_action_at is not None:
        stamp = _utc_stamp(r.next_action_at)
        item |= {"next_action_at": stamp, **schema.due_work_keys(r.id, stamp, schema.RECURRING_WORK)}
    return item


def recurring_from(item: dict[str, Any]) -> RecurringCharge:
    return RecurringCharge(
        id=item["id"],
        customer_id=item["customer_id"],
        amount=int(item["amount"]),
        currency=item["currency"],
        interval=item["interval"],
        start_date=date.fromisoformat(item["start_date"]),
        end_date=date.fromisoformat(item["end_date"]) if item.get("end_date") else None,
        count=int(item["count"]) if item.get("count") is not None else None,
        description=item.get("description", ""),
        status=RecurringStatus(item["status"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        periods_created=int(item.get("periods_created", 0)),
        next_action_at=_from_utc_stamp(item["next_action_at"]) if item.get("next_action_at") else None,
        version=int(item["version"]),
    )


def dispute_item(d: Dispute) -> dict[str, Any]:
    return {
        PK: f"INVOICE#{d.invoice_id}",
        SK: f"DISPUTE#{d.id}",
        "type": "dispute",
        "id": d.id,
        "invoice_id": d.invoice_id,
        "payment_intent_id": d.payment_intent_id,
        "amount": d.amount,
        "currency": d.currency,
        "reason": d.reason,
        "status": d.status.value,
        "status_rank": DISPUTE_STATUS_RANK[d.status],
        "updated_at": _ts(d.updated_at),
    }


def dispute_from(item: dict[str, Any]) -> Dispute:
    return Dispute(
        id=item["id"],
        invoice_id=item["invoice_id"],
        payment_intent_id=item["payment_intent_id"],
        amount=item["amount"],
        currency=item["currency"],
        reason=item.get("reason", ""),
        status=DisputeStatus(item["status"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
    )


def event_item(e: StripeEventRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        PK: f"EVENT#{e.event_id}",
        SK: "EVENT",
        "type": "stripe_event",
        "event_type": e.type,
        "object_id": e.object_id,
        "outcome": e.outcome,
        "detail": e.detail or None,
        "received_at": _ts(e.received_at),
    }
    if e.outcome != "flagged":  # flagged events stay until someone has looked at them
        item[schema.TTL_ATTRIBUTE] = _epoch(e.received_at + EVENT_RETENTION)
    return item


POLICY_KEY = ("SETTINGS#dunning_policy", "SETTINGS")


def policy_item(p: DunningPolicy) -> dict[str, Any]:
    return {
        PK: POLICY_KEY[0],
        SK: POLICY_KEY[1],
        "type": "dunning_policy",
        "steps": [
            {
                "offset_days": s.offset_days,
                "template": s.template,
                "late_fee": {"fixed": s.late_fee.fixed, "percent": s.late_fee.percent, "cap": s.late_fee.cap}
                if s.late_fee
                else None,
            }
            for s in p.steps
        ],
        "window_start": p.window_start.isoformat("minutes"),
        "window_end": p.window_end.isoformat("minutes"),
        "mark_uncollectible_after_days": p.mark_uncollectible_after_days,
        "default_installments": _plan_offer_item(p.default_installments) if p.default_installments else None,
    }


def policy_from(item: dict[str, Any]) -> DunningPolicy:
    return DunningPolicy(
        steps=tuple(
            DunningStep(
                int(s["offset_days"]),
                str(s["template"]),
                LateFee(**{k: v for k, v in s["late_fee"].items() if v is not None}) if s.get("late_fee") else None,
            )
            for s in item["steps"]
        ),
        window_start=time.fromisoformat(item["window_start"]),
        window_end=time.fromisoformat(item["window_end"]),
        mark_uncollectible_after_days=item.get("mark_uncollectible_after_days"),
        default_installments=_plan_offer_from(item["default_installments"])
        if item.get("default_installments")
        else None,
    )


def outbox_item(m: OutboxMessage) -> dict[str, Any]:
    return {
        PK: f"{schema.OUTBOX_PREFIX}{m.id}",
        SK: "OUTBOX",
        "type": "outbox",
        "id": m.id,
        "kind": m.kind,
        "name": m.name,
        "data": m.data,
        "status": "pending",
        "attempts": 0,
        "created_at": _ts(m.created_at),
        schema.TTL_ATTRIBUTE: _epoch(m.created_at + OUTBOX_RETENTION),
    }


def outbox_from(item: dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(
        id=item["id"],
        kind=item["kind"],
        name=item["name"],
        data=item.get("data") or {},
        created_at=datetime.fromisoformat(item["created_at"]),
    )


def audit_item(a: AuditEntry) -> dict[str, Any]:
    return {
        PK: a.entity,
        SK: f"AUDIT#{_ts(a.at)}#{a.id}",
        "type": "audit",
        "action": a.action,
        "actor": a.actor,
        "at": _ts(a.at),
        "details": a.details or None,
    }


# ----- the ledger ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Write:
    request: dict[str, Any]
    reason: str  # what a failed condition on this write means


class DynamoLedger:
    """Implements the Ledger and OutboxStore ports."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    # -- writes

    def _put(self, item: dict[str, Any], reason: str, condition: str | None = None, **values: Any) -> _Write:
        put: dict[str, Any] = {"TableName": self._table, "Item": _serialize(item)}
        if condition:
            put["ConditionExpression"] = condition
            if "#version" in condition:
                put["ExpressionAttributeNames"] = {"#version": "version"}
        if values:
            put["ExpressionAttributeValues"] = _serialize(values)
        return _Write({"Put": put}, reason)

    def _writes(self, change: Change) -> list[_Write]:
        from shared.clock import wall_clock_now

        now = wall_clock_now()
        new = "attribute_not_exists(pk)"
        writes: list[_Write] = []
        if change.stripe_event:
            writes.append(self._put(event_item(change.stripe_event), "duplicate_event", new))
        if change.new_customer:
            writes.append(self._put(customer_item(change.new_customer), "exists", new))
        if change.customer_update:
            customer = change.customer_update
            expected = "#version = :expected" + (" OR attribute_not_exists(#version)" if customer.version == 1 else "")
            writes.append(
                _Write(
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": _serialize(customer_item(customer)),
                            "ConditionExpression": f"attribute_exists(pk) AND ({expected})",
                            "ExpressionAttributeNames": {"#version": "version"},
                            "ExpressionAttributeValues": {":expected": {"N": str(customer.version - 1)}},
                        }
                    },
                    "stale_customer",
                )
            )
        if change.customer_reachable_at:
            customer_id, at = change.customer_reachable_at
            # The reminder goes out only if, when it commits, the customer is neither on hold nor unreachable.
            writes.append(
                _Write(
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": _key(f"CUSTOMER#{customer_id}", "CUSTOMER"),
                            "ConditionExpression": "attribute_not_exists(email_undeliverable) AND "
                            "(attribute_not_exists(hold_reason) OR hold_until <= :at)",
                            "ExpressionAttributeValues": {":at": {"S": _utc_stamp(at)}},
                        }
                    },
                    "customer_paused",
                )
            )
        if change.new_invoice:
            inv = change.new_invoice
            writes.append(self._put(invoice_item(inv, now), "exists", new))
            guard = {
                PK: f"INVOICENUMBER#{inv.number}",
                SK: "INVOICENUMBER",
                "type": "invoice_number",
                "invoice_id": inv.id,
            }
            writes.append(self._put(guard, "duplicate_number", new))
        if change.invoice_update:
            inv = change.invoice_update
            writes.append(
                _Write(
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": _serialize(invoice_item(inv, now)),
                            "ConditionExpression": "#version = :expected",
                            "ExpressionAttributeNames": {"#version": "version"},
                            "ExpressionAttributeValues": {":expected": {"N": str(inv.version - 1)}},
                        }
                    },
                    "stale_invoice",
                )
            )
        if change.pay_link:
            writes.append(self._put(pay_link_item(change.pay_link), "exists", new))
        if change.checkout:
            writes.append(
                self._put(
                    checkout_item(change.checkout),
                    "checkout_conflict",
                    "attribute_not_exists(pk) OR session_id = :sid",
                    **{":sid": change.checkout.session_id},
                )
            )
        if change.payment:
            writes.append(
                self._put(
                    payment_item(change.payment),
                    "payment_not_forward",
                    "attribute_not_exists(pk) OR status_rank < :rank",
                    **{":rank": PAYMENT_STATUS_RANK[change.payment.status]},
                )
            )
        if change.payment and change.payment.payment_intent_id:
            # Same content every time: an unconditional Put is idempotent.
            writes.append(self._put(payment_intent_lookup_item(change.payment), "never"))
        if change.new_plan:
            writes.append(self._put(plan_item(change.new_plan), "plan_exists", new))
        if change.plan_update:
            plan = change.plan_update
            writes.append(
                self._put(plan_item(plan), "stale_plan", "#version = :expected", **{":expected": plan.version - 1})
            )
        if change.new_recurring:
            writes.append(self._put(recurring_item(change.new_recurring), "exists", new))
        if change.recurring_update:
            recurring = change.recurring_update
            writes.append(
                self._put(
                    recurring_item(recurring), "stale_recurring", "#version = :expected",
                    **{":expected": recurring.version - 1},
                )
            )  # fmt: skip
        if change.dispute:
            writes.append(
                self._put(
                    dispute_item(change.dispute),
                    "dispute_not_forward",
                    "attribute_not_exists(pk) OR status_rank < :rank",
                    **{":rank": DISPUTE_STATUS_RANK[change.dispute.status]},
                )
            )
        if change.dunning_policy:
            writes.append(self._put(policy_item(change.dunning_policy), "never"))
        writes.extend(self._put(outbox_item(m), "exists", new) for m in change.outbox)
        writes.extend(self._put(audit_item(a), "exists", new) for a in change.audit)
        return writes

    def commit(self, change: Change) -> None:
        writes = self._writes(change)
        if not writes:
            return
        try:
            self._db.transact_write_items(TransactItems=[w.request for w in writes])
        except self._db.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons") or []
            for write, reason in zip(writes, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise ChangeRejected(write.reason) from None
            raise

    def remember_stripe_customer(self, customer_id: str, stripe_customer_id: str) -> None:
        # A failed condition means it is remembered already: the same Stripe customer, as creation is idempotent.
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.update_item(
                TableName=self._table,
                Key=_key(f"CUSTOMER#{customer_id}", "CUSTOMER"),
                # A new version, so an update that read the customer before this cannot overwrite the id.
                UpdateExpression="SET stripe_customer_id = :s, #version = if_not_exists(#version, :zero) + :one",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(stripe_customer_id)",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":s": {"S": stripe_customer_id}, ":zero": {"N": "0"}, ":one": {"N": "1"}},
            )

    # -- reads

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        found = self._db.get_item(TableName=self._table, Key=_key(pk, sk), ConsistentRead=True).get("Item")
        return _deserialize(found) if found else None

    def get_customer(self, customer_id: str) -> Customer | None:
        item = self._get(f"CUSTOMER#{customer_id}", "CUSTOMER")
        return customer_from(item) if item else None

    def get_invoice(self, invoice_id: str) -> Invoice | None:
        item = self._get(f"INVOICE#{invoice_id}", "INVOICE")
        return invoice_from(item) if item else None

    def _batch_get(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """Several items in one BatchGetItem request (retrying what DynamoDB leaves unprocessed)."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        request = {self._table: {"Keys": [_key(pk, sk) for pk, sk in keys], "ConsistentRead": True}}
        while request:
            reply = self._db.batch_get_item(RequestItems=request)
            for raw in reply.get("Responses", {}).get(self._table, []):
                item = _deserialize(raw)
                found[(item[PK], item[SK])] = item
            request = reply.get("UnprocessedKeys") or {}
        return found

    def get_invoice_and_customer(self, invoice_id: str, customer_id: str) -> tuple[Invoice | None, Customer | None]:
        invoice_key, customer_key = (f"INVOICE#{invoice_id}", "INVOICE"), (f"CUSTOMER#{customer_id}", "CUSTOMER")
        found = self._batch_get([invoice_key, customer_key])
        invoice, customer = found.get(invoice_key), found.get(customer_key)
        return (invoice_from(invoice) if invoice else None, customer_from(customer) if customer else None)

    def invoice_for_payment_intent(self, payment_intent_id: str) -> str | None:
        key = (f"PAYMENTINTENT#{payment_intent_id}", "PAYMENTINTENT")
        item = self._batch_get([key]).get(key)  # BatchGetItem: the webhook needs no GetItem permission
        return str(item["invoice_id"]) if item else None

    def get_dispute_context(self, invoice_id: str, dispute_id: str) -> tuple[Invoice | None, Dispute | None]:
        invoice_key, dispute_key = (
            (f"INVOICE#{invoice_id}", "INVOICE"),
            (f"INVOICE#{invoice_id}", f"DISPUTE#{dispute_id}"),
        )
        found = self._batch_get([invoice_key, dispute_key])
        invoice, dispute = found.get(invoice_key), found.get(dispute_key)
        return (invoice_from(invoice) if invoice else None, dispute_from(dispute) if dispute else None)

    def get_dunning_policy(self) -> DunningPolicy | None:
        item = self._get(*POLICY_KEY)
        return policy_from(item) if item else None

    def get_pay_link(self, token_hash: str) -> PayLink | None:
        item = self._get(f"PAYLINK#{token_hash}", "PAYLINK")
        return pay_link_from(item) if item else None

    def get_checkout(self, invoice_id: str, ref: str) -> CheckoutAttempt | None:
        item = self._get(f"INVOICE#{invoice_id}", f"CHECKOUT#{ref}")
        return checkout_from(item) if item else None

    def get_invoice_payments(self, invoice_id: str) -> list[Payment]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"INVOICE#{invoice_id}"},
                ":prefix": {"S": "PAYMENT#"},
            },
            "ConsistentRead": True,
        }
        while True:
            page = self._db.query(**request)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        payments = [payment_from(_deserialize(i)) for i in items]
        return sorted(payments, key=lambda p: p.created_at, reverse=True)

    def get_payment_context(
        self, invoice_id: str, checkout_ref: str | None, payment_key: str | None, plan_id: str | None = None
    ) -> PaymentContext:
        """Invoice, checkout attempt, payment and plan in one BatchGetItem request."""
        pk = f"INVOICE#{invoice_id}"
        wanted = [(pk, "INVOICE")]
        if checkout_ref:
            wanted.append((pk, f"CHECKOUT#{checkout_ref}"))
        if payment_key:
            wanted.append((pk, f"PAYMENT#{payment_key}"))
        if plan_id:
            wanted.append((pk, f"PLAN#{plan_id}"))
        found = {sk: item for (_, sk), item in self._batch_get(wanted).items()}
        invoice = found.get("INVOICE")
        checkout = found.get(f"CHECKOUT#{checkout_ref}") if checkout_ref else None
        payment = found.get(f"PAYMENT#{payment_key}") if payment_key else None
        plan = found.get(f"PLAN#{plan_id}") if plan_id else None
        return PaymentContext(
            invoice=invoice_from(invoice) if invoice else None,
            checkout=checkout_from(checkout) if checkout else None,
            payment=payment_from(payment) if payment else None,
            plan=plan_from(plan) if plan else None,
        )

    def get_plan(self, invoice_id: str, plan_id: str) -> Plan | None:
        item = self._get(f"INVOICE#{invoice_id}", f"PLAN#{plan_id}")
        return plan_from(item) if item else None

    def list_customer_payments(self, customer_id: str, limit: int, cursor: str | None) -> Page:
        items, next_cursor = self._owned_by(customer_id, "PAYMENT#", limit, cursor, newest_first=True)
        return Page(items=[payment_from(i) for i in items], next_cursor=next_cursor)

    def list_customer_invoices(self, customer_id: str, limit: int, cursor: str | None) -> Page:
        items, next_cursor = self._owned_by(customer_id, "INVOICE#", limit, cursor, newest_first=False)
        return Page(items=[invoice_from(i) for i in items], next_cursor=next_cursor)

    def _owned_by(
        self, customer_id: str, prefix: str, limit: int, cursor: str | None, *, newest_first: bool
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a customer's items of one kind, from the by_owner index."""
        owner = f"CUSTOMER#{customer_id}"
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": schema.BY_OWNER_INDEX,
            "KeyConditionExpression": "#o = :owner AND begins_with(#s, :prefix)",
            "ExpressionAttributeNames": {"#o": schema.BY_OWNER_PK, "#s": schema.BY_OWNER_SK},
            "ExpressionAttributeValues": {":owner": {"S": owner}, ":prefix": {"S": prefix}},
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        if cursor:
            request["ExclusiveStartKey"] = _decode_cursor(cursor, owner, schema.BY_OWNER_PK)
        page = self._db.query(**request)
        last = page.get("LastEvaluatedKey")
        return [_deserialize(i) for i in page.get("Items", [])], _encode_cursor(last) if last else None

    def due_invoices(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        """Invoices in one shard of the sparse due_work index whose next reminder is at or before `until`."""
        items, next_cursor = self._due(schema.REMINDER_WORK, shard, until, limit, cursor)
        return Page(items=[invoice_from(i) for i in items if i.get("type") == "invoice"], next_cursor=next_cursor)

    def get_recurring(self, recurring_id: str) -> RecurringCharge | None:
        item = self._get(f"RECURRING#{recurring_id}", "RECURRING")
        return recurring_from(item) if item else None

    def due_recurring(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        """Recurring charges in one shard of the due_work index with a period to invoice by `until`."""
        items, next_cursor = self._due(schema.RECURRING_WORK, shard, until, limit, cursor)
        return Page(items=[recurring_from(i) for i in items if i.get("type") == "recurring"], next_cursor=next_cursor)

    def due_plans(self, shard: int, until: datetime, limit: int, cursor: str | None) -> Page:
        """Installment plans in one shard of the due_work index whose next charge is at or before `until`."""
        items, next_cursor = self._due(schema.CHARGE_WORK, shard, until, limit, cursor)
        return Page(items=[plan_from(i) for i in items if i.get("type") == "plan"], next_cursor=next_cursor)

    def open_balances(self) -> dict[str, tuple[int, int]]:
        """Currency -> (amount still to collect, in minor units; invoices), from the open_balances index:
        its items are a key and two numbers each, so a million open invoices read as about 25,000 units."""
        totals: dict[str, tuple[int, int]] = {}
        for shard in range(schema.OPEN_BALANCES_SHARDS):
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": schema.OPEN_BALANCES_INDEX,
                "KeyConditionExpression": "#p = :shard",
                "ProjectionExpression": "currency, #amount",
                "ExpressionAttributeNames": {"#p": schema.OPEN_BALANCES_PK, "#amount": schema.OPEN_AMOUNT},
                "ExpressionAttributeValues": {":shard": {"S": f"OPEN#{shard}"}},
            }
            while True:
                page = self._db.query(**request)
                for item in page.get("Items", []):
                    currency, amount = item["currency"]["S"], int(item[schema.OPEN_AMOUNT]["N"])
                    total, count = totals.get(currency, (0, 0))
                    totals[currency] = (total + amount, count + 1)
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return totals

    def _due(
        self, kind: str, shard: int, until: datetime, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        partition = f"{kind}#{shard}"
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": schema.DUE_WORK_INDEX,
            "KeyConditionExpression": "#p = :shard AND #s < :upper",
            "ExpressionAttributeNames": {"#p": schema.DUE_WORK_PK, "#s": schema.DUE_WORK_SK},
            # "$" sorts right after "#": every key stamped at or before `until` is below it.
            "ExpressionAttributeValues": {":shard": {"S": partition}, ":upper": {"S": f"{_utc_stamp(until)}$"}},
            "Limit": limit,
        }
        if cursor:
            request["ExclusiveStartKey"] = _decode_cursor(cursor, partition, schema.DUE_WORK_PK)
        page = self._db.query(**request)
        last = page.get("LastEvaluatedKey")
        return [_deserialize(i) for i in page.get("Items", [])], _encode_cursor(last) if last else None

    def claim(self, message_id: str, lease_seconds: int, token: str) -> OutboxMessage | None:
        now = int(datetime.now(UTC).timestamp())  # leases use the real clock, never the business one
        try:
            reply = self._db.update_item(
                TableName=self._table,
                Key=_key(f"{schema.OUTBOX_PREFIX}{message_id}", "OUTBOX"),
                UpdateExpression="SET #st = :claimed, claim_expires = :until, claim_token = :token ADD attempts :one",
                # The token makes a retried request idempotent: botocore retries a call whose reply was
                # lost, and the first try's lease must then count as this delivery's own.
                ConditionExpression=(
                    "#st = :pending OR (#st = :claimed AND (claim_expires < :now OR claim_token = :token))"
                ),
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={
                    ":claimed": {"S": "claimed"},
                    ":pending": {"S": "pending"},
                    ":until": {"N": str(now + lease_seconds)},
                    ":now": {"N": str(now)},
                    ":token": {"S": token},
                    ":one": {"N": "1"},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._db.exceptions.ConditionalCheckFailedException as failed:
            held = failed.response.get("Item") or {}
            if held.get("status", {}).get("S") == "claimed":
                raise OutboxBusy(f"outbox {message_id} is being delivered by another worker") from None
            return None  # delivered, or no such item
        return outbox_from(_deserialize(reply["Attributes"]))

    def mark_delivered(self, message_id: str) -> None:
        from shared.clock import wall_clock_now

        self._db.update_item(
            TableName=self._table,
            Key=_key(f"{schema.OUTBOX_PREFIX}{message_id}", "OUTBOX"),
            UpdateExpression="SET #st = :delivered, delivered_at = :at REMOVE claim_expires, claim_token",
            ExpressionAttributeNames={"#st": "status"},
            ExpressionAttributeValues={":delivered": {"S": "delivered"}, ":at": {"S": _ts(wall_clock_now())}},
        )

    def release(self, message_id: str, error: str) -> None:
        self._db.update_item(
            TableName=self._table,
            Key=_key(f"{schema.OUTBOX_PREFIX}{message_id}", "OUTBOX"),
            UpdateExpression="SET #st = :pending, last_error = :error REMOVE claim_expires, claim_token",
            ConditionExpression="#st = :claimed",
            ExpressionAttributeNames={"#st": "status"},
            ExpressionAttributeValues={
                ":pending": {"S": "pending"},
                ":claimed": {"S": "claimed"},
                ":error": {"S": error[:200]},
            },
        )


def _encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, partition: str, partition_key: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if key[partition_key] != {"S": partition}:
            raise ValueError("cursor belongs to another listing")
        allowed = {PK, SK, schema.BY_OWNER_PK, schema.BY_OWNER_SK, schema.DUE_WORK_PK, schema.DUE_WORK_SK}
        if not isinstance(key, dict) or set(key) - allowed:
            raise ValueError("unexpected keys")
    except (ValueError, KeyError, TypeError):
        raise InvalidCursor("the cursor is not valid for this listing", field="cursor") from None
    return key
