"""The CLI's AWS and Stripe calls (boto3 and the stripe SDK, imported on use), their failures turned into
one-line `SetupError`s that never carry a key or a secret."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from cli.stripe_setup import (
    EXIT_USAGE,
    OUTPUT_API_URL,
    CreatedEndpoint,
    EndpointRequest,
    SetupError,
    WebhookEndpoint,
)

if TYPE_CHECKING:
    import stripe

# -- AWS ---------------------------------------------------------------------------------------------------


def aws_client(service: str, region: str | None) -> Any:
    """A boto3 client; AWS_ENDPOINT_URL (the local stack's moto) and the usual credential chain apply."""
    import boto3
    from botocore.exceptions import NoRegionError

    session: Any = boto3.session.Session(region_name=region)  # Any: boto3-stubs types clients per service name
    try:
        return session.client(service)
    except NoRegionError:
        raise SetupError("no AWS region: pass --region or set AWS_REGION", exit_code=EXIT_USAGE) from None


def api_url_from_stack(cloudformation: Any, stack_name: str) -> str:
    """The stack's ApiUrl output (the API Gateway stage URL, ending in `/`)."""
    region = cloudformation.meta.region_name
    with _aws_errors(f"describe CloudFormation stack {stack_name}"):
        try:
            reply = cloudformation.describe_stacks(StackName=stack_name)
        except Exception as error:
            if _error_code(error) == "ValidationError" and "does not exist" in str(error):
                raise SetupError(
                    f"CloudFormation stack {stack_name} does not exist in {region}: deploy it first "
                    "(make deploy), pick the region with --region, or give the API URL with --url"
                ) from None
            raise
    stacks = reply.get("Stacks") or []
    outputs = (stacks[0].get("Outputs") or []) if stacks else []
    for output in outputs:
        if output.get("OutputKey") == OUTPUT_API_URL and output.get("OutputValue"):
            return str(output["OutputValue"])
    status = stacks[0].get("StackStatus", "unknown") if stacks else "unknown"
    raise SetupError(
        f"CloudFormation stack {stack_name} in {region} has no {OUTPUT_API_URL} output (status {status}); "
        "finish its deployment, or give the API URL with --url"
    )


class SecretsManagerStore:
    def __init__(self, client: Any) -> None:
        self._client = client

    def read(self, secret_id: str) -> Mapping[str, Any]:
        with _aws_errors(f"read secret {secret_id}"):
            try:
                raw = self._client.get_secret_value(SecretId=secret_id)["SecretString"]
            except Exception as error:
                if _error_code(error) == "ResourceNotFoundException":
                    raise SetupError(
                        f"secret {secret_id} does not exist in {self._client.meta.region_name}: deploy the stage's "
                        "stack first (make deploy), or pick the region with --region"
                    ) from None
                raise
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            # Not quoted back: whatever is there may be a secret.
            raise SetupError(f"secret {secret_id} does not hold a JSON object; fix or delete its value first")
        return value

    def write(self, secret_id: str, value: Mapping[str, Any]) -> None:
        with _aws_errors(f"write secret {secret_id}"):
            self._client.put_secret_value(SecretId=secret_id, SecretString=json.dumps(dict(value)))


@contextmanager
def _aws_errors(action: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as error:
        details = error.response.get("Error", {})
        raise SetupError(f"could not {action}: {details.get('Code')}: {details.get('Message')}") from None
    except BotoCoreError as error:
        raise SetupError(f"could not {action}: {error}") from None


def _error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


# -- Stripe ------------------------------------------------------------------------------------------------


class StripeWebhookEndpoints:
    """Stripe's webhook endpoints API (`/v1/webhook_endpoints`), built the way shared/adapters/stripe_gateway.py
    builds its client: `api_base` set only for the local Stripe front."""

    def __init__(self, api_key: str, api_base: str | None = None) -> None:
        import stripe

        options: dict[str, Any] = {"max_network_retries": 2}
        if api_base:
            options["base_addresses"] = {"api": api_base}
        self._client = stripe.StripeClient(api_key, **options)

    def list(self) -> list[WebhookEndpoint]:
        with _stripe_errors("list webhook endpoints"):
            page = self._client.v1.webhook_endpoints.list(params={"limit": 100})
            return [_endpoint(found) for found in page.auto_paging_iter()]

    def create(self, request: EndpointRequest) -> CreatedEndpoint:
        with _stripe_errors(f"create a webhook endpoint for {request.url}"):
            created = self._client.v1.webhook_endpoints.create(params=_params(request))  # type: ignore[arg-type]
        if not getattr(created, "secret", None):
            raise SetupError(f"Stripe created webhook endpoint {created.id} but returned no signing secret")
        return CreatedEndpoint(endpoint=_endpoint(created), signing_secret=str(created.secret))

    def update(self, endpoint_id: str, request: EndpointRequest, *, enable: bool) -> WebhookEndpoint:
        params = _params(request) | ({"disabled": False} if enable else {})
        with _stripe_errors(f"update webhook endpoint {endpoint_id}"):
            updated = self._client.v1.webhook_endpoints.update(endpoint_id, params=params)  # type: ignore[arg-type]
        return _endpoint(updated)

    def delete(self, endpoint_id: str) -> bool:
        import stripe

        with _stripe_errors(f"delete webhook endpoint {endpoint_id}"):
            try:
                self._client.v1.webhook_endpoints.delete(endpoint_id)
            except stripe.InvalidRequestError as error:
                if error.http_status == 404:
                    return False
                raise
        return True


def _params(request: EndpointRequest) -> dict[str, Any]:
    # No api_version: payportal pins none, so events come in the account's default version (shared/ pins none).
    return {
        "url": request.url,
        "enabled_events": list(request.enabled_events),
        "description": request.description,
        "metadata": dict(request.metadata),
    }


def _endpoint(found: stripe.WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=str(found.id),
        url=str(found.url),
        enabled_events=tuple(str(e) for e in found.enabled_events or ()),
        status=str(found.status),
    )


@contextmanager
def _stripe_errors(action: str) -> Iterator[None]:
    import stripe

    try:
        yield
    except stripe.AuthenticationError:
        raise SetupError(
            f"Stripe refused the API key (could not {action}): check it is this account's secret key, "
            "in the mode (test or live) you mean"
        ) from None
    except stripe.PermissionError:
        raise SetupError(
            f"the API key may not {action}: a restricted key needs write access to Webhook Endpoints"
        ) from None
    except stripe.APIConnectionError:
        raise SetupError(f"could not reach Stripe to {action}; check the network and try again") from None
    except stripe.StripeError as error:
        reason = error.user_message or type(error).__name__
        raise SetupError(f"Stripe could not {action}: {reason} (HTTP {error.http_status})") from None
