from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.customer_out import CustomerOut
from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...models.new_customer import NewCustomer
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: NewCustomer,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["idempotency-key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/customers",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CustomerOut | ErrorBody | GatewayError | None:
    if response.status_code == 201:
        response_201 = CustomerOut.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 403:
        response_403 = GatewayError.from_dict(response.json())

        return response_403

    if response.status_code == 409:
        response_409 = ErrorBody.from_dict(response.json())

        return response_409

    if response.status_code == 415:
        response_415 = ErrorBody.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[CustomerOut | ErrorBody | GatewayError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: NewCustomer,
    idempotency_key: str | Unset = UNSET,
) -> Response[CustomerOut | ErrorBody | GatewayError]:
    """Create a customer

    Args:
        idempotency_key (str | Unset): recommended; the same key and body replays the first result
            instead of creating again
        body (NewCustomer):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CustomerOut | ErrorBody | GatewayError]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: NewCustomer,
    idempotency_key: str | Unset = UNSET,
) -> CustomerOut | ErrorBody | GatewayError | None:
    """Create a customer

    Args:
        idempotency_key (str | Unset): recommended; the same key and body replays the first result
            instead of creating again
        body (NewCustomer):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CustomerOut | ErrorBody | GatewayError
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: NewCustomer,
    idempotency_key: str | Unset = UNSET,
) -> Response[CustomerOut | ErrorBody | GatewayError]:
    """Create a customer

    Args:
        idempotency_key (str | Unset): recommended; the same key and body replays the first result
            instead of creating again
        body (NewCustomer):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CustomerOut | ErrorBody | GatewayError]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: NewCustomer,
    idempotency_key: str | Unset = UNSET,
) -> CustomerOut | ErrorBody | GatewayError | None:
    """Create a customer

    Args:
        idempotency_key (str | Unset): recommended; the same key and body replays the first result
            instead of creating again
        body (NewCustomer):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CustomerOut | ErrorBody | GatewayError
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
