"""Signing in to the customer's account: an email address, a one-time code to it, then a session.

Several customer records may share one address (the operator created one per company, or one per contract):
the code proves the mailbox, so the session opens every one of them (up to MAX_CUSTOMERS), each shown on
the statement under its own name.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.clock import Clock
from shared.domain.account import (
    MAX_CUSTOMERS,
    AccountSession,
    CodePurpose,
    address_hash,
    new_csrf_token,
    new_session_id,
    session_hash,
    sign_in_key,
)
from shared.domain.errors import DomainError
from shared.domain.records import AuditEntry, AuditSubject
from shared.domain.text import is_email_address, search_text
from shared.services.account_codes import CodeAsked, CodeRefused, Refusal, ask_code, check_code
from shared.services.account_ports import AccountStore
from shared.services.ports import CustomerListing, Ledger


class BadAddress(DomainError):
    """What was typed is not an email address: said as such (it tells nothing about who has an account)."""

    code = "bad_address"


@dataclass(frozen=True, slots=True)
class SignedIn:
    session_id: str  # for the cookie only
    session: AccountSession


def customers_with(ledger: Ledger, email: str) -> tuple[str, ...]:
    """The customers whose address is `email` (as customer search folds it), from the lists index."""
    folded = search_text(email)
    page = ledger.list_customers(CustomerListing(by="email", prefix=folded), MAX_CUSTOMERS * 2, None)
    found = [c.id for under, c in page.items if under == "email" and search_text(c.email) == folded]
    return tuple(found[:MAX_CUSTOMERS])


def _address(email: str) -> str:
    email = email.strip()
    if not is_email_address(email):
        raise BadAddress("enter an email address")
    return email


def ask_sign_in_code(store: AccountStore, ledger: Ledger, clock: Clock, *, email: str, source_ip: str) -> CodeAsked:
    """The same answer whether or not any customer has the address (the code goes only to one that does)."""
    email = _address(email)
    return ask_code(
        store,
        clock,
        key=sign_in_key(email),
        purpose=CodePurpose.SIGN_IN,
        customer_ids=customers_with(ledger, email),
        address=address_hash(email),
        source_ip=source_ip,
    )


def sign_in(store: AccountStore, clock: Clock, *, email: str, code: str, source_ip: str) -> SignedIn:
    try:
        email = _address(email)
    except BadAddress:
        raise CodeRefused(Refusal.EXPIRED) from None
    key = sign_in_key(email)
    challenge = check_code(store, clock, key=key, typed=code, source_ip=source_ip)
    now, session_id = clock.now(), new_session_id()
    session = AccountSession(
        session_hash=session_hash(session_id),
        customer_ids=challenge.customer_ids,
        address=address_hash(email),
        csrf_token=new_csrf_token(),
        created_at=now,
        last_seen_at=now,
    )
    audit = [
        AuditEntry(
            subject=AuditSubject.CUSTOMER, subject_id=cid, action="account.signed_in", actor=session.actor, at=now
        )
        for cid in session.customer_ids
    ]
    if not store.sign_in(key, challenge.challenge_id, session, audit):
        raise CodeRefused(Refusal.EXPIRED)  # used by another request a moment ago
    return SignedIn(session_id, session)


def current(store: AccountStore, clock: Clock, session_id: str | None) -> AccountSession | None:
    """The live session behind the cookie; a lapsed one is ended on the spot."""
    if not session_id or len(session_id) > 128:
        return None
    session = store.get_session(session_hash(session_id))
    if session is None:
        return None
    now = clock.now()
    if session.expired(now):
        store.end_session(session.session_hash)
        return None
    if session.needs_touch(now):
        session = session.touched(now)
        store.touch_session(session)
    return session


def sign_out(store: AccountStore, session: AccountSession) -> None:
    store.end_session(session.session_hash)
