"""The operator's dunning policy: stored once, read by invoice creation and by every dunning run."""

from __future__ import annotations

from shared.clock import Clock
from shared.domain.dunning import DEFAULT_POLICY, DunningPolicy, policy_revision
from shared.domain.errors import DomainError
from shared.domain.records import DUNNING_POLICY_ID, AuditEntry, AuditSubject
from shared.services.ports import Change, ChangeRejected, Ledger, PolicyReplacement, Rejection


class StalePolicy(DomainError):
    """The policy changed since the edit began: saving it would overwrite that change unseen."""

    code = "stale_policy"


def current_policy(ledger: Ledger) -> DunningPolicy:
    return ledger.get_dunning_policy() or DEFAULT_POLICY


def replace_policy(
    ledger: Ledger, clock: Clock, policy: DunningPolicy, *, actor: str, over_revision: str | None = None
) -> DunningPolicy:
    """Takes effect for each invoice the next time the dunning run looks at it. With `over_revision` (an edit
    of the policy at that revision), only if the policy in force is still that one: else StalePolicy, and
    nothing is written."""
    if over_revision is not None and policy_revision(current_policy(ledger)) != over_revision:
        raise StalePolicy("the dunning policy changed since this edit began")
    audit = AuditEntry(
        subject=AuditSubject.DUNNING_POLICY,
        subject_id=DUNNING_POLICY_ID,
        action="dunning_policy.replaced",
        actor=actor,
        at=clock.now(),
        details={"steps": [s.key for s in policy.steps], "window": f"{policy.window_start}-{policy.window_end}"},
    )
    if over_revision is None:
        ledger.commit(Change(dunning_policy=policy, audit=[audit]))
        return policy
    try:  # the stored revision checked again in the write itself: an edit saved in between is not overwritten
        ledger.commit(Change(dunning_policy_replacement=PolicyReplacement(policy, over_revision), audit=[audit]))
    except ChangeRejected as rejected:
        if rejected.reason is not Rejection.STALE_POLICY:
            raise
        raise StalePolicy("the dunning policy changed since this edit began") from None
    return policy
