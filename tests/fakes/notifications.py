"""A Mailer and an EventPublisher that keep what they were given, and can be made to fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared.services.ports import DomainEvent, Email

if TYPE_CHECKING:
    from shared.services.ports import EventPublisher, Mailer


@dataclass(frozen=True, slots=True)
class SentEmail:
    email: Email
    message_id: str


@dataclass
class RecordingMailer:
    """Sends nothing; `sent` holds each email in order. Set `failure` to make every send raise it."""

    sent: list[SentEmail] = field(default_factory=list)
    failure: Exception | None = None

    def send(self, email: Email, *, message_id: str) -> str | None:
        if self.failure is not None:
            raise self.failure
        self.sent.append(SentEmail(email, message_id))
        return f"ses-{len(self.sent)}"

    def to(self, address: str) -> list[Email]:
        return [s.email for s in self.sent if s.email.to == address]


@dataclass
class RecordingPublisher:
    """Publishes nothing; `published` holds each event in order. Set `failure` to make every publish raise it."""

    published: list[DomainEvent] = field(default_factory=list)
    failure: Exception | None = None

    def publish(self, event: DomainEvent) -> None:
        if self.failure is not None:
            raise self.failure
        self.published.append(event)

    def detail_types(self) -> list[str]:
        return [e.detail_type for e in self.published]


if TYPE_CHECKING:
    _mailer: Mailer = RecordingMailer()
    _publisher: EventPublisher = RecordingPublisher()
