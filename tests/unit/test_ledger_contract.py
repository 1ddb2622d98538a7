"""The ledger contract over the in-memory ledger that services' unit tests use."""

from __future__ import annotations

import pytest

from tests.contracts.ledger_contract import LedgerContract
from tests.fakes import InMemoryLedger


class TestInMemoryLedger(LedgerContract):
    refused_request = ValueError

    @pytest.fixture
    def ledger(self) -> InMemoryLedger:
        ledger = InMemoryLedger()
        ledger.counters_ready_since = None  # as an empty table in moto: no marker
        return ledger
