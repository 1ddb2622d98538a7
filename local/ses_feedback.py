"""SES's mailbox simulator, offline.

In AWS, mail to `bounce@simulator.amazonses.com` bounces for good and mail to
`complaint@simulator.amazonses.com` draws a complaint; the configuration set publishes either event to SNS,
which invokes `functions/email_feedback`. moto sends nothing and keeps no message tags, so the local stack
watches the SES calls the functions make (a botocore hook, which sees the tags), builds the event SES would
publish, and hands it to the function in an SNS envelope once the outbox batch that sent the mail is done.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("local.ses_feedback")

SIMULATED: dict[str, str] = {
    "bounce@simulator.amazonses.com": "Bounce",
    "complaint@simulator.amazonses.com": "Complaint",
}
_HOOK_EVENT = "provide-client-params.ses.SendRawEmail"
_HOOK_ID = "payportal-local-ses-feedback"

Invoke = Callable[[dict[str, Any]], Any]


def ses_event(kind: str, address: str, tags: dict[str, list[str]], message_id: str) -> dict[str, Any]:
    """An SES event-publishing record, as SES puts it on the configuration set's SNS topic."""
    event: dict[str, Any] = {
        "eventType": kind,
        "mail": {"messageId": message_id, "destination": [address], "tags": tags},
    }
    if kind == "Bounce":
        event["bounce"] = {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": address, "action": "failed", "status": "5.1.1"}],
        }
    else:
        event["complaint"] = {"complainedRecipients": [{"emailAddress": address}], "complaintFeedbackType": "abuse"}
    return event


def sns_envelope(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "Sns": {"Type": "Notification", "MessageId": str(uuid.uuid4()), "Message": json.dumps(message)},
            }
        ]
    }


class SesFeedback:
    def __init__(self, invoke: Invoke) -> None:
        self._invoke = invoke
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def watch(self, ses_client: Any) -> None:
        """Observe SendRawEmail on this botocore client (idempotent: one hook per client)."""
        ses_client.meta.events.register(_HOOK_EVENT, self._observe, unique_id=_HOOK_ID)

    def _observe(self, params: dict[str, Any], **_: Any) -> None:
        tags: dict[str, list[str]] = {}
        for tag in params.get("Tags", []):
            tags.setdefault(tag["Name"], []).append(tag["Value"])
        for address in params.get("Destinations", []):
            kind = SIMULATED.get(str(address).lower())
            if kind:
                with self._lock:
                    self._pending.append(ses_event(kind, str(address), tags, f"local-{uuid.uuid4().hex}"))

    def flush(self) -> int:
        """Deliver what SES would have reported for the mail sent so far; returns how many events."""
        with self._lock:
            pending, self._pending = self._pending, []
        for message in pending:
            try:
                self._invoke(sns_envelope(message))
            except Exception:  # as SNS after its retries: logged, never blocking the outbox
                logger.exception("email_feedback failed on a simulated %s", message["eventType"])
        return len(pending)
