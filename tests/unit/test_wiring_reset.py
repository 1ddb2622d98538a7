"""`wiring.reset()` forgets every cached client and setting: a cache it missed kept a client pointed at a
local stack that had stopped, and a later test's request went there (privacy, before this test)."""

from __future__ import annotations

import inspect

from shared import wiring


def test_reset_clears_every_cache_in_wiring() -> None:
    cached = {
        name: value
        for name, value in vars(wiring).items()
        if callable(getattr(value, "cache_clear", None)) and inspect.getmodule(value) is wiring
    }
    assert {"ledger", "privacy", "import_files", "account_store", "business_identity"} <= set(cached)
    cleared: list[str] = []
    originals = {name: value.cache_clear for name, value in cached.items()}
    try:
        for name, value in cached.items():
            value.cache_clear = lambda name=name: cleared.append(name)  # type: ignore[method-assign]
        wiring.reset()
    finally:
        for name, value in cached.items():
            value.cache_clear = originals[name]  # type: ignore[method-assign]
    assert sorted(set(cached) - set(cleared)) == []
