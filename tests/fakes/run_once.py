"""A RunOnce that keeps each key's fingerprint and first result in memory, as the Powertools-backed one does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.services.ports import RunOnce


class FingerprintMismatch(Exception):
    """The key was used before for another request."""


@dataclass
class InMemoryRunOnce:
    done: dict[str, tuple[dict[str, Any], dict[str, str]]] = field(default_factory=dict)
    runs: int = 0  # how many times work actually ran

    def __call__(self, key: str, fingerprint: dict[str, Any], work: Callable[[], dict[str, str]]) -> dict[str, str]:
        if key in self.done:
            first_fingerprint, result = self.done[key]
            if first_fingerprint != fingerprint:
                raise FingerprintMismatch(key)
            return result
        result = work()
        self.runs += 1
        self.done[key] = (dict(fingerprint), result)
        return result


if TYPE_CHECKING:
    _port: RunOnce = InMemoryRunOnce()
