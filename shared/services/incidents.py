"""An incident's reach and its notices (GDPR Art. 33/34): which customers a window of time touched, and a notice
to each of them, once.

`affected` reads the audit trail by time (the lists index's AUDITAT# partitions: only entries about customers,
invoices and recurring charges carry its keys) and the kept Stripe events received in the window (by_owner),
never the table. Each entry counts for its customer by kind: a change, a read (the read audit: staff views and
exports) or a Stripe event (a change a Stripe event caused, or a kept event about one of their payments).

`notify` queues the operator's notice for each affected customer with a marker `INCIDENT#{id}` / `NOTICE#{cid}`
in the same transaction: a second run of the same incident queues nothing for a customer noticed already.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from shared.clock import Clock
from shared.domain.errors import DomainError
from shared.domain.messages import IncidentNoticeEmail, outgoing_email
from shared.domain.records import AuditSubject
from shared.services.privacy_ports import AuditTimeline
from shared.services.subject_access import READ_ACTIONS

MAX_WINDOW: Final = timedelta(days=92)
STRIPE_CAUSE: Final = "stripe_event:"


class Touch(StrEnum):
    CHANGED = "changed"
    READ = "read"
    STRIPE_EVENT = "stripe_event"


class BadWindow(DomainError):
    code = "bad_window"


@dataclass(frozen=True, slots=True)
class Affected:
    customer_id: str
    counts: dict[str, int] = field(default_factory=dict)  # Touch -> entries

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def check_window(since: datetime, until: datetime) -> None:
    if since.tzinfo is None or until.tzinfo is None:
        raise BadWindow("give both instants with their offset (e.g. 2027-03-01T10:00:00Z)")
    if until <= since:
        raise BadWindow("--until must be after --since")
    if until - since > MAX_WINDOW:
        raise BadWindow(f"a window is at most {MAX_WINDOW.days} days: run it once per part")


def affected(timeline: AuditTimeline, since: datetime, until: datetime) -> list[Affected]:
    """Every customer the window touched, with counts per kind, by customer id."""
    check_window(since, until)
    touches: list[tuple[AuditSubject, str, Touch]] = []
    causes: set[str] = set()
    for entry in timeline.audit_between(since, until):
        if entry.action in READ_ACTIONS:
            kind = Touch.READ
        elif entry.cause.startswith(STRIPE_CAUSE):
            kind = Touch.STRIPE_EVENT
            causes.add(entry.cause.removeprefix(STRIPE_CAUSE))
        else:
            kind = Touch.CHANGED
        touches.append((entry.subject, entry.subject_id, kind))
    intents: list[str] = []
    for event in timeline.stripe_events_between(since, until):
        if event.event_id not in causes and event.object_id.startswith("pi_"):
            intents.append(event.object_id)  # kept but changed nothing recorded (flagged, failed, no change)
    invoices = [i for s, i, _ in touches if s is AuditSubject.INVOICE]
    recurring = [r for s, r, _ in touches if s is AuditSubject.RECURRING_CHARGE]
    owners = timeline.owners(invoices, recurring, intents)
    counts: dict[str, Counter[str]] = {}
    for subject, subject_id, kind in touches:
        customer = subject_id if subject is AuditSubject.CUSTOMER else owners.get(subject_id)
        if customer:
            counts.setdefault(customer, Counter())[kind.value] += 1
    for intent in intents:
        if customer := owners.get(intent):
            counts.setdefault(customer, Counter())[Touch.STRIPE_EVENT.value] += 1
    return [Affected(customer, dict(sorted(c.items()))) for customer, c in sorted(counts.items())]


def incident_key(since: datetime, until: datetime) -> str:
    """The incident's id when the operator names none: its window (the same window is the same incident)."""
    return hashlib.sha256(f"{since.isoformat()}|{until.isoformat()}".encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class NoticeRun:
    incident_id: str
    queued: list[str]  # customer ids a notice was queued for now
    already: list[str]  # noticed by an earlier run of this incident
    dry_run: bool


def notify(
    timeline: AuditTimeline,
    clock: Clock,
    since: datetime,
    until: datetime,
    *,
    template: str,
    incident_id: str | None = None,
    dry_run: bool = False,
    check_template: Callable[[str], None] | None = None,
) -> NoticeRun:
    """Queue the notice for every affected customer, once per customer per incident (its id, or the window's)."""
    reached = affected(timeline, since, until)
    if check_template is not None:
        check_template(template)  # a template that does not render stops the run before anything is queued
    incident = incident_id or incident_key(since, until)
    if dry_run:
        return NoticeRun(incident, [a.customer_id for a in reached], [], dry_run=True)
    queued: list[str] = []
    already: list[str] = []
    for customer in reached:
        now = clock.now()
        notice = IncidentNoticeEmail(customer.customer_id, incident, template, since, until)
        sent = timeline.send_notice_once(incident, customer.customer_id, outgoing_email(notice, now), now)
        (queued if sent else already).append(customer.customer_id)
    return NoticeRun(incident, queued, already, dry_run=False)
