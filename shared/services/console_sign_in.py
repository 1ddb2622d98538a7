"""Console sign-in: password, then TOTP (enrolled on the first sign-in), and the session that follows.

Each step reads the pending session, asks Cognito (the StaffDirectory), and moves the browser to a fresh
session id. A session is signed in only once a TOTP code was proved in this sign-in: tokens that Cognito hands
out after a password alone (a pool with MFA turned off by mistake) are revoked and the sign-in refused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from shared.clock import Clock
from shared.domain.console_roles import roles_from_groups
from shared.domain.console_session import ConsoleSession, Stage, new_csrf_token, new_session_id, session_hash
from shared.services.console_ports import (
    Challenge,
    ConsoleSessions,
    SignedIn,
    SignInRefused,
    StaffDirectory,
    WeakPassword,
)

_STAGE_BY_CHALLENGE = {
    "NEW_PASSWORD_REQUIRED": Stage.NEW_PASSWORD,
    "MFA_SETUP": Stage.ENROL_TOTP,
    "SOFTWARE_TOKEN_MFA": Stage.TOTP,
}


USERNAME_MAX = 128  # Cognito's limits on USERNAME and PASSWORD
PASSWORD_MAX = 256


class MfaNotEnforced(SignInRefused):
    """Cognito signed someone in without a second factor: the pool is misconfigured; nobody gets in."""

    code = "mfa_not_enforced"


@dataclass(frozen=True, slots=True)
class Step:
    """The browser's new session id (for its cookie) and where the sign-in now stands."""

    session_id: str
    session: ConsoleSession


def sign_in(directory: StaffDirectory, sessions: ConsoleSessions, clock: Clock, username: str, password: str) -> Step:
    if not username or not password:
        raise SignInRefused("email and password are both needed")
    if len(username) > USERNAME_MAX or len(password) > PASSWORD_MAX:
        raise SignInRefused("too long for an email or a password")  # Cognito's own bounds; never sent
    outcome = directory.start_password(username, password)
    now = clock.now()
    start = ConsoleSession(
        session_hash="", stage=Stage.TOTP, username=username, csrf_token="", created_at=now, last_seen_at=now
    )
    return _advance(directory, sessions, clock, start, outcome, mfa_proved=False)


def choose_password(
    directory: StaffDirectory, sessions: ConsoleSessions, clock: Clock, pending: ConsoleSession, new_password: str
) -> Step:
    _expect(pending, Stage.NEW_PASSWORD)
    if not new_password or len(new_password) > PASSWORD_MAX:
        raise WeakPassword(f"a password has 14 to {PASSWORD_MAX} characters")
    outcome = directory.answer_new_password(pending.username, pending.challenge, new_password)
    return _advance(directory, sessions, clock, pending, outcome, mfa_proved=False)


def enrol_totp(
    directory: StaffDirectory, sessions: ConsoleSessions, clock: Clock, pending: ConsoleSession, code: str
) -> Step:
    _expect(pending, Stage.ENROL_TOTP)
    outcome = directory.finish_totp_setup(pending.username, pending.challenge, _code(code))
    return _advance(directory, sessions, clock, pending, outcome, mfa_proved=True)


def answer_totp(
    directory: StaffDirectory, sessions: ConsoleSessions, clock: Clock, pending: ConsoleSession, code: str
) -> Step:
    _expect(pending, Stage.TOTP)
    outcome = directory.answer_totp(pending.username, pending.challenge, _code(code))
    return _advance(directory, sessions, clock, pending, outcome, mfa_proved=True)


def current(sessions: ConsoleSessions, clock: Clock, session_id: str | None) -> ConsoleSession | None:
    """The live session behind a cookie, its idle time reset; None (and the item gone) once it lapsed."""
    if not session_id:
        return None
    found = sessions.get(session_hash(session_id))
    if found is None:
        return None
    now = clock.now()
    if found.expired(now) or _revoked(sessions, found):
        sessions.delete(found.session_hash)
        return None
    if found.needs_touch(now):
        found = found.touched(now)
        sessions.touch(found)
    return found


def _revoked(sessions: ConsoleSessions, session: ConsoleSession) -> bool:
    """An admin changed this staff member's role, disabled them or reset their authenticator since they signed
    in (shared.services.console_users): the roles this session holds are no longer theirs."""
    if not session.signed_in or not session.staff_id:
        return False
    revoked = sessions.revoked_at(session.staff_id)
    return revoked is not None and session.created_at <= revoked


def sign_out(directory: StaffDirectory, sessions: ConsoleSessions, session: ConsoleSession) -> None:
    """End the session here and its tokens at Cognito."""
    sessions.delete(session.session_hash)
    if session.access_token:
        directory.sign_out(session.access_token)


def _advance(
    directory: StaffDirectory,
    sessions: ConsoleSessions,
    clock: Clock,
    pending: ConsoleSession,
    outcome: Challenge | SignedIn,
    *,
    mfa_proved: bool,
) -> Step:
    now = clock.now()
    session_id = new_session_id()
    base = replace(pending, session_hash=session_hash(session_id), csrf_token=new_csrf_token(), last_seen_at=now)
    if isinstance(outcome, SignedIn):
        if not mfa_proved:
            directory.sign_out(outcome.access_token)
            raise MfaNotEnforced("the user pool signed in without a second factor; ask an administrator")
        step = replace(
            base,
            stage=Stage.SIGNED_IN,
            challenge="",
            totp_secret="",
            access_token=outcome.access_token,
            staff_id=outcome.staff_id,
            email=outcome.email or pending.username,
            roles=roles_from_groups(outcome.groups),
            created_at=now,
        )
    else:
        stage = _STAGE_BY_CHALLENGE.get(outcome.name)
        if stage is None:
            raise SignInRefused(f"this sign-in needs a step the console does not offer ({outcome.name})")
        step = replace(base, stage=stage, challenge=outcome.session, totp_secret="")
        if stage is Stage.ENROL_TOTP:
            setup = directory.begin_totp_setup(outcome.session)
            step = replace(step, challenge=setup.session, totp_secret=setup.secret)
    sessions.put(step, replacing=pending.session_hash or None)
    return Step(session_id=session_id, session=step)


def _expect(pending: ConsoleSession, stage: Stage) -> None:
    if pending.stage is not stage:
        raise SignInRefused("this sign-in is at another step; start again")


def _code(code: str) -> str:
    digits = code.replace(" ", "").strip()
    if len(digits) != 6 or not digits.isdigit():
        raise SignInRefused("the code is the six digits your authenticator app shows")
    return digits
