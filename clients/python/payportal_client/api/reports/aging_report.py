import datetime
from http import HTTPStatus
from typing import Any, Literal

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.aging_report_format import AgingReportFormat
from ...models.aging_report_out import AgingReportOut
from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    as_of: datetime.date,
    currency: str | Unset = UNSET,
    group_by: Literal["customer"] | Unset = UNSET,
    format_: AgingReportFormat | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_as_of = as_of.isoformat()
    params["as_of"] = json_as_of

    params["currency"] = currency

    params["group_by"] = group_by

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/reports/aging",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AgingReportOut | ErrorBody | GatewayError | None:
    if response.status_code == 200:
        response_200 = AgingReportOut.from_dict(response.json())

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

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[AgingReportOut | ErrorBody | GatewayError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.date,
    currency: str | Unset = UNSET,
    group_by: Literal["customer"] | Unset = UNSET,
    format_: AgingReportFormat | Unset = UNSET,
) -> Response[AgingReportOut | ErrorBody | GatewayError]:
    """What was still owed at the end of a day, per currency, by days past due

    Args:
        as_of (datetime.date): YYYY-MM-DD: today, or a past day with a snapshot (400 days kept)
        currency (str | Unset):
        group_by (Literal['customer'] | Unset): as of today only
        format_ (AgingReportFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AgingReportOut | ErrorBody | GatewayError]
    """

    kwargs = _get_kwargs(
        as_of=as_of,
        currency=currency,
        group_by=group_by,
        format_=format_,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.date,
    currency: str | Unset = UNSET,
    group_by: Literal["customer"] | Unset = UNSET,
    format_: AgingReportFormat | Unset = UNSET,
) -> AgingReportOut | ErrorBody | GatewayError | None:
    """What was still owed at the end of a day, per currency, by days past due

    Args:
        as_of (datetime.date): YYYY-MM-DD: today, or a past day with a snapshot (400 days kept)
        currency (str | Unset):
        group_by (Literal['customer'] | Unset): as of today only
        format_ (AgingReportFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AgingReportOut | ErrorBody | GatewayError
    """

    return sync_detailed(
        client=client,
        as_of=as_of,
        currency=currency,
        group_by=group_by,
        format_=format_,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.date,
    currency: str | Unset = UNSET,
    group_by: Literal["customer"] | Unset = UNSET,
    format_: AgingReportFormat | Unset = UNSET,
) -> Response[AgingReportOut | ErrorBody | GatewayError]:
    """What was still owed at the end of a day, per currency, by days past due

    Args:
        as_of (datetime.date): YYYY-MM-DD: today, or a past day with a snapshot (400 days kept)
        currency (str | Unset):
        group_by (Literal['customer'] | Unset): as of today only
        format_ (AgingReportFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AgingReportOut | ErrorBody | GatewayError]
    """

    kwargs = _get_kwargs(
        as_of=as_of,
        currency=currency,
        group_by=group_by,
        format_=format_,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    as_of: datetime.date,
    currency: str | Unset = UNSET,
    group_by: Literal["customer"] | Unset = UNSET,
    format_: AgingReportFormat | Unset = UNSET,
) -> AgingReportOut | ErrorBody | GatewayError | None:
    """What was still owed at the end of a day, per currency, by days past due

    Args:
        as_of (datetime.date): YYYY-MM-DD: today, or a past day with a snapshot (400 days kept)
        currency (str | Unset):
        group_by (Literal['customer'] | Unset): as of today only
        format_ (AgingReportFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's next
            page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AgingReportOut | ErrorBody | GatewayError
    """

    return (
        await asyncio_detailed(
            client=client,
            as_of=as_of,
            currency=currency,
            group_by=group_by,
            format_=format_,
        )
    ).parsed
