"""The console's Dunning policy page: the policy in force for everyone to read, the admin's edit of it,
validated as `PUT /v1/dunning-policy` validates it (the same model, shared.dunning_policy_model), and a preview
of what a sample invoice would receive and when (the dunning run's own schedule, planned_reminders).

A form carries the revision of the policy it was loaded with: saved over a policy changed since, it is refused
(dunning_policy.StalePolicy, a 409 page) rather than overwriting someone else's change; the write itself is
conditional on that revision, so an edit saved in between is not overwritten either. The same form posted again
(a double click) changes nothing and is not refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.clock import Clock
from shared.domain.console_roles import Action, allowed_actions, require
from shared.domain.console_session import ConsoleSession
from shared.domain.dunning import DunningPolicy, DunningStep, planned_reminders, policy_revision, uncollectible_at
from shared.domain.errors import DomainError
from shared.domain.money import normalise_currency, parse_major_amount
from shared.domain.records import REMINDER_CHANNEL_EMAIL
from shared.domain.stripe_amounts import chargeable_increment
from shared.services import dunning_policy
from shared.services.ports import Ledger

if TYPE_CHECKING:
    from pydantic import ValidationError

MAX_STEPS: Final = 20  # as the operator API allows (DunningPolicyModel)
STEP_ROWS: Final = MAX_STEPS + 2  # the form's rows: the steps in force and two blank ones to add (at most 20 filled)
FORM_FIELDS: Final = STEP_ROWS * 5 + 20  # what parse_qs may read of the policy form; the rest is refused
SAMPLE_AMOUNT: Final = "100.00"
SAMPLE_CURRENCY: Final = "USD"
SAMPLE_DUE_IN_DAYS: Final = 14
STAFF_LOCALE: Final = "en"  # how staff type amounts: 1234.56
FEE_KINDS: Final = ("none", "fixed", "percent")
_INTEGER = re.compile(r"-?[0-9]{1,9}")
_FIELD_MAX = 40  # a value echoed back into the form, at most this long
# A sample's due date as the operator API takes an invoice's (NewInvoice): its schedule stays inside a date.
SAMPLE_EARLIEST: Final = date(2000, 1, 1)
SAMPLE_LATEST: Final = date(2099, 12, 31)


@dataclass(frozen=True, slots=True)
class StepFields:
    """One row of the form, as typed (or as the policy in force has it)."""

    offset_days: str = ""
    template: str = "overdue"
    fee_kind: str = "none"
    fee: str = ""  # minor units for a fixed fee, a decimal string for a percentage
    fee_cap: str = ""  # minor units

    @property
    def blank(self) -> bool:
        return not self.offset_days and not self.fee and not self.fee_cap


@dataclass(frozen=True, slots=True)
class PolicyFields:
    steps: tuple[StepFields, ...]
    window_start: str = "09:00"
    window_end: str = "18:00"
    mark_uncollectible_after_days: str = ""
    installments_max: str = ""
    installments_min_amount: str = ""
    installments_frequencies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SampleFields:
    amount: str
    currency: str
    due_date: str
    timezone: str


@dataclass(frozen=True, slots=True)
class PlannedLine:
    step: DunningStep
    send_at: datetime  # UTC
    local_send_at: datetime  # in the sample customer's zone
    channel: str
    fee: int  # minor units the step's late fee adds, 0 without one
    owed_after: int  # what the invoice owes once it is sent
    skipped: tuple[DunningStep, ...]  # earlier steps it overtakes (the sample's due date is in the past)


@dataclass(frozen=True, slots=True)
class Preview:
    amount: int
    currency: str
    due_date: date
    timezone: str
    lines: list[PlannedLine]
    written_off_at: datetime | None  # local, in the sample's zone


@dataclass(frozen=True, slots=True)
class PolicyView:
    fields: PolicyFields  # what the form shows
    in_force: DunningPolicy  # the stored policy (or the default)
    revision: str  # the in-force policy's revision, carried by the form
    sample: SampleFields
    preview: Preview | None  # of the edited policy after a preview post, else of the one in force
    problems: list[str] = field(default_factory=list)
    actions: frozenset[Action] = frozenset()
    edited: bool = False  # the preview is of the form's policy, not yet saved


@dataclass(frozen=True, slots=True)
class Submitted:
    """What a post did: saved (then the page reloads) or a view to show (a preview, or the form's problems)."""

    saved: bool
    view: PolicyView | None = None


def policy_page(ledger: Ledger, clock: Clock, session: ConsoleSession, query: Mapping[str, list[str]]) -> PolicyView:
    """The policy in force and its preview for the sample in the query (or the default sample); any role."""
    require(session.roles, Action.VIEW)
    in_force = dunning_policy.current_policy(ledger)
    sample = _sample_fields(query, clock)
    problems: list[str] = []
    preview = _preview(in_force, sample, clock, problems)
    return PolicyView(
        fields=fields_of(in_force), in_force=in_force, revision=policy_revision(in_force), sample=sample,
        preview=preview, problems=problems, actions=allowed_actions(session.roles),
    )  # fmt: skip


def submit_policy(ledger: Ledger, clock: Clock, session: ConsoleSession, form: Mapping[str, list[str]]) -> Submitted:
    """The admin's form: `intent=preview` shows what the edited policy would do; `intent=save` stores it,
    audited as the admin, unless it was loaded before the policy in force changed (StalePolicy)."""
    require(session.roles, Action.EDIT_DUNNING_POLICY)
    in_force = dunning_policy.current_policy(ledger)
    fields, sample = _policy_fields(form), _sample_fields(form, clock)
    problems: list[str] = []
    edited = parse_policy(fields, problems)
    preview = _preview(edited, sample, clock, problems) if edited is not None else None
    intent = _one(form, "intent")
    if edited is not None and not problems and intent == "save":
        if edited == in_force:
            return Submitted(saved=True)  # nothing to change (a second post of the same form, say)
        over = _one(form, "revision")
        dunning_policy.replace_policy(ledger, clock, edited, actor=session.actor, over_revision=over)
        return Submitted(saved=True)
    if intent not in ("save", "preview"):
        problems.append("choose Preview or Save")
    view = PolicyView(
        fields=fields, in_force=in_force, revision=_one(form, "revision")[:_FIELD_MAX], sample=sample,
        preview=preview, problems=problems, actions=allowed_actions(session.roles), edited=True,
    )  # fmt: skip
    return Submitted(saved=False, view=view)


def fields_of(policy: DunningPolicy) -> PolicyFields:
    """The form's fields for a policy: each step, then two blank rows to add steps."""

    def row(step: DunningStep) -> StepFields:
        fee = step.late_fee
        if fee is None:
            return StepFields(str(step.offset_days), step.template)
        kind = "fixed" if fee.fixed is not None else "percent"
        amount = str(fee.fixed) if fee.fixed is not None else str(fee.percent)
        return StepFields(str(step.offset_days), step.template, kind, amount, "" if fee.cap is None else str(fee.cap))

    rows = [row(step) for step in policy.steps]
    rows += [StepFields()] * (min(STEP_ROWS, len(rows) + 2) - len(rows))
    offer = policy.default_installments
    return PolicyFields(
        steps=tuple(rows),
        window_start=policy.window_start.isoformat("minutes"),
        window_end=policy.window_end.isoformat("minutes"),
        mark_uncollectible_after_days=str(policy.mark_uncollectible_after_days or ""),
        installments_max=str(offer.max_installments) if offer else "",
        installments_min_amount=str(offer.min_installment_amount) if offer else "",
        installments_frequencies=tuple(f.value for f in offer.frequencies) if offer else (),
    )


def parse_policy(fields: PolicyFields, problems: list[str]) -> DunningPolicy | None:
    """The form's policy through the operator API's model, or None with what is wrong added to `problems`."""
    # lazy: pydantic (about 0.3 s) loads for this form only, not at every cold start of the console
    from pydantic import ValidationError

    from shared.dunning_policy_model import DunningPolicyModel, policy_in

    rows = [(number, row) for number, row in enumerate(fields.steps, start=1) if not row.blank]
    steps: list[dict[str, Any]] = []
    for _, row in rows:
        late_fee: dict[str, Any] | None = None
        if row.fee_kind == "fixed":
            late_fee = {"fixed": _integer(row.fee), "cap": _integer(row.fee_cap) if row.fee_cap else None}
        elif row.fee_kind == "percent":
            late_fee = {"percent": row.fee, "cap": _integer(row.fee_cap) if row.fee_cap else None}
        elif row.fee_kind != "none" or row.fee or row.fee_cap:
            late_fee = {}  # a fee typed without its kind, or an unknown kind: the model says what is missing
        steps.append({"offset_days": _integer(row.offset_days), "template": row.template, "late_fee": late_fee})
    document: dict[str, Any] = {
        "steps": steps,
        "window_start": fields.window_start,
        "window_end": fields.window_end,
        "mark_uncollectible_after_days": _integer(fields.mark_uncollectible_after_days)
        if fields.mark_uncollectible_after_days
        else None,
    }
    if fields.installments_max or fields.installments_min_amount:
        document["default_installments"] = {
            "max_installments": _integer(fields.installments_max),
            "min_installment_amount": _integer(fields.installments_min_amount),
            "frequencies": list(fields.installments_frequencies),
        }
    try:
        return policy_in(DunningPolicyModel.model_validate(document))
    except ValidationError as invalid:
        problems.extend(_said(invalid, [number for number, _ in rows]))
    except DomainError as refused:
        problems.append(refused.message)
    return None


def _said(invalid: ValidationError, row_numbers: list[int]) -> list[str]:
    """Pydantic's complaints, each naming the form's row and field as the page labels them."""
    said = []
    for error in invalid.errors(include_url=False, include_input=False):
        where: list[str] = []
        location = list(error["loc"])
        if location[:1] == ["steps"] and len(location) > 1 and isinstance(location[1], int):
            where.append(f"step {row_numbers[location[1]]}")
            location = location[2:]
        elif location[:1] == ["steps"]:
            where.append("steps")
            location = location[1:]
        where += [str(part).replace("_", " ") for part in location if not isinstance(part, int)]
        message = str(error["msg"]).removeprefix("Value error, ")
        said.append(f"{', '.join(where)}: {message}" if where else message)
    return said


def _integer(text: str) -> int | str:
    """A whole number as typed; anything else is left as text for the model to refuse with its own words."""
    return int(text) if _INTEGER.fullmatch(text) else text


def _one(form: Mapping[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0].strip()


def _policy_fields(form: Mapping[str, list[str]]) -> PolicyFields:
    def row(number: int) -> StepFields:
        def get(name: str) -> str:
            return _one(form, f"steps-{number}-{name}")[:_FIELD_MAX]

        return StepFields(get("offset_days"), get("template"), get("fee_kind") or "none", get("fee"), get("fee_cap"))

    return PolicyFields(
        steps=tuple(row(number) for number in range(STEP_ROWS)),
        window_start=_one(form, "window_start")[:_FIELD_MAX],
        window_end=_one(form, "window_end")[:_FIELD_MAX],
        mark_uncollectible_after_days=_one(form, "mark_uncollectible_after_days")[:_FIELD_MAX],
        installments_max=_one(form, "installments_max")[:_FIELD_MAX],
        installments_min_amount=_one(form, "installments_min_amount")[:_FIELD_MAX],
        installments_frequencies=tuple(v.strip()[:_FIELD_MAX] for v in form.get("installments_frequencies", [])),
    )


def _sample_fields(form: Mapping[str, list[str]], clock: Clock) -> SampleFields:
    due = (clock.now().date() + timedelta(days=SAMPLE_DUE_IN_DAYS)).isoformat()
    return SampleFields(
        amount=_one(form, "sample_amount")[:_FIELD_MAX] or SAMPLE_AMOUNT,
        currency=_one(form, "sample_currency")[:_FIELD_MAX] or SAMPLE_CURRENCY,
        due_date=_one(form, "sample_due_date")[:_FIELD_MAX] or due,
        timezone=_one(form, "sample_timezone")[:_FIELD_MAX] or "UTC",
    )


def _preview(policy: DunningPolicy, sample: SampleFields, clock: Clock, problems: list[str]) -> Preview | None:
    """What an unpaid invoice like the sample gets from now on: each reminder with its late fee, then the
    write-off. A sample the page cannot read adds its problem and previews nothing."""
    try:
        currency = normalise_currency(sample.currency)
        amount = parse_major_amount(sample.amount, currency, STAFF_LOCALE)
    except DomainError as refused:
        problems.append(f"sample invoice: {refused.message}")
        return None
    try:
        due_date = date.fromisoformat(sample.due_date)
    except ValueError:
        due_date = None
    if due_date is None or not SAMPLE_EARLIEST <= due_date <= SAMPLE_LATEST:
        problems.append(f"sample invoice: the due date must be a date from {SAMPLE_EARLIEST} to {SAMPLE_LATEST}")
        return None
    try:
        zone = ZoneInfo(sample.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append("sample invoice: the time zone must be an IANA name such as Europe/Berlin")
        return None
    increment, owed, lines = chargeable_increment(currency), amount, []
    for reminder in planned_reminders(policy, due_date, sample.timezone, clock.now()):
        fee = reminder.step.late_fee.amount_for(owed, increment) if reminder.step.late_fee else 0
        owed += fee
        line = PlannedLine(
            step=reminder.step, send_at=reminder.send_at, local_send_at=reminder.send_at.astimezone(zone),
            channel=REMINDER_CHANNEL_EMAIL, fee=fee, owed_after=owed, skipped=reminder.skipped,
        )  # fmt: skip
        lines.append(line)
    write_off = uncollectible_at(policy, due_date, sample.timezone)
    return Preview(
        amount=amount, currency=currency, due_date=due_date, timezone=sample.timezone, lines=lines,
        written_off_at=write_off.astimezone(zone) if write_off else None,
    )  # fmt: skip
