"""The console's Dunning policy page over the in-memory ledger: everyone reads the policy and previews a sample
invoice; only an admin saves, validated as the operator API validates, audited as the admin; a form loaded before
the policy changed is refused, not saved over the change."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from shared.domain.console_roles import ActionForbidden, Role
from shared.domain.dunning import DEFAULT_POLICY, DunningPolicy, DunningStep, LateFee
from shared.domain.records import AuditSubject
from shared.services import console_policy
from shared.services.dunning_policy import StalePolicy, current_policy, replace_policy
from tests.fakes import FixedClock, InMemoryLedger
from tests.fakes.records import a_staff_session as staff

CLOCK = FixedClock(datetime(2027, 3, 1, 12, tzinfo=UTC))
ACTOR = "staff:sub-1:ada@example.com"


def form_of(policy: DunningPolicy, revision: str, **changes: str) -> dict[str, list[str]]:
    """The admin's form as the page fills it for `policy`, with `changes` typed over it."""
    fields = console_policy.fields_of(policy)
    form: dict[str, list[str]] = {
        "revision": [revision],
        "window_start": [fields.window_start],
        "window_end": [fields.window_end],
        "mark_uncollectible_after_days": [fields.mark_uncollectible_after_days],
        "installments_max": [fields.installments_max],
        "installments_min_amount": [fields.installments_min_amount],
        "installments_frequencies": list(fields.installments_frequencies),
        "intent": ["save"],
    }
    for number, row in enumerate(fields.steps):
        form |= {
            f"steps-{number}-offset_days": [row.offset_days],
            f"steps-{number}-template": [row.template],
            f"steps-{number}-fee_kind": [row.fee_kind],
            f"steps-{number}-fee": [row.fee],
            f"steps-{number}-fee_cap": [row.fee_cap],
        }
    return form | {name: [value] for name, value in changes.items()}


def loaded(ledger: InMemoryLedger) -> str:
    return console_policy.policy_page(ledger, CLOCK, staff(Role.ADMIN), {}).revision


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_policy_in_force_and_previews_a_sample_invoice(role: Role) -> None:
    # Given the default policy, when a sample of 100.00 USD due 2027-03-15 in New York is previewed
    query = {"sample_amount": ["100.00"], "sample_due_date": ["2027-03-15"], "sample_timezone": ["America/New_York"]}
    view = console_policy.policy_page(InMemoryLedger(), CLOCK, staff(role), query)
    # Then it shows each step at 09:00 of its local day, by email, and no write-off
    assert view.in_force == DEFAULT_POLICY and not view.problems and view.preview is not None
    shown = [(line.step.key, line.local_send_at.strftime("%m-%d %H:%M"), line.channel) for line in view.preview.lines]
    assert shown == [
        ("-7:upcoming", "03-08 09:00", "email"), ("+0:due_today", "03-15 09:00", "email"),
        ("+3:overdue", "03-18 09:00", "email"), ("+7:overdue", "03-22 09:00", "email"),
        ("+14:overdue", "03-29 09:00", "email"), ("+30:final_notice", "04-14 09:00", "email"),
    ]  # fmt: skip
    assert view.preview.written_off_at is None
    assert ("edit_dunning_policy" in view.actions) is (role is Role.ADMIN)


