import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...models.reminder_report_out import ReminderReportOut
from ...models.reminders_report_format import RemindersReportFormat
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    from_: datetime.date,
    to: datetime.date,
    format_: RemindersReportFormat | Unset = UNSET,
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

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/reports/reminders",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | GatewayError | ReminderReportOut | None:
    if response.status_code == 200:
        response_200 = ReminderReportOut.from_dict(response.json())

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
) -> Response[ErrorBody | GatewayError | ReminderReportOut]:
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
    format_: RemindersReportFormat | Unset = UNSET,
) -> Response[ErrorBody | GatewayError | ReminderReportOut]:
    """What reminders achieved: sent, links opened, paid within 7 days, per send day, step and template

    Args:
        from_ (datetime.date): the first UTC send day, YYYY-MM-DD
        to (datetime.date): the last UTC send day, included; at most 400 days
        format_ (RemindersReportFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's
            next page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | ReminderReportOut]
    """

    kwargs = _get_kwargs(
        from_=from_,
        to=to,
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
    format_: RemindersReportFormat | Unset = UNSET,
) -> ErrorBody | GatewayError | ReminderReportOut | None:
    """What reminders achieved: sent, links opened, paid within 7 days, per send day, step and template

    Args:
        from_ (datetime.date): the first UTC send day, YYYY-MM-DD
        to (datetime.date): the last UTC send day, included; at most 400 days
        format_ (RemindersReportFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's
            next page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | ReminderReportOut
    """

    return sync_detailed(
        client=client,
        from_=from_,
        to=to,
        format_=format_,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    from_: datetime.date,
    to: datetime.date,
    format_: RemindersReportFormat | Unset = UNSET,
) -> Response[ErrorBody | GatewayError | ReminderReportOut]:
    """What reminders achieved: sent, links opened, paid within 7 days, per send day, step and template

    Args:
        from_ (datetime.date): the first UTC send day, YYYY-MM-DD
        to (datetime.date): the last UTC send day, included; at most 400 days
        format_ (RemindersReportFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's
            next page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | ReminderReportOut]
    """

    kwargs = _get_kwargs(
        from_=from_,
        to=to,
        format_=format_,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    from_: datetime.date,
    to: datetime.date,
    format_: RemindersReportFormat | Unset = UNSET,
) -> ErrorBody | GatewayError | ReminderReportOut | None:
    """What reminders achieved: sent, links opened, paid within 7 days, per send day, step and template

    Args:
        from_ (datetime.date): the first UTC send day, YYYY-MM-DD
        to (datetime.date): the last UTC send day, included; at most 400 days
        format_ (RemindersReportFormat | Unset): csv: as CSV (as `Accept: text/csv`); a list's
            next page in a Link header

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | ReminderReportOut
    """

    return (
        await asyncio_detailed(
            client=client,
            from_=from_,
            to=to,
            format_=format_,
        )
    ).parsed
