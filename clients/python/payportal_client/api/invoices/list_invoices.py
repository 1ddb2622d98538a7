import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...models.invoices_page import InvoicesPage
from ...models.list_invoices_format import ListInvoicesFormat
from ...models.list_invoices_status_item import ListInvoicesStatusItem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    status: list[ListInvoicesStatusItem] | Unset = UNSET,
    overdue: bool | Unset = UNSET,
    days_overdue_min: int | Unset = UNSET,
    customer_id: str | Unset = UNSET,
    currency: str | Unset = UNSET,
    due_after: datetime.date | Unset = UNSET,
    due_before: datetime.date | Unset = UNSET,
    number: str | Unset = UNSET,
    on_hold: bool | Unset = UNSET,
    promised: bool | Unset = UNSET,
    disputed: bool | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    format_: ListInvoicesFormat | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_status: list[str] | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = []
        for status_item_data in status:
            status_item = status_item_data.value
            json_status.append(status_item)

    params["status"] = json_status

    params["overdue"] = overdue

    params["days_overdue_min"] = days_overdue_min

    params["customer_id"] = customer_id

    params["currency"] = currency

    json_due_after: str | Unset = UNSET
    if not isinstance(due_after, Unset):
        json_due_after = due_after.isoformat()
    params["due_after"] = json_due_after

    json_due_before: str | Unset = UNSET
    if not isinstance(due_before, Unset):
        json_due_before = due_before.isoformat()
    params["due_before"] = json_due_before

    params["number"] = number

    params["on_hold"] = on_hold

    params["promised"] = promised

    params["disputed"] = disputed

    params["limit"] = limit

    params["cursor"] = cursor

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/invoices",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | GatewayError | InvoicesPage | None:
    if response.status_code == 200:
        response_200 = InvoicesPage.from_dict(response.json())

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
) -> Response[ErrorBody | GatewayError | InvoicesPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    status: list[ListInvoicesStatusItem] | Unset = UNSET,
    overdue: bool | Unset = UNSET,
    days_overdue_min: int | Unset = UNSET,
    customer_id: str | Unset = UNSET,
    currency: str | Unset = UNSET,
    due_after: datetime.date | Unset = UNSET,
    due_before: datetime.date | Unset = UNSET,
    number: str | Unset = UNSET,
    on_hold: bool | Unset = UNSET,
    promised: bool | Unset = UNSET,
    disputed: bool | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    format_: ListInvoicesFormat | Unset = UNSET,
) -> Response[ErrorBody | GatewayError | InvoicesPage]:
    """Invoices overdue (a currency or all); by status, flag or due date in a currency; a customer's; by
    number

    Args:
        status (list[ListInvoicesStatusItem] | Unset): repeatable
        overdue (bool | Unset):
        days_overdue_min (int | Unset): overdue at least N days
        customer_id (str | Unset):
        currency (str | Unset): ISO 4217, e.g. USD
        due_after (datetime.date | Unset): due strictly after this day
        due_before (datetime.date | Unset): due strictly before this day
        number (str | Unset):
        on_hold (bool | Unset):
        promised (bool | Unset):
        disputed (bool | Unset):
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        format_ (ListInvoicesFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | InvoicesPage]
    """

    kwargs = _get_kwargs(
        status=status,
        overdue=overdue,
        days_overdue_min=days_overdue_min,
        customer_id=customer_id,
        currency=currency,
        due_after=due_after,
        due_before=due_before,
        number=number,
        on_hold=on_hold,
        promised=promised,
        disputed=disputed,
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
    status: list[ListInvoicesStatusItem] | Unset = UNSET,
    overdue: bool | Unset = UNSET,
    days_overdue_min: int | Unset = UNSET,
    customer_id: str | Unset = UNSET,
    currency: str | Unset = UNSET,
    due_after: datetime.date | Unset = UNSET,
    due_before: datetime.date | Unset = UNSET,
    number: str | Unset = UNSET,
    on_hold: bool | Unset = UNSET,
    promised: bool | Unset = UNSET,
    disputed: bool | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    format_: ListInvoicesFormat | Unset = UNSET,
) -> ErrorBody | GatewayError | InvoicesPage | None:
    """Invoices overdue (a currency or all); by status, flag or due date in a currency; a customer's; by
    number

    Args:
        status (list[ListInvoicesStatusItem] | Unset): repeatable
        overdue (bool | Unset):
        days_overdue_min (int | Unset): overdue at least N days
        customer_id (str | Unset):
        currency (str | Unset): ISO 4217, e.g. USD
        due_after (datetime.date | Unset): due strictly after this day
        due_before (datetime.date | Unset): due strictly before this day
        number (str | Unset):
        on_hold (bool | Unset):
        promised (bool | Unset):
        disputed (bool | Unset):
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        format_ (ListInvoicesFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | InvoicesPage
    """

    return sync_detailed(
        client=client,
        status=status,
        overdue=overdue,
        days_overdue_min=days_overdue_min,
        customer_id=customer_id,
        currency=currency,
        due_after=due_after,
        due_before=due_before,
        number=number,
        on_hold=on_hold,
        promised=promised,
        disputed=disputed,
        limit=limit,
        cursor=cursor,
        format_=format_,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    status: list[ListInvoicesStatusItem] | Unset = UNSET,
    overdue: bool | Unset = UNSET,
    days_overdue_min: int | Unset = UNSET,
    customer_id: str | Unset = UNSET,
    currency: str | Unset = UNSET,
    due_after: datetime.date | Unset = UNSET,
    due_before: datetime.date | Unset = UNSET,
    number: str | Unset = UNSET,
    on_hold: bool | Unset = UNSET,
    promised: bool | Unset = UNSET,
    disputed: bool | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    format_: ListInvoicesFormat | Unset = UNSET,
) -> Response[ErrorBody | GatewayError | InvoicesPage]:
    """Invoices overdue (a currency or all); by status, flag or due date in a currency; a customer's; by
    number

    Args:
        status (list[ListInvoicesStatusItem] | Unset): repeatable
        overdue (bool | Unset):
        days_overdue_min (int | Unset): overdue at least N days
        customer_id (str | Unset):
        currency (str | Unset): ISO 4217, e.g. USD
        due_after (datetime.date | Unset): due strictly after this day
        due_before (datetime.date | Unset): due strictly before this day
        number (str | Unset):
        on_hold (bool | Unset):
        promised (bool | Unset):
        disputed (bool | Unset):
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        format_ (ListInvoicesFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | InvoicesPage]
    """

    kwargs = _get_kwargs(
        status=status,
        overdue=overdue,
        days_overdue_min=days_overdue_min,
        customer_id=customer_id,
        currency=currency,
        due_after=due_after,
        due_before=due_before,
        number=number,
        on_hold=on_hold,
        promised=promised,
        disputed=disputed,
        limit=limit,
        cursor=cursor,
        format_=format_,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    status: list[ListInvoicesStatusItem] | Unset = UNSET,
    overdue: bool | Unset = UNSET,
    days_overdue_min: int | Unset = UNSET,
    customer_id: str | Unset = UNSET,
    currency: str | Unset = UNSET,
    due_after: datetime.date | Unset = UNSET,
    due_before: datetime.date | Unset = UNSET,
    number: str | Unset = UNSET,
    on_hold: bool | Unset = UNSET,
    promised: bool | Unset = UNSET,
    disputed: bool | Unset = UNSET,
    limit: int | Unset = 25,
    cursor: str | Unset = UNSET,
    format_: ListInvoicesFormat | Unset = UNSET,
) -> ErrorBody | GatewayError | InvoicesPage | None:
    """Invoices overdue (a currency or all); by status, flag or due date in a currency; a customer's; by
    number

    Args:
        status (list[ListInvoicesStatusItem] | Unset): repeatable
        overdue (bool | Unset):
        days_overdue_min (int | Unset): overdue at least N days
        customer_id (str | Unset):
        currency (str | Unset): ISO 4217, e.g. USD
        due_after (datetime.date | Unset): due strictly after this day
        due_before (datetime.date | Unset): due strictly before this day
        number (str | Unset):
        on_hold (bool | Unset):
        promised (bool | Unset):
        disputed (bool | Unset):
        limit (int | Unset):  Default: 25.
        cursor (str | Unset):
        format_ (ListInvoicesFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | InvoicesPage
    """

    return (
        await asyncio_detailed(
            client=client,
            status=status,
            overdue=overdue,
            days_overdue_min=days_overdue_min,
            customer_id=customer_id,
            currency=currency,
            due_after=due_after,
            due_before=due_before,
            number=number,
            on_hold=on_hold,
            promised=promised,
            disputed=disputed,
            limit=limit,
            cursor=cursor,
            format_=format_,
        )
    ).parsed
