import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.export_payments_format import ExportPaymentsFormat
from ...models.gateway_error import GatewayError
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    from_: datetime.date,
    to: datetime.date,
    format_: ExportPaymentsFormat | Unset = ExportPaymentsFormat.CSV,
    currency: str | Unset = UNSET,
    timezone: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_from_ = from_.isoformat()
    params["from"] = json_from_

    json_to = to.isoformat()
    params["to"] = json_to

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    params["currency"] = currency

    params["timezone"] = timezone

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/exports/payments",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | GatewayError | str | None:
    if response.status_code == 200:
        response_200 = response.text
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
) -> Response[ErrorBody | GatewayError | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    from_: datetime.date,
    to: datetime.date,
    format_: ExportPaymentsFormat | Unset = ExportPaymentsFormat.CSV,
    currency: str | Unset = UNSET,
    timezone: str | Unset = UNSET,
) -> Response[ErrorBody | GatewayError | str]:
    """Payments, refunds and reversals of a window of days, for QuickBooks Online, Xero or as CSV

    Args:
        from_ (datetime.date): YYYY-MM-DD, the first day (operator's zone)
        to (datetime.date): YYYY-MM-DD, the last day; at most 92 days
        format_ (ExportPaymentsFormat | Unset): quickbooks and xero are bank statements of one
            currency Default: ExportPaymentsFormat.CSV.
        currency (str | Unset): required for quickbooks and xero
        timezone (str | Unset): IANA zone of the days; default the operator's

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | str]
    """

    kwargs = _get_kwargs(
        from_=from_,
        to=to,
        format_=format_,
        currency=currency,
        timezone=timezone,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    from_: datetime.date,
    to: datetime.date,
    format_: ExportPaymentsFormat | Unset = ExportPaymentsFormat.CSV,
    currency: str | Unset = UNSET,
    timezone: str | Unset = UNSET,
) -> ErrorBody | GatewayError | str | None:
    """Payments, refunds and reversals of a window of days, for QuickBooks Online, Xero or as CSV

    Args:
        from_ (datetime.date): YYYY-MM-DD, the first day (operator's zone)
        to (datetime.date): YYYY-MM-DD, the last day; at most 92 days
        format_ (ExportPaymentsFormat | Unset): quickbooks and xero are bank statements of one
            currency Default: ExportPaymentsFormat.CSV.
        currency (str | Unset): required for quickbooks and xero
        timezone (str | Unset): IANA zone of the days; default the operator's

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | str
    """

    return sync_detailed(
        client=client,
        from_=from_,
        to=to,
        format_=format_,
        currency=currency,
        timezone=timezone,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    from_: datetime.date,
    to: datetime.date,
    format_: ExportPaymentsFormat | Unset = ExportPaymentsFormat.CSV,
    currency: str | Unset = UNSET,
    timezone: str | Unset = UNSET,
) -> Response[ErrorBody | GatewayError | str]:
    """Payments, refunds and reversals of a window of days, for QuickBooks Online, Xero or as CSV

    Args:
        from_ (datetime.date): YYYY-MM-DD, the first day (operator's zone)
        to (datetime.date): YYYY-MM-DD, the last day; at most 92 days
        format_ (ExportPaymentsFormat | Unset): quickbooks and xero are bank statements of one
            currency Default: ExportPaymentsFormat.CSV.
        currency (str | Unset): required for quickbooks and xero
        timezone (str | Unset): IANA zone of the days; default the operator's

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | str]
    """

    kwargs = _get_kwargs(
        from_=from_,
        to=to,
        format_=format_,
        currency=currency,
        timezone=timezone,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    from_: datetime.date,
    to: datetime.date,
    format_: ExportPaymentsFormat | Unset = ExportPaymentsFormat.CSV,
    currency: str | Unset = UNSET,
    timezone: str | Unset = UNSET,
) -> ErrorBody | GatewayError | str | None:
    """Payments, refunds and reversals of a window of days, for QuickBooks Online, Xero or as CSV

    Args:
        from_ (datetime.date): YYYY-MM-DD, the first day (operator's zone)
        to (datetime.date): YYYY-MM-DD, the last day; at most 92 days
        format_ (ExportPaymentsFormat | Unset): quickbooks and xero are bank statements of one
            currency Default: ExportPaymentsFormat.CSV.
        currency (str | Unset): required for quickbooks and xero
        timezone (str | Unset): IANA zone of the days; default the operator's

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | str
    """

    return (
        await asyncio_detailed(
            client=client,
            from_=from_,
            to=to,
            format_=format_,
            currency=currency,
            timezone=timezone,
        )
    ).parsed
