"""In-memory stand-ins for the console's ports: a Cognito-like staff directory and a session store.

The directory follows Cognito's USER_PASSWORD_AUTH with MFA required: an invited user is asked for a new
password, a user without TOTP gets MFA_SETUP, one with TOTP gets SOFTWARE_TOKEN_MFA; codes are real TOTP
codes (RFC 6238, what authenticator apps and Cognito compute), so a test types what an app would show.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from dataclasses import dataclass, field, replace
from datetime import datetime

from shared.domain.console_session import ConsoleSession
from shared.domain.errors import NotFound
from shared.services.console_ports import (
    Challenge,
    SignedIn,
    SignInRefused,
    StaffMember,
    StaffMemberExists,
    TotpSetup,
    WeakPassword,
)


def totp(secret: str, at: float | None = None, *, step: int = 30) -> str:
    """The six-digit code an authenticator app shows for this base32 secret at `at` (now by default)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


@dataclass
class FakeStaff:
    password: str
    groups: tuple[str, ...]
    sub: str = field(default_factory=lambda: secrets.token_hex(8))
    must_change_password: bool = False
    totp_secret: str | None = None  # enrolled
    pending_secret: str | None = None


class FakeStaffDirectory:
    def __init__(self, *, mfa_required: bool = True) -> None:
        self.users: dict[str, FakeStaff] = {}
        self.mfa_required = mfa_required
        self._challenges: dict[str, tuple[str, str]] = {}  # session -> (username, what it may answer)
        self.live_tokens: dict[str, str] = {}  # access token -> username
        self.signed_out: list[str] = []

    def add(self, username: str, password: str, *groups: str, invited: bool = False) -> FakeStaff:
        self.users[username] = FakeStaff(password=password, groups=groups, must_change_password=invited)
        return self.users[username]

    def _challenge(self, username: str, name: str) -> Challenge:
        session = secrets.token_urlsafe(16)
        self._challenges[session] = (username, name)
        return Challenge(name=name, session=session)

    def _take(self, session: str, name: str, username: str | None = None) -> str:
        found = self._challenges.pop(session, None)
        if found is None or found[1] != name or (username is not None and found[0] != username):
            raise SignInRefused("NotAuthorizedException")
        return found[0]

    def _tokens(self, username: str) -> SignedIn:
        token = secrets.token_urlsafe(24)
        self.live_tokens[token] = username
        user = self.users[username]
        return SignedIn(access_token=token, staff_id=user.sub, email=username, groups=user.groups)

    def _next(self, username: str) -> Challenge | SignedIn:
        user = self.users[username]
        if user.must_change_password:
            return self._challenge(username, "NEW_PASSWORD_REQUIRED")
        if user.totp_secret:
            return self._challenge(username, "SOFTWARE_TOKEN_MFA")
        if self.mfa_required:
            return self._challenge(username, "MFA_SETUP")
        return self._tokens(username)

    def start_password(self, username: str, password: str) -> Challenge | SignedIn:
        user = self.users.get(username)
        if user is None or not hmac.compare_digest(user.password, password):
            raise SignInRefused("NotAuthorizedException")
        return self._next(username)

    def answer_new_password(self, username: str, session: str, new_password: str) -> Challenge | SignedIn:
        if len(new_password) < 14:
            raise WeakPassword("Password does not conform to policy")
        username = self._take(session, "NEW_PASSWORD_REQUIRED", username)
        self.users[username] = replace(self.users[username], password=new_password, must_change_password=False)
        return self._next(username)

    def begin_totp_setup(self, session: str) -> TotpSetup:
        username = self._take(session, "MFA_SETUP")
        secret = base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")
        self.users[username].pending_secret = secret
        return TotpSetup(secret=secret, session=self._challenge(username, "VERIFY").session)

    def finish_totp_setup(self, username: str, session: str, code: str) -> Challenge | SignedIn:
        user = self.users[username]
        if user.pending_secret is None or code != totp(user.pending_secret):
            raise SignInRefused("CodeMismatchException")  # the session stays usable for another try
        self._take(session, "VERIFY", username)
        user.totp_secret, user.pending_secret = user.pending_secret, None
        return self._tokens(username)

    def answer_totp(self, username: str, session: str, code: str) -> Challenge | SignedIn:
        self._take(session, "SOFTWARE_TOKEN_MFA", username)
        secret = self.users[username].totp_secret
        if secret is None or code != totp(secret):
            raise SignInRefused("CodeMismatchException")
        return self._tokens(username)

    def sign_out(self, access_token: str) -> None:
        username = self.live_tokens.pop(access_token, None)
        if username is not None:
            self.signed_out.append(username)
            for token, owner in list(self.live_tokens.items()):
                if owner == username:
                    del self.live_tokens[token]


class FakeConsoleSessions:
    def __init__(self) -> None:
        self.items: dict[str, ConsoleSession] = {}
        self.revoked: dict[str, datetime] = {}

    def revoke_staff(self, staff_id: str, at: datetime) -> None:
        self.revoked[staff_id] = at

    def revoked_at(self, staff_id: str) -> datetime | None:
        return self.revoked.get(staff_id)

    def get(self, session_hash: str) -> ConsoleSession | None:
        return self.items.get(session_hash)

    def put(self, session: ConsoleSession, *, replacing: str | None = None) -> None:
        assert session.session_hash not in self.items
        self.items[session.session_hash] = session
        if replacing:
            self.items.pop(replacing, None)

    def touch(self, session: ConsoleSession) -> None:
        if session.session_hash in self.items:
            self.items[session.session_hash] = session

    def delete(self, session_hash: str) -> None:
        self.items.pop(session_hash, None)


class FakeStaffAccounts:
    """The console pool's users in memory, as Cognito's admin API keeps them: user names are fresh ids, an
    invited user is FORCE_CHANGE_PASSWORD, each call is safe to repeat. `calls` records what was asked."""

    def __init__(self) -> None:
        self.members: dict[str, StaffMember] = {}
        self.mfa_reset: set[str] = set()
        self.signed_out: list[str] = []
        self.invitations: list[str] = []  # the emails Cognito would have sent

    def add(self, email: str, *groups: str, username: str | None = None) -> StaffMember:
        name = username or f"sub-{len(self.members) + 1}"
        member = StaffMember(name, email, tuple(sorted(groups)), enabled=True, status="CONFIRMED")
        self.members[member.username] = member
        return member

    def list_members(self, limit: int) -> list[StaffMember]:
        return list(self.members.values())[:limit]

    def get_member(self, username: str) -> StaffMember:
        if username not in self.members:
            raise NotFound("no such console user", field="username")
        return self.members[username]

    def invite(self, email: str, group: str) -> StaffMember:
        if any(m.email == email for m in self.members.values()):
            raise StaffMemberExists("that email address already has a console account", field="email")
        member = replace(self.add(email, group), status="FORCE_CHANGE_PASSWORD")
        self.members[member.username] = member
        self.invitations.append(email)
        return member

    def set_group(self, username: str, group: str, *, drop: tuple[str, ...]) -> None:
        member = self.get_member(username)
        kept = {g for g in member.groups if g not in drop or g == group} | {group}
        self.members[username] = replace(member, groups=tuple(sorted(kept)))

    def set_enabled(self, username: str, enabled: bool) -> None:
        self.members[username] = replace(self.get_member(username), enabled=enabled)

    def reset_mfa(self, username: str) -> None:
        self.get_member(username)
        self.mfa_reset.add(username)

    def sign_out_everywhere(self, username: str) -> None:
        self.get_member(username)
        self.signed_out.append(username)
