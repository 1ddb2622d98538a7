"""SES for email, EventBridge for domain events."""

from __future__ import annotations

import json
from email.message import EmailMessage
from typing import Any

from shared.services.ports import DomainEvent, Email

EVENT_SOURCE = "payportal"
# The message tag that carries the customer id into SES's bounce and complaint events.
CUSTOMER_TAG = "customer_id"


class SesMailer:
    def __init__(self, client: Any, sender: str, configuration_set: str | None = None) -> None:
        self._ses = client
        self._sender = sender
        self._configuration_set = configuration_set

    def send(self, email: Email, *, message_id: str) -> str | None:
        # A MIME message with text and HTML alternatives, sent raw: what every mail client reads best.
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join((email.to, *email.also_to))
        message["Subject"] = email.subject
        # Quoted-printable, not the 8bit the library picks for UTF-8: the raw message is then 7-bit ASCII,
        # so no relay or parser can mangle an accent or CLDR's narrow no-break space (read back from a str,
        # an 8bit part came out as a literal "\u202f"), and no HTML line is over SMTP's 998 characters.
        message.set_content(email.text, cte="quoted-printable")
        message.add_alternative(email.html, subtype="html", cte="quoted-printable")
        request: dict[str, Any] = {
            "Source": self._sender,
            "Destinations": [email.to, *email.also_to],
            "RawMessage": {"Data": message.as_bytes()},
            "Tags": [{"Name": "outbox_message", "Value": message_id.replace("_", "-")}],
        }
        if email.customer_id:
            request["Tags"].append({"Name": CUSTOMER_TAG, "Value": email.customer_id})
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        return str(self._ses.send_raw_email(**request).get("MessageId") or "") or None


class EventBridgePublisher:
    def __init__(self, client: Any, bus_name: str) -> None:
        self._events = client
        self._bus = bus_name

    def publish(self, event: DomainEvent) -> None:
        # The outbox message id travels as `id` so consumers can drop the rare redelivery.
        detail = {"id": event.id, **event.detail}
        reply = self._events.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": event.detail_type,
                    "Detail": json.dumps(detail, separators=(",", ":"), default=str),
                    "EventBusName": self._bus,
                }
            ]
        )
        if reply.get("FailedEntryCount"):
            entry = reply["Entries"][0]
            raise RuntimeError(f"EventBridge refused {event.detail_type}: {entry.get('ErrorCode')}")
