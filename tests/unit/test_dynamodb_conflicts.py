"""A transaction DynamoDB cancels only because another one held one of its items (TransactionConflict, which
botocore does not retry) is sent again; any other cancellation is answered as before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest
from botocore.stub import ANY, Stubber

from shared.adapters.dynamodb import ledger as ledger_module
from shared.adapters.dynamodb.ledger import CONFLICT_ATTEMPTS, DynamoLedger
from shared.domain.invoices import PaymentStatus
from shared.domain.records import Payment
from shared.services.ports import Change, ChangeRejected, Rejection, Tally

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def a_payment_with_its_counters() -> Change:
    payment = Payment(
        key="pi_1", invoice_id="inv_1", customer_id="cus_1", amount=500, currency="USD",
        status=PaymentStatus.SUCCEEDED, checkout_session_id="cs_1", payment_intent_id="pi_1",
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    return Change(payment=payment, tallies=[Tally("flows#USD", "D#2026-11-02", {"collected": 500})])


def cancelled(stubber: Stubber, *codes: str) -> None:
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message="Transaction cancelled",
        http_status_code=400,
        modeled_fields={"CancellationReasons": [{"Code": code} for code in codes]},
    )


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> tuple[DynamoLedger, Stubber, list[float]]:
    client = botocore.session.get_session().create_client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    pauses: list[float] = []
    monkeypatch.setattr(ledger_module.time, "sleep", pauses.append)
    return DynamoLedger(client, "table"), Stubber(client), pauses


def test_a_conflict_on_a_busy_counter_is_sent_again_until_it_commits(stubbed: Any) -> None:
    ledger, stubber, pauses = stubbed
    # Given DynamoDB cancelling twice because another transaction held the day's counter, then committing
    cancelled(stubber, "None", "TransactionConflict")
    cancelled(stubber, "None", "TransactionConflict")
    stubber.add_response("transact_write_items", {}, {"TransactItems": ANY, "ClientRequestToken": ANY})

    # When the change is committed
    with stubber:
        ledger.commit(a_payment_with_its_counters())
        stubber.assert_no_pending_responses()

    # Then it was sent three times, with a short pause before each retry
    assert len(pauses) == 2 and all(0 <= pause <= 0.1 for pause in pauses)


def test_conflicts_that_outlast_the_attempts_are_raised(stubbed: Any) -> None:
    ledger, stubber, pauses = stubbed
    for _ in range(CONFLICT_ATTEMPTS):
        cancelled(stubber, "TransactionConflict", "None")
    with stubber, pytest.raises(ledger._db.exceptions.TransactionCanceledException):
        ledger.commit(a_payment_with_its_counters())
    assert len(pauses) == CONFLICT_ATTEMPTS - 1


def test_a_failed_guard_is_a_rejection_at_once_even_beside_a_conflict(stubbed: Any) -> None:
    ledger, stubber, pauses = stubbed
    # Given the payment's guard failing (a newer state is stored) while the counter is also held
    cancelled(stubber, "ConditionalCheckFailed", "TransactionConflict")
    stubber.add_response("batch_get_item", {"Responses": {"table": []}})  # not put by this transaction
    with stubber, pytest.raises(ChangeRejected) as rejected:
        ledger.commit(a_payment_with_its_counters())
    # Then the change is refused for its guard, not sent again
    assert rejected.value.reason is Rejection.PAYMENT_NOT_FORWARD and pauses == []
