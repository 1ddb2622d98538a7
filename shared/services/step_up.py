"""Step-up: a fresh one-time code, inside a signed-in session, before a change to how the customer pays
(turning autopay on or off, a payment method, an installment plan).

`ask` sends a code for one action kind (StepUpAction) of this session; `confirm` checks the code typed and uses
it up, so one code authorises one action of that kind, within STEP_UP_VALID_FOR of asking. The caller performs
the action right after `confirm` returns, in the same request; without it, `StepUpRequired` is all it gets.
The codes, their rate limits and their lock after five wrong tries are sign-in's (account_codes.py).
"""

from __future__ import annotations

from shared.clock import Clock
from shared.domain.account import AccountSession, CodePurpose, StepUpAction, step_up_key
from shared.domain.errors import DomainError
from shared.services.account_codes import CodeAsked, CodeRefused, Refusal, ask_code, check_code
from shared.services.account_ports import AccountStore


class StepUpRequired(DomainError):
    """The action needs a fresh code, and none was typed."""

    code = "step_up_required"


def ask(
    store: AccountStore, clock: Clock, session: AccountSession, action: StepUpAction, *, source_ip: str
) -> CodeAsked:
    """Email a code for `action` to the session's address (counted against that address's hourly codes)."""
    return ask_code(
        store,
        clock,
        key=step_up_key(session.session_hash, action),
        purpose=CodePurpose.STEP_UP,
        customer_ids=session.customer_ids[:1],
        address=session.address,
        source_ip=source_ip,
    )


def confirm(
    store: AccountStore, clock: Clock, session: AccountSession, action: StepUpAction, *, code: str, source_ip: str
) -> None:
    """Returns once `code` is this session's fresh code for `action`, used up; CodeRefused otherwise."""
    if not code.strip():
        raise StepUpRequired("a fresh code is needed for this")
    key = step_up_key(session.session_hash, action)
    challenge = check_code(store, clock, key=key, typed=code, source_ip=source_ip)
    if not store.consume(key, challenge.challenge_id):
        raise CodeRefused(Refusal.EXPIRED)
