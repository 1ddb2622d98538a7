"""Stripe's event JSON into typed facts: the one place payportal reads an event's shape.

Kept to the standard library (no stripe SDK, no pydantic): it runs on the webhook's cold path.
Adding an event type means a parser here, a use case, and a line in the router's table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared.domain.records import DisputeStatus, ProcessorFee, RefundStatus
from shared.domain.stripe_amounts import NotRepresentable, from_stripe
from shared.services.stripe_events.facts import (
    CheckoutSessionFact,
    DisputeFact,
    EventMeta,
    OtherEvent,
    PaymentIntentFact,
    RefundFact,
    RefundSeen,
    SessionState,
    SetupSessionFact,
    StripeFact,
    Tags,
)


class NotAStripeEvent(ValueError):
    """The body is not an event in Stripe's shape."""


# Stripe's object ids are at most 255 characters; ours (invoice, checkout, plan ids) are much shorter.
MAX_ID_LENGTH = 255
# The last second of year 9999: a later `created` is no timestamp Stripe sends.
MAX_TIMESTAMP = 253_402_300_799
# Installment and attempt numbers are small counts.
MAX_COUNT_DIGITS = 6


def parse_event(payload: object) -> StripeFact:
    """The fact a Stripe event states. Raises NotAStripeEvent for anything that is not a Stripe event."""
    if not isinstance(payload, dict):
        raise NotAStripeEvent("not a JSON object")
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    event_id, event_type = _id(payload.get("id")), _str(payload.get("type"))
    if event_id is None or event_type is None or not isinstance(obj, dict):
        raise NotAStripeEvent("not a Stripe event")
    created = payload.get("created")
    if created is not None and not (_is_int(created) and 0 <= created <= MAX_TIMESTAMP):
        raise NotAStripeEvent("created is not a timestamp")
    livemode = payload.get("livemode")
    if livemode is not None and not isinstance(livemode, bool):
        raise NotAStripeEvent("livemode is not a boolean")
    object_id = _id(obj.get("id"))
    parse = _PARSERS.get(event_type)
    if parse and object_id is None:  # every Stripe object has an id; payments are keyed by it
        raise NotAStripeEvent("the event's object has no id")
    meta = EventMeta(
        id=event_id, type=event_type, created=created or 0, object_id=object_id or "", livemode=bool(livemode)
    )
    return parse(meta, obj) if parse else OtherEvent(meta)


def _session(state: SessionState) -> Callable[[EventMeta, Mapping[str, Any]], StripeFact]:
    def parse(meta: EventMeta, obj: Mapping[str, Any]) -> StripeFact:
        session_id = _id(obj.get("id"))
        if obj.get("mode") == "setup":
            return SetupSessionFact(meta, state is SessionState.COMPLETED, session_id, _tags(obj))
        intent = obj.get("payment_intent")
        return CheckoutSessionFact(
            event=meta,
            state=state,
            session_id=session_id,
            paid=obj.get("payment_status") == "paid",
            payment_intent_id=_id(intent.get("id") if isinstance(intent, dict) else intent),
            amount=_money(obj, "amount_total"),
            currency=_currency(obj.get("currency")),
            tags=_tags(obj),
        )

    return parse


def _payment_intent(succeeded: bool) -> Callable[[EventMeta, Mapping[str, Any]], StripeFact]:
    def parse(meta: EventMeta, obj: Mapping[str, Any]) -> StripeFact:
        error = obj.get("last_payment_error")
        error = error if isinstance(error, dict) else {}
        return PaymentIntentFact(
            event=meta,
            succeeded=succeeded,
            payment_intent_id=_id(obj.get("id")) or "",
            amount=_money(obj, "amount"),
            currency=_currency(obj.get("currency")),
            tags=_tags(obj),
            error_code=_str(error.get("code")),
            decline_code=_str(error.get("decline_code")),
        )

    return parse


def _dispute(closed: bool) -> Callable[[EventMeta, Mapping[str, Any]], StripeFact]:
    def parse(meta: EventMeta, obj: Mapping[str, Any]) -> StripeFact:
        dispute_id, intent = _id(obj.get("id")), obj.get("payment_intent")
        intent_id = _id(intent.get("id") if isinstance(intent, dict) else intent)
        if dispute_id is None or intent_id is None:
            return OtherEvent(meta)
        if not closed:
            status = DisputeStatus.OPEN
        else:
            status = DisputeStatus.LOST if obj.get("status") == "lost" else DisputeStatus.WON
        return DisputeFact(
            event=meta,
            dispute_id=dispute_id,
            payment_intent_id=intent_id,
            status=status,
            amount=_money(obj, "amount"),
            currency=_currency(obj.get("currency")),
            reason=str(obj.get("reason") or "")[:64],
            fee=_dispute_fee(obj.get("balance_transactions")),
        )

    return parse


# A dispute lists at most two balance transactions (the withdrawal and a reinstatement); more is not Stripe's.
MAX_DISPUTE_TRANSACTIONS = 4


def _dispute_fee(listed: object) -> ProcessorFee | None:
    """The fees of a dispute's balance transactions (Stripe lists them whole on the dispute), summed in our
    minor units; None when there are none, or they are not one fee we can hold (mixed currencies, a fraction
    of our minor unit)."""
    if not isinstance(listed, list) or not 0 < len(listed) <= MAX_DISPUTE_TRANSACTIONS:
        return None
    total, currencies, ids = 0, set[str](), list[str]()
    for transaction in listed:
        if not isinstance(transaction, dict):
            return None
        fee, currency = transaction.get("fee"), _currency(transaction.get("currency"))
        transaction_id = _id(transaction.get("id"))
        if not isinstance(fee, int) or isinstance(fee, bool) or currency is None or transaction_id is None:
            return None
        total += fee
        currencies.add(currency)
        ids.append(transaction_id)
    if len(currencies) != 1:
        return None
    [currency] = currencies
    try:
        return ProcessorFee(from_stripe(total, currency), currency, ids[0])
    except NotRepresentable:
        return None


