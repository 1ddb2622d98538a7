"""The console's role policy, per role and action: what the issue grants each role, and nothing more."""

from __future__ import annotations

import pytest

from shared.domain.console_roles import (
    POLICY,
    Action,
    ActionForbidden,
    Role,
    allowed,
    allowed_actions,
    require,
    roles_from_groups,
)

COLLECTOR_ACTIONS = {
    Action.VIEW,
    Action.PLACE_HOLD,
    Action.RELEASE_HOLD,
    Action.NOTE_PROMISE,
    Action.RESEND_PAY_LINK,
    Action.REVOKE_PAY_LINK,
    Action.RECORD_PAYMENT,
    Action.ADD_NOTE,
    Action.REPLAY_STRIPE_EVENT,  # not placed by the issue: decision 77
    Action.DISABLE_AUTOPAY,  # not placed by the issue: decision 89
    Action.IMPORT,  # issue 13's Import page, the collector's and the admin's: decision 94
}
EXPECTED = {
    Role.VIEWER: {Action.VIEW},
    Role.COLLECTOR: COLLECTOR_ACTIONS,
    Role.ADMIN: set(Action),
}


def test_every_action_has_a_rule() -> None:
    assert set(POLICY) == set(Action)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_each_role_may_do_exactly_what_the_issue_grants(role: Role, action: Action) -> None:
    # Given a staff member with one role, When they attempt the action, Then it is allowed iff granted.
    expected = action in EXPECTED[role]
    assert allowed({role}, action) is expected
    if expected:
        require({role}, action)
    else:
        with pytest.raises(ActionForbidden):
            require({role}, action)


@pytest.mark.parametrize("action", [Action.REFUND, Action.VOID, Action.CREDIT_NOTE, Action.CORRECT_INVOICE])
def test_a_collector_cannot_move_money_back_or_change_what_is_owed(action: Action) -> None:
    assert not allowed({Role.COLLECTOR}, action)


def test_no_role_allows_nothing_not_even_reading() -> None:
    assert allowed_actions(frozenset()) == frozenset()
    with pytest.raises(ActionForbidden):
        require(frozenset(), Action.VIEW)


def test_several_groups_grant_the_union() -> None:
    assert allowed_actions({Role.VIEWER, Role.COLLECTOR}) == COLLECTOR_ACTIONS


def test_unknown_groups_grant_nothing() -> None:
    assert roles_from_groups(["Admin", "admins", "collector", "us-east-1_abc_Google"]) == {Role.COLLECTOR}
