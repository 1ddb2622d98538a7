"""The webhook endpoints routes: where payportal sends signed outbound webhooks (docs/integrations.md)."""

from __future__ import annotations

from typing import Annotated, Literal, cast

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from functions.operator_api.errors import documented
from functions.operator_api.webhook_schemas import (
    DeliveryRetryOut,
    FailedDeliveriesPage,
    FailedDeliveryOut,
    NewWebhookEndpoint,
    WebhookEndpointChanges,
    WebhookEndpointOut,
    WebhookEndpointsPage,
    WebhookEndpointWithSecret,
)
from shared import wiring
from shared.clock import business_clock
from shared.config import settings
from shared.domain.webhooks import FailedDelivery, WebhookEndpoint
from shared.services import webhook_delivery
from shared.services import webhook_endpoints as endpoints
from shared.services.webhook_endpoints import EndpointCorrection, EndpointDraft, WithSecret

router = Router()
TAGS = ["webhook endpoints"]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        pattern=r"\S",
        description="required; the same key and body replays the first result (its secret included)",
    ),
]


def _actor() -> str:
    identity = cast(APIGatewayProxyEvent, router.current_event).request_context.identity
    return identity.user_arn or identity.caller or "unknown"


def _out(endpoint: WebhookEndpoint) -> WebhookEndpointOut:
    rotating = [s.expires_at for s in endpoint.secrets[:-1] if s.expires_at is not None]
    return WebhookEndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        events=list(endpoint.events),
        description=endpoint.description,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason.value if endpoint.disabled_reason else None,
        consecutive_failures=endpoint.consecutive_failures,
        secret_rotating_until=max(rotating) if rotating else None,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


def _with_secret(made: WithSecret) -> WebhookEndpointWithSecret:
    shown = _out(made.endpoint).model_dump()
    return WebhookEndpointWithSecret(**shown, secret=made.secret.value if made.secret else None)


@router.post(
    "/v1/webhook-endpoints",
    tags=TAGS,
    summary="Register an endpoint for signed webhooks; the reply carries its signing secret, once",
    status_code=201,
    responses=documented(201, 400, 409, 415, 422),
)
def create_webhook_endpoint(request: NewWebhookEndpoint, idempotency_key: IdempotencyKey) -> WebhookEndpointWithSecret:
    made = endpoints.create_endpoint_once(
        wiring.webhook_endpoints(),
        business_clock(),
        wiring.run_once("webhook_endpoint", router.lambda_context),
        EndpointDraft(url=request.url, events=tuple(request.events), description=request.description),
        key=idempotency_key,
        fingerprint=request.model_dump(mode="json"),
        actor=_actor(),
        allow_loopback_http=settings().local_stack,
    )
    return _with_secret(made)


@router.get(
    "/v1/webhook-endpoints", tags=TAGS, summary="Every webhook endpoint, oldest first", responses=documented(200)
)
def list_webhook_endpoints() -> WebhookEndpointsPage:
    found = endpoints.list_endpoints(wiring.webhook_endpoints())
    return WebhookEndpointsPage(webhook_endpoints=[_out(e) for e in found])


@router.get(
    "/v1/webhook-endpoints/<endpoint_id>", tags=TAGS, summary="Get a webhook endpoint", responses=documented(200, 404)
)
def get_webhook_endpoint(endpoint_id: str) -> WebhookEndpointOut:
    return _out(endpoints.get_endpoint(wiring.webhook_endpoints(), endpoint_id))


@router.patch(
    "/v1/webhook-endpoints/<endpoint_id>",
    tags=TAGS,
    summary="Change an endpoint's events or description, or disable or enable it",
    responses=documented(200, 400, 404, 409, 415, 422),
)
def update_webhook_endpoint(endpoint_id: str, changes: WebhookEndpointChanges) -> WebhookEndpointOut:
    correction = EndpointCorrection(
        events=tuple(changes.events) if changes.events is not None else None,
        enabled=changes.enabled,
        description=changes.description,
    )
    updated = endpoints.update_endpoint(
        wiring.webhook_endpoints(), business_clock(), endpoint_id, correction, actor=_actor()
    )
    return _out(updated)


@router.delete(
    "/v1/webhook-endpoints/<endpoint_id>",
    tags=TAGS,
    summary="Delete an endpoint: nothing more is delivered to it",
    responses=documented(200, 404, 409),
)
def delete_webhook_endpoint(endpoint_id: str) -> WebhookEndpointOut:
    store = wiring.webhook_endpoints()
    endpoint = endpoints.get_endpoint(store, endpoint_id)
    endpoints.delete_endpoint(store, business_clock(), endpoint_id, actor=_actor())
    return _out(endpoint)


@router.post(
    "/v1/webhook-endpoints/<endpoint_id>/rotate-secret",
    tags=TAGS,
    summary="A new signing secret, in this reply once; the previous one stays valid for 24 hours",
    responses=documented(200, 400, 404, 409, 422),
)
def rotate_webhook_secret(endpoint_id: str, idempotency_key: IdempotencyKey) -> WebhookEndpointWithSecret:
    made = endpoints.rotate_secret_once(
        wiring.webhook_endpoints(),
        business_clock(),
        wiring.run_once("webhook_secret", router.lambda_context),
        endpoint_id,
        key=idempotency_key,
        actor=_actor(),
    )
    return _with_secret(made)


def _failed_out(delivery: FailedDelivery) -> FailedDeliveryOut:
    return FailedDeliveryOut(
        id=delivery.id,
        event_type=str(delivery.event.get("type", "")),
        event_id=str(delivery.event.get("id", "")),
        attempts=delivery.attempts,
        last_status=delivery.last_status,
        last_error=delivery.excerpt,
        failed_at=delivery.failed_at,
    )


@router.get(
    "/v1/webhook-endpoints/<endpoint_id>/deliveries",
    tags=TAGS,
    summary="The endpoint's deliveries that failed for good (every retry over three days), oldest first",
    responses=documented(200, 400, 404, 422),
)
def list_webhook_deliveries(
    endpoint_id: str,
    status: Annotated[Literal["failed"], Query(description="failed: the only list kept")] = "failed",
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
) -> FailedDeliveriesPage:
    page = webhook_delivery.list_failed(wiring.webhook_endpoints(), endpoint_id, limit=limit, cursor=cursor)
    return FailedDeliveriesPage(deliveries=[_failed_out(d) for d in page.items], next_cursor=page.next_cursor)


@router.post(
    "/v1/webhook-endpoints/<endpoint_id>/deliveries/<delivery_id>/retry",
    tags=TAGS,
    summary="Send a failed delivery again (same webhook-id and body), with a fresh retry schedule",
    status_code=202,
    responses=documented(202, 400, 404, 409, 422),
)
def retry_webhook_delivery(endpoint_id: str, delivery_id: str, idempotency_key: IdempotencyKey) -> DeliveryRetryOut:
    retried = webhook_delivery.retry_failed_once(
        wiring.webhook_endpoints(),
        wiring.webhooks_queue(),
        wiring.run_once("webhook_retry", router.lambda_context),
        endpoint_id,
        delivery_id,
        key=idempotency_key,
        actor=_actor(),
    )
    return DeliveryRetryOut(delivery_id=retried, status="queued")
