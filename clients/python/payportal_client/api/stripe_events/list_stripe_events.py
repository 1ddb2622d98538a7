from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...models.list_stripe_events_outcome import ListStripeEventsOutcome
from ...models.stripe_events_page import StripeEventsPage
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    outcome: ListStripeEventsOutcome | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_outcome: str | Unset = UNSET
    if not isinstance(outcome, Unset):
        json_outcome = outcome.value

    params["outcome"] = json_outcome

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/stripe-events",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | GatewayError | StripeEventsPage | None:
    if response.status_code == 200:
        response_200 = StripeEventsPage.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 403:
        response_403 = GatewayError.from_dict(response.json())

        return response_403

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | GatewayError | StripeEventsPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    outcome: ListStripeEventsOutcome | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
) -> Response[ErrorBody | GatewayError | StripeEventsPage]:
    """Stripe events kept, with what became of each, newest first

    Args:
        outcome (ListStripeEventsOutcome | Unset): only the events failed, or flagged for review
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | StripeEventsPage]
    """

    kwargs = _get_kwargs(
        outcome=outcome,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    outcome: ListStripeEventsOutcome | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
) -> ErrorBody | GatewayError | StripeEventsPage | None:
    """Stripe events kept, with what became of each, newest first

    Args:
        outcome (ListStripeEventsOutcome | Unset): only the events failed, or flagged for review
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | StripeEventsPage
    """

    return sync_detailed(
        client=client,
        outcome=outcome,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    outcome: ListStripeEventsOutcome | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
) -> Response[ErrorBody | GatewayError | StripeEventsPage]:
    """Stripe events kept, with what became of each, newest first

    Args:
        outcome (ListStripeEventsOutcome | Unset): only the events failed, or flagged for review
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | StripeEventsPage]
    """

    kwargs = _get_kwargs(
        outcome=outcome,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    outcome: ListStripeEventsOutcome | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
) -> ErrorBody | GatewayError | StripeEventsPage | None:
    """Stripe events kept, with what became of each, newest first

    Args:
        outcome (ListStripeEventsOutcome | Unset): only the events failed, or flagged for review
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | StripeEventsPage
    """

    return (
        await asyncio_detailed(
            client=client,
            outcome=outcome,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
