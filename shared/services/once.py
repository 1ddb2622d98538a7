"""Creating requests made safe to repeat: one entity per (caller, Idempotency-Key).

The entity's id is derived from the caller and the key, so a repeat finds what the first attempt created
whatever became of its reply: Powertools' record answers a repeat while it exists (and refuses the same key
with another body), and once it is gone (a first attempt that failed after committing deletes it) the
entity's own id does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from shared.services.ports import ChangeRejected, Rejection, RunOnce


class MissingIdempotencyKey(Exception):
    """A creating request came without an Idempotency-Key where one is required."""


def scoped_key(actor: str, key: str | None) -> str:
    """The key as stored: scoped to the caller (two operators may pick the same key); blank is missing."""
    if not key or not key.strip():
        raise MissingIdempotencyKey()
    return f"{actor}|{key.strip()}"


def entity_id(prefix: str, scoped: str) -> str:
    return f"{prefix}_{hashlib.sha256(scoped.encode()).hexdigest()[:32]}"


def create_once(
    once: RunOnce,
    *,
    scoped: str,
    fingerprint: dict[str, object],
    prefix: str,
    result_key: str,
    create: Callable[[str], object],
    exists: Callable[[str], bool],
) -> str:
    """The id of what `create(id)` makes, made at most once for `scoped` (see `scoped_key`)."""
    wanted = entity_id(prefix, scoped)

    def work() -> dict[str, str]:
        try:
            create(wanted)
        except ChangeRejected as rejected:
            if rejected.reason is not Rejection.EXISTS or not exists(wanted):
                raise
            # Created by an earlier attempt with this key, whose reply (or Powertools' record) was lost.
        return {result_key: wanted}

    return once(scoped, fingerprint, work)[result_key]
