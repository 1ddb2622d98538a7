"""The console sessions contract over the in-memory fake."""

from __future__ import annotations

import pytest

from tests.contracts.console_sessions_contract import ConsoleSessionsContract
from tests.fakes.console import FakeConsoleSessions


class TestFakeConsoleSessions(ConsoleSessionsContract):
    @pytest.fixture
    def sessions(self) -> FakeConsoleSessions:
        return FakeConsoleSessions()
