"""The morning digest's own counters, per UTC quarter hour (so the digest can sum the operator's local day in
any zone): off-session charge attempts declined, and disputes opened, each per currency (count and amount).
Moved in the transaction that records the Stripe event, under its guards (the event id, the payment's and the
dispute's forward-only status), so each counts once.

Kept apart from shared/services/digest.py, which builds the digest: the webhook path imports this module and
must not load what the digest reads (the dunning rules, the reports).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Final

from shared.domain.records import Dispute, Payment
from shared.services.aggregates import quarter_bucket, quarter_expiry
from shared.services.ports import Tally

SCOPE: Final = "digest"
SHARDS: Final = 4  # a day's counter spread over a few items: a charge run's declines land at once
CHARGES_FAILED: Final = "charges_failed#"  # + currency: count
CHARGES_FAILED_AMOUNT: Final = "charges_failed_amount#"  # + currency: minor units
DISPUTES_OPENED: Final = "disputes_opened#"
DISPUTES_OPENED_AMOUNT: Final = "disputes_opened_amount#"


def _bucket(at: datetime, entity_id: str) -> str:
    shard = int(hashlib.sha256(entity_id.encode()).hexdigest()[:8], 16) % SHARDS
    return f"{quarter_bucket(at)}#{shard}"


def window_range(start: datetime, end: datetime) -> tuple[str, str]:
    """The buckets of the instants from `start` to before `end` (both on quarter hours), for
    Ledger.read_tallies(between=...): "{end's quarter}" sorts before that quarter's "{quarter}#{shard}"."""
    return quarter_bucket(start), quarter_bucket(end)


def charge_failed(payment: Payment, at: datetime) -> Tally:
    """An off-session charge attempt declined (recorded from its payment_intent.payment_failed)."""
    return Tally(
        SCOPE,
        _bucket(at, payment.key),
        {CHARGES_FAILED + payment.currency: 1, CHARGES_FAILED_AMOUNT + payment.currency: payment.amount},
        expires_at=quarter_expiry(at),
    )


def dispute_opened(dispute: Dispute, at: datetime) -> Tally:
    """A dispute recorded for the first time (whatever Stripe says it is by now)."""
    return Tally(
        SCOPE,
        _bucket(at, dispute.id),
        {DISPUTES_OPENED + dispute.currency: 1, DISPUTES_OPENED_AMOUNT + dispute.currency: dispute.amount},
        expires_at=quarter_expiry(at),
    )
