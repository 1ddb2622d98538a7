from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.dunning_policy_model import DunningPolicyModel
from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...types import Response


def _get_kwargs(
    *,
    body: DunningPolicyModel,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/dunning-policy",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DunningPolicyModel | ErrorBody | GatewayError | None:
    if response.status_code == 200:
        response_200 = DunningPolicyModel.from_dict(response.json())

        return response_200

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
) -> Response[DunningPolicyModel | ErrorBody | GatewayError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: DunningPolicyModel,
) -> Response[DunningPolicyModel | ErrorBody | GatewayError]:
    """Replace the reminder steps and sending window

    Args:
        body (DunningPolicyModel):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DunningPolicyModel | ErrorBody | GatewayError]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: DunningPolicyModel,
) -> DunningPolicyModel | ErrorBody | GatewayError | None:
    """Replace the reminder steps and sending window

    Args:
        body (DunningPolicyModel):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DunningPolicyModel | ErrorBody | GatewayError
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: DunningPolicyModel,
) -> Response[DunningPolicyModel | ErrorBody | GatewayError]:
    """Replace the reminder steps and sending window

    Args:
        body (DunningPolicyModel):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DunningPolicyModel | ErrorBody | GatewayError]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: DunningPolicyModel,
) -> DunningPolicyModel | ErrorBody | GatewayError | None:
    """Replace the reminder steps and sending window

    Args:
        body (DunningPolicyModel):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DunningPolicyModel | ErrorBody | GatewayError
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
