"""The console's Users page through its handler over moto's Cognito (patched like Cognito: local/moto_cognito.py):
the admin lists the pool's staff, invites a user with a role, changes a role, disables and enables a user and
resets an authenticator (the next sign-in enrols a new one); each audited as the admin; an admin cannot demote
or disable themself; viewers and collectors get a 403 page and no link; CSRF-less posts are refused."""

from __future__ import annotations

import re

import boto3
import pytest

from local.cognito import DEFAULT_CONSOLE_PASSWORD
from shared import wiring
from shared.domain.console_roles import Role
from shared.domain.records import AuditEntry, AuditSubject
from tests.integration.console_browser import ConsoleBrowser, signed_in

ROW = re.compile(r'action="/console/users/([0-9a-f-]+)/role"')


def username_of(console: str, email: str) -> str:
    idp = boto3.client("cognito-idp")
    [user] = idp.list_users(UserPoolId=console, Filter=f'email = "{email}"')["Users"]
    return str(user["Username"])


def groups_of(console: str, username: str) -> list[str]:
    idp = boto3.client("cognito-idp")
    return sorted(
        g["GroupName"] for g in idp.admin_list_groups_for_user(UserPoolId=console, Username=username)["Groups"]
    )


def trail(username: str) -> list[tuple[str, str]]:
    entries = wiring.ledger().list_audit(AuditSubject.STAFF_MEMBER, username, 20, None).items
    return [(e.action, e.actor.split(":")[-1]) for e in reversed(entries) if isinstance(e, AuditEntry)]  # oldest first


def test_the_admin_sees_the_staff_with_roles_and_status_and_the_nav_links_the_page(console: str) -> None:
    browser = signed_in(Role.ADMIN)
    page = browser.get("/console/users")
    assert page.status == 200 and "<h1>Users</h1>" in page.body and 'href="/console/users">Users</a>' in page.body
    for role in Role:
        assert f"{role.value}@payportal.local" in page.body
    assert "admin@payportal.local (you)" in page.body
    # Their own row offers no role change, disabling or reset
    assert username_of(console, "admin@payportal.local") not in ROW.findall(page.body)
    assert len(ROW.findall(page.body)) == 2


@pytest.mark.parametrize("role", [Role.VIEWER, Role.COLLECTOR])
def test_a_viewer_or_collector_has_no_link_gets_a_403_page_and_a_forged_post_is_refused(
    console: str, role: Role
) -> None:
    browser = signed_in(role)
    assert 'href="/console/users"' not in browser.get("/console/today").body
    assert browser.get("/console/users").status == 403
    browser.get("/console/today")
    forged = browser.post("/console/users", {"email": "eve@example.com", "role": "admin"})
    assert forged.status == 403 and "role does not allow" in forged.body
    viewer = username_of(console, "viewer@payportal.local")
    browser.get("/console/today")
    assert browser.post(f"/console/users/{viewer}/role", {"role": "admin"}).status == 403
    assert groups_of(console, viewer) == ["viewer"]
    assert boto3.client("cognito-idp").list_users(UserPoolId=console, Filter='email = "eve@example.com"')["Users"] == []


def test_the_admin_invites_someone_who_then_signs_in_with_the_temporary_password(console: str) -> None:
    browser = signed_in(Role.ADMIN)
    browser.get("/console/users")
    invited = browser.post("/console/users", {"email": "carol@example.com", "role": "collector"})
    assert invited.status == 303 and invited.location.endswith("/console/users?done=invited")
    shown = browser.follow().body
    assert "Invitation sent" in shown and "carol@example.com" in shown and "invited, not signed in yet" in shown
    carol = username_of(console, "carol@example.com")
    assert groups_of(console, carol) == ["collector"]
    assert trail(carol) == [("staff_member.invited", "admin@payportal.local")]
    # The same address again: a 409 page, nothing changed
    browser.get("/console/users")
    again = browser.post("/console/users", {"email": "carol@example.com", "role": "admin"})
    assert again.status == 409 and groups_of(console, carol) == ["collector"]


def test_the_admin_changes_a_role_and_the_user_holds_only_the_new_one(console: str) -> None:
    browser = signed_in(Role.ADMIN)
    collector = username_of(console, "collector@payportal.local")
    browser.get("/console/users")
    changed = browser.post(f"/console/users/{collector}/role", {"role": "viewer"})
    assert changed.status == 303 and "Role changed" in browser.follow().body
    assert groups_of(console, collector) == ["viewer"]
    assert trail(collector) == [("staff_member.role_changed", "admin@payportal.local")]
    # They sign in as before (the role comes with the new sign-in's tokens)
    again = ConsoleBrowser()
    again.sign_in("collector@payportal.local")
    _, today = again.enrol()
    assert today.status == 200 and "collector@payportal.local (viewer)" in today.body


