from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.failed_deliveries_page import FailedDeliveriesPage
from ...models.gateway_error import GatewayError
from ...types import UNSET, Response, Unset


def _get_kwargs(
    endpoint_id: str,
    *,
    status: Literal["failed"] | Unset = "failed",
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["status"] = status

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/webhook-endpoints/{endpoint_id}/deliveries".format(
            endpoint_id=quote(str(endpoint_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | FailedDeliveriesPage | GatewayError | None:
    if response.status_code == 200:
        response_200 = FailedDeliveriesPage.from_dict(response.json())

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

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | FailedDeliveriesPage | GatewayError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    endpoint_id: str,
    *,
    client: AuthenticatedClient | Client,
    status: Literal["failed"] | Unset = "failed",
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
) -> Response[ErrorBody | FailedDeliveriesPage | GatewayError]:
    """The endpoint's deliveries that failed for good (every retry over three days), oldest first

    Args:
        endpoint_id (str):
        status (Literal['failed'] | Unset): failed: the only list kept Default: 'failed'.
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | FailedDeliveriesPage | GatewayError]
    """

    kwargs = _get_kwargs(
        endpoint_id=endpoint_id,
        status=status,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    endpoint_id: str,
    *,
    client: AuthenticatedClient | Client,
    status: Literal["failed"] | Unset = "failed",
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
) -> ErrorBody | FailedDeliveriesPage | GatewayError | None:
    """The endpoint's deliveries that failed for good (every retry over three days), oldest first

    Args:
        endpoint_id (str):
        status (Literal['failed'] | Unset): failed: the only list kept Default: 'failed'.
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | FailedDeliveriesPage | GatewayError
    """

    return sync_detailed(
        endpoint_id=endpoint_id,
        client=client,
        status=status,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    endpoint_id: str,
    *,
    client: AuthenticatedClient | Client,
    status: Literal["failed"] | Unset = "failed",
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
) -> Response[ErrorBody | FailedDeliveriesPage | GatewayError]:
    """The endpoint's deliveries that failed for good (every retry over three days), oldest first

    Args:
        endpoint_id (str):
        status (Literal['failed'] | Unset): failed: the only list kept Default: 'failed'.
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | FailedDeliveriesPage | GatewayError]
    """

    kwargs = _get_kwargs(
        endpoint_id=endpoint_id,
        status=status,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    endpoint_id: str,
    *,
    client: AuthenticatedClient | Client,
    status: Literal["failed"] | Unset = "failed",
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
) -> ErrorBody | FailedDeliveriesPage | GatewayError | None:
    """The endpoint's deliveries that failed for good (every retry over three days), oldest first

    Args:
        endpoint_id (str):
        status (Literal['failed'] | Unset): failed: the only list kept Default: 'failed'.
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | FailedDeliveriesPage | GatewayError
    """

    return (
        await asyncio_detailed(
            endpoint_id=endpoint_id,
            client=client,
            status=status,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
