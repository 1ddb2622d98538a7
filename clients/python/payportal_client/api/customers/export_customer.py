from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.customer_export import CustomerExport
from ...models.error_body import ErrorBody
from ...models.export_customer_format import ExportCustomerFormat
from ...models.gateway_error import GatewayError
from ...types import UNSET, Response, Unset


def _get_kwargs(
    customer_id: str,
    *,
    format_: ExportCustomerFormat | Unset = ExportCustomerFormat.JSON,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/customers/{customer_id}/export".format(
            customer_id=quote(str(customer_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CustomerExport | ErrorBody | GatewayError | None:
    if response.status_code == 200:
        response_200 = CustomerExport.from_dict(response.json())

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

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[CustomerExport | ErrorBody | GatewayError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    customer_id: str,
    *,
    client: AuthenticatedClient | Client,
    format_: ExportCustomerFormat | Unset = ExportCustomerFormat.JSON,
) -> Response[CustomerExport | ErrorBody | GatewayError]:
    """Everything payportal holds about the customer (subject access, portability), as JSON or a zip

    Args:
        customer_id (str):
        format_ (ExportCustomerFormat | Unset): zip: export.json with the invoices', receipts' and
            statement's PDFs Default: ExportCustomerFormat.JSON.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CustomerExport | ErrorBody | GatewayError]
    """

    kwargs = _get_kwargs(
        customer_id=customer_id,
        format_=format_,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    customer_id: str,
    *,
    client: AuthenticatedClient | Client,
    format_: ExportCustomerFormat | Unset = ExportCustomerFormat.JSON,
) -> CustomerExport | ErrorBody | GatewayError | None:
    """Everything payportal holds about the customer (subject access, portability), as JSON or a zip

    Args:
        customer_id (str):
        format_ (ExportCustomerFormat | Unset): zip: export.json with the invoices', receipts' and
            statement's PDFs Default: ExportCustomerFormat.JSON.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CustomerExport | ErrorBody | GatewayError
    """

    return sync_detailed(
        customer_id=customer_id,
        client=client,
        format_=format_,
    ).parsed


async def asyncio_detailed(
    customer_id: str,
    *,
    client: AuthenticatedClient | Client,
    format_: ExportCustomerFormat | Unset = ExportCustomerFormat.JSON,
) -> Response[CustomerExport | ErrorBody | GatewayError]:
    """Everything payportal holds about the customer (subject access, portability), as JSON or a zip

    Args:
        customer_id (str):
        format_ (ExportCustomerFormat | Unset): zip: export.json with the invoices', receipts' and
            statement's PDFs Default: ExportCustomerFormat.JSON.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CustomerExport | ErrorBody | GatewayError]
    """

    kwargs = _get_kwargs(
        customer_id=customer_id,
        format_=format_,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    customer_id: str,
    *,
    client: AuthenticatedClient | Client,
    format_: ExportCustomerFormat | Unset = ExportCustomerFormat.JSON,
) -> CustomerExport | ErrorBody | GatewayError | None:
    """Everything payportal holds about the customer (subject access, portability), as JSON or a zip

    Args:
        customer_id (str):
        format_ (ExportCustomerFormat | Unset): zip: export.json with the invoices', receipts' and
            statement's PDFs Default: ExportCustomerFormat.JSON.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CustomerExport | ErrorBody | GatewayError
    """

    return (
        await asyncio_detailed(
            customer_id=customer_id,
            client=client,
            format_=format_,
        )
    ).parsed
