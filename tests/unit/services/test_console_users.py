"""The console's Users page over the fake pool: admins only, page and actions; invitations, role changes,
disabling and enabling, authenticator resets, each audited as the admin; an admin cannot demote, disable or
reset themself; input that names nobody is refused before Cognito is asked."""

from __future__ import annotations

import pytest

from shared.domain.console_roles import ActionForbidden, Role
from shared.domain.errors import NotFound
from shared.domain.records import AuditSubject
from shared.services import console_users
from shared.services.console_ports import StaffMemberExists
from shared.services.console_users import InvalidStaffValue, SelfChange, StaffPorts
from tests.fakes import FixedClock, InMemoryLedger
from tests.fakes.console import FakeConsoleSessions, FakeStaffAccounts
from tests.fakes.records import NOW
from tests.fakes.records import a_staff_session as staff

CLOCK = FixedClock(NOW)
ACTOR = "staff:sub-1:ada@example.com"


def pool() -> tuple[FakeStaffAccounts, StaffPorts]:
    """Given Ada (the signed-in admin, sub-1) and Bob, a collector (sub-2)."""
    accounts = FakeStaffAccounts()
    accounts.add("ada@example.com", "admin", username="sub-1")
    accounts.add("bob@example.com", "collector", username="sub-2")
    return accounts, StaffPorts(accounts, FakeConsoleSessions(), InMemoryLedger(), CLOCK)


def trail(ports: StaffPorts) -> list[tuple[str, str, str, dict[str, object]]]:
    assert isinstance(ports.ledger, InMemoryLedger)
    return [(a.subject_id, a.action, a.actor, dict(a.details)) for a in ports.ledger.audit
            if a.subject is AuditSubject.STAFF_MEMBER]  # fmt: skip


def test_an_admin_sees_every_user_with_role_and_status_by_email() -> None:
    accounts, _ = pool()
    accounts.add("aaron@example.com", "viewer")
    view = console_users.users_page(accounts, staff(Role.ADMIN))
    assert [(m.email, m.groups, m.enabled) for m in view.members] == [
        ("aaron@example.com", ("viewer",), True), ("ada@example.com", ("admin",), True),
        ("bob@example.com", ("collector",), True),
    ]  # fmt: skip
    assert view.me == "sub-1" and not view.more


@pytest.mark.parametrize("role", [Role.VIEWER, Role.COLLECTOR])
def test_anyone_but_an_admin_is_refused_the_page_and_every_action(role: Role) -> None:
    accounts, ports = pool()
    session = staff(role)
    with pytest.raises(ActionForbidden):
        console_users.users_page(accounts, session)
    for act in (
        lambda: console_users.invite(ports, CLOCK, session, "eve@example.com", "admin"),
        lambda: console_users.change_role(ports, CLOCK, session, "sub-2", "admin"),
        lambda: console_users.set_enabled(ports, CLOCK, session, "sub-2", enabled=False),
        lambda: console_users.reset_mfa(ports, CLOCK, session, "sub-2"),
    ):
        with pytest.raises(ActionForbidden):
            act()
    assert accounts.members["sub-2"].groups == ("collector",) and accounts.members["sub-2"].enabled
    assert accounts.invitations == [] and accounts.mfa_reset == set() and trail(ports) == []


def test_an_admin_invites_a_user_with_a_role_and_it_is_audited() -> None:
    accounts, ports = pool()
    invited = console_users.invite(ports, CLOCK, staff(Role.ADMIN), " Carol@Example.com ", "viewer")
    assert (invited.email, invited.groups, invited.status) == (
        "carol@example.com",
        ("viewer",),
        "FORCE_CHANGE_PASSWORD",
    )
    assert accounts.invitations == ["carol@example.com"]
    assert trail(ports) == [(invited.username, "staff_member.invited", ACTOR, {"role": "viewer"})]


