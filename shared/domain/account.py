"""The customer's account: one-time codes (sign-in and step-up), account sessions, and the rate limits on both.
Pure rules; the store keeps codes and sessions only as hashes (the code itself exists only in the email, the
session id only in the browser's cookie)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from shared.domain.text import search_text

CODE_DIGITS: Final = 6
CODE_VALID_FOR: Final = timedelta(minutes=10)  # a sign-in code
STEP_UP_VALID_FOR: Final = timedelta(minutes=5)  # a step-up code: one action, soon after it was asked for
MAX_ATTEMPTS: Final = 5  # wrong codes before that code is locked
RESEND_AFTER: Final = timedelta(minutes=1)  # a new code for the same address (or action) at most this often
IDLE_TIMEOUT: Final = timedelta(minutes=15)  # no request for this long ends the session
MAX_LIFETIME: Final = timedelta(hours=2)  # however active
TOUCH_EVERY: Final = timedelta(minutes=1)  # last_seen_at is rewritten at most this often
MAX_CUSTOMERS: Final = 20  # customer records one address opens at most (the rest are not shown)


class RateLimit(StrEnum):
    """What is counted, each in fixed one-hour windows (RATE_LIMITS: how many per window)."""

    CODES_PER_ADDRESS = "codes_address"  # codes sent to one address (sign-in and step-up)
    CODES_PER_CLIENT = "codes_client"  # codes asked for from one source IP, whatever the address
    CHECKS_PER_CLIENT = "checks_client"  # codes typed from one source IP, right or wrong


RATE_WINDOW: Final = timedelta(hours=1)
RATE_LIMITS: Final[dict[RateLimit, int]] = {
    RateLimit.CODES_PER_ADDRESS: 5,
    # Many customers can share one IP (a carrier's NAT, an office): the per-client limits stop a spray across
    # addresses, not one person; an address's own codes are held to 5 x 5 tries an hour by the first limit.
    RateLimit.CODES_PER_CLIENT: 60,
    RateLimit.CHECKS_PER_CLIENT: 100,
}


class CodePurpose(StrEnum):
    SIGN_IN = "sign_in"
    STEP_UP = "step_up"


class StepUpAction(StrEnum):
    """What needs a fresh code inside a session: each code is good for one of these, once."""

    AUTOPAY_ON = "autopay_on"
    AUTOPAY_OFF = "autopay_off"
    PAYMENT_METHOD = "payment_method"  # add, remove or choose a saved card or bank account
    INSTALLMENT_PLAN = "installment_plan"  # choose or change a plan
    DATA_EXPORT = "data_export"  # email a link to download everything held about the customer


def address_hash(email: str) -> str:
    """How the store names an address: SHA-256 of its folded form (customer search's, shared.domain.text)."""
    return hashlib.sha256(search_text(email).encode()).hexdigest()


def client_hash(source_ip: str) -> str:
    return hashlib.sha256(f"client:{source_ip}".encode()).hexdigest()


def sign_in_key(email: str) -> str:
    return f"SIGNIN#{address_hash(email)}"


def step_up_key(session_hash: str, action: StepUpAction) -> str:
    return f"STEPUP#{session_hash}#{action.value}"


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_salt() -> str:
    return secrets.token_hex(16)


def code_hash(code: str, salt: str) -> str:
    """HMAC-SHA-256 of the code under the challenge's own random salt: equal codes never hash alike."""
    return hmac.new(bytes.fromhex(salt), code.encode(), hashlib.sha256).hexdigest()


def well_formed_code(typed: str) -> str | None:
    """The six ASCII digits typed (spaces and dashes people add are dropped), else None."""
    digits = typed.replace(" ", "").replace("-", "")
    if len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit():
        return digits
    return None


@dataclass(frozen=True, slots=True)
class CodeChallenge:
    """One code asked for: who it opens (none for an address no customer has), until when, and how many wrong
    tries it has had. The code is minted when its email is sent (shared/services/outbox.py), so until then
    `code_hash` is empty and nothing can match it."""

    key: str  # sign_in_key or step_up_key
    challenge_id: str
    purpose: CodePurpose
    customer_ids: tuple[str, ...]
    created_at: datetime
    expires_at: datetime
    attempts: int = 0
    salt: str = ""
    code_hash: str = ""

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    @property
    def locked(self) -> bool:
        return self.attempts >= MAX_ATTEMPTS

    def may_resend(self, now: datetime) -> bool:
        return now - self.created_at >= RESEND_AFTER

    def matches(self, code: str) -> bool:
        """Constant time; a challenge with no code minted (or an unknown address's) never matches."""
        if not self.code_hash or not self.salt:
            hmac.compare_digest("0" * 64, code_hash(code, "00" * 16))  # the same work either way
            return False
        return hmac.compare_digest(self.code_hash, code_hash(code, self.salt))


def new_challenge(key: str, purpose: CodePurpose, customer_ids: tuple[str, ...], now: datetime) -> CodeChallenge:
    valid_for = CODE_VALID_FOR if purpose is CodePurpose.SIGN_IN else STEP_UP_VALID_FOR
    return CodeChallenge(
        key=key,
        challenge_id=secrets.token_hex(16),
        purpose=purpose,
        customer_ids=customer_ids,
        created_at=now,
        expires_at=now + valid_for,
    )


def new_session_id() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class AccountSession:
    """A signed-in customer: the customer records their address opened, and the form token bound to it."""

    session_hash: str
    customer_ids: tuple[str, ...]
    address: str  # address_hash of the address that signed in (what step-up codes are counted against)
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime

    def expires_at(self) -> datetime:
        return min(self.last_seen_at + IDLE_TIMEOUT, self.created_at + MAX_LIFETIME)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at()

    def needs_touch(self, now: datetime) -> bool:
        return now - self.last_seen_at >= TOUCH_EVERY

    def touched(self, now: datetime) -> AccountSession:
        return replace(self, last_seen_at=now)

    def opens(self, customer_id: str) -> bool:
        return customer_id in self.customer_ids

    @property
    def actor(self) -> str:
        """How audit entries name the customer acting from the account (the session's hash prefix ties the
        entries of one session together without being usable as a cookie)."""
        return f"customer:account:{self.session_hash[:12]}"


def window_start(now: datetime) -> datetime:
    """The fixed window `now` counts in (whole hours, UTC)."""
    return now.replace(minute=0, second=0, microsecond=0)
