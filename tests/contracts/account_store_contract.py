"""The AccountStore contract, run over the in-memory fake (tests/unit/test_account_store_contract.py) and over
DynamoAccountStore in moto (tests/integration/test_account_store_contract.py). `queued` lists the ids of the
outbox messages the store wrote."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shared.domain.account import (
    MAX_ATTEMPTS,
    RESEND_AFTER,
    AccountSession,
    CodePurpose,
    RateLimit,
    new_challenge,
    session_hash,
    sign_in_key,
)
from shared.domain.messages import AccountCodeEmail, OutboxMessage, outgoing_email
from shared.services.account_ports import AccountStore

AT = datetime(2027, 3, 1, 9, tzinfo=UTC)
KEY = sign_in_key("ada@example.com")
Queued = Callable[[], list[str]]


def _email(challenge_id: str, at: datetime = AT) -> OutboxMessage:
    return outgoing_email(AccountCodeEmail(KEY, challenge_id), at)


def a_session(session_id: str = "id-1") -> AccountSession:
    return AccountSession(session_hash(session_id), ("cus_1", "cus_2"), "addr", "csrf-1", AT, AT)


class AccountStoreContract:
    def test_a_challenge_and_its_email_are_written_together(self, store: AccountStore, queued: Queued) -> None:
        challenge = new_challenge(KEY, CodePurpose.SIGN_IN, ("cus_1",), AT)
        email = _email(challenge.challenge_id)
        assert store.open_challenge(challenge, email, resend_before=AT - RESEND_AFTER)
        assert store.get_challenge(KEY) == challenge
        assert queued() == [email.id]

    def test_a_new_challenge_within_the_minute_writes_nothing(self, store: AccountStore, queued: Queued) -> None:
        first = new_challenge(KEY, CodePurpose.SIGN_IN, (), AT)
        store.open_challenge(first, _email(first.challenge_id), resend_before=AT - RESEND_AFTER)
        soon = AT + timedelta(seconds=30)
        second = new_challenge(KEY, CodePurpose.SIGN_IN, (), soon)
        assert not store.open_challenge(second, _email(second.challenge_id, soon), resend_before=soon - RESEND_AFTER)
        assert store.get_challenge(KEY) == first and len(queued()) == 1
        later = AT + timedelta(seconds=61)
        third = new_challenge(KEY, CodePurpose.SIGN_IN, (), later)
        assert store.open_challenge(third, _email(third.challenge_id, later), resend_before=later - RESEND_AFTER)
        assert store.get_challenge(KEY) == third and len(queued()) == 2

    def test_the_code_is_set_on_its_own_challenge_only(self, store: AccountStore, queued: Queued) -> None:
        challenge = new_challenge(KEY, CodePurpose.SIGN_IN, ("cus_1",), AT)
        store.open_challenge(challenge, _email(challenge.challenge_id), resend_before=AT - RESEND_AFTER)
        assert not store.set_code(KEY, "another", "00" * 16, "ab" * 32)
        assert store.set_code(KEY, challenge.challenge_id, "00" * 16, "ab" * 32)
        assert store.get_challenge(KEY) == replace(challenge, salt="00" * 16, code_hash="ab" * 32)

    def test_wrong_tries_count_up_to_the_lock(self, store: AccountStore, queued: Queued) -> None:
        challenge = new_challenge(KEY, CodePurpose.SIGN_IN, ("cus_1",), AT)
        store.open_challenge(challenge, _email(challenge.challenge_id), resend_before=AT - RESEND_AFTER)
        assert all(store.count_attempt(KEY, challenge.challenge_id) for _ in range(MAX_ATTEMPTS))
        assert not store.count_attempt(KEY, challenge.challenge_id)
        found = store.get_challenge(KEY)
        assert found is not None and found.attempts == MAX_ATTEMPTS and found.locked
        # A locked challenge can be neither minted again nor used
        assert not store.set_code(KEY, challenge.challenge_id, "00" * 16, "ab" * 32)
        assert not store.consume(KEY, challenge.challenge_id)
        assert not store.sign_in(KEY, challenge.challenge_id, a_session(), [])

    def test_sign_in_uses_the_challenge_up_once(self, store: AccountStore, queued: Queued) -> None:
        challenge = new_challenge(KEY, CodePurpose.SIGN_IN, ("cus_1",), AT)
        store.open_challenge(challenge, _email(challenge.challenge_id), resend_before=AT - RESEND_AFTER)
        session = a_session()
        assert store.sign_in(KEY, challenge.challenge_id, session, [])
        assert store.get_challenge(KEY) is None and store.get_session(session.session_hash) == session
        assert not store.sign_in(KEY, challenge.challenge_id, a_session("id-2"), [])
        assert store.get_session(session_hash("id-2")) is None

    def test_sessions_are_touched_and_ended(self, store: AccountStore, queued: Queued) -> None:
        challenge = new_challenge(KEY, CodePurpose.SIGN_IN, ("cus_1",), AT)
        store.open_challenge(challenge, _email(challenge.challenge_id), resend_before=AT - RESEND_AFTER)
        session = a_session()
        store.sign_in(KEY, challenge.challenge_id, session, [])
        touched = session.touched(AT + timedelta(minutes=3))
        store.touch_session(touched)
        assert store.get_session(session.session_hash) == touched
        store.end_session(session.session_hash)
        assert store.get_session(session.session_hash) is None
        store.touch_session(touched)  # after sign-out: nothing comes back
        assert store.get_session(session.session_hash) is None

    def test_a_rate_limit_counts_per_subject_and_window(self, store: AccountStore, queued: Queued) -> None:
        window = AT.replace(minute=0)
        assert [store.within_limit(RateLimit.CODES_PER_CLIENT, "ip", window, 2) for _ in range(3)] == [
            True,
            True,
            False,
        ]
        assert store.within_limit(RateLimit.CODES_PER_CLIENT, "other ip", window, 2)
        assert store.within_limit(RateLimit.CODES_PER_ADDRESS, "ip", window, 2)
        assert store.within_limit(RateLimit.CODES_PER_CLIENT, "ip", window + timedelta(hours=1), 2)
