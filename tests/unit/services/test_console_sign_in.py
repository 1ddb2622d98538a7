"""Console sign-in over the fakes: password, TOTP enrolment on the first sign-in, a code after that; the
session's idle timeout, its lifetime, its fresh id at each step, and sign-out at Cognito too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.clock import FixedClock
from shared.domain.console_roles import Role
from shared.domain.console_session import IDLE_TIMEOUT, MAX_LIFETIME, Stage, session_hash
from shared.services import console_sign_in
from shared.services.console_ports import SignInRefused, WeakPassword
from shared.services.console_sign_in import MfaNotEnforced
from tests.fakes.console import FakeConsoleSessions, FakeStaffDirectory, totp

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
PASSWORD = "Correct-Horse-Battery-9"


@pytest.fixture
def directory() -> FakeStaffDirectory:
    directory = FakeStaffDirectory()
    directory.add("admin@payportal.local", PASSWORD, "admin")
    directory.add("viewer@payportal.local", PASSWORD, "viewer")
    return directory


@pytest.fixture
def sessions() -> FakeConsoleSessions:
    return FakeConsoleSessions()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def enrolled(directory: FakeStaffDirectory, sessions: FakeConsoleSessions, clock: FixedClock, user: str):  # type: ignore[no-untyped-def]
    step = console_sign_in.sign_in(directory, sessions, clock, user, PASSWORD)
    return console_sign_in.enrol_totp(directory, sessions, clock, step.session, totp(step.session.totp_secret))


def test_first_sign_in_enrols_totp_then_signs_in(directory, sessions, clock) -> None:  # type: ignore[no-untyped-def]
    # Given an admin who never signed in, When the password is right
    step = console_sign_in.sign_in(directory, sessions, clock, "admin@payportal.local", PASSWORD)
    # Then the next step is enrolment, with a setup key, and the session reaches no page yet
    assert step.session.stage is Stage.ENROL_TOTP and len(step.session.totp_secret) >= 16
    assert not step.session.signed_in
    # When the app's code is typed
    done = console_sign_in.enrol_totp(directory, sessions, clock, step.session, totp(step.session.totp_secret))
    # Then the session is signed in with the admin role, under a new id; the pending one is gone
    assert done.session.signed_in and done.session.roles == {Role.ADMIN}
    assert done.session_id != step.session_id
    assert sessions.get(session_hash(step.session_id)) is None
    assert sessions.get(session_hash(done.session_id)) == done.session
    assert done.session.totp_secret == "" and done.session.challenge == ""


def test_second_sign_in_asks_for_a_code(directory, sessions, clock) -> None:  # type: ignore[no-untyped-def]
    enrolled(directory, sessions, clock, "admin@payportal.local")
    step = console_sign_in.sign_in(directory, sessions, clock, "admin@payportal.local", PASSWORD)
    assert step.session.stage is Stage.TOTP
    secret = directory.users["admin@payportal.local"].totp_secret
    assert secret is not None
    done = console_sign_in.answer_totp(directory, sessions, clock, step.session, totp(secret))
    assert done.session.signed_in


def test_a_wrong_code_signs_nobody_in(directory, sessions, clock) -> None:  # type: ignore[no-untyped-def]
    enrolled(directory, sessions, clock, "admin@payportal.local")
    step = console_sign_in.sign_in(directory, sessions, clock, "admin@payportal.local", PASSWORD)
    with pytest.raises(SignInRefused):
        console_sign_in.answer_totp(directory, sessions, clock, step.session, "000000")
    stored = sessions.get(step.session.session_hash)
    assert stored is not None and not stored.signed_in


def test_a_wrong_enrolment_code_can_be_tried_again(directory, sessions, clock) -> None:  # type: ignore[no-untyped-def]
    step = console_sign_in.sign_in(directory, sessions, clock, "admin@payportal.local", PASSWORD)
    with pytest.raises(SignInRefused):
        console_sign_in.enrol_totp(directory, sessions, clock, step.session, "123456")
    done = console_sign_in.enrol_totp(directory, sessions, clock, step.session, totp(step.session.totp_secret))
    assert done.session.signed_in


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567"])
def test_a_code_that_is_not_six_digits_is_refused_before_cognito(directory, sessions, clock, code) -> None:  # type: ignore[no-untyped-def]
    step = console_sign_in.sign_in(directory, sessions, clock, "admin@payportal.local", PASSWORD)
    with pytest.raises(SignInRefused):
        console_sign_in.enrol_totp(directory, sessions, clock, step.session, code)


def test_a_wrong_password_is_refused(directory, sessions, clock) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SignInRefused):
        console_sign_in.sign_in(directory, sessions, clock, "admin@payportal.local", "nope")
    assert sessions.items == {}


def test_an_invited_user_chooses_a_password_then_enrols(directory, sessions, clock) -> None:  # type: ignore[no-untyped-def]
    directory.add("new@payportal.local", "Temp-Password-1!", "collector", invited=True)
    step = console_sign_in.sign_in(directory, sessions, clock, "new@payportal.local", "Temp-Password-1!")
    assert step.session.stage is Stage.NEW_PASSWORD
    with pytest.raises(WeakPassword):
        console_sign_in.choose_password(directory, sessions, clock, step.session, "short")
    step = console_sign_in.choose_password(directory, sessions, clock, step.session, "A-much-longer-one-42")
    assert step.session.stage is Stage.ENROL_TOTP


def test_a_pool_that_lets_a_password_alone_in_is_refused_and_its_tokens_revoked(sessions, clock) -> None:  # type: ignore[no-untyped-def]
    # Given a pool whose MFA was switched off by mistake
    directory = FakeStaffDirectory(mfa_required=False)
    directory.add("admin@payportal.local", PASSWORD, "admin")
    # When the password is right, Then nobody is signed in and the tokens Cognito issued are ended
    with pytest.raises(MfaNotEnforced):
        console_sign_in.sign_in(directory, sessions, clock, "admin@payportal.local", PASSWORD)
    assert sessions.items == {} and directory.live_tokens == {}


def test_a_step_answered_out_of_order_is_refused(directory, sessions, clock) -> None:  # type: ignore[no-untyped-def]
    step = console_sign_in.sign_in(directory, sessions, clock, "admin@payportal.local", PASSWORD)
    with pytest.raises(SignInRefused):
        console_sign_in.answer_totp(directory, sessions, clock, step.session, "123456")


def test_the_session_lapses_after_the_idle_timeout(directory, sessions, clock) -> None:  # type: ignore[no-untyped-def]
    done = enrolled(directory, sessions, clock, "admin@payportal.local")
    clock.instant += IDLE_TIMEOUT - timedelta(seconds=1)
    assert console_sign_in.current(sessions, clock, done.session_id) is not None  # and this resets the idle time
    clock.instant += IDLE_TIMEOUT - timedelta(seconds=1)
    assert console_sign_in.current(sessions, clock, done.session_id) is not None
    clock.instant += IDLE_TIMEOUT
    assert console_sign_in.current(sessions, clock, done.session_id) is None
    assert sessions.items == {}


def test_an_active_session_still_ends_after_its_lifetime(directory, sessions, clock) -> None:  # type: ignore[no-untyped-def]
    done = enrolled(directory, sessions, clock, "admin@payportal.local")
    elapsed = timedelta()
    while elapsed < MAX_LIFETIME - IDLE_TIMEOUT:
        clock.instant += IDLE_TIMEOUT / 2
        elapsed += IDLE_TIMEOUT / 2
        assert console_sign_in.current(sessions, clock, done.session_id) is not None
    clock.instant += IDLE_TIMEOUT
    assert console_sign_in.current(sessions, clock, done.session_id) is None


def test_a_pending_sign_in_lapses_with_cognitos_challenge(directory, sessions, clock) -> None:  # type: ignore[no-untyped-def]
    step = console_sign_in.sign_in(directory, sessions, clock, "admin@payportal.local", PASSWORD)
    clock.instant += timedelta(minutes=3)
    assert console_sign_in.current(sessions, clock, step.session_id) is None


def test_an_unknown_session_id_is_none(sessions, clock) -> None:  # type: ignore[no-untyped-def]
    assert console_sign_in.current(sessions, clock, "forged") is None
    assert console_sign_in.current(sessions, clock, None) is None


def test_sign_out_ends_the_session_and_the_tokens_at_cognito(directory, sessions, clock) -> None:  # type: ignore[no-untyped-def]
    done = enrolled(directory, sessions, clock, "admin@payportal.local")
    console_sign_in.sign_out(directory, sessions, done.session)
    assert console_sign_in.current(sessions, clock, done.session_id) is None
    assert directory.signed_out == ["admin@payportal.local"] and directory.live_tokens == {}


def test_the_actor_names_the_staff_member(directory, sessions, clock) -> None:  # type: ignore[no-untyped-def]
    done = enrolled(directory, sessions, clock, "viewer@payportal.local")
    assert done.session.actor == f"staff:{directory.users['viewer@payportal.local'].sub}:viewer@payportal.local"


@pytest.mark.parametrize(
    ("username", "password"), [("a" * 129 + "@x.example", PASSWORD), ("admin@payportal.local", "p" * 257)]
)
def test_what_no_email_or_password_can_be_is_refused_before_cognito(
    directory, sessions, clock, username, password
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SignInRefused):
        console_sign_in.sign_in(directory, sessions, clock, username, password)
