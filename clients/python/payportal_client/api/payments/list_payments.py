import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...models.list_payments_format import ListPaymentsFormat
from ...models.list_payments_method import ListPaymentsMethod
from ...models.list_payments_status import ListPaymentsStatus
from ...models.payments_page import PaymentsPage
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    status: ListPaymentsStatus | Unset = UNSET,
    method: ListPaymentsMethod | Unset = UNSET,
    customer_id: str | Unset = UNSET,
    currency: str | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    format_: ListPaymentsFormat | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_since: str | Unset = UNSET
    if not isinstance(since, Unset):
        json_since = since.isoformat()
    params["since"] = json_since

    json_until: str | Unset = UNSET
    if not isinstance(until, Unset):
        json_until = until.isoformat()
    params["until"] = json_until

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    json_method: str | Unset = UNSET
    if not isinstance(method, Unset):
        json_method = method.value

    params["method"] = json_method

    params["customer_id"] = customer_id

    params["currency"] = currency

    params["limit"] = limit

    params["cursor"] = cursor

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/payments",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | GatewayError | PaymentsPage | None:
    if response.status_code == 200:
        response_200 = PaymentsPage.from_dict(response.json())

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
) -> Response[ErrorBody | GatewayError | PaymentsPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    status: ListPaymentsStatus | Unset = UNSET,
    method: ListPaymentsMethod | Unset = UNSET,
    customer_id: str | Unset = UNSET,
    currency: str | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    format_: ListPaymentsFormat | Unset = UNSET,
) -> Response[ErrorBody | GatewayError | PaymentsPage]:
    """Payments received in a window, newest first (who paid yesterday), of one status or one customer

    Args:
        since (datetime.datetime | Unset): received at or after (UTC unless an offset is given)
        until (datetime.datetime | Unset): received before; default now
        status (ListPaymentsStatus | Unset):
        method (ListPaymentsMethod | Unset):
        customer_id (str | Unset):
        currency (str | Unset): ISO 4217, e.g. USD
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        format_ (ListPaymentsFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | PaymentsPage]
    """

    kwargs = _get_kwargs(
        since=since,
        until=until,
        status=status,
        method=method,
        customer_id=customer_id,
        currency=currency,
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
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    status: ListPaymentsStatus | Unset = UNSET,
    method: ListPaymentsMethod | Unset = UNSET,
    customer_id: str | Unset = UNSET,
    currency: str | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    format_: ListPaymentsFormat | Unset = UNSET,
) -> ErrorBody | GatewayError | PaymentsPage | None:
    """Payments received in a window, newest first (who paid yesterday), of one status or one customer

    Args:
        since (datetime.datetime | Unset): received at or after (UTC unless an offset is given)
        until (datetime.datetime | Unset): received before; default now
        status (ListPaymentsStatus | Unset):
        method (ListPaymentsMethod | Unset):
        customer_id (str | Unset):
        currency (str | Unset): ISO 4217, e.g. USD
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        format_ (ListPaymentsFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | PaymentsPage
    """

    return sync_detailed(
        client=client,
        since=since,
        until=until,
        status=status,
        method=method,
        customer_id=customer_id,
        currency=currency,
        limit=limit,
        cursor=cursor,
        format_=format_,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    status: ListPaymentsStatus | Unset = UNSET,
    method: ListPaymentsMethod | Unset = UNSET,
    customer_id: str | Unset = UNSET,
    currency: str | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    format_: ListPaymentsFormat | Unset = UNSET,
) -> Response[ErrorBody | GatewayError | PaymentsPage]:
    """Payments received in a window, newest first (who paid yesterday), of one status or one customer

    Args:
        since (datetime.datetime | Unset): received at or after (UTC unless an offset is given)
        until (datetime.datetime | Unset): received before; default now
        status (ListPaymentsStatus | Unset):
        method (ListPaymentsMethod | Unset):
        customer_id (str | Unset):
        currency (str | Unset): ISO 4217, e.g. USD
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        format_ (ListPaymentsFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | PaymentsPage]
    """

    kwargs = _get_kwargs(
        since=since,
        until=until,
        status=status,
        method=method,
        customer_id=customer_id,
        currency=currency,
        limit=limit,
        cursor=cursor,
        format_=format_,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    status: ListPaymentsStatus | Unset = UNSET,
    method: ListPaymentsMethod | Unset = UNSET,
    customer_id: str | Unset = UNSET,
    currency: str | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    format_: ListPaymentsFormat | Unset = UNSET,
) -> ErrorBody | GatewayError | PaymentsPage | None:
    """Payments received in a window, newest first (who paid yesterday), of one status or one customer

    Args:
        since (datetime.datetime | Unset): received at or after (UTC unless an offset is given)
        until (datetime.datetime | Unset): received before; default now
        status (ListPaymentsStatus | Unset):
        method (ListPaymentsMethod | Unset):
        customer_id (str | Unset):
        currency (str | Unset): ISO 4217, e.g. USD
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        format_ (ListPaymentsFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | PaymentsPage
    """

    return (
        await asyncio_detailed(
            client=client,
            since=since,
            until=until,
            status=status,
            method=method,
            customer_id=customer_id,
            currency=currency,
            limit=limit,
            cursor=cursor,
            format_=format_,
        )
    ).parsed
