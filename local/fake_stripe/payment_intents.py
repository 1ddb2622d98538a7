"""PaymentIntents as Stripe shows them: localstripe's JSON, with what localstripe cannot hold laid over it.

localstripe 1.15 (tried against it) embeds a PaymentIntent's whole `latest_charge` (Stripe gives the id) and
the `charges` list Stripe dropped in API version 2022-11-15, and keeps no `description` or
`setup_future_usage`; its `last_payment_error` after a decline lacks most of Stripe's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PaymentIntentViews:
    """What the front knows about PaymentIntents that localstripe cannot hold, laid over localstripe's JSON
    wherever a PaymentIntent leaves the front: API replies, 402 errors and webhooks."""

    def __init__(self) -> None:
        self._fields: dict[str, dict[str, Any]] = {}
        self._failures: dict[str, dict[str, Any]] = {}
        self._debiting: set[str] = set()  # a delayed method (bank debit) chosen at checkout, not settled yet

    def remember(self, intent_id: str, **fields: Any) -> None:
        self._fields.setdefault(intent_id, {}).update(fields)

    def debiting(self, intent_id: str, *, until_settled: bool = True) -> None:
        """Stripe shows a bank debit's PaymentIntent `processing` until the bank answers; localstripe, which
        settles it only at the test's word, would show it waiting for a payment method."""
        if until_settled:
            self._debiting.add(intent_id)
        else:
            self._debiting.discard(intent_id)

    def record_failure(self, intent_id: str, last_payment_error: dict[str, Any]) -> None:
        self._failures[intent_id] = last_payment_error

    def present(self, intent: Mapping[str, Any], *, expanded: frozenset[str] = frozenset()) -> dict[str, Any]:
        intent_id = str(intent.get("id"))
        # `charges` went in API version 2022-11-15; Stripe always has the two fields localstripe cannot keep.
        shown = {name: value for name, value in intent.items() if name != "charges"}
        shown.setdefault("description", None)
        shown.setdefault("setup_future_usage", None)
        charge = shown.get("latest_charge")
        if isinstance(charge, dict) and "latest_charge" not in expanded:
            shown["latest_charge"] = charge.get("id")
        shown |= self._fields.get(intent_id, {})
        if intent_id in self._debiting and shown.get("status") == "requires_payment_method":
            shown["status"] = "processing"
        failure = self._failures.get(intent_id)
        # Only while it still waits for another card: once paid or canceled, localstripe's state is the truth.
        if failure is not None and shown.get("status") == "requires_payment_method":
            # Stripe keeps the failed card in the error, not on the PaymentIntent.
            shown |= {"last_payment_error": failure, "payment_method": None}
        return shown

    def present_body(self, body: Any, *, expanded: frozenset[str] = frozenset()) -> Any:
        """A PaymentIntent, or a list of them, from a proxied reply; anything else as it is."""
        if not isinstance(body, dict):
            return body
        if body.get("object") == "payment_intent":
            return self.present(body, expanded=expanded)
        if body.get("object") == "list" and isinstance(body.get("data"), list):
            items = [
                self.present(item, expanded=expanded) if item.get("object") == "payment_intent" else item
                for item in body["data"]
            ]
            return {**body, "data": items}
        return body


def expanded_fields(params: Mapping[str, Any]) -> frozenset[str]:
    expand = params.get("expand")
    fields = expand if isinstance(expand, list) else [expand] if isinstance(expand, str) else []
    return frozenset(field for field in fields if isinstance(field, str))
