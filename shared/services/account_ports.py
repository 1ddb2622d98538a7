"""The customer account's store: code challenges, sessions and rate-limit counters (the table, or a fake).

Kept apart from ports.py: only the account function (and the outbox, which mints the codes) use it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from shared.domain.account import AccountSession, CodeChallenge, RateLimit
from shared.domain.messages import OutboxMessage
from shared.domain.records import AuditEntry


class AccountStore(Protocol):
    def get_challenge(self, key: str) -> CodeChallenge | None: ...

    def open_challenge(self, challenge: CodeChallenge, email: OutboxMessage, *, resend_before: datetime) -> bool:
        """Put the challenge (replacing the key's earlier one only if that was created before `resend_before`)
        and its email, in one transaction. False: a newer challenge is there (a code less than a minute old)."""
        ...

    def set_code(self, key: str, challenge_id: str, salt: str, code_hash: str) -> bool:
        """The code minted for this challenge; False when it was replaced, locked or used meanwhile."""
        ...

    def count_attempt(self, key: str, challenge_id: str) -> bool:
        """One more wrong code (only while under the limit); False when it was replaced or used meanwhile."""
        ...

    def consume(self, key: str, challenge_id: str) -> bool:
        """The right code: the challenge is gone, so it opens nothing a second time. False: someone was first."""
        ...

    def sign_in(self, key: str, challenge_id: str, session: AccountSession, audit: list[AuditEntry]) -> bool:
        """Consume the sign-in challenge, put the new session and its audit entries in one transaction (False:
        the challenge was used meanwhile, and nothing is written)."""
        ...

    def within_limit(self, limit: RateLimit, subject: str, window: datetime, allowed: int) -> bool:
        """Count one in this window; False (and nothing counted) when `allowed` were counted already."""
        ...

    def get_session(self, session_hash: str) -> AccountSession | None: ...

    def touch_session(self, session: AccountSession) -> None: ...

    def end_session(self, session_hash: str) -> None: ...