def test_the_preview_adds_each_late_fee_to_what_is_owed_and_stops_at_the_write_off() -> None:
    ledger = InMemoryLedger()
    policy = DunningPolicy(
        steps=(DunningStep(3, "overdue", LateFee(fixed=500)), DunningStep(10, "overdue", LateFee(percent="1.5")),
               DunningStep(40, "final_notice")),
        mark_uncollectible_after_days=30,
    )  # fmt: skip
    replace_policy(ledger, CLOCK, policy, actor="operator:test")
    query = {"sample_amount": ["200.00"], "sample_due_date": ["2027-03-15"]}
    preview = console_policy.policy_page(ledger, CLOCK, staff(Role.VIEWER), query).preview
    assert preview is not None
    # 5.00, then 1.5% of 205.00 = 3.075, half up to 3.08; the final notice (day 40) falls after the write-off
    assert [(line.fee, line.owed_after) for line in preview.lines] == [(500, 20_500), (308, 20_808)]
    assert preview.written_off_at == datetime(2027, 4, 14, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sample", "problem"),
    [
        ({"sample_amount": ["ten"]}, "sample invoice:"),
        ({"sample_currency": ["XYZ"]}, "sample invoice: 'XYZ' is not an ISO 4217 currency code"),
        ({"sample_due_date": ["9999-12-31"]}, "the due date must be a date from 2000-01-01 to 2099-12-31"),
        ({"sample_due_date": ["soon"]}, "the due date must be a date"),
        ({"sample_timezone": ["../../etc/passwd"]}, "the time zone must be an IANA name"),
        ({"sample_timezone": ["Mars/Olympus"]}, "the time zone must be an IANA name"),
    ],
)
def test_a_sample_the_page_cannot_read_is_said_and_previews_nothing(sample: dict[str, list[str]], problem: str) -> None:
    view = console_policy.policy_page(InMemoryLedger(), CLOCK, staff(Role.VIEWER), sample)
    assert view.preview is None and len(view.problems) == 1 and problem in view.problems[0]


def test_an_admin_saves_an_edited_policy_audited_as_them() -> None:
    ledger = InMemoryLedger()
    edits = {
        "steps-2-fee_kind": "fixed", "steps-2-fee": "750", "steps-6-offset_days": "60",
        "steps-6-template": "final_notice", "steps-0-offset_days": "", "window_start": "08:30",
        "mark_uncollectible_after_days": "90",
    }  # fmt: skip
    form = form_of(DEFAULT_POLICY, loaded(ledger), **edits)

    submitted = console_policy.submit_policy(ledger, CLOCK, staff(Role.ADMIN), form)

    # Then the policy in force has the change: step 1 removed, a fee on +3, a new step at +60
    assert submitted.saved and submitted.view is None
    stored = current_policy(ledger)
    assert [s.key for s in stored.steps] == ["+0:due_today", "+3:overdue", "+7:overdue", "+14:overdue",
                                             "+30:final_notice", "+60:final_notice"]  # fmt: skip
    assert stored.steps[1].late_fee == LateFee(fixed=750)
    assert (stored.window_start, stored.mark_uncollectible_after_days) == (time(8, 30), 90)
    [entry] = [a for a in ledger.audit if a.subject is AuditSubject.DUNNING_POLICY]
    assert (entry.action, entry.actor) == ("dunning_policy.replaced", ACTOR)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.COLLECTOR])
def test_a_viewer_or_a_collector_cannot_save_or_preview_an_edit(role: Role) -> None:
    ledger = InMemoryLedger()
    form = form_of(DEFAULT_POLICY, loaded(ledger), **{"steps-0-offset_days": "-3"})
    with pytest.raises(ActionForbidden):
        console_policy.submit_policy(ledger, CLOCK, staff(role), form)
    assert ledger.get_dunning_policy() is None and ledger.audit == []


def test_a_form_loaded_before_the_policy_changed_is_refused_and_the_change_kept() -> None:
    # Given an admin's form loaded over the default policy
    ledger = InMemoryLedger()
    form = form_of(DEFAULT_POLICY, loaded(ledger), **{"steps-0-offset_days": "-3"})
    # And meanwhile the operator API replaces the policy
    theirs = DunningPolicy(steps=(DunningStep(5, "overdue"),))
    replace_policy(ledger, CLOCK, theirs, actor="operator:acme")
    # When the admin saves the stale form, then it is refused, and their change stays in force
    with pytest.raises(StalePolicy):
        console_policy.submit_policy(ledger, CLOCK, staff(Role.ADMIN), form)
    assert current_policy(ledger) == theirs


def test_the_same_form_saved_twice_saves_once() -> None:
    ledger = InMemoryLedger()
    form = form_of(DEFAULT_POLICY, loaded(ledger), **{"steps-0-offset_days": "-3"})
    assert console_policy.submit_policy(ledger, CLOCK, staff(Role.ADMIN), form).saved
    # A double click: its revision is stale now, but it asks for what is in force: nothing more is written
    assert console_policy.submit_policy(ledger, CLOCK, staff(Role.ADMIN), form).saved
    assert len([a for a in ledger.audit if a.subject is AuditSubject.DUNNING_POLICY]) == 1


