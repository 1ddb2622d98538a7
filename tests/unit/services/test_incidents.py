"""An incident's reach and its notices over an in-memory audit timeline: who a window touched, by kind, and a
notice queued once per customer per incident."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.messages import IncidentNoticeEmail, OutboxMessage, decode, encode
from shared.domain.records import AuditEntry, AuditSubject, StripeEventRecord
from shared.services.incidents import BadWindow, affected, incident_key, notify
from tests.fakes import FixedClock

START = datetime(2027, 3, 1, 10, tzinfo=UTC)
END = START + timedelta(hours=4)


@dataclass
class Timeline:
    """AuditTimeline in memory: entries and events as the table's time index and event list hold them."""

    entries: list[AuditEntry] = field(default_factory=list)
    events: list[StripeEventRecord] = field(default_factory=list)
    owner_of: dict[str, str] = field(default_factory=dict)
    noticed: dict[tuple[str, str], OutboxMessage] = field(default_factory=dict)

    def audit_between(self, since: datetime, until: datetime) -> Iterator[AuditEntry]:
        return (e for e in self.entries if since <= e.at < until)

    def stripe_events_between(self, since: datetime, until: datetime) -> Iterator[StripeEventRecord]:
        return (e for e in self.events if since <= e.received_at < until)

    def owners(self, invoice_ids: list[str], recurring_ids: list[str], payment_intents: list[str]) -> dict[str, str]:
        wanted = {*invoice_ids, *recurring_ids, *payment_intents}
        return {k: v for k, v in self.owner_of.items() if k in wanted}

    def send_notice_once(self, incident_id: str, customer_id: str, email: OutboxMessage, at: datetime) -> bool:
        if (incident_id, customer_id) in self.noticed:
            return False
        self.noticed[(incident_id, customer_id)] = email
        return True


def entry(subject: AuditSubject, subject_id: str, action: str, at: datetime, cause: str = "") -> AuditEntry:
    return AuditEntry(subject, subject_id, action, "someone", at, cause=cause)


@pytest.fixture
def timeline() -> Timeline:
    inside = START + timedelta(hours=1)
    return Timeline(
        entries=[
            entry(AuditSubject.CUSTOMER, "cust_a", "customer.updated", inside),
            entry(AuditSubject.INVOICE, "inv_a", "invoice.voided", inside),
            entry(AuditSubject.CUSTOMER, "cust_b", "customer.viewed", inside),
            entry(AuditSubject.INVOICE, "inv_c", "payment.succeeded", inside, cause="stripe_event:evt_1"),
            entry(AuditSubject.RECURRING_CHARGE, "rc_d", "recurring.updated", inside),
            entry(AuditSubject.CUSTOMER, "cust_e", "customer.updated", START - timedelta(seconds=1)),
            entry(AuditSubject.CUSTOMER, "cust_e", "customer.updated", END),  # the end is not in the window
            entry(AuditSubject.INVOICE, "inv_gone", "invoice.voided", inside),  # no owner found: left out
        ],
        events=[
            StripeEventRecord("evt_1", "payment_intent.succeeded", "pi_c", "applied", inside),  # counted via audit
            StripeEventRecord("evt_2", "charge.dispute.created", "pi_f", "flagged", inside),
        ],
        owner_of={"inv_a": "cust_a", "inv_c": "cust_c", "rc_d": "cust_d", "pi_c": "cust_c", "pi_f": "cust_f"},
    )


def test_affected_counts_changes_reads_and_stripe_events_per_customer(timeline: Timeline) -> None:
    found = {a.customer_id: a.counts for a in affected(timeline, START, END)}

    assert found == {
        "cust_a": {"changed": 2},
        "cust_b": {"read": 1},
        "cust_c": {"stripe_event": 1},
        "cust_d": {"changed": 1},
        "cust_f": {"stripe_event": 1},
    }


@pytest.mark.parametrize(
    ("since", "until"),
    [(END, START), (START, START), (START, START + timedelta(days=93)), (START.replace(tzinfo=None), END)],
)
def test_a_window_that_is_not_one_is_refused(timeline: Timeline, since: datetime, until: datetime) -> None:
    with pytest.raises(BadWindow):
        affected(timeline, since, until)


def test_notify_queues_one_notice_per_customer_and_a_rerun_none(timeline: Timeline) -> None:
    clock = FixedClock(END + timedelta(hours=5))

    first = notify(timeline, clock, START, END, template="Notice\n\nBody")
    second = notify(timeline, clock, START, END, template="Notice\n\nBody")

    assert first.incident_id == second.incident_id == incident_key(START, END)
    assert first.queued == ["cust_a", "cust_b", "cust_c", "cust_d", "cust_f"] and first.already == []
    assert second.queued == [] and second.already == first.queued
    body = timeline.noticed[(first.incident_id, "cust_a")].body
    assert isinstance(body, IncidentNoticeEmail) and (body.since, body.until, body.source) == (
        START,
        END,
        "Notice\n\nBody",
    )
    # the stored form carries the template and the window, no name or address
    assert decode(*encode(body)) == body


def test_a_dry_run_or_a_template_that_fails_its_check_queues_nothing(timeline: Timeline) -> None:
    clock = FixedClock(END)

    dry = notify(timeline, clock, START, END, template="x", dry_run=True)

    def refuse(_: str) -> None:
        raise ValueError("does not parse")

    with pytest.raises(ValueError, match="does not parse"):
        notify(timeline, clock, START, END, template="{{", check_template=refuse)
    assert dry.dry_run and len(dry.queued) == 5 and timeline.noticed == {}
