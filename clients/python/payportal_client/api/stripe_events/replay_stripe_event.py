from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...models.replay_out import ReplayOut
from ...types import Response


def _get_kwargs(
    event_id: str,
    *,
    idempotency_key: str,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["idempotency-key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/stripe-events/{event_id}/replay".format(
            event_id=quote(str(event_id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | GatewayError | ReplayOut | None:
    if response.status_code == 200:
        response_200 = ReplayOut.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 403:
        response_403 = GatewayError.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorBody.from_dict(response.json())

        return response_409

    if response.status_code == 415:
        response_415 = ErrorBody.from_dict(response.json())

        return response_415

    if response.status_code == 502:
        response_502 = ErrorBody.from_dict(response.json())

        return response_502

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | GatewayError | ReplayOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    event_id: str,
    *,
    client: AuthenticatedClient | Client,
    idempotency_key: str,
) -> Response[ErrorBody | GatewayError | ReplayOut]:
    """Fetch the event from Stripe again and apply it as the webhook would (once: applied ones change
    nothing)

    Args:
        event_id (str):
        idempotency_key (str): required; the same key and body replays the first result instead of
            creating again

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | ReplayOut]
    """

    kwargs = _get_kwargs(
        event_id=event_id,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    event_id: str,
    *,
    client: AuthenticatedClient | Client,
    idempotency_key: str,
) -> ErrorBody | GatewayError | ReplayOut | None:
    """Fetch the event from Stripe again and apply it as the webhook would (once: applied ones change
    nothing)

    Args:
        event_id (str):
        idempotency_key (str): required; the same key and body replays the first result instead of
            creating again

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | ReplayOut
    """

    return sync_detailed(
        event_id=event_id,
        client=client,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    event_id: str,
    *,
    client: AuthenticatedClient | Client,
    idempotency_key: str,
) -> Response[ErrorBody | GatewayError | ReplayOut]:
    """Fetch the event from Stripe again and apply it as the webhook would (once: applied ones change
    nothing)

    Args:
        event_id (str):
        idempotency_key (str): required; the same key and body replays the first result instead of
            creating again

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | ReplayOut]
    """

    kwargs = _get_kwargs(
        event_id=event_id,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    event_id: str,
    *,
    client: AuthenticatedClient | Client,
    idempotency_key: str,
) -> ErrorBody | GatewayError | ReplayOut | None:
    """Fetch the event from Stripe again and apply it as the webhook would (once: applied ones change
    nothing)

    Args:
        event_id (str):
        idempotency_key (str): required; the same key and body replays the first result instead of
            creating again

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | ReplayOut
    """

    return (
        await asyncio_detailed(
            event_id=event_id,
            client=client,
            idempotency_key=idempotency_key,
        )
    ).parsed
