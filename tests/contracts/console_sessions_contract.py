"""The ConsoleSessions contract, run over the in-memory fake (tests/unit/test_console_sessions_contract.py)
and over DynamoConsoleSessions in moto (tests/integration/test_console_sessions_contract.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shared.domain.console_roles import Role
from shared.domain.console_session import ConsoleSession, Stage, session_hash
from shared.services.console_ports import ConsoleSessions

AT = datetime(2027, 3, 1, 9, tzinfo=UTC)


def a_session(session_id: str = "id-1", **overrides: object) -> ConsoleSession:
    base = ConsoleSession(
        session_hash=session_hash(session_id),
        stage=Stage.SIGNED_IN,
        username="ada@example.com",
        csrf_token="csrf-1",
        created_at=AT,
        last_seen_at=AT,
        access_token="token-1",
        staff_id="sub-1",
        email="ada@example.com",
        roles=frozenset({Role.COLLECTOR, Role.VIEWER}),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


class ConsoleSessionsContract:
    def test_a_stored_session_reads_back_as_it_was(self, sessions: ConsoleSessions) -> None:
        session = a_session()
        sessions.put(session)
        assert sessions.get(session.session_hash) == session

    def test_a_pending_one_keeps_its_challenge_and_secret(self, sessions: ConsoleSessions) -> None:
        session = a_session(stage=Stage.ENROL_TOTP, challenge="chal", totp_secret="ABCDEF", roles=frozenset())
        sessions.put(session)
        assert sessions.get(session.session_hash) == session

    def test_a_step_replaces_the_last_session(self, sessions: ConsoleSessions) -> None:
        first, second = a_session("id-1", stage=Stage.TOTP), a_session("id-2")
        sessions.put(first)
        sessions.put(second, replacing=first.session_hash)
        assert sessions.get(first.session_hash) is None and sessions.get(second.session_hash) == second

    def test_touch_moves_last_seen(self, sessions: ConsoleSessions) -> None:
        session = a_session()
        sessions.put(session)
        later = session.touched(AT + timedelta(minutes=5))
        sessions.touch(later)
        assert sessions.get(session.session_hash) == later

    def test_touching_a_deleted_session_brings_nothing_back(self, sessions: ConsoleSessions) -> None:
        session = a_session()
        sessions.put(session)
        sessions.delete(session.session_hash)
        sessions.touch(session.touched(AT + timedelta(minutes=5)))
        assert sessions.get(session.session_hash) is None

    def test_an_unknown_hash_is_none(self, sessions: ConsoleSessions) -> None:
        assert sessions.get(session_hash("never")) is None
        sessions.delete(session_hash("never"))  # and deleting it is no error

    def test_a_revocation_reads_back_and_a_later_one_replaces_it(self, sessions: ConsoleSessions) -> None:
        assert sessions.revoked_at("sub-1") is None
        sessions.revoke_staff("sub-1", AT)
        sessions.revoke_staff("sub-1", AT + timedelta(minutes=3))
        assert sessions.revoked_at("sub-1") == AT + timedelta(minutes=3) and sessions.revoked_at("sub-2") is None
