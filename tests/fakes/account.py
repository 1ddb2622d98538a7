"""An in-memory AccountStore: challenges, sessions and counters in dicts, with the adapter's conditions. Its
emails go into the fake ledger's outbox, as the adapter's go into the table's."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from shared.domain.account import MAX_ATTEMPTS, AccountSession, CodeChallenge, RateLimit
from shared.domain.messages import OutboxMessage
from shared.domain.records import AuditEntry
from shared.services.ports import Change
from tests.fakes.ledger import InMemoryLedger


class FakeAccountStore:
    def __init__(self, ledger: InMemoryLedger) -> None:
        self.ledger = ledger
        self.challenges: dict[str, CodeChallenge] = {}
        self.sessions: dict[str, AccountSession] = {}
        self.counters: dict[tuple[RateLimit, str, datetime], int] = {}

    def get_challenge(self, key: str) -> CodeChallenge | None:
        return self.challenges.get(key)

    def open_challenge(self, challenge: CodeChallenge, email: OutboxMessage, *, resend_before: datetime) -> bool:
        earlier = self.challenges.get(challenge.key)
        if earlier is not None and earlier.created_at >= resend_before:
            return False
        self.challenges[challenge.key] = challenge
        self.ledger.commit(Change(outbox=[email]))
        return True

    def _live(self, key: str, challenge_id: str) -> CodeChallenge | None:
        found = self.challenges.get(key)
        if found is None or found.challenge_id != challenge_id or found.attempts >= MAX_ATTEMPTS:
            return None
        return found

    def set_code(self, key: str, challenge_id: str, salt: str, code_hash: str) -> bool:
        found = self._live(key, challenge_id)
        if found is None:
            return False
        self.challenges[key] = replace(found, salt=salt, code_hash=code_hash)
        return True

    def count_attempt(self, key: str, challenge_id: str) -> bool:
        found = self._live(key, challenge_id)
        if found is None:
            return False
        self.challenges[key] = replace(found, attempts=found.attempts + 1)
        return True

    def consume(self, key: str, challenge_id: str) -> bool:
        if self._live(key, challenge_id) is None:
            return False
        del self.challenges[key]
        return True

    def sign_in(self, key: str, challenge_id: str, session: AccountSession, audit: list[AuditEntry]) -> bool:
        if not self.consume(key, challenge_id):
            return False
        self.sessions[session.session_hash] = session
        if audit:
            self.ledger.commit(Change(audit=audit))
        return True

    def within_limit(self, limit: RateLimit, subject: str, window: datetime, allowed: int) -> bool:
        counted = self.counters.get((limit, subject, window), 0)
        if counted >= allowed:
            return False
        self.counters[(limit, subject, window)] = counted + 1
        return True

    def get_session(self, session_hash: str) -> AccountSession | None:
        return self.sessions.get(session_hash)

    def touch_session(self, session: AccountSession) -> None:
        if session.session_hash in self.sessions:
            self.sessions[session.session_hash] = session

    def end_session(self, session_hash: str) -> None:
        self.sessions.pop(session_hash, None)
