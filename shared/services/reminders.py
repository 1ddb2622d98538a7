"""The dunning run: find the invoices whose reminder work is due, send each due step once.

Reads only the sparse `due_work` index (never the whole table), shard by shard, page by page, within a
time budget. Each reminder is one transaction, guarded by the invoice's version, so a double firing, a
concurrent run or a retry can never send the same (invoice, step) twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from shared.clock import Clock
from shared.domain.dunning import DEFAULT_POLICY, DunningPolicy, due_reminder, uncollectible_at
from shared.domain.invoices import Invoice, InvoiceStatus, invoice_event_detail
from shared.domain.messages import EventName, GroupedReminderEmail, ReminderEmail, outgoing_email, outgoing_event
from shared.domain.records import (
    MAX_COMBINED_INVOICES,
    REMINDER_CHANNEL_EMAIL,
    AuditEntry,
    AuditSubject,
    ReminderAttribution,
    ReminderLine,
)
from shared.domain.stripe_amounts import chargeable_increment
from shared.schema import DUE_WORK_SHARDS
from shared.services import reminder_report
from shared.services.aggregates import tallied
from shared.services.due_work import ALL_SHARDS, walk_due
from shared.services.dunning_policy import current_policy
from shared.services.ports import Change, ChangeRejected, Ledger, SkippedItem, UnreadableRecord

PAGE_SIZE = 100


@dataclass(slots=True)
class RunReport:
    examined: int = 0
    sent: int = 0
    rescheduled: int = 0
    finished: int = 0  # invoices with no reminder left: out of the index
    conflicts: int = 0  # someone else changed the invoice first; the next run looks again
    withheld: int = 0  # the customer is on hold or their address is undeliverable
    complete: bool = True
    # Out of time: where each unfinished shard stands (shard, cursor), for a continuation to pick up.
    remaining: list[tuple[int, str | None]] = field(default_factory=list)
    # Bad items (an invoice that does not read or fails, the stored policy): left as they are, the rest sent.
    skipped: list[SkippedItem] = field(default_factory=list)
    emails: int = 0  # reminder emails queued: one per customer, however many of their invoices were reminded
    to_email: set[str] = field(default_factory=set)  # customers with reminders sent by this run, to email


def run_reminders(
    ledger: Ledger,
    clock: Clock,
    *,
    policy: DunningPolicy | None = None,
    out_of_time: Callable[[], bool] = lambda: False,
    work: Sequence[tuple[int, str | None]] = ALL_SHARDS,
) -> RunReport:
    """Work through `work` (shard, cursor) in order, a page at a time. When time runs short the report's
    `remaining` says where to go on; at least one page is always done, so continuations make progress."""
    now = clock.now()
    report = RunReport()
    in_force = policy or _policy_in_force(ledger, report)  # one read per run
    report.remaining = walk_due(
        work,
        lambda shard, cursor: ledger.due_invoices(shard, now, PAGE_SIZE, cursor),
        lambda invoice: remind_invoice(ledger, in_force, invoice, now, report),
        out_of_time,
        kind="invoice",
        skip=report.skipped.append,
    )
    for customer_id in sorted(report.to_email):
        report.emails += send_reminder_emails(ledger, customer_id, now)
    if work is ALL_SHARDS:  # a scheduled run also emails what a run that died left waiting
        _sweep(ledger, now, report)
    report.complete = not report.remaining
    return report


def send_reminder_emails(ledger: Ledger, customer_id: str, now: datetime) -> int:
    """One email with every reminder of the customer waiting to be emailed (a customer with one gets today's
    single reminder), in one transaction with marking them emailed, so each goes out in exactly one email; a
    run that finds them emailed already (another run, a continuation) sends nothing. More reminders than one
    pay-together link may hold go in as many emails as it takes. How many emails were queued."""
    queued = 0
    lines = ledger.pending_reminder_lines(customer_id)
    while lines:
        batch, lines = lines[:MAX_COMBINED_INVOICES], lines[MAX_COMBINED_INVOICES:]
        first = batch[0]
        if len(batch) == 1:
            r = first.reminder
            email: ReminderEmail | GroupedReminderEmail = ReminderEmail(first.invoice_id, r.step, r.template, r.sent_at)
        else:
            email = GroupedReminderEmail(first.invoice_id, tuple(replace(line, emailed=True) for line in batch))
        emailed = [replace(line, emailed=True) for line in batch]
        try:
            ledger.commit(Change(reminder_lines_emailed=emailed, outbox=[outgoing_email(email, now)]))
        except ChangeRejected:
            return queued  # another run emailed them first
        queued += 1
    return queued


def _sweep(ledger: Ledger, now: datetime, report: RunReport) -> None:
    """Reminder lines a run sent but died before emailing (past their grace): emailed now, per customer."""
    waiting: set[str] = set()
    for shard in range(DUE_WORK_SHARDS):
        cursor: str | None = None
        while True:
            page = ledger.reminder_lines_due(shard, now, PAGE_SIZE, cursor)
            waiting.update(line.customer_id for line in page.items if isinstance(line, ReminderLine))
            report.skipped.extend(item for item in page.items if isinstance(item, SkippedItem))
            cursor = page.next_cursor
            if cursor is None:
                break
    for customer_id in sorted(waiting - report.to_email):
        report.emails += send_reminder_emails(ledger, customer_id, now)


def _policy_in_force(ledger: Ledger, report: RunReport) -> DunningPolicy:
    """The stored policy; one that no longer reads is skipped like any bad item, and the run sends under
    the built-in policy (the one in force before any was stored) rather than sending nothing at all."""
    try:
        return current_policy(ledger)
    except UnreadableRecord as unreadable:
        report.skipped.append(unreadable.skipped)
        return DEFAULT_POLICY


def _after_due(step_key: str) -> bool:
    return int(step_key.split(":", 1)[0]) > 0


def remind_invoice(ledger: Ledger, policy: DunningPolicy, invoice: Invoice, now: datetime, report: RunReport) -> None:
    """Send the reminder due for one invoice, or reschedule it; one guarded transaction."""
    report.examined += 1
    stored = invoice
    reminder = None
    if invoice.hold and not invoice.hold.active_at(now):
        invoice = replace(invoice, hold=None)  # the hold ran out: dunning resumes with the latest step
    if invoice.in_dunning:
        reminder = due_reminder(policy, invoice.due_date, invoice.customer_timezone, invoice.reminders_sent, now)
    write_off = uncollectible_at(policy, invoice.due_date, invoice.customer_timezone)
    if reminder is not None and write_off is not None and reminder.send_at >= write_off:
        reminder = None  # nothing after the write-off: the run then looks at it on that day
    change = Change()
    if invoice.hold and invoice.hold.active_at(now):
        # Paused: look again when the hold ends; an open-ended hold leaves the index until released.
        change.invoice_update = replace(invoice, next_action_at=invoice.hold.until, version=invoice.version + 1)
        outcome = "rescheduled"
    elif invoice.in_dunning and write_off is not None and now >= write_off:
        written_off = replace(
            invoice, status=InvoiceStatus.UNCOLLECTIBLE, next_action_at=None, version=invoice.version + 1
        )
        change.invoice_update = written_off
        change.outbox.append(outgoing_event(EventName.INVOICE_UNCOLLECTIBLE, invoice_event_detail(written_off), now))
        change.audit.append(
            AuditEntry(
                subject=AuditSubject.INVOICE,
                subject_id=invoice.id,
                action="invoice.uncollectible",
                actor="scheduler",
                at=now,
            )
        )
        outcome = "finished"
    elif reminder is None:
        # Nothing left to send: out of the index, unless a write-off is still to come.
        change.invoice_update = replace(
            invoice, next_action_at=write_off if invoice.in_dunning else None, version=invoice.version + 1
        )
        outcome = "finished"
    elif reminder.send_at > now:  # due, but outside the customer's hours: wait for the window
        change.invoice_update = replace(invoice, next_action_at=reminder.send_at, version=invoice.version + 1)
        outcome = "rescheduled"
    else:
        sent = invoice.reminders_sent | {reminder.step.key} | {s.key for s in reminder.skipped}
        following = due_reminder(policy, invoice.due_date, invoice.customer_timezone, sent, now)
        next_at = following.send_at if following else write_off
        if following and write_off and following.send_at >= write_off:
            next_at = write_off
        late_fee, increment = reminder.step.late_fee, chargeable_increment(invoice.currency)
        fee = late_fee.amount_for(invoice.amount_remaining, increment) if late_fee else 0
        charged = invoice.with_late_fee(reminder.step.key, fee)
        if charged is not invoice:
            change.audit.append(
                AuditEntry(
                    subject=AuditSubject.INVOICE,
                    subject_id=invoice.id,
                    action="invoice.late_fee_added",
                    actor="scheduler",
                    at=now,
                    details={"step": reminder.step.key, "amount": fee, "currency": invoice.currency},
                )
            )
        updated = replace(
            charged,
            reminders_sent=sent,
            next_action_at=next_at,
            version=invoice.version + 1,
        )
        change.invoice_update = updated
        change.customer_reachable_at = (invoice.customer_id, now)
        sent_as = ReminderAttribution(reminder.step.key, reminder.step.template, REMINDER_CHANNEL_EMAIL, now)
        # Emailed with the customer's other reminders of this run, in one email (send_reminder_emails)
        change.reminder_lines.append(ReminderLine(invoice.customer_id, invoice.id, sent_as))
        change.tallies.append(reminder_report.reminder_sent(invoice.id, sent_as))
        detail = invoice_event_detail(updated) | {"step": reminder.step.key, "template": reminder.step.template}
        change.outbox.append(outgoing_event(EventName.INVOICE_REMINDER_SENT, detail, now))
        if reminder.step.offset_days > 0 and not any(_after_due(key) for key in invoice.reminders_sent):
            # The first reminder past the due date: other systems learn the invoice is overdue, once.
            change.outbox.append(outgoing_event(EventName.INVOICE_OVERDUE, invoice_event_detail(updated), now))
        change.audit.append(
            AuditEntry(
                subject=AuditSubject.INVOICE,
                subject_id=invoice.id,
                action="invoice.reminder_sent",
                actor="scheduler",
                at=now,
                details={"step": reminder.step.key, "skipped": [s.key for s in reminder.skipped]},
            )
        )
        outcome = "sent"
    try:
        ledger.commit(tallied(change, now, invoice_before=stored))
    except ChangeRejected as rejected:
        if rejected.reason == "customer_paused":
            _withhold(ledger, invoice, now, report)
        else:
            report.conflicts += 1
        return
    if outcome == "sent":
        report.sent += 1
        report.to_email.add(invoice.customer_id)
    elif outcome == "rescheduled":
        report.rescheduled += 1
    else:
        report.finished += 1


def _withhold(ledger: Ledger, invoice: Invoice, now: datetime, report: RunReport) -> None:
    """The customer is on hold or unreachable: send nothing, and look again when the pause ends by itself.
    A pause that lasts until someone acts takes the invoice out of the index; lifting it puts it back
    (`wake_reminders`)."""
    customer = ledger.get_customer(invoice.customer_id)
    if customer is None or not customer.reminders_paused_at(now):
        report.conflicts += 1  # lifted in between: the invoice is still due, the next run sends it
        return
    resume_at = customer.reminders_resume_at(now)
    reason = (
        "customer_erased"
        if customer.erased_at
        else "customer_restricted"
        if customer.restricted_at
        else "email_undeliverable"
        if customer.email_undeliverable
        else "customer_hold"
    )
    change = Change(
        invoice_update=replace(invoice, next_action_at=resume_at, version=invoice.version + 1),
        audit=[
            AuditEntry(
                subject=AuditSubject.INVOICE,
                subject_id=invoice.id,
                action="invoice.reminder_withheld",
                actor="scheduler",
                at=now,
                details={"reason": reason, "until": resume_at.isoformat() if resume_at else None},
            )
        ],
    )
    try:
        ledger.commit(change)
    except ChangeRejected:
        report.conflicts += 1
        return
    report.withheld += 1
