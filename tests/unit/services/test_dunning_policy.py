"""The operator's dunning policy: the default until one is stored, replaced with an audit entry."""

from __future__ import annotations

from datetime import time

import pytest

from shared.domain.dunning import DEFAULT_POLICY, DunningPolicy, DunningStep, LateFee, policy_revision
from shared.domain.records import DUNNING_POLICY_ID, AuditSubject
from shared.services.dunning_policy import StalePolicy, current_policy, replace_policy
from tests.fakes import FixedClock, InMemoryLedger
from tests.fakes.records import NOW


def test_the_default_policy_applies_until_one_is_stored() -> None:
    assert current_policy(InMemoryLedger()) is DEFAULT_POLICY


def test_a_replaced_policy_is_read_back_and_audited() -> None:
    # Given the default policy
    ledger = InMemoryLedger()
    policy = DunningPolicy(
        steps=(DunningStep(3, "overdue", LateFee(fixed=500)), DunningStep(0, "due_today")),
        window_start=time(8),
        window_end=time(20),
        mark_uncollectible_after_days=60,
    )
    # When the operator replaces it
    replace_policy(ledger, FixedClock(NOW), policy, actor="operator:acme")
    # Then every later read gets it, and the audit says who changed what
    assert current_policy(ledger) == policy
    [audit] = ledger.audit
    assert (audit.subject, audit.subject_id, audit.action, audit.actor) == (
        AuditSubject.DUNNING_POLICY,
        DUNNING_POLICY_ID,
        "dunning_policy.replaced",
        "operator:acme",
    )
    assert audit.details == {"steps": ["+0:due_today", "+3:overdue"], "window": "08:00:00-20:00:00"}


def test_an_edit_saved_over_a_revision_no_longer_in_force_is_refused_and_nothing_written() -> None:
    # Given an edit begun on the default policy, and meanwhile another policy saved
    ledger = InMemoryLedger()
    theirs = DunningPolicy(steps=(DunningStep(5, "overdue"),))
    replace_policy(ledger, FixedClock(NOW), theirs, actor="operator:acme")
    mine = DunningPolicy(steps=(DunningStep(-3, "upcoming"),))
    # When the edit is saved over the default's revision, Then it is refused, and theirs stays with its one entry
    with pytest.raises(StalePolicy):
        over = policy_revision(DEFAULT_POLICY)
        replace_policy(ledger, FixedClock(NOW), mine, actor="staff:sub-1:ada", over_revision=over)
    assert current_policy(ledger) == theirs and len(ledger.audit) == 1
    # Over the revision in force, it is saved
    replace_policy(ledger, FixedClock(NOW), mine, actor="staff:sub-1:ada", over_revision=policy_revision(theirs))
    assert current_policy(ledger) == mine
