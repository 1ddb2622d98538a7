"""Connecting a deployed stage to Stripe: its webhook endpoint and the secret the functions read.

Three use cases, each taking its ports so tests run them against moto and the local Stripe front:
- `set_up`: one Stripe webhook endpoint for the stage's webhook URL, enabled for exactly the events payportal
  handles, and the secret JSON holding the API key and that endpoint's signing secret. Running it again
  changes nothing, or corrects the endpoint's events and URL in place: Stripe reveals a signing secret
  only when it creates the endpoint, so replacing the endpoint would mean a new secret.
- `rotate_webhook_secret`: Stripe cannot roll an endpoint's signing secret through its API, so a second
  endpoint for the same URL takes over; the secret holds the new signing secret and the previous one,
  which the webhook function both accepts while the two endpoints overlap.
- `finish_rotation`: deletes the previous endpoint and forgets its signing secret.

Nothing here prints or returns the API key or a signing secret; reports carry ids, URLs and counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from shared.adapters.secrets import SECRET_MAX_AGE_SECONDS
from shared.adapters.stripe_events import HANDLED_EVENT_TYPES
from shared.routes import ROUTES

# The same names infra/ gives the stack, its output and the secret (tests/integration/test_stripe_cli.py
# holds them equal). Not imported from infra: loading aws_cdk starts a Node.js process and takes seconds.
OUTPUT_API_URL: Final = "ApiUrl"
STAGE_METADATA_KEY: Final = "payportal_stage"
WEBHOOK_ROUTE: Final = next(r for r in ROUTES if r.function == "webhooks" and r.method == "POST")
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
# The local stack's stage (`make dev`): its secret is payportal/local/stripe (local/config.py's stripe_secret_id).
LOCAL_STAGE: Final = "local"


def stack_name_for(stage: str) -> str:
    return f"payportal-{stage}"


def stripe_secret_name_for(stage: str) -> str:
    return f"payportal/{stage}/stripe"


def webhook_event_types() -> tuple[str, ...]:
    """Every event type payportal acts on: what its endpoint subscribes to, no more."""
    return tuple(sorted(HANDLED_EVENT_TYPES))


class SetupError(Exception):
    """A failure to report in one line, without a traceback. Messages never carry a key or a secret."""

    def __init__(self, message: str, *, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def refuse_local_stage(stage: str) -> None:
    """The local stack needs no setup, and must not get one: its Stripe front signs every webhook with the
    one secret the stack started with, so a stored signing secret of a new endpoint would make the webhook
    function refuse them all, and every local payment would stay "processing" until the stack restarts."""
    if stage == LOCAL_STAGE:
        raise SetupError(
            f"stage {LOCAL_STAGE} is the local stack (make dev): it is connected to its Stripe front already, "
            "which signs webhooks with the stack's own secret. Storing another signing secret would make the "
            "local webhook refuse every event. Nothing changed. To try the commands locally, use another stage "
            "name (its secret is then payportal/<stage>/stripe, which the local stack does not read).",
            exit_code=EXIT_USAGE,
        )


def webhook_url_for(api_url: str) -> str:
    """The Stripe webhook route under the API's stage URL (the stack's ApiUrl output, or --url)."""
    parts = urlsplit(api_url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise SetupError(
            f"{api_url!r} is not an API URL: expected the stack's {OUTPUT_API_URL}, like "
            "https://abc123.execute-api.eu-west-1.amazonaws.com/dev/",
            exit_code=EXIT_USAGE,
        )
    return api_url.strip().rstrip("/") + WEBHOOK_ROUTE.path


# -- what Stripe and Secrets Manager hold ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: str
    url: str
    enabled_events: tuple[str, ...]
    status: str = "enabled"


@dataclass(frozen=True, slots=True)
class EndpointRequest:
    url: str
    enabled_events: tuple[str, ...]
    description: str
    metadata: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    signing_secret: str  # Stripe shows it in the create response and never again

    def __repr__(self) -> str:
        return f"CreatedEndpoint({self.endpoint!r}, signing_secret=<redacted>)"


@dataclass(frozen=True, slots=True)
class StripeSecret:
    """The JSON in `payportal/{stage}/stripe`; shared/adapters/secrets.py reads the same fields."""

    api_key: str = ""
    webhook_secret: str = ""
    webhook_endpoint: str = ""  # the id of the endpoint whose signing secret is webhook_secret
    previous_webhook_secret: str = ""  # set only while a rotation is in progress
    previous_webhook_endpoint: str = ""
    others: Mapping[str, Any] = field(default_factory=dict)  # fields this tool does not own, kept as they are

    _ALWAYS = ("api_key", "webhook_secret")  # what CDK's placeholder and shared/adapters/secrets.py expect
    _WHEN_SET = ("webhook_endpoint", "previous_webhook_secret", "previous_webhook_endpoint")
    _FIELDS = _ALWAYS + _WHEN_SET

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> StripeSecret:
        known = {name: str(value.get(name) or "") for name in cls._FIELDS}
        return cls(**known, others={k: v for k, v in value.items() if k not in cls._FIELDS})

    def to_json(self) -> dict[str, Any]:
        always = {name: getattr(self, name) for name in self._ALWAYS}
        when_set = {name: getattr(self, name) for name in self._WHEN_SET if getattr(self, name)}
        return {**self.others, **always, **when_set}

    @property
    def rotating(self) -> bool:
        return bool(self.previous_webhook_endpoint)

    def __repr__(self) -> str:  # never print a secret, even by accident
        return f"StripeSecret(webhook_endpoint={self.webhook_endpoint!r}, <secrets redacted>)"


# -- ports -------------------------------------------------------------------------------------------------


class SecretStore(Protocol):
    def read(self, secret_id: str) -> Mapping[str, Any]: ...

    def write(self, secret_id: str, value: Mapping[str, Any]) -> None: ...


class WebhookEndpoints(Protocol):
    def list(self) -> list[WebhookEndpoint]: ...

    def create(self, request: EndpointRequest) -> CreatedEndpoint: ...

    def update(self, endpoint_id: str, request: EndpointRequest, *, enable: bool) -> WebhookEndpoint: ...

    def delete(self, endpoint_id: str) -> bool:
        """False when Stripe no longer has the endpoint."""
        ...


# Builds the Stripe port once the API key is known (it may come from the secret itself).
StripeConnector = Callable[[str], WebhookEndpoints]


@dataclass(frozen=True, slots=True)
class Report:
    endpoint: WebhookEndpoint | None  # the one delivering to payportal now, when Stripe has it
    lines: tuple[str, ...]


# -- the use cases -----------------------------------------------------------------------------------------


def set_up(
    *, stage: str, webhook_url: str, api_key: str | None, secrets: SecretStore, connect: StripeConnector
) -> Report:
    refuse_local_stage(stage)
    secret_id = stripe_secret_name_for(stage)
    stored = _read(secrets, secret_id)
    key = _api_key(api_key, stored, secret_id)
    stripe = connect(key)
    request = _endpoint_request(stage, webhook_url)
    current = _current_endpoint(stripe.list(), stored, webhook_url)
    lines: list[str] = []
    if current is None:
        created = stripe.create(request)
        endpoint, signing_secret = created.endpoint, created.signing_secret
        lines.append(f"Created Stripe webhook endpoint {endpoint.id} for {endpoint.url}.")
    else:
        if not stored.webhook_secret:
            raise SetupError(
                f"Stripe webhook endpoint {current.id} already points at {webhook_url}, but secret {secret_id} "
                "holds no signing secret for it, and Stripe reveals one only when it creates an endpoint. Run "
                f"`payportal stripe rotate-webhook-secret --stage {stage}` to replace the endpoint with one "
                "whose signing secret is stored."
            )
        endpoint, signing_secret = current, stored.webhook_secret
        if changes := _changes(current, request):
            endpoint = stripe.update(current.id, request, enable=current.status != "enabled")
            lines.append(f"Updated Stripe webhook endpoint {endpoint.id} for {endpoint.url} ({', '.join(changes)}).")
        else:
            lines.append(f"Stripe webhook endpoint {endpoint.id} for {endpoint.url} is already up to date.")
    lines.append(f"It sends {len(endpoint.enabled_events)} event types: {', '.join(endpoint.enabled_events)}.")
    updated = StripeSecret(
        api_key=key,
        webhook_secret=signing_secret,
        webhook_endpoint=endpoint.id,
        previous_webhook_secret=stored.previous_webhook_secret if stored.rotating else "",
        previous_webhook_endpoint=stored.previous_webhook_endpoint,
        others=stored.others,
    )
    if _save(secrets, secret_id, stored, updated, created=None if current else endpoint.id, stripe=stripe):
        lines.append(f"Stored the API key and the endpoint's signing secret in secret {secret_id}.")
    else:
        lines.append(f"Secret {secret_id} unchanged.")
    if stored.rotating:
        lines.append(
            f"A webhook secret rotation is in progress (previous endpoint {stored.previous_webhook_endpoint}); "
            f"finish it with `payportal stripe finish-rotation --stage {stage}`."
        )
    return Report(endpoint, tuple(lines))


def rotate_webhook_secret(
    *, stage: str, webhook_url: str, api_key: str | None, secrets: SecretStore, connect: StripeConnector
) -> Report:
    refuse_local_stage(stage)
    secret_id = stripe_secret_name_for(stage)
    stored = _read(secrets, secret_id)
    key = _api_key(api_key, stored, secret_id)
    if stored.rotating:
        raise SetupError(
            f"a webhook secret rotation is already in progress for stage {stage} (previous endpoint "
            f"{stored.previous_webhook_endpoint}); run `payportal stripe finish-rotation --stage {stage}` first"
        )
    stripe = connect(key)
    old = _current_endpoint(stripe.list(), stored, webhook_url)
    if old is None:
        raise SetupError(
            f"no Stripe webhook endpoint to rotate for {webhook_url}; run `payportal stripe setup --stage {stage}`"
        )
    created = stripe.create(_endpoint_request(stage, webhook_url))
    new = created.endpoint
    updated = StripeSecret(
        api_key=key,
        webhook_secret=created.signing_secret,
        webhook_endpoint=new.id,
        previous_webhook_secret=stored.webhook_secret,
        previous_webhook_endpoint=old.id,
        others=stored.others,
    )
    _save(secrets, secret_id, stored, updated, created=new.id, stripe=stripe)
    minutes = math.ceil(SECRET_MAX_AGE_SECONDS / 60)
    if stored.webhook_secret:
        holds = "the new signing secret and the previous one; the webhook function accepts both."
    else:  # an endpoint made in the dashboard, adopted: its deliveries fail until it is deleted, and are retried
        holds = f"the new signing secret. It held none for {old.id}, whose deliveries fail their signature check."
    lines = [
        f"Created Stripe webhook endpoint {new.id} for {new.url} ({len(new.enabled_events)} event types); "
        f"it replaces {old.id}.",
        f"Secret {secret_id} now holds {holds}",
        f"Until the rotation is finished Stripe sends every event to both {old.id} and {new.id}. That is "
        "harmless: payportal records each event id exactly once and answers the second delivery as a duplicate.",
        f"The functions cache the secret for up to {minutes} minutes: keep {old.id} for at least that long, "
        f"then run `payportal stripe finish-rotation --stage {stage}`. Until a function has read the new secret "
        f"it refuses {new.id}'s deliveries (metric WebhookSignatureFailures); Stripe retries them, and {old.id} "
        "delivers the same events meanwhile.",
    ]
    return Report(new, tuple(lines))


def finish_rotation(*, stage: str, api_key: str | None, secrets: SecretStore, connect: StripeConnector) -> Report:
    refuse_local_stage(stage)
    secret_id = stripe_secret_name_for(stage)
    stored = _read(secrets, secret_id)
    if not stored.rotating:
        raise SetupError(
            f"no webhook secret rotation is in progress for stage {stage}: secret {secret_id} records no previous "
            f"endpoint. Start one with `payportal stripe rotate-webhook-secret --stage {stage}`."
        )
    key = _api_key(api_key, stored, secret_id)
    stripe = connect(key)
    previous = stored.previous_webhook_endpoint
    # Deleted first, so a failure in between leaves the rotation recorded and running this again finishes it.
    deleted = stripe.delete(previous)
    updated = StripeSecret(
        api_key=key,
        webhook_secret=stored.webhook_secret,
        webhook_endpoint=stored.webhook_endpoint,
        others=stored.others,
    )
    _save(secrets, secret_id, stored, updated, created=None, stripe=stripe)
    current = next((e for e in stripe.list() if e.id == stored.webhook_endpoint), None)
    lines = [
        f"Deleted the previous Stripe webhook endpoint {previous}."
        if deleted
        else f"The previous Stripe webhook endpoint {previous} was already deleted.",
        f"Secret {secret_id} no longer holds the previous signing secret.",
    ]
    if current is None:
        lines.append(
            f"Warning: Stripe has no endpoint {stored.webhook_endpoint} any more; run "
            f"`payportal stripe setup --stage {stage}`."
        )
    else:
        lines.append(f"Stripe webhook endpoint {current.id} for {current.url} now delivers alone.")
    return Report(current, tuple(lines))


# -- the steps ---------------------------------------------------------------------------------------------


def _read(secrets: SecretStore, secret_id: str) -> StripeSecret:
    return StripeSecret.from_json(secrets.read(secret_id))


def _api_key(given: str | None, stored: StripeSecret, secret_id: str) -> str:
    key = (given or "").strip() or stored.api_key
    if not key:
        raise SetupError(
            f"no Stripe API key: secret {secret_id} holds none yet. Pipe the secret key in with --api-key-stdin, "
            "or set STRIPE_API_KEY.",
            exit_code=EXIT_USAGE,
        )
    if not key.startswith(("sk_", "rk_")):
        # Not quoted back, not even in part: a mistyped key may still be mostly someone's secret.
        what = "a publishable key (pk_...)" if key.startswith("pk_") else "not a Stripe secret key"
        raise SetupError(
            f"the Stripe API key given is {what}; payportal needs the secret key (sk_...) or a restricted key (rk_...)",
            exit_code=EXIT_USAGE,
        )
    return key


def _endpoint_request(stage: str, webhook_url: str) -> EndpointRequest:
    return EndpointRequest(
        url=webhook_url,
        enabled_events=webhook_event_types(),
        description=f"payportal {stage}: {WEBHOOK_ROUTE.method} {WEBHOOK_ROUTE.path}",
        metadata={STAGE_METADATA_KEY: stage},
    )


def _current_endpoint(
    endpoints: Iterable[WebhookEndpoint], stored: StripeSecret, webhook_url: str
) -> WebhookEndpoint | None:
    """The endpoint whose signing secret the stored secret holds, or None when there is none yet.

    By the id the secret records, wherever it points now (a redeployed API has a new URL: the endpoint
    moves, keeping its secret). A secret without an id (written by hand) adopts the one endpoint at the URL.
    """
    endpoints = list(endpoints)
    if stored.webhook_endpoint:
        recorded = next((e for e in endpoints if e.id == stored.webhook_endpoint), None)
        if recorded is not None:
            return recorded
    at_url = [e for e in endpoints if e.url == webhook_url and e.id != stored.previous_webhook_endpoint]
    if not at_url:
        return None
    if len(at_url) == 1 and not stored.webhook_endpoint:
        return at_url[0]
    ids = ", ".join(e.id for e in at_url)
    raise SetupError(
        f"Stripe webhook endpoints {ids} point at {webhook_url}, and the secret does not say whose signing secret "
        "it holds. Delete the ones you do not use in the Stripe dashboard (Developers > Webhooks), then run this again."
    )


def _changes(endpoint: WebhookEndpoint, request: EndpointRequest) -> list[str]:
    changes = []
    if endpoint.url != request.url:
        changes.append(f"moved from {endpoint.url}")
    if set(endpoint.enabled_events) != set(request.enabled_events):
        changes.append("event types corrected")
    if endpoint.status != "enabled":
        changes.append(f"re-enabled, it was {endpoint.status}")
    return changes


def _save(
    secrets: SecretStore,
    secret_id: str,
    stored: StripeSecret,
    updated: StripeSecret,
    *,
    created: str | None,
    stripe: WebhookEndpoints,
) -> bool:
    """Write the secret if it changed (False: it had not). A new endpoint whose signing secret could not be
    stored is deleted again: that secret is lost with this process, so the endpoint could only fail deliveries."""
    if updated.to_json() == stored.to_json():
        return False
    try:
        secrets.write(secret_id, updated.to_json())
    except SetupError as error:
        if created is None:
            raise
        removed = stripe.delete(created)
        raise SetupError(
            f"{error}. The new endpoint {created} was {'deleted again' if removed else 'already gone'}; "
            "nothing changed."
        ) from None
    return True