def test_a_preview_shows_the_edited_policy_and_saves_nothing() -> None:
    ledger = InMemoryLedger()
    edits = {"intent": "preview", "steps-1-fee_kind": "percent", "steps-1-fee": "2", "sample_amount": "50.00"}
    form = form_of(DEFAULT_POLICY, loaded(ledger), **edits)
    submitted = console_policy.submit_policy(ledger, CLOCK, staff(Role.ADMIN), form)
    assert not submitted.saved and submitted.view is not None and submitted.view.edited
    assert submitted.view.preview is not None and [line.fee for line in submitted.view.preview.lines][:2] == [0, 100]
    assert ledger.get_dunning_policy() is None and ledger.audit == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"steps-1-offset_days": "-7"}, "two steps have the same offset_days"),
        ({"steps-1-offset_days": "400"}, "step 2, offset days: Input should be less than or equal to 365"),
        ({"steps-1-offset_days": "3.5"}, "step 2, offset days: Input should be a valid integer"),
        ({"steps-1-template": "<script>"}, "step 2, template: Input should be 'upcoming'"),
        ({"steps-1-fee_kind": "fixed", "steps-1-fee": "-5"}, "step 2, late fee, fixed: Input should be greater than 0"),
        ({"steps-1-fee_kind": "fixed", "steps-1-fee": "1.50"}, "step 2, late fee, fixed: Input should be a valid"),
        ({"steps-1-fee_kind": "percent", "steps-1-fee": "1e2"}, "step 2, late fee, percent: String should match"),
        ({"steps-1-fee_kind": "percent", "steps-1-fee": "150"}, "percent must be more than 0 and at most 100"),
        ({"steps-1-fee_kind": "none", "steps-1-fee": "500"}, "a late fee has either fixed or percent"),
        ({"steps-1-fee_kind": "bitcoin", "steps-1-fee": "5"}, "a late fee has either fixed or percent"),
        ({"window_start": "18:00", "window_end": "09:00"}, "window_start must be before window_end"),
        ({"window_start": "09:00+02:00"}, 'without a UTC offset'),
        ({"mark_uncollectible_after_days": "0"}, "mark uncollectible after days: Input should be greater than or"),
        ({"installments_max": "30", "installments_min_amount": "1000"}, "default installments, max installments"),
        ({"installments_max": "3", "installments_min_amount": "1000", "installments_frequencies": "daily"},
         "default installments, frequencies: Input should be 'weekly', 'biweekly' or 'monthly'"),
    ],
)  # fmt: skip
def test_a_policy_the_operator_api_would_refuse_is_refused_with_its_reasons_and_nothing_saved(
    changes: dict[str, str], problem: str
) -> None:
    ledger = InMemoryLedger()
    form = form_of(DEFAULT_POLICY, loaded(ledger), **changes)
    submitted = console_policy.submit_policy(ledger, CLOCK, staff(Role.ADMIN), form)
    assert not submitted.saved and submitted.view is not None
    assert any(problem in said for said in submitted.view.problems), submitted.view.problems
    assert ledger.get_dunning_policy() is None and ledger.audit == []


def test_every_step_removed_is_refused() -> None:
    ledger = InMemoryLedger()
    form = form_of(DEFAULT_POLICY, loaded(ledger), **{f"steps-{n}-offset_days": "" for n in range(6)})
    view = console_policy.submit_policy(ledger, CLOCK, staff(Role.ADMIN), form).view
    assert view is not None and view.problems == ["steps: List should have at least 1 item after validation, not 0"]


def test_more_than_twenty_steps_are_refused() -> None:
    ledger = InMemoryLedger()
    many = {f"steps-{n}-offset_days": str(n - 5) for n in range(console_policy.STEP_ROWS)}
    form = form_of(DEFAULT_POLICY, loaded(ledger), **many)
    form |= {f"steps-{n}-template": ["overdue"] for n in range(console_policy.STEP_ROWS)}
    view = console_policy.submit_policy(ledger, CLOCK, staff(Role.ADMIN), form).view
    assert view is not None and any("at most 20 items" in said for said in view.problems)
