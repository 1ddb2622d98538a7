"""Outbound webhook endpoints: registered, listed, changed, deleted, and their signing secret rotated.

A secret is shown to the operator in the reply that made it, and only there: the creating request (and the
rotation) is run once per (caller, Idempotency-Key), and its repeat with the same key is that reply again,
the secret included, since a client whose first reply was lost would otherwise hold an endpoint it cannot
verify (docs/decisions.md 99). Every change is audited with the caller's identity, never with a secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.clock import Clock
from shared.domain.errors import ConcurrentUpdate, NotFound
from shared.domain.records import AuditEntry, AuditSubject
from shared.domain.webhooks import (
    MAX_ENDPOINTS,
    DisabledReason,
    SigningSecret,
    TooManyWebhookEndpoints,
    WebhookEndpoint,
    check_description,
    check_events,
    check_url,
    new_secret_value,
    rotated,
)
from shared.services.once import create_once, entity_id, scoped_key
from shared.services.ports import ChangeRejected, RunOnce
from shared.services.webhook_ports import WebhookEndpoints


@dataclass(frozen=True, slots=True)
class EndpointDraft:
    url: str
    events: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class EndpointCorrection:
    """What PATCH changes; None leaves a field as it is."""

    events: tuple[str, ...] | None = None
    enabled: bool | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class WithSecret:
    """An endpoint and the secret its creating (or rotating) request made: the one reply that shows it."""

    endpoint: WebhookEndpoint
    secret: SigningSecret | None  # None: rotated away and expired since that request


def _audit(endpoint_id: str, action: str, actor: str, clock: Clock, **details: Any) -> AuditEntry:
    return AuditEntry(
        subject=AuditSubject.WEBHOOK_ENDPOINT,
        subject_id=endpoint_id,
        action=action,
        actor=actor,
        at=clock.now(),
        details=details,
    )


def _secret_of(endpoint: WebhookEndpoint, secret_id: str) -> SigningSecret | None:
    return next((s for s in endpoint.secrets if s.id == secret_id), None)


def create_endpoint_once(
    endpoints: WebhookEndpoints,
    clock: Clock,
    once: RunOnce,
    draft: EndpointDraft,
    *,
    key: str | None,
    fingerprint: dict[str, Any],
    actor: str,
    allow_loopback_http: bool,
) -> WithSecret:
    url = check_url(draft.url, allow_loopback_http=allow_loopback_http)
    events = check_events(draft.events)
    description = check_description(draft.description)
    scoped = scoped_key(actor, key)
    secret_id = entity_id("whsec", scoped)

    def create(endpoint_id: str) -> None:
        if len(endpoints.all()) >= MAX_ENDPOINTS:
            raise TooManyWebhookEndpoints(f"at most {MAX_ENDPOINTS} endpoints: delete one first")
        now = clock.now()
        endpoint = WebhookEndpoint(
            id=endpoint_id,
            url=url,
            events=events,
            description=description,
            secrets=(SigningSecret(id=secret_id, value=new_secret_value(), created_at=now),),
            created_at=now,
            updated_at=now,
        )
        audit = _audit(endpoint_id, "webhook_endpoint.created", actor, clock, url=url, events=list(events))
        endpoints.create(endpoint, audit)

    endpoint_id = create_once(
        once,
        scoped=scoped,
        fingerprint=fingerprint,
        prefix="whe",
        result_key="endpoint_id",
        create=create,
        exists=lambda wanted: endpoints.get(wanted) is not None,
    )
    endpoint = get_endpoint(endpoints, endpoint_id)
    return WithSecret(endpoint, _secret_of(endpoint, secret_id))


def get_endpoint(endpoints: WebhookEndpoints, endpoint_id: str) -> WebhookEndpoint:
    endpoint = endpoints.get(endpoint_id)
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}", field="endpoint_id")
    return endpoint


def list_endpoints(endpoints: WebhookEndpoints) -> list[WebhookEndpoint]:
    return endpoints.all()


def update_endpoint(
    endpoints: WebhookEndpoints, clock: Clock, endpoint_id: str, correction: EndpointCorrection, *, actor: str
) -> WebhookEndpoint:
    endpoint = get_endpoint(endpoints, endpoint_id)
    changes: dict[str, Any] = {}
    if correction.events is not None:
        changes["events"] = check_events(correction.events)
    if correction.description is not None:
        changes["description"] = check_description(correction.description)
    if correction.enabled is not None and correction.enabled != endpoint.enabled:
        changes["enabled"] = correction.enabled
        # Enabled again by the operator: the failures that disabled it are behind it.
        changes["disabled_reason"] = None if correction.enabled else DisabledReason.OPERATOR
        changes["consecutive_failures"] = 0
    changes = {name: value for name, value in changes.items() if getattr(endpoint, name) != value}
    if not changes:
        return endpoint
    updated = endpoint.next_version(clock.now(), **changes)
    shown = {name: list(value) if isinstance(value, tuple) else value for name, value in changes.items()}
    try:
        endpoints.update(updated, _audit(endpoint.id, "webhook_endpoint.updated", actor, clock, **shown))
    except ChangeRejected as rejected:
        raise ConcurrentUpdate("the endpoint changed meanwhile; read it and retry") from rejected
    return updated


def delete_endpoint(endpoints: WebhookEndpoints, clock: Clock, endpoint_id: str, *, actor: str) -> None:
    endpoint = get_endpoint(endpoints, endpoint_id)
    try:
        endpoints.delete(endpoint, _audit(endpoint.id, "webhook_endpoint.deleted", actor, clock, url=endpoint.url))
    except ChangeRejected as rejected:
        raise ConcurrentUpdate("the endpoint changed meanwhile; read it and retry") from rejected


def rotate_secret_once(
    endpoints: WebhookEndpoints,
    clock: Clock,
    once: RunOnce,
    endpoint_id: str,
    *,
    key: str | None,
    actor: str,
) -> WithSecret:
    """A new current secret; the ones still live stay valid for the overlap (24 h), deliveries signed with
    each. Once per (caller, Idempotency-Key): a repeat finds the secret the first attempt made."""
    scoped = scoped_key(actor, f"{endpoint_id}|{key}" if key else key)
    secret_id = entity_id("whsec", scoped)

    def work() -> dict[str, str]:
        endpoint = get_endpoint(endpoints, endpoint_id)
        if _secret_of(endpoint, secret_id) is None:
            now = clock.now()
            secret = SigningSecret(id=secret_id, value=new_secret_value(), created_at=now)
            audit = _audit(endpoint.id, "webhook_endpoint.secret_rotated", actor, clock, secret_id=secret_id)
            try:
                endpoints.update(rotated(endpoint, secret, now), audit)
            except ChangeRejected as rejected:
                raise ConcurrentUpdate("the endpoint changed meanwhile; retry") from rejected
        return {"secret_id": secret_id}

    once(scoped, {"endpoint_id": endpoint_id}, work)
    endpoint = get_endpoint(endpoints, endpoint_id)
    return WithSecret(endpoint, _secret_of(endpoint, secret_id))
