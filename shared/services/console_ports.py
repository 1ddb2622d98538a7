"""Ports of the console's sign-in: the staff directory (Cognito) and the session store (the table).

Kept apart from ports.py: only the console function uses them, and none of the ledger's shapes appear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.domain.console_session import ConsoleSession
from shared.domain.errors import DomainError


class SignInRefused(DomainError):
    """Wrong password or code, an unknown user, a lapsed challenge: the page says only that it did not work."""

    code = "sign_in_refused"


class WeakPassword(DomainError):
    """The new password breaks the pool's password policy."""

    code = "weak_password"


@dataclass(frozen=True, slots=True)
class Challenge:
    """Cognito wants another step: NEW_PASSWORD_REQUIRED, MFA_SETUP or SOFTWARE_TOKEN_MFA."""

    name: str
    session: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Cognito issued tokens; the adapter has read who it is from the ID token."""

    access_token: str
    staff_id: str
    email: str
    groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TotpSetup:
    secret: str  # base32, for the authenticator app
    session: str


class StaffDirectory(Protocol):
    def start_password(self, username: str, password: str) -> Challenge | SignedIn: ...
    def answer_new_password(self, username: str, session: str, new_password: str) -> Challenge | SignedIn: ...
    def begin_totp_setup(self, session: str) -> TotpSetup: ...
    def finish_totp_setup(self, username: str, session: str, code: str) -> Challenge | SignedIn:
        """Verify the first code, then answer MFA_SETUP with the session that proved it."""
        ...

    def answer_totp(self, username: str, session: str, code: str) -> Challenge | SignedIn: ...
    def sign_out(self, access_token: str) -> None:
        """End every token of this sign-in at Cognito (GlobalSignOut); an already ended one is not an error."""
        ...


class ConsoleSessions(Protocol):
    def get(self, session_hash: str) -> ConsoleSession | None: ...
    def put(self, session: ConsoleSession, *, replacing: str | None = None) -> None:
        """Store `session` (new hash, never overwriting another); `replacing` is deleted in the same
        transaction: each sign-in step moves to a fresh id, so an id seen before a step is worth nothing after."""
        ...

    def touch(self, session: ConsoleSession) -> None:
        """Record the session's new last_seen_at, if it still exists."""
        ...

    def delete(self, session_hash: str) -> None: ...
    def revoke_staff(self, staff_id: str, at: datetime) -> None:
        """Every session of this staff member begun at or before `at` ends (a role changed, the user disabled):
        kept as one marker per staff member, as long as a session can live."""
        ...

    def revoked_at(self, staff_id: str) -> datetime | None: ...


class StaffMemberExists(DomainError):
    """An invitation for an email address the pool already has a user for."""

    code = "staff_member_exists"


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A user of the console's pool, as the Users page lists them."""

    username: str  # Cognito's user name: the user's sub in a pool signing in by email
    email: str
    groups: tuple[str, ...]  # the Cognito groups: the roles (shared.domain.console_roles)
    enabled: bool
    status: str  # Cognito's: FORCE_CHANGE_PASSWORD (invited), CONFIRMED, RESET_REQUIRED...


class StaffAccounts(Protocol):
    """The console pool's user management (Cognito's admin API on the one pool). A user name we do not know is
    NotFound; every call is safe to repeat (adding a group held, disabling a disabled user change nothing)."""

    def list_members(self, limit: int) -> list[StaffMember]: ...
    def get_member(self, username: str) -> StaffMember: ...
    def invite(self, email: str, group: str) -> StaffMember:
        """Create the user (Cognito emails the invitation with a temporary password) and add it to `group`."""
        ...

    def set_group(self, username: str, group: str, *, drop: tuple[str, ...]) -> None:
        """Add the user to `group`, then remove it from each of `drop` it is in."""
        ...

    def set_enabled(self, username: str, enabled: bool) -> None: ...
    def reset_mfa(self, username: str) -> None:
        """Delete the user's TOTP factor: with MFA required, their next sign-in enrols a new one."""
        ...

    def sign_out_everywhere(self, username: str) -> None:
        """End the user's Cognito tokens (AdminUserGlobalSignOut)."""
        ...
