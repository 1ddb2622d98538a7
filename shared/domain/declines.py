"""Declined off-session charges: how Stripe's decline says to go on, and when the next attempt is made.

Pure: no I/O. Shared by installment plans and autopay, whose charges are the same off-session kind.
"""

from __future__ import annotations

from enum import StrEnum


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class DeclineKind(StrEnum):
    SOFT = "soft"  # may succeed later on the same card
    HARD = "hard"  # the card will not pay: the customer must give another payment method
    AUTHENTICATION = "authentication"  # the customer must come back on-session and authenticate


# Never retried on the same card. Source: Stripe's decline code reference
# (https://docs.stripe.com/declines/codes): for each of these the next step is the customer's, not time's
# (use another card, contact the issuer, correct the card details, or show only a generic decline because
# the card is lost, stolen or suspected of fraud), and Stripe's own retry logic skips non-retryable issuer
# declines (https://docs.stripe.com/billing/revenue-recovery/smart-retries). Card networks charge for
# retrying "never approve" declines. do_not_honor and generic_decline stay soft: the issuer gave no reason.
HARD_DECLINE_CODES: frozenset[str] = frozenset(
    {
        "lost_card",
        "stolen_card",
        "pickup_card",
        "fraudulent",
        "restricted_card",
        "security_violation",
        "revocation_of_authorization",
        "revocation_of_all_authorizations",
        "stop_payment_order",
        "invalid_account",
        "new_account_information_available",
        "card_not_supported",
        "currency_not_supported",
        "expired_card",
        "incorrect_number",
        "do_not_try_again",
    }
)

AUTHENTICATION_REQUIRED = "authentication_required"


def classify_decline(code: str | None, decline_code: str | None) -> DeclineKind:
    """Kind of a failed charge from Stripe's error `code` and `decline_code`."""
    if AUTHENTICATION_REQUIRED in (code, decline_code):
        return DeclineKind.AUTHENTICATION
    # Stripe reports some card errors in `code` alone (e.g. code "expired_card" with no decline_code).
    if decline_code in HARD_DECLINE_CODES or code in HARD_DECLINE_CODES:
        return DeclineKind.HARD
    return DeclineKind.SOFT


DEFAULT_RETRY_DAYS: tuple[int, ...] = (3, 5, 7)  # days after each failed attempt


def next_retry(failed_attempts: int, kind: DeclineKind, retry_days: tuple[int, ...] = DEFAULT_RETRY_DAYS) -> int | None:
    """Days until the next attempt after `failed_attempts` failures, or None: no automatic retry."""
    if not _is_int(failed_attempts) or failed_attempts < 1:
        raise ValueError("failed_attempts counts failures so far and starts at 1")
    if any(not _is_int(days) or days < 1 for days in retry_days):
        raise ValueError("retry days must be positive whole days")
    if kind != DeclineKind.SOFT or failed_attempts > len(retry_days):
        return None
    return retry_days[failed_attempts - 1]
