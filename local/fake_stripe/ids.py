"""Object ids shaped like Stripe's: a type prefix and random letters and digits."""

from __future__ import annotations

import secrets
import string


def random_id(prefix: str, length: int = 24) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))
