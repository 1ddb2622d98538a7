"""Who on the finance staff may do what in the console: one table, checked on the server for every action.

Roles are the Cognito groups a staff member belongs to. A group this module does not know grants nothing;
several groups grant what each grants. The operator API (IAM) is not gated here: IAM policies gate it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Final

from shared.domain.errors import DomainError


class Role(StrEnum):
    VIEWER = "viewer"  # reads everything
    COLLECTOR = "collector"  # chases: holds, promises, pay links, payments received outside Stripe, notes
    ADMIN = "admin"  # also moves money back and changes what is owed, the dunning policy and users


class Action(StrEnum):
    VIEW = "view"
    PLACE_HOLD = "place_hold"
    RELEASE_HOLD = "release_hold"
    NOTE_PROMISE = "note_promise"
    RESEND_PAY_LINK = "resend_pay_link"
    REVOKE_PAY_LINK = "revoke_pay_link"
    RECORD_PAYMENT = "record_payment"
    ADD_NOTE = "add_note"
    REFUND = "refund"
    VOID = "void"
    CREDIT_NOTE = "credit_note"
    CORRECT_INVOICE = "correct_invoice"
    EDIT_DUNNING_POLICY = "edit_dunning_policy"
    MANAGE_USERS = "manage_users"
    # Not placed by the issue. A replay applies only what Stripe says happened, through the webhook's own
    # checks (a mismatch is flagged again), so it is a collector's, like recording money received (decision 77).
    REPLAY_STRIPE_EVENT = "replay_stripe_event"
    # Bulk import of customers and invoices: the collector's and the admin's (decision 94; it adds what is
    # owed, as the operator's systems do, and changes nothing stored: a row stored differently is rejected).
    IMPORT = "import"
    # Not placed by the issue (decision 89). Turning autopay off only stops automatic charges: the invoices go
    # back to reminders and the pay page, nothing owed changes, so it is a collector's, like a hold.
    DISABLE_AUTOPAY = "disable_autopay"
    # Not placed by the issue (decision 89). A new address sends every later email (pay links, receipts)
    # elsewhere, so correcting who a customer is goes with correcting what they owe: the admin's.
    CORRECT_CUSTOMER = "correct_customer"
    # Issue 17: erasure is the admin's (with a confirm step); so is restriction, which stops reminders for good
    # until lifted (decision 132).
    ERASE_CUSTOMER = "erase_customer"
    RESTRICT_CUSTOMER = "restrict_customer"


_EVERYONE: Final = frozenset(Role)
_COLLECTORS: Final = frozenset({Role.COLLECTOR, Role.ADMIN})
_ADMINS: Final = frozenset({Role.ADMIN})

POLICY: Final[Mapping[Action, frozenset[Role]]] = {
    Action.VIEW: _EVERYONE,
    Action.PLACE_HOLD: _COLLECTORS,
    Action.RELEASE_HOLD: _COLLECTORS,
    Action.NOTE_PROMISE: _COLLECTORS,
    Action.RESEND_PAY_LINK: _COLLECTORS,
    Action.REVOKE_PAY_LINK: _COLLECTORS,
    Action.RECORD_PAYMENT: _COLLECTORS,
    Action.ADD_NOTE: _COLLECTORS,
    Action.REFUND: _ADMINS,
    Action.VOID: _ADMINS,
    Action.CREDIT_NOTE: _ADMINS,
    Action.CORRECT_INVOICE: _ADMINS,
    Action.EDIT_DUNNING_POLICY: _ADMINS,
    Action.MANAGE_USERS: _ADMINS,
    Action.REPLAY_STRIPE_EVENT: _COLLECTORS,
    Action.IMPORT: _COLLECTORS,
    Action.DISABLE_AUTOPAY: _COLLECTORS,
    Action.CORRECT_CUSTOMER: _ADMINS,
    Action.ERASE_CUSTOMER: _ADMINS,
    Action.RESTRICT_CUSTOMER: _ADMINS,
}


class ActionForbidden(DomainError):
    """The signed-in staff member's roles do not allow this action."""

    code = "forbidden"


def roles_from_groups(groups: Iterable[str]) -> frozenset[Role]:
    """The roles Cognito groups grant; unknown group names grant nothing."""
    known = {role.value: role for role in Role}
    return frozenset(known[group] for group in groups if group in known)


def allowed(roles: Iterable[Role], action: Action) -> bool:
    return not POLICY[action].isdisjoint(roles)


def require(roles: Iterable[Role], action: Action) -> None:
    held = frozenset(roles)
    if not allowed(held, action):
        raise ActionForbidden(f"{action.value} needs one of: {', '.join(sorted(POLICY[action]))}")


def allowed_actions(roles: Iterable[Role]) -> frozenset[Action]:
    """Every action these roles allow: pages show the controls for these, and only these."""
    held = frozenset(roles)
    return frozenset(action for action in Action if allowed(held, action))
