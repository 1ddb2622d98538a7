"""In-memory fakes of the ports in shared/services/ports.py, for services' unit tests.

InMemoryLedger is held to DynamoLedger's behaviour by tests/contracts/ledger_contract.py; the business clock
is shared.clock.FixedClock (set `instant` to move it).
"""

from shared.clock import FixedClock
from tests.fakes.gateway import FakeGateway
from tests.fakes.ledger import InMemoryLedger, OutboxEntry
from tests.fakes.notifications import RecordingMailer, RecordingPublisher, SentEmail

__all__ = [
    "FakeGateway",
    "FixedClock",
    "InMemoryLedger",
    "OutboxEntry",
    "RecordingMailer",
    "RecordingPublisher",
    "SentEmail",
]
