"""Outbound webhook endpoints: what an operator registers, the rules its URL and events must meet, and the
Standard Webhooks signature a delivery carries (https://www.standardwebhooks.com).

A signing secret is `whsec_` and 32 random bytes in base64. Rotating keeps the previous secret valid for an
overlap (24 h), during which a delivery carries both signatures, space-separated, as the specification allows.
Secrets never appear in a record's repr, so a logged record shows none.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

from shared.domain.errors import DomainError
from shared.domain.messages import EventName

ALL_EVENTS: Final = "*"
EVENT_TYPES: Final = frozenset(name.value for name in EventName)
MAX_URL_LENGTH: Final = 2048
MAX_DESCRIPTION_LENGTH: Final = 500
MAX_ENDPOINTS: Final = 100  # per stack: every delivery reads them all (one partition)
SECRET_OVERLAP: Final = timedelta(hours=24)
SECRET_PREFIX: Final = "whsec_"
_SECRET_BYTES: Final = 32


class InvalidWebhookEndpoint(DomainError):
    """A URL, event list or description an endpoint cannot have; `field` names which."""

    code = "invalid_webhook_endpoint"


class TooManyWebhookEndpoints(DomainError):
    code = "too_many_webhook_endpoints"


class DisabledReason(StrEnum):
    OPERATOR = "operator"  # PATCH enabled=false
    FAILING = "failing"  # too many deliveries in a row failed for good


@dataclass(frozen=True, slots=True)
class SigningSecret:
    """One secret an endpoint's deliveries are signed with; `id` is derived from the request that made it, so
    a repeat of that request finds it; `expires_at` None while it is the current one."""

    id: str
    value: str = field(repr=False)
    created_at: datetime
    expires_at: datetime | None = None

    def live_at(self, at: datetime) -> bool:
        return self.expires_at is None or at < self.expires_at


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: str
    url: str
    events: tuple[str, ...]  # event types, or ("*",)
    description: str
    secrets: tuple[SigningSecret, ...]  # the current one last
    created_at: datetime
    updated_at: datetime
    enabled: bool = True
    disabled_reason: DisabledReason | None = None
    consecutive_failures: int = 0
    version: int = 1

    def subscribes_to(self, event_type: str) -> bool:
        return self.enabled and (ALL_EVENTS in self.events or event_type in self.events)

    @property
    def current_secret(self) -> SigningSecret:
        return self.secrets[-1]

    def live_secrets(self, at: datetime) -> tuple[SigningSecret, ...]:
        return tuple(s for s in self.secrets if s.live_at(at))

    def next_version(self, at: datetime, **changes: object) -> WebhookEndpoint:
        return replace(self, updated_at=at, version=self.version + 1, **changes)  # type: ignore[arg-type]


def new_secret_value() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(_SECRET_BYTES)).decode()


def rotated(endpoint: WebhookEndpoint, secret: SigningSecret, at: datetime) -> WebhookEndpoint:
    """`endpoint` signing with `secret` from now on; the secrets still live stay valid for the overlap at most,
    and those already expired are dropped."""
    kept = tuple(
        replace(s, expires_at=min(s.expires_at or at + SECRET_OVERLAP, at + SECRET_OVERLAP))
        for s in endpoint.secrets
        if s.live_at(at)
    )
    return endpoint.next_version(at, secrets=(*kept, secret))


def check_events(events: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The event list as stored: known types, no repeats, in order; `*` alone means every event."""
    if not events:
        raise InvalidWebhookEndpoint('name at least one event type, or "*" for all', field="events")
    if ALL_EVENTS in events:
        if len(set(events)) != 1:
            raise InvalidWebhookEndpoint('"*" already means every event: send it alone', field="events")
        return (ALL_EVENTS,)
    unknown = sorted({e for e in events if e not in EVENT_TYPES})
    if unknown:
        raise InvalidWebhookEndpoint(
            f"unknown event type: {', '.join(unknown)[:200]} (docs/events.md lists them)", field="events"
        )
    return tuple(dict.fromkeys(events))


def check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise InvalidWebhookEndpoint(f"at most {MAX_DESCRIPTION_LENGTH} characters", field="description")
    return description


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_loopback_http: bool) -> str:
    """The URL if deliveries may go to it: https (or, on the local stack, http to loopback), a host, no
    credentials, no fragment, at most MAX_URL_LENGTH characters. Where the host resolves is checked at each
    delivery (shared.services.webhook_delivery), since DNS can change."""

    def refuse(message: str) -> InvalidWebhookEndpoint:
        return InvalidWebhookEndpoint(message, field="url")

    if len(url) > MAX_URL_LENGTH:
        raise refuse(f"at most {MAX_URL_LENGTH} characters")
    if any(c.isspace() or ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise refuse("no spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise refuse("not a URL") from error
    host = (parts.hostname or "").lower()
    if not host:
        raise refuse("a URL with a host, e.g. https://hooks.example.com/payportal")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise refuse("no user name or password in the URL: authenticate the signature instead")
    if parts.fragment or url.endswith("#"):
        raise refuse("no fragment (#...)")
    if port == 0:
        raise refuse("not a port deliveries can reach")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and allow_loopback_http and is_loopback_host(host):
        return url
    raise refuse("https only" + (" (or http to 127.0.0.1 or localhost)" if allow_loopback_http else ""))


def is_public_address(address: str) -> bool:
    """Whether a delivery may connect to this resolved address: not private, loopback, link-local, multicast,
    reserved or unspecified (an IPv4-mapped IPv6 address is judged as the IPv4 address it maps)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


def signature(secrets: tuple[SigningSecret, ...], message_id: str, at: datetime, body: str) -> str:
    """The `webhook-signature` header: one `v1,<base64>` per live secret, space-separated."""
    return " ".join(Webhook(s.value).sign(message_id, at, body) for s in secrets)


# An endpoint whose deliveries fail for good this many times in a row is disabled (and the operator alerted).
DISABLE_AFTER_FAILURES: Final = 5


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    """A delivery that failed for good: every attempt over the retry schedule failed, or the endpoint was
    disabled while it waited. Kept on the endpoint until replayed (or the endpoint deleted). `event` is the
    webhook event as queued: type, id, timestamp, data."""

    id: str  # whd_<13-digit ms when first queued><16 hex>: sorts by when the delivery was first queued
    endpoint_id: str
    event: dict[str, object]
    attempts: int
    last_status: int | None  # the last answer's HTTP status; None: no answer (refused, DNS, timeout, TLS)
    excerpt: str  # at most 200 characters of the last answer or of why there was none
    failed_at: datetime


def failed_delivery_id(endpoint_id: str, event_id: str, message_id: str, first_queued_ms: int) -> str:
    """The same failing delivery, handled twice (its message seen again), gets the same id."""
    digest = hashlib.sha256(f"{endpoint_id}|{event_id}|{message_id}".encode()).hexdigest()[:16]
    return f"whd_{first_queued_ms:013d}{digest}"


def failed_once_more(endpoint: WebhookEndpoint, at: datetime) -> WebhookEndpoint:
    """The endpoint after one more delivery failed for good: disabled at DISABLE_AFTER_FAILURES in a row."""
    failures = endpoint.consecutive_failures + 1
    if endpoint.enabled and failures >= DISABLE_AFTER_FAILURES:
        return endpoint.next_version(
            at, consecutive_failures=failures, enabled=False, disabled_reason=DisabledReason.FAILING
        )
    return endpoint.next_version(at, consecutive_failures=failures)
