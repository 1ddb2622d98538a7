"""The account store contract over the in-memory fake."""

from __future__ import annotations

import pytest

from tests.contracts.account_store_contract import AccountStoreContract, Queued
from tests.fakes.account import FakeAccountStore
from tests.fakes.ledger import InMemoryLedger


class TestFakeAccountStore(AccountStoreContract):
    @pytest.fixture
    def ledger(self) -> InMemoryLedger:
        return InMemoryLedger()

    @pytest.fixture
    def store(self, ledger: InMemoryLedger) -> FakeAccountStore:
        return FakeAccountStore(ledger)

    @pytest.fixture
    def queued(self, ledger: InMemoryLedger) -> Queued:
        return lambda: [m.id for m in ledger.outbox_messages()]