# requires_action waits on the customer (some bank refunds): to the ledger it is still pending.
STRIPE_REFUND_STATUS = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.CANCELED,
}
# A charge lists at most this many refunds in an event; more than that and refund.* events carry the rest.
MAX_LISTED_REFUNDS = 100


def _refund_seen(obj: Mapping[str, Any]) -> RefundSeen | None:
    refund_id, status = _id(obj.get("id")), STRIPE_REFUND_STATUS.get(str(obj.get("status")))
    if refund_id is None or status is None:
        return None
    metadata = obj.get("metadata")
    ours = metadata if isinstance(metadata, dict) else {}
    return RefundSeen(
        refund_id=refund_id,
        amount=_money(obj, "amount"),
        currency=_currency(obj.get("currency")),
        status=status,
        reason=str(obj.get("reason") or "")[:64],
        reopens_balance=ours.get("reopen_balance") == "true",
        request_ref=_id(ours.get("refund_ref")) or "",
        invoice_id=_id(ours.get("invoice_id")) or "",
    )


def _intent_of(obj: Mapping[str, Any]) -> str | None:
    intent = obj.get("payment_intent")
    return _id(intent.get("id") if isinstance(intent, dict) else intent)


def _refund(meta: EventMeta, obj: Mapping[str, Any]) -> StripeFact:
    """refund.created, refund.updated, refund.failed: the refund object itself."""
    seen, intent_id = _refund_seen(obj), _intent_of(obj)
    if seen is None or intent_id is None:
        return OtherEvent(meta)
    return RefundFact(event=meta, payment_intent_id=intent_id, refunds=(seen,))


def _charge_refunded(meta: EventMeta, obj: Mapping[str, Any]) -> StripeFact:
    """charge.refunded: the charge, with its amount_refunded and (in API versions before 2022-11-15, or when
    expanded) its refunds."""
    intent_id = _intent_of(obj)
    if intent_id is None:
        return OtherEvent(meta)
    listed = obj.get("refunds")
    data = listed.get("data") if isinstance(listed, dict) else None
    refunds = data[:MAX_LISTED_REFUNDS] if isinstance(data, list) else []
    seen = tuple(r for r in (_refund_seen(d) for d in refunds if isinstance(d, dict)) if r is not None)
    return RefundFact(
        event=meta, payment_intent_id=intent_id, refunds=seen, amount_refunded=_money(obj, "amount_refunded")
    )


_PARSERS: dict[str, Callable[[EventMeta, Mapping[str, Any]], StripeFact]] = {
    "checkout.session.completed": _session(SessionState.COMPLETED),
    "checkout.session.async_payment_succeeded": _session(SessionState.ASYNC_SUCCEEDED),
    "checkout.session.async_payment_failed": _session(SessionState.ASYNC_FAILED),
    "checkout.session.expired": _session(SessionState.EXPIRED),
    "payment_intent.succeeded": _payment_intent(succeeded=True),
    "payment_intent.payment_failed": _payment_intent(succeeded=False),
    "charge.dispute.created": _dispute(closed=False),
    "charge.dispute.closed": _dispute(closed=True),
    "charge.refunded": _charge_refunded,
    "refund.created": _refund,
    "refund.updated": _refund,
    "refund.failed": _refund,
}

# What the webhook endpoint subscribes to at Stripe (cli: payportal stripe setup).
HANDLED_EVENT_TYPES = frozenset(_PARSERS)


def _tags(obj: Mapping[str, Any]) -> Tags:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return Tags()
    return Tags(
        invoice_id=_id(metadata.get("invoice_id")),
        customer_id=_id(metadata.get("customer_id")),
        checkout_ref=_id(metadata.get("checkout_ref")),
        plan_id=_id(metadata.get("plan_id")),
        installment=_digits(metadata.get("installment")),
        attempt=_digits(metadata.get("attempt")),
        purpose=_str(metadata.get("purpose")),
        combined_ref=_id(metadata.get("combined_ref")),
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _str(value: object) -> str | None:
    """A short string (a type, a code); anything else, however long, says nothing we read."""
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH else None


def _id(value: object) -> str | None:
    """An id we may key a record by: printable ASCII without spaces, as Stripe's and ours are."""
    text = _str(value)
    return text if text is not None and text.isascii() and text.isprintable() and " " not in text else None


def _digits(value: object) -> int | None:
    """Metadata values are strings; ours are small decimal counts."""
    text = value if isinstance(value, str) else ""
    return int(text) if 0 < len(text) <= MAX_COUNT_DIGITS and text.isascii() and text.isdigit() else None


def _amount(value: object) -> int | None:
    """Stripe sends amounts as integers in the minor unit. Anything else is not Stripe's (and never a
    float we would round)."""
    if value is None:
        return None
    if not _is_int(value):
        raise NotAStripeEvent("an amount is not an integer")
    assert isinstance(value, int)
    return value


def _money(obj: Mapping[str, Any], key: str) -> int | None:
    """The amount at `key` in our minor units (Stripe writes ISK 5,000 as 500000). None when it cannot be
    one of ours: a fraction of our minor unit is never an amount we asked for, so there is nothing to record."""
    amount, currency = _amount(obj.get(key)), _currency(obj.get("currency"))
    if amount is None or currency is None:
        return amount
    try:
        return from_stripe(amount, currency)
    except NotRepresentable:
        return None


def _currency(value: object) -> str | None:
    return value.upper() if isinstance(value, str) and value else None