def test_a_disabled_user_cannot_sign_in_until_enabled(console: str) -> None:
    browser = signed_in(Role.ADMIN)
    viewer = username_of(console, "viewer@payportal.local")
    browser.get("/console/users")
    assert browser.post(f"/console/users/{viewer}/disable").status == 303
    assert "disabled" in browser.follow().body
    refused = ConsoleBrowser()
    refused.get("/console/sign-in")
    form = {"email": "viewer@payportal.local", "password": DEFAULT_CONSOLE_PASSWORD}
    assert refused.post("/console/sign-in", form).status == 401
    browser.get("/console/users")
    assert browser.post(f"/console/users/{viewer}/enable").status == 303
    assert ConsoleBrowser().sign_in("viewer@payportal.local").status == 200
    assert [a for a, _ in trail(viewer)] == ["staff_member.disabled", "staff_member.enabled"]


def test_an_authenticator_reset_makes_the_next_sign_in_enrol_a_new_one(console: str) -> None:
    # Given the collector enrolled and signs in with a code
    first = signed_in(Role.COLLECTOR)
    assert first.get("/console/today").status == 200
    collector = username_of(console, "collector@payportal.local")
    admin = signed_in(Role.ADMIN)
    admin.get("/console/users")
    assert admin.post(f"/console/users/{collector}/reset-mfa").status == 303
    assert "Authenticator reset" in admin.follow().body
    # Then their next sign-in asks them to set up an authenticator again, with a new setup key
    again = ConsoleBrowser()
    page = again.sign_in("collector@payportal.local")
    assert "Set up your authenticator app" in page.body
    _, today = again.enrol()
    assert today.status == 200
    assert trail(collector) == [("staff_member.mfa_reset", "admin@payportal.local")]


def test_an_admin_cannot_demote_or_disable_themself(console: str) -> None:
    browser = signed_in(Role.ADMIN)
    me = username_of(console, "admin@payportal.local")
    browser.get("/console/users")
    demoted = browser.post(f"/console/users/{me}/role", {"role": "viewer"})
    assert demoted.status == 422 and "cannot take your own admin role away" in demoted.body
    browser.get("/console/users")
    assert browser.post(f"/console/users/{me}/disable").status == 422
    assert groups_of(console, me) == ["admin"] and trail(me) == []


@pytest.mark.parametrize(
    ("path", "form", "status"),
    [
        ("/console/users/00000000-0000-0000-0000-000000000000/disable", {}, 404),
        ("/console/users/..%2Fadmin/disable", {}, 404),
        ("/console/users", {"email": "<script>@x", "role": "viewer"}, 422),
        ("/console/users", {"email": "dave@example.com", "role": "owner"}, 422),
    ],
)
def test_hostile_input_is_a_clear_4xx_page(console: str, path: str, form: dict[str, str], status: int) -> None:
    browser = signed_in(Role.ADMIN)
    browser.get("/console/users")
    reply = browser.post(path, form)
    assert reply.status == status and "<script>@x" not in reply.body


def test_a_post_without_the_csrf_token_is_refused(console: str) -> None:
    browser = signed_in(Role.ADMIN)
    viewer = username_of(console, "viewer@payportal.local")
    browser.get("/console/users")
    assert browser.post(f"/console/users/{viewer}/disable", {}, csrf=False).status == 403
    assert browser.post(f"/console/users/{viewer}/disable", {"csrf": "x" * 43}, csrf=False).status == 403


@pytest.mark.parametrize("action", ["role", "disable", "reset-mfa"])
def test_the_changed_users_open_session_ends_at_once(console: str, action: str) -> None:
    # Given the collector signed in, with a page open
    collector_browser = signed_in(Role.COLLECTOR)
    assert collector_browser.get("/console/today").status == 200
    collector = username_of(console, "collector@payportal.local")
    # When an admin changes their role, disables them or resets their authenticator
    admin = signed_in(Role.ADMIN)
    admin.get("/console/users")
    form = {"role": "viewer"} if action == "role" else {}
    assert admin.post(f"/console/users/{collector}/{action}", form).status == 303
    # Then their next page sends them to sign in: the roles their session held are not theirs any more
    assert collector_browser.get("/console/today").location.endswith("/console/sign-in")
    # And the admin's own session goes on
    assert admin.get("/console/users").status == 200