def test_inviting_an_existing_user_again_is_refused_and_changes_nothing() -> None:
    accounts, ports = pool()
    with pytest.raises(StaffMemberExists):
        console_users.invite(ports, CLOCK, staff(Role.ADMIN), "bob@example.com", "admin")
    assert accounts.members["sub-2"].groups == ("collector",) and trail(ports) == []


@pytest.mark.parametrize(
    ("email", "role"),
    [("not an email", "viewer"), ("a@b", "viewer"), ("eve\u202e@example.com", "viewer"),
     ("x" * 250 + "@example.com", "viewer"), ("eve@example.com", "owner"), ("eve@example.com", "")],
)  # fmt: skip
def test_an_invitation_the_page_cannot_take_is_refused_before_cognito_is_asked(email: str, role: str) -> None:
    accounts, ports = pool()
    with pytest.raises(InvalidStaffValue):
        console_users.invite(ports, CLOCK, staff(Role.ADMIN), email, role)
    assert accounts.invitations == [] and trail(ports) == []


def test_an_admin_changes_a_role_the_user_holds_only_the_new_one_and_is_signed_out() -> None:
    accounts, ports = pool()
    console_users.change_role(ports, CLOCK, staff(Role.ADMIN), "sub-2", "viewer")
    assert accounts.members["sub-2"].groups == ("viewer",) and accounts.signed_out == ["sub-2"]
    assert ports.sessions.revoked_at("sub-2") == NOW  # their open console sessions end
    assert trail(ports) == [("sub-2", "staff_member.role_changed", ACTOR, {"from": "collector", "to": "viewer"})]
    # Repeating it changes nothing more in the pool
    console_users.change_role(ports, CLOCK, staff(Role.ADMIN), "sub-2", "viewer")
    assert accounts.members["sub-2"].groups == ("viewer",)


def test_an_admin_disables_and_enables_a_user_audited_each_time() -> None:
    accounts, ports = pool()
    console_users.set_enabled(ports, CLOCK, staff(Role.ADMIN), "sub-2", enabled=False)
    assert not accounts.members["sub-2"].enabled and accounts.signed_out == ["sub-2"]
    assert ports.sessions.revoked_at("sub-2") == NOW
    console_users.set_enabled(ports, CLOCK, staff(Role.ADMIN), "sub-2", enabled=True)
    assert accounts.members["sub-2"].enabled
    assert [action for _, action, _, _ in trail(ports)] == ["staff_member.disabled", "staff_member.enabled"]


def test_an_admin_resets_a_users_authenticator() -> None:
    accounts, ports = pool()
    console_users.reset_mfa(ports, CLOCK, staff(Role.ADMIN), "sub-2")
    assert accounts.mfa_reset == {"sub-2"} and accounts.signed_out == ["sub-2"]
    assert ports.sessions.revoked_at("sub-2") == NOW
    assert trail(ports) == [("sub-2", "staff_member.mfa_reset", ACTOR, {})]


@pytest.mark.parametrize(
    "act",
    [
        lambda ports: console_users.change_role(ports, CLOCK, staff(Role.ADMIN), "sub-1", "collector"),
        lambda ports: console_users.set_enabled(ports, CLOCK, staff(Role.ADMIN), "sub-1", enabled=False),
        lambda ports: console_users.reset_mfa(ports, CLOCK, staff(Role.ADMIN), "sub-1"),
    ],
)
def test_an_admin_cannot_demote_disable_or_reset_themself(act: object) -> None:
    accounts, ports = pool()
    with pytest.raises(SelfChange):
        act(ports)  # type: ignore[operator]
    assert accounts.members["sub-1"].groups == ("admin",) and accounts.members["sub-1"].enabled
    assert accounts.mfa_reset == set() and trail(ports) == []


@pytest.mark.parametrize("username", ["sub-9", "../sub-2", "sub-2%00", "", "x" * 200])
def test_a_user_name_that_names_nobody_is_not_found(username: str) -> None:
    _, ports = pool()
    with pytest.raises(NotFound):
        console_users.set_enabled(ports, CLOCK, staff(Role.ADMIN), username, enabled=False)
    assert trail(ports) == []
