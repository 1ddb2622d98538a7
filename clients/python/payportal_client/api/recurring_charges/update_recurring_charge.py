from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...models.recurring_changes import RecurringChanges
from ...models.recurring_charge_out import RecurringChargeOut
from ...types import Response


def _get_kwargs(
    recurring_id: str,
    *,
    body: RecurringChanges,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/recurring-charges/{recurring_id}".format(
            recurring_id=quote(str(recurring_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | GatewayError | RecurringChargeOut | None:
    if response.status_code == 200:
        response_200 = RecurringChargeOut.from_dict(response.json())

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

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | GatewayError | RecurringChargeOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    recurring_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: RecurringChanges,
) -> Response[ErrorBody | GatewayError | RecurringChargeOut]:
    """Pause, resume, or change the amount from the next period

    Args:
        recurring_id (str):
        body (RecurringChanges):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | RecurringChargeOut]
    """

    kwargs = _get_kwargs(
        recurring_id=recurring_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    recurring_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: RecurringChanges,
) -> ErrorBody | GatewayError | RecurringChargeOut | None:
    """Pause, resume, or change the amount from the next period

    Args:
        recurring_id (str):
        body (RecurringChanges):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | RecurringChargeOut
    """

    return sync_detailed(
        recurring_id=recurring_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    recurring_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: RecurringChanges,
) -> Response[ErrorBody | GatewayError | RecurringChargeOut]:
    """Pause, resume, or change the amount from the next period

    Args:
        recurring_id (str):
        body (RecurringChanges):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | RecurringChargeOut]
    """

    kwargs = _get_kwargs(
        recurring_id=recurring_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    recurring_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: RecurringChanges,
) -> ErrorBody | GatewayError | RecurringChargeOut | None:
    """Pause, resume, or change the amount from the next period

    Args:
        recurring_id (str):
        body (RecurringChanges):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | RecurringChargeOut
    """

    return (
        await asyncio_detailed(
            recurring_id=recurring_id,
            client=client,
            body=body,
        )
    ).parsed
