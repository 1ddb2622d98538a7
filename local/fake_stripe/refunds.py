"""Refunds as Stripe makes them, over localstripe's.

localstripe 1.15 (tried against it) creates a refund (`POST /v1/refunds` with `payment_intent` or
`charge`, `amount`, `metadata`) always `succeeded`, refuses Stripe's `reason`, never checks the amount
against what is left on the charge, and sends no event. The front checks and answers as Stripe does
(`charge_already_refunded`, an amount too large), keeps the refund's `reason` and its status (a test may
fail it afterwards, as a closed card does days later), and sends what Stripe sends: `refund.created` and
`charge.refunded` when it is made, `refund.updated` and `refund.failed` when it fails. The charge's
`amount_refunded` counts pending and succeeded refunds only, as Stripe's does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from local.fake_stripe.errors import StripeApiError

REASONS = ("duplicate", "fraudulent", "requested_by_customer")
COUNTED = ("pending", "succeeded")


@dataclass(frozen=True, slots=True)
class RefundAsk:
    payment_intent: str | None
    charge: str | None
    amount: int | None
    reason: str | None
    metadata: dict[str, str]


def refund_ask(params: Mapping[str, Any]) -> RefundAsk:
    """The create call's parameters, refused as Stripe refuses them."""
    intent, charge = params.get("payment_intent"), params.get("charge")
    if not (isinstance(intent, str) and intent) and not (isinstance(charge, str) and charge):
        raise StripeApiError(400, "One of `charge` or `payment_intent` is required.", param="payment_intent")
    amount = params.get("amount")
    if amount is not None and not (isinstance(amount, str) and amount.isdigit() and int(amount) > 0):
        raise StripeApiError(400, "Invalid positive integer", param="amount")
    reason = params.get("reason") or None
    if reason is not None and reason not in REASONS:
        raise StripeApiError(400, f"Invalid reason: must be one of {', '.join(REASONS)}", param="reason")
    metadata = params.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise StripeApiError(400, "Invalid object", param="metadata")
    return RefundAsk(
        payment_intent=intent if isinstance(intent, str) and intent else None,
        charge=charge if isinstance(charge, str) and charge else None,
        amount=int(amount) if amount is not None else None,
        reason=reason,
        metadata={str(k): str(v) for k, v in metadata.items()},
    )


class RefundBook:
    """Every refund the front made, as Stripe shows it now."""

    def __init__(self) -> None:
        self._refunds: dict[str, dict[str, Any]] = {}

    def counted_on(self, charge_id: str) -> int:
        return sum(r["amount"] for r in self.of_charge(charge_id) if r["status"] in COUNTED)

    def of_charge(self, charge_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self._refunds.values() if r["charge"] == charge_id]

    def check_amount(self, charge: Mapping[str, Any], amount: int | None) -> int:
        """What is refunded: `amount`, or all that is left; Stripe's errors when nothing or less is left."""
        left = int(charge["amount"]) - self.counted_on(str(charge["id"]))
        if left <= 0:
            raise StripeApiError(
                400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
            )
        wanted = left if amount is None else amount
        if wanted > left:
            raise StripeApiError(
                400,
                f"Refund amount ({wanted}) is greater than unrefunded amount on charge ({left})",
                param="amount",
            )
        return wanted

    def record(self, made: Mapping[str, Any], *, payment_intent: str | None, reason: str | None) -> dict[str, Any]:
        refund = {
            "id": made["id"],
            "object": "refund",
            "amount": made["amount"],
            "currency": made["currency"],
            "charge": made["charge"],
            "payment_intent": payment_intent,
            "created": made.get("created"),
            "metadata": made.get("metadata") or {},
            "reason": reason,
            "status": "succeeded",  # cards refund at once; `fail` moves it on
            "balance_transaction": made.get("balance_transaction"),
            "failure_reason": None,
        }
        self._refunds[refund["id"]] = refund
        return dict(refund)

    def get(self, refund_id: str) -> dict[str, Any] | None:
        found = self._refunds.get(refund_id)
        return dict(found) if found is not None else None

    def fail(self, refund_id: str, reason: str = "expired_or_canceled_card") -> dict[str, Any]:
        refund = self._refunds.get(refund_id)
        if refund is None:
            raise StripeApiError(404, f"No such refund: '{refund_id}'", code="resource_missing", param="id")
        if refund["status"] == "failed":
            raise StripeApiError(400, f"Refund {refund_id} has already failed.")
        refund["status"], refund["failure_reason"] = "failed", reason
        return dict(refund)

    def charge_view(self, charge: Mapping[str, Any]) -> dict[str, Any]:
        """The charge as Stripe shows it: its refunds and what they count."""
        charge_id = str(charge["id"])
        counted = self.counted_on(charge_id)
        refunds = self.of_charge(charge_id)
        return dict(charge) | {
            "amount_refunded": counted,
            "refunded": counted >= int(charge["amount"]),
            "refunds": {
                "object": "list",
                "data": refunds[::-1],
                "has_more": False,
                "url": f"/v1/charges/{charge_id}/refunds",
            },
        }
