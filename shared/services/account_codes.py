"""One-time codes by email, for signing in and for step-up: asking for one and checking one, with the rate
limits of both. Sign-in (account_sign_in.py) and step-up (step_up.py) are built on these two calls.

Asking writes the challenge and its email in one transaction; the code itself is minted when the email is sent
(shared/services/outbox.py), so no code waits in the table in clear. A challenge is written whether or not any
customer has the address, and the requests, writes and answer are the same: only the outbox, later and off the
request's path, finds nobody to send to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.clock import Clock
from shared.domain.account import (
    MAX_ATTEMPTS,
    RATE_LIMITS,
    RESEND_AFTER,
    CodeChallenge,
    CodePurpose,
    RateLimit,
    client_hash,
    new_challenge,
    well_formed_code,
    window_start,
)
from shared.domain.errors import DomainError
from shared.domain.messages import AccountCodeEmail, outgoing_email
from shared.services.account_ports import AccountStore


class TooManyRequests(DomainError):
    """A rate limit: the same answer for every address, known or not."""

    code = "too_many_requests"


class Refusal(StrEnum):
    MALFORMED = "malformed"  # not six digits: not counted as a try
    WRONG = "wrong"
    LOCKED = "locked"  # five wrong tries: this code opens nothing any more
    EXPIRED = "expired"  # no code asked for, lapsed, or used already


class CodeRefused(DomainError):
    code = "code_refused"

    def __init__(self, reason: Refusal, tries_left: int = 0) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.tries_left = tries_left


@dataclass(frozen=True, slots=True)
class CodeAsked:
    recent: bool  # a code went out less than a minute ago: that one is still the one to type


def _limit(store: AccountStore, limit: RateLimit, subject: str, now: datetime) -> None:
    if not store.within_limit(limit, subject, window_start(now), RATE_LIMITS[limit]):
        raise TooManyRequests(f"rate limit {limit.value}")


def ask_code(
    store: AccountStore,
    clock: Clock,
    *,
    key: str,
    purpose: CodePurpose,
    customer_ids: tuple[str, ...],
    address: str,
    source_ip: str,
) -> CodeAsked:
    """Queue a fresh code for `key` (to the first of `customer_ids`; to nobody when there are none). At most
    one a minute per key; per client and per address within their hourly limits (TooManyRequests)."""
    now = clock.now()
    _limit(store, RateLimit.CODES_PER_CLIENT, client_hash(source_ip), now)
    earlier = store.get_challenge(key)
    if earlier is not None and not earlier.may_resend(now):
        return CodeAsked(recent=True)
    _limit(store, RateLimit.CODES_PER_ADDRESS, address, now)
    challenge = new_challenge(key, purpose, customer_ids, now)
    email = outgoing_email(AccountCodeEmail(key, challenge.challenge_id), now)
    if not store.open_challenge(challenge, email, resend_before=now - RESEND_AFTER):
        return CodeAsked(recent=True)  # another request was first, within the minute
    return CodeAsked(recent=False)


def check_code(store: AccountStore, clock: Clock, *, key: str, typed: str, source_ip: str) -> CodeChallenge:
    """The challenge the typed code answers (the caller consumes it), else CodeRefused. Each wrong code counts;
    the fifth locks the code."""
    now = clock.now()
    _limit(store, RateLimit.CHECKS_PER_CLIENT, client_hash(source_ip), now)
    code = well_formed_code(typed)
    if code is None:
        raise CodeRefused(Refusal.MALFORMED)
    challenge = store.get_challenge(key)
    if challenge is None or challenge.expired(now):
        raise CodeRefused(Refusal.EXPIRED)
    if challenge.locked:
        raise CodeRefused(Refusal.LOCKED)
    if challenge.matches(code):
        return challenge
    if not store.count_attempt(key, challenge.challenge_id):
        raise CodeRefused(Refusal.EXPIRED)  # replaced or used meanwhile
    left = MAX_ATTEMPTS - challenge.attempts - 1
    raise CodeRefused(Refusal.LOCKED if left <= 0 else Refusal.WRONG, tries_left=max(left, 0))
