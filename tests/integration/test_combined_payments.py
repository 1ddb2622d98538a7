"""Several invoices in one Checkout Session, end to end over moto and the fake Stripe: the session Stripe holds
has a line per invoice and only a reference in its metadata; the webhook pays each invoice its share once; one
receipt lists them; a share is refunded on the shared PaymentIntent up to that share."""

from __future__ import annotations

from collections import Counter
from typing import Any

import requests

from shared.adapters.aws import client
from shared.domain.records import CombinedCheckout
from shared.services.combined_checkout import AllocationAsk, start_combined_checkout
from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, create_invoice, deliver, get_invoice, operator
from tests.support import json_body, stripe_event

STRIPE_AUTH = ("sk_test_local", "")


def open_combined(customer_id: str, *asks: AllocationAsk) -> CombinedCheckout:
    from shared.clock import wall_clock_now
    from shared.wiring import checkout_config, gateway, ledger

    class Now:
        def now(self) -> Any:
            return wall_clock_now()

    return start_combined_checkout(ledger(), gateway(), Now(), checkout_config(), customer_id, list(asks))


def session_event(stripe: str, combined: CombinedCheckout, kind: str = "checkout.session.completed") -> dict[str, Any]:
    """The event Stripe sends for the session, built from the session as the fake Stripe holds it (paid)."""
    session = requests.get(f"{stripe}/v1/checkout/sessions/{combined.session_id}", auth=STRIPE_AUTH, timeout=10).json()
    paid = session | {"status": "complete", "payment_status": "paid", "payment_intent": "pi_combined_it"}
    return stripe_event(kind, paid)


def test_two_invoices_paid_in_one_session_each_get_their_share_and_one_receipt(stripe: str, aws: Aws) -> None:
    # Given a customer with two open invoices, one taking partial payments
    customer = create_customer()
    first = create_invoice(customer["id"], amount_due=12_500)
    second = create_invoice(customer["id"], amount_due=8_000, allow_partial=True)

    # When they open one session for all of the first and 30.00 of the second
    combined = open_combined(customer["id"], AllocationAsk(first["id"]), AllocationAsk(second["id"], 3_000))

    # Then Stripe holds one session of two lines and only our reference
    session = requests.get(f"{stripe}/v1/checkout/sessions/{combined.session_id}", auth=STRIPE_AUTH, timeout=10).json()
    assert session["amount_total"] == 15_500 and session["metadata"]["combined_ref"] == combined.ref
    assert "invoice_id" not in session["metadata"]
    lines = requests.get(
        f"{stripe}/v1/checkout/sessions/{combined.session_id}/line_items", auth=STRIPE_AUTH, timeout=10
    ).json()
    assert sorted(line["amount_total"] for line in lines["data"]) == [3_000, 12_500]

    # When Stripe says it is paid, twice
    event = session_event(stripe, combined)
    calls = Counter[str]()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client("dynamodb").meta.events.register("before-call", count)
    try:
        assert json_body(deliver(event))["outcome"] == "applied"
    finally:
        client("dynamodb").meta.events.unregister("before-call", count)
    assert json_body(deliver(event))["outcome"] == "duplicate_event"
    # Then the webhook made only the calls its role allows: reads by BatchGetItem, one transaction a share and
    # one for the event and the receipt
    assert set(calls) == {"BatchGetItem", "TransactWriteItems"} and calls["TransactWriteItems"] == 3

    # Then each invoice has its share, once
    shown_first, shown_second = get_invoice(first["id"]), get_invoice(second["id"])
    assert (shown_first["status"], shown_first["amount_paid"]) == ("paid", 12_500)
    assert (shown_second["status"], shown_second["amount_paid"]) == ("partially_paid", 3_000)
    listed = json_body(operator("GET", "/v1/payments", "/v1/payments", query={"customer_id": customer["id"]}))[
        "payments"
    ]
    shares = {p["invoice_id"]: p for p in listed}
    assert (shares[first["id"]]["amount"], shares[second["id"]]["amount"]) == (12_500, 3_000)
    assert shares[first["id"]]["id"] == combined.share_key(first["id"])
    # And one receipt lists both invoices; each invoice announced its own payment
    aws.drain_outbox()
    receipts = [e for e in aws.emails() if "Receipt" in e.subject]
    assert len(receipts) == 1 and first["number"] in receipts[0].text and second["number"] in receipts[0].text
    succeeded = [e["detail"]["invoice_id"] for e in aws.domain_events() if e["detail-type"] == "payment.succeeded"]
    assert sorted(succeeded) == sorted([first["id"], second["id"]])
