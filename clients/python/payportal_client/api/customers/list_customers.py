from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.customers_page import CustomersPage
from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...models.list_customers_format import ListCustomersFormat
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    email: str | Unset = UNSET,
    external_id: str | Unset = UNSET,
    q: str | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    format_: ListCustomersFormat | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["email"] = email

    params["external_id"] = external_id

    params["q"] = q

    params["limit"] = limit

    params["cursor"] = cursor

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/customers",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CustomersPage | ErrorBody | GatewayError | None:
    if response.status_code == 200:
        response_200 = CustomersPage.from_dict(response.json())

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
) -> Response[CustomersPage | ErrorBody | GatewayError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    email: str | Unset = UNSET,
    external_id: str | Unset = UNSET,
    q: str | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    format_: ListCustomersFormat | Unset = UNSET,
) -> Response[CustomersPage | ErrorBody | GatewayError]:
    """Customers, newest first; or found by email, by the id your own system gave it, or by name or email
    prefix

    Args:
        email (str | Unset): exactly this address
        external_id (str | Unset):
        q (str | Unset): a name or email prefix
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        format_ (ListCustomersFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CustomersPage | ErrorBody | GatewayError]
    """

    kwargs = _get_kwargs(
        email=email,
        external_id=external_id,
        q=q,
        limit=limit,
        cursor=cursor,
        format_=format_,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    email: str | Unset = UNSET,
    external_id: str | Unset = UNSET,
    q: str | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    format_: ListCustomersFormat | Unset = UNSET,
) -> CustomersPage | ErrorBody | GatewayError | None:
    """Customers, newest first; or found by email, by the id your own system gave it, or by name or email
    prefix

    Args:
        email (str | Unset): exactly this address
        external_id (str | Unset):
        q (str | Unset): a name or email prefix
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        format_ (ListCustomersFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CustomersPage | ErrorBody | GatewayError
    """

    return sync_detailed(
        client=client,
        email=email,
        external_id=external_id,
        q=q,
        limit=limit,
        cursor=cursor,
        format_=format_,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    email: str | Unset = UNSET,
    external_id: str | Unset = UNSET,
    q: str | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    format_: ListCustomersFormat | Unset = UNSET,
) -> Response[CustomersPage | ErrorBody | GatewayError]:
    """Customers, newest first; or found by email, by the id your own system gave it, or by name or email
    prefix

    Args:
        email (str | Unset): exactly this address
        external_id (str | Unset):
        q (str | Unset): a name or email prefix
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        format_ (ListCustomersFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CustomersPage | ErrorBody | GatewayError]
    """

    kwargs = _get_kwargs(
        email=email,
        external_id=external_id,
        q=q,
        limit=limit,
        cursor=cursor,
        format_=format_,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    email: str | Unset = UNSET,
    external_id: str | Unset = UNSET,
    q: str | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    format_: ListCustomersFormat | Unset = UNSET,
) -> CustomersPage | ErrorBody | GatewayError | None:
    """Customers, newest first; or found by email, by the id your own system gave it, or by name or email
    prefix

    Args:
        email (str | Unset): exactly this address
        external_id (str | Unset):
        q (str | Unset): a name or email prefix
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        format_ (ListCustomersFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CustomersPage | ErrorBody | GatewayError
    """

    return (
        await asyncio_detailed(
            client=client,
            email=email,
            external_id=external_id,
            q=q,
            limit=limit,
            cursor=cursor,
            format_=format_,
        )
    ).parsed
