"""The outbox lease: each message is delivered by one worker, a retried claim is that worker's own, and a
message another worker holds is never reported handled before it is sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.domain.messages import Event, EventName, OutboxMessage
from shared.services.ports import Change, OutboxBusy
from tests.integration.conftest import Aws


def queued_event(label: str = "test_event") -> OutboxMessage:
    """A domain event in the outbox, told apart from others by the `label` in its detail."""
    from shared.wiring import ledger

    message = OutboxMessage(
        Event(EventName.INVOICE_CREATED, {"invoice_id": "inv_x", "label": label}), datetime.now(UTC)
    )
    ledger().commit(Change(outbox=[message]))
    return message


def status(aws: Aws, message: OutboxMessage) -> str:
    [item] = [i for i in aws.items("OUTBOX#") if i["id"] == message.id]
    return str(item["status"])


def test_a_claim_retried_with_its_token_is_still_its_own(aws: Aws) -> None:
    # botocore retries a call whose reply was lost; the first try may have taken the lease already
    from shared.wiring import ledger

    message = queued_event()
    assert ledger().claim(message.id, 60, "token-a") is not None
    again = ledger().claim(message.id, 60, "token-a")
    assert again is not None and again.message.id == message.id and not again.taken_over


def test_a_live_lease_held_by_another_worker_is_busy_not_handled(aws: Aws) -> None:
    from shared.wiring import ledger

    message = queued_event()
    assert ledger().claim(message.id, 60, "token-a") is not None
    with pytest.raises(OutboxBusy):
        ledger().claim(message.id, 60, "token-b")


def test_an_expired_lease_can_be_taken_over(aws: Aws) -> None:
    from shared.wiring import ledger

    message = queued_event()
    assert ledger().claim(message.id, -1, "token-a") is not None  # a worker that died: its lease ran out
    assert ledger().claim(message.id, 60, "token-b") is not None


def test_delivered_or_unknown_messages_are_handled(aws: Aws) -> None:
    from shared.wiring import ledger

    message = queued_event()
    assert ledger().claim(message.id, 60, "token-a") is not None
    assert ledger().mark_delivered(message.id, "token-a") is True
    assert ledger().claim(message.id, 60, "token-b") is None
    assert ledger().claim("msg_never_written", 60, "token-b") is None


def test_the_stream_retries_a_message_another_worker_holds_and_it_is_sent_once(aws: Aws) -> None:
    from shared.wiring import ledger

    message, other = queued_event("held_elsewhere"), queued_event("free")
    assert ledger().claim(message.id, 60, "someone-else") is not None  # a worker mid-send (or dead)

    # In a batch with another message: that one goes out, the held one is reported failed, so the
    # stream delivers it again later; it is not published meanwhile
    reply = aws.drain_outbox(statuses=("pending", "claimed"))
    assert len(reply["batchItemFailures"]) == 1
    assert (status(aws, message), status(aws, other)) == ("claimed", "delivered")
    assert [e["detail"]["label"] for e in aws.domain_events()] == ["free"]

    # Once the other worker's lease is gone, the retry sends it, once
    ledger().release(message.id, "someone-else", "Timeout")
    assert aws.drain_outbox(statuses=("pending", "claimed")) == {"batchItemFailures": []}
    assert status(aws, message) == "delivered"
    assert [e["detail"]["label"] for e in aws.domain_events()].count("held_elsewhere") == 1


def test_a_delivery_records_the_providers_id_and_a_takeover_is_known(aws: Aws) -> None:
    from shared.wiring import ledger

    message = queued_event()
    assert ledger().claim(message.id, -1, "token-a") is not None  # a worker that died mid-send
    claim = ledger().claim(message.id, 60, "token-b")
    assert claim is not None and claim.taken_over  # it may have sent it: the takeover says so
    assert ledger().mark_delivered(message.id, "token-a") is False  # the dead worker's lease is gone
    assert ledger().mark_delivered(message.id, "token-b", "ses-0001") is True
    [item] = [i for i in aws.items(f"OUTBOX#{message.id}")]
    assert (item["status"], item["provider_id"]) == ("delivered", "ses-0001")
    assert ledger().mark_delivered("msg_never_written", "token-b") is False
    assert aws.items("OUTBOX#msg_never_written") == []  # no stub item for what was never written
