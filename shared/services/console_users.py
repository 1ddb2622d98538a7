"""The console's Users page: the pool's staff with their role and status, and the admin's actions on them
(invite, change the role, disable and enable, reset the authenticator), each audited with the admin's identity.

Admins only, page and actions alike. An admin cannot demote or disable themself (nor reset their own
authenticator from here): the pool could otherwise be left without anyone able to manage it. Every action is
safe to repeat: Cognito's calls are (adding a group held, disabling a disabled user change nothing), and the
audit entry of a repeat says the same again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from shared.clock import Clock
from shared.domain.console_roles import Action, Role, allowed_actions, require
from shared.domain.console_session import ConsoleSession
from shared.domain.errors import DomainError, NotFound
from shared.domain.records import AuditEntry, AuditSubject
from shared.domain.text import has_bidi_controls
from shared.services.console_ports import ConsoleSessions, StaffAccounts, StaffMember
from shared.services.ports import Change, Ledger

USERS_LIMIT: Final = 500  # a console's staff; the page says so when there are more
ROLE_GROUPS: Final = tuple(role.value for role in Role)
# Cognito's user names in a pool signing in by email: the user's sub (a UUID). Anything else names nobody.
_USERNAME = re.compile(r"[0-9A-Za-z-]{1,128}")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")  # as the operator API takes a customer's


class SelfChange(DomainError):
    """An admin demoting, disabling or resetting themself."""

    code = "self_change"


class InvalidStaffValue(DomainError):
    code = "invalid_value"


@dataclass(frozen=True, slots=True)
class StaffPorts:
    """What the actions reach: the pool, the console's sessions (to end a changed user's), and the ledger (the
    audit trail). `session_clock` is the sessions' wall clock (the business clock may jump, sessions must not)."""

    accounts: StaffAccounts
    sessions: ConsoleSessions
    ledger: Ledger
    session_clock: Clock


@dataclass(frozen=True, slots=True)
class UsersView:
    members: list[StaffMember]  # by email
    more: bool  # the pool has more users than the page lists
    actions: frozenset[Action]
    me: str  # the signed-in admin's user name: their own row offers no demotion, disabling or reset


def users_page(accounts: StaffAccounts, session: ConsoleSession) -> UsersView:
    require(session.roles, Action.MANAGE_USERS)
    members = accounts.list_members(USERS_LIMIT + 1)
    listed = sorted(members[:USERS_LIMIT], key=lambda m: m.email.lower())
    me = next((m.username for m in listed if _is_me(session, m)), session.staff_id)
    return UsersView(members=listed, more=len(members) > USERS_LIMIT, actions=allowed_actions(session.roles), me=me)


def invite(ports: StaffPorts, clock: Clock, session: ConsoleSession, email: str, role: str) -> StaffMember:
    """Create the user with their role; Cognito emails the invitation (a temporary password, 3 days)."""
    require(session.roles, Action.MANAGE_USERS)
    email = email.strip()
    if len(email) > 254 or not _EMAIL.match(email) or has_bidi_controls(email):
        raise InvalidStaffValue("the email must be an address such as name@example.com", field="email")
    group = _role(role)
    invited = ports.accounts.invite(email.lower(), group)
    _audit(ports.ledger, clock, session, invited.username, "staff_member.invited", {"role": group})
    return invited


def change_role(ports: StaffPorts, clock: Clock, session: ConsoleSession, username: str, role: str) -> StaffMember:
    """The user's one role becomes `role`; their sessions and Cognito tokens end, so it applies at next sign-in."""
    require(session.roles, Action.MANAGE_USERS)
    group = _role(role)
    member = _member(ports.accounts, username)
    if _is_me(session, member) and group != Role.ADMIN.value:
        raise SelfChange("you cannot take your own admin role away; ask another admin", field="role")
    ports.accounts.set_group(member.username, group, drop=ROLE_GROUPS)
    _end_sessions(ports, member)
    _audit(ports.ledger, clock, session, member.username, "staff_member.role_changed",
           {"from": ",".join(member.groups), "to": group})  # fmt: skip
    return member


def set_enabled(
    ports: StaffPorts, clock: Clock, session: ConsoleSession, username: str, *, enabled: bool
) -> StaffMember:
    """Disable (they can no longer sign in; their sessions and Cognito tokens end) or enable a user."""
    require(session.roles, Action.MANAGE_USERS)
    member = _member(ports.accounts, username)
    if _is_me(session, member) and not enabled:
        raise SelfChange("you cannot disable yourself; ask another admin", field="username")
    ports.accounts.set_enabled(member.username, enabled)
    if not enabled:
        _end_sessions(ports, member)
    _audit(
        ports.ledger,
        clock,
        session,
        member.username,
        "staff_member.enabled" if enabled else "staff_member.disabled",
        {},
    )
    return member


def reset_mfa(ports: StaffPorts, clock: Clock, session: ConsoleSession, username: str) -> StaffMember:
    """Delete the user's authenticator (a lost phone): their next sign-in enrols a new one, as the first did; a
    session opened with the lost one ends."""
    require(session.roles, Action.MANAGE_USERS)
    member = _member(ports.accounts, username)
    if _is_me(session, member):
        raise SelfChange("you cannot reset your own authenticator while signed in with it; ask another admin")
    ports.accounts.reset_mfa(member.username)
    _end_sessions(ports, member)
    _audit(ports.ledger, clock, session, member.username, "staff_member.mfa_reset", {})
    return member


def _end_sessions(ports: StaffPorts, member: StaffMember) -> None:
    """Their console sessions (read on every page: shared.services.console_sign_in) and their Cognito tokens."""
    ports.sessions.revoke_staff(member.username, ports.session_clock.now())
    ports.accounts.sign_out_everywhere(member.username)


def _role(value: str) -> str:
    if value not in ROLE_GROUPS:
        raise InvalidStaffValue("choose viewer, collector or admin", field="role")
    return value


def _member(accounts: StaffAccounts, username: str) -> StaffMember:
    if not _USERNAME.fullmatch(username):
        raise NotFound("no such console user", field="username")
    return accounts.get_member(username)


def _is_me(session: ConsoleSession, member: StaffMember) -> bool:
    return member.username == session.staff_id or member.email.lower() == session.email.lower()


def _audit(
    ledger: Ledger, clock: Clock, session: ConsoleSession, username: str, action: str, details: dict[str, str]
) -> None:
    """The trail is the user's own (their user name, never their email: the table keeps no address of staff)."""
    entry = AuditEntry(
        subject=AuditSubject.STAFF_MEMBER, subject_id=username, action=action, actor=session.actor, at=clock.now(),
        details=details,
    )  # fmt: skip
    ledger.commit(Change(audit=[entry]))
