"""A console session: where a sign-in has got to, who it is, and when it lapses. Pure rules; the store keeps
it under the hash of its id (the id itself lives only in the browser's cookie)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from shared.domain.console_roles import Role

IDLE_TIMEOUT: Final = timedelta(minutes=15)  # no request for this long ends the session
MAX_LIFETIME: Final = timedelta(hours=12)  # a working day, however active
CHALLENGE_TIMEOUT: Final = timedelta(minutes=3)  # Cognito's challenge sessions last 3 minutes
TOUCH_EVERY: Final = timedelta(minutes=1)  # last_seen_at is rewritten at most this often (one write a minute)


class Stage(StrEnum):
    """Where a sign-in stands. Only SIGNED_IN reaches a page: every earlier stage has yet to pass MFA."""

    NEW_PASSWORD = "new_password"  # an invited user's first sign-in: choose a password
    ENROL_TOTP = "enrol_totp"  # first sign-in: scan the QR code, type a code
    TOTP = "totp"  # password accepted: type the authenticator's code
    SIGNED_IN = "signed_in"


def new_session_id() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str, given: str) -> bool:
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    session_hash: str
    stage: Stage
    username: str  # what the staff member typed to sign in (their email)
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    challenge: str = ""  # Cognito's challenge session, until signed in
    totp_secret: str = ""  # during enrolment only, to show the QR code again on a wrong code
    access_token: str = ""  # once signed in: for GlobalSignOut
    staff_id: str = ""  # Cognito's sub
    email: str = ""
    roles: frozenset[Role] = frozenset()

    @property
    def signed_in(self) -> bool:
        return self.stage is Stage.SIGNED_IN

    def expires_at(self) -> datetime:
        """When it lapses: idle timeout, lifetime cap, or (before MFA) Cognito's challenge lifetime."""
        if not self.signed_in:
            return min(self.last_seen_at + CHALLENGE_TIMEOUT, self.created_at + MAX_LIFETIME)
        return min(self.last_seen_at + IDLE_TIMEOUT, self.created_at + MAX_LIFETIME)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at()

    def needs_touch(self, now: datetime) -> bool:
        return now - self.last_seen_at >= TOUCH_EVERY

    def touched(self, now: datetime) -> ConsoleSession:
        return replace(self, last_seen_at=now)

    @property
    def actor(self) -> str:
        """How audit entries name this staff member: the pool's stable id, and the email for people."""
        return f"staff:{self.staff_id}:{self.email}"
