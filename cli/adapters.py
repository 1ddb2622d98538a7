"""The CLI's AWS and Stripe calls (boto3 and the stripe SDK, imported on use), their failures turned into
one-line `SetupError`s that never carry a key or a secret."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from cli.operations import OUTBOX_PREFIX, OUTBOX_SORT_KEY, Invocation, OutboxScan
from cli.stripe_setup import (
    EXIT_USAGE,
    OUTPUT_API_URL,
    CreatedEndpoint,
    EndpointRequest,
    SetupError,
    WebhookEndpoint,
)
from cli.webhooks import ApiReply

if TYPE_CHECKING:
    import stripe  # lazy: only the stripe commands load the SDK

# -- AWS ---------------------------------------------------------------------------------------------------


# A synchronous invocation waits for the function, up to Lambda's 15 minutes, and is never retried: a retry after
# a read timeout would start a job a second time while the first still runs.
_CLIENT_CONFIG: Mapping[str, Mapping[str, Any]] = {
    "lambda": {"read_timeout": 905, "connect_timeout": 10, "tcp_keepalive": True, "retries": {"total_max_attempts": 1}}
}


def aws_client(service: str, region: str | None) -> Any:
    """A boto3 client; AWS_ENDPOINT_URL (the local stack's moto) and the usual credential chain apply."""
    import boto3  # lazy: `payportal --help` and its usage errors answer without loading the AWS SDK
    from botocore.config import Config  # lazy: as above
    from botocore.exceptions import NoRegionError  # lazy: as above

    session: Any = boto3.session.Session(region_name=region)  # Any: boto3-stubs types clients per service name
    config = Config(**_CLIENT_CONFIG[service]) if service in _CLIENT_CONFIG else None
    try:
        return session.client(service, config=config)
    except NoRegionError:
        raise SetupError("no AWS region: pass --region or set AWS_REGION", exit_code=EXIT_USAGE) from None


def api_url_from_stack(cloudformation: Any, stack_name: str) -> str:
    """The stack's ApiUrl output (the API Gateway stage URL, ending in `/`)."""
    outputs = stack_outputs(cloudformation, stack_name, [OUTPUT_API_URL], otherwise="give the API URL with --url")
    return outputs[OUTPUT_API_URL]


def stack_outputs(cloudformation: Any, stack_name: str, wanted: Sequence[str], *, otherwise: str) -> dict[str, str]:
    """The stack's outputs named `wanted`, all of them, or a `SetupError` ending with `otherwise` (what else to do)."""
    region = cloudformation.meta.region_name
    with _aws_errors(f"describe CloudFormation stack {stack_name}"):
        try:
            reply = cloudformation.describe_stacks(StackName=stack_name)
        except Exception as error:
            if _error_code(error) == "ValidationError" and "does not exist" in str(error):
                raise SetupError(
                    f"CloudFormation stack {stack_name} does not exist in {region}: deploy it first "
                    f"(make deploy), pick the region with --region, or {otherwise}"
                ) from None
            raise
    stacks = reply.get("Stacks") or []
    outputs = {
        str(o["OutputKey"]): str(o["OutputValue"])
        for o in ((stacks[0].get("Outputs") or []) if stacks else [])
        if o.get("OutputKey") and o.get("OutputValue")
    }
    missing = [key for key in wanted if key not in outputs]
    if missing:
        status = stacks[0].get("StackStatus", "unknown") if stacks else "unknown"
        raise SetupError(
            f"CloudFormation stack {stack_name} in {region} has no {', '.join(missing)} output (status {status}); "
            f"finish its deployment, or {otherwise}"
        )
    return {key: outputs[key] for key in wanted}


class LambdaFunctions:
    """Lambda's Invoke, synchronous (RequestResponse), for the operator's jobs and redrives."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def invoke(self, function_name: str, payload: Mapping[str, Any]) -> Invocation:
        with _aws_errors(f"invoke function {function_name}"):
            reply = self._client.invoke(
                FunctionName=function_name,
                InvocationType="RequestResponse",
                Payload=json.dumps(payload).encode(),
            )
            raw = reply["Payload"].read()
        try:
            result = json.loads(raw) if raw else None
        except ValueError:
            result = raw.decode(errors="replace")
        return Invocation(result=result, function_error=reply.get("FunctionError") or None)


class DynamoDbOutbox:
    """The outbox items of the stage's table, found by a Scan: it reads, and bills, every item in the table."""

    _FILTER = (
        "begins_with(#pk, :prefix) AND #sk = :sk AND (#status = :pending OR (#status = :claimed AND #expires < :now))"
    )
    _PROJECTED = ("pk", "sk", "id", "kind", "name", "status", "created_at", "attempts", "last_error", "claim_expires")

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self.name = table_name

    def undelivered(self, now: int) -> OutboxScan:
        names = {"#pk": "pk", "#sk": "sk", "#status": "status", "#expires": "claim_expires"}
        projected = {f"#p{n}": attribute for n, attribute in enumerate(self._PROJECTED)}
        pages = self._client.get_paginator("scan").paginate(
            TableName=self.name,
            FilterExpression=self._FILTER,
            ProjectionExpression=", ".join(projected),
            ExpressionAttributeNames=names | projected,
            ExpressionAttributeValues={
                ":prefix": {"S": OUTBOX_PREFIX},
                ":sk": {"S": OUTBOX_SORT_KEY},
                ":pending": {"S": "pending"},
                ":claimed": {"S": "claimed"},
                ":now": {"N": str(now)},
            },
            ReturnConsumedCapacity="TOTAL",
        )
        items: list[dict[str, Any]] = []
        scanned, units = 0, 0.0
        with _aws_errors(f"scan table {self.name}"):
            for page in pages:
                items.extend(page.get("Items", []))
                scanned += int(page.get("ScannedCount", 0))
                units += float((page.get("ConsumedCapacity") or {}).get("CapacityUnits") or 0)
        return OutboxScan(items=items, scanned=scanned, capacity_units=units or None)

    def stream_arn(self) -> str:
        with _aws_errors(f"describe table {self.name}"):
            table = self._client.describe_table(TableName=self.name)["Table"]
        return str(table.get("LatestStreamArn") or f"{table['TableArn']}/stream/none")


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
    from botocore.exceptions import BotoCoreError, ClientError  # lazy: as in aws_client

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
        import stripe  # lazy: only the stripe commands load the SDK

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
        import stripe  # lazy: only the stripe commands load the SDK

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
    import stripe  # lazy: only the stripe commands load the SDK

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


# -- the operator API, signed with the caller's AWS credentials ---------------------------------------------


class SignedOperatorApi:
    """Requests to a stage's operator API, signed with SigV4 (service execute-api) as API Gateway's IAM
    authorisation requires, with the usual credential chain's identity (or the local stack's)."""

    def __init__(self, base_url: str, region: str, credentials: Any, *, timeout: float = 60.0) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise SetupError(f"the API URL must be http(s)://...: {base_url!r}", exit_code=EXIT_USAGE)
        self._base = base_url.rstrip("/")
        self._region = region
        self._credentials = credentials
        self._timeout = timeout

    @classmethod
    def from_session(cls, base_url: str, region: str | None) -> SignedOperatorApi:
        import boto3  # lazy: as in aws_client

        session: Any = boto3.session.Session(region_name=region)
        credentials = session.get_credentials()
        if credentials is None:
            raise SetupError("no AWS credentials: configure a profile or set AWS_ACCESS_KEY_ID", exit_code=EXIT_USAGE)
        if not session.region_name:
            raise SetupError("no AWS region: pass --region or set AWS_REGION", exit_code=EXIT_USAGE)
        return cls(base_url, session.region_name, credentials.get_frozen_credentials())

    @classmethod
    def local_operator(cls, base_url: str, region: str, access_key: str, secret_key: str) -> SignedOperatorApi:
        from botocore.credentials import Credentials  # lazy: as in aws_client

        return cls(base_url, region, Credentials(access_key, secret_key))

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> ApiReply:
        from botocore.auth import SigV4Auth  # lazy: as in aws_client
        from botocore.awsrequest import AWSRequest  # lazy: as in aws_client

        url = f"{self._base}{path}" + (f"?{urlencode(sorted(query.items()))}" if query else "")
        headers = {"Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        data = b""
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        signed = AWSRequest(method=method, url=url, headers=headers, data=data)
        SigV4Auth(self._credentials, "execute-api", self._region).add_auth(signed)
        request = urllib.request.Request(  # noqa: S310 (http(s) only)
            url, method=method, headers=dict(signed.headers.items()), data=data or None
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 (as above)
                return ApiReply(response.status, _json(response.read()))
        except urllib.error.HTTPError as error:
            return ApiReply(error.code, _json(error.read()))
        except (urllib.error.URLError, TimeoutError) as error:
            raise SetupError(f"could not reach the operator API at {self._base}: {error}") from None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def upload_file(url: str, fields: dict[str, str], data: bytes) -> None:
    """POST a file to a presigned S3 form (the import uploads'): the form's fields, then the file."""
    import requests  # lazy: only `payportal import` of a large file uploads anything

    try:
        reply = requests.post(url, data=fields, files={"file": ("import", data)}, timeout=300)
    except requests.RequestException as error:
        raise SetupError(f"the upload failed: {type(error).__name__}") from None
    if not 200 <= reply.status_code < 300:
        raise SetupError(f"the upload was refused: HTTP {reply.status_code}")
