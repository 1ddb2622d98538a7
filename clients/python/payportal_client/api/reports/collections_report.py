import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.collections_report_format import CollectionsReportFormat
from ...models.collections_report_out import CollectionsReportOut
from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    from_: datetime.date,
    to: datetime.date,
    currency: str | Unset = UNSET,
    format_: CollectionsReportFormat | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_from_ = from_.isoformat()
    params["from"] = json_from_

    json_to = to.isoformat()
    params["to"] = json_to

    params["currency"] = currency

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/reports/collections",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CollectionsReportOut | ErrorBody | GatewayError | None:
    if response.status_code == 200:
        response_200 = CollectionsReportOut.from_dict(response.json())

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
) -> Response[CollectionsReportOut | ErrorBody | GatewayError]:
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
    currency: str | Unset = UNSET,
    format_: CollectionsReportFormat | Unset = UNSET,
) -> Response[CollectionsReportOut | ErrorBody | GatewayError]:
    """Collections KPIs over a period (DSO, CEI, collection rate, days to pay, promises, off-session
    charges)

    Args:
        from_ (datetime.date): YYYY-MM-DD, first day of the period
        to (datetime.date): YYYY-MM-DD, last day (at most 400 days after from; not after today)
        currency (str | Unset):
        format_ (CollectionsReportFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's
            next page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CollectionsReportOut | ErrorBody | GatewayError]
    """

    kwargs = _get_kwargs(
        from_=from_,
        to=to,
        currency=currency,
        format_=format_,
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
    currency: str | Unset = UNSET,
    format_: CollectionsReportFormat | Unset = UNSET,
) -> CollectionsReportOut | ErrorBody | GatewayError | None:
    """Collections KPIs over a period (DSO, CEI, collection rate, days to pay, promises, off-session
    charges)

    Args:
        from_ (datetime.date): YYYY-MM-DD, first day of the period
        to (datetime.date): YYYY-MM-DD, last day (at most 400 days after from; not after today)
        currency (str | Unset):
        format_ (CollectionsReportFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's
            next page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CollectionsReportOut | ErrorBody | GatewayError
    """

    return sync_detailed(
        client=client,
        from_=from_,
        to=to,
        currency=currency,
        format_=format_,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    from_: datetime.date,
    to: datetime.date,
    currency: str | Unset = UNSET,
    format_: CollectionsReportFormat | Unset = UNSET,
) -> Response[CollectionsReportOut | ErrorBody | GatewayError]:
    """Collections KPIs over a period (DSO, CEI, collection rate, days to pay, promises, off-session
    charges)

    Args:
        from_ (datetime.date): YYYY-MM-DD, first day of the period
        to (datetime.date): YYYY-MM-DD, last day (at most 400 days after from; not after today)
        currency (str | Unset):
        format_ (CollectionsReportFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's
            next page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CollectionsReportOut | ErrorBody | GatewayError]
    """

    kwargs = _get_kwargs(
        from_=from_,
        to=to,
        currency=currency,
        format_=format_,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    from_: datetime.date,
    to: datetime.date,
    currency: str | Unset = UNSET,
    format_: CollectionsReportFormat | Unset = UNSET,
) -> CollectionsReportOut | ErrorBody | GatewayError | None:
    """Collections KPIs over a period (DSO, CEI, collection rate, days to pay, promises, off-session
    charges)

    Args:
        from_ (datetime.date): YYYY-MM-DD, first day of the period
        to (datetime.date): YYYY-MM-DD, last day (at most 400 days after from; not after today)
        currency (str | Unset):
        format_ (CollectionsReportFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's
            next page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CollectionsReportOut | ErrorBody | GatewayError
    """

    return (
        await asyncio_detailed(
            client=client,
            from_=from_,
            to=to,
            currency=currency,
            format_=format_,
        )
    ).parsed
