"""The operator's dunning policy: stored once, read by invoice creation and by every dunning run."""

from __future__ import annotations

from shared.clock import Clock
from shared.domain.dunning import DEFAULT_POLICY, DunningPolicy
from shared.domain.records import DUNNING_POLICY_ID, AuditEntry, AuditSubject
from shared.services.ports import Change, Ledger


def current_policy(ledger: Ledger) -> DunningPolicy:
    return ledger.get_dunning_policy() or DEFAULT_POLICY


def replace_policy(ledger: Ledger, clock: Clock, policy: DunningPolicy, *, actor: str) -> DunningPolicy:
    """Takes effect for each invoice the next time the dunning run looks at it."""
    audit = AuditEntry(
        subject=AuditSubject.DUNNING_POLICY,
        subject_id=DUNNING_POLICY_ID,
        action="dunning_policy.replaced",
        actor=actor,
        at=clock.now(),
        details={"steps": [s.key for s in policy.steps], "window": f"{policy.window_start}-{policy.window_end}"},
    )
    ledger.commit(Change(dunning_policy=policy, audit=[audit]))
    return policy
