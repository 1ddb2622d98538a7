from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.gateway_error import GatewayError
from ...models.import_out import ImportOut
from ...models.new_import import NewImport
from ...types import Response


def _get_kwargs(
    *,
    body: NewImport,
    idempotency_key: str,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    headers["idempotency-key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/imports",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | GatewayError | ImportOut | None:
    if response.status_code == 202:
        response_202 = ImportOut.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 403:
        response_403 = GatewayError.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorBody.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ErrorBody.from_dict(response.json())

        return response_413

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
) -> Response[ErrorBody | GatewayError | ImportOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: NewImport,
    idempotency_key: str,
) -> Response[ErrorBody | GatewayError | ImportOut]:
    """Import customers and invoices from a CSV or JSON lines file; every row is checked first

    Args:
        idempotency_key (str): required; the same key and file replays the first import instead of
            starting another
        body (NewImport): A file of customers and invoices (docs/integrations.md names the
            columns): its text in `content`, or, for a
            file too large for one request, the `upload_id` it was uploaded under (POST
            /v1/imports/uploads).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | ImportOut]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: NewImport,
    idempotency_key: str,
) -> ErrorBody | GatewayError | ImportOut | None:
    """Import customers and invoices from a CSV or JSON lines file; every row is checked first

    Args:
        idempotency_key (str): required; the same key and file replays the first import instead of
            starting another
        body (NewImport): A file of customers and invoices (docs/integrations.md names the
            columns): its text in `content`, or, for a
            file too large for one request, the `upload_id` it was uploaded under (POST
            /v1/imports/uploads).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | ImportOut
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: NewImport,
    idempotency_key: str,
) -> Response[ErrorBody | GatewayError | ImportOut]:
    """Import customers and invoices from a CSV or JSON lines file; every row is checked first

    Args:
        idempotency_key (str): required; the same key and file replays the first import instead of
            starting another
        body (NewImport): A file of customers and invoices (docs/integrations.md names the
            columns): its text in `content`, or, for a
            file too large for one request, the `upload_id` it was uploaded under (POST
            /v1/imports/uploads).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | GatewayError | ImportOut]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: NewImport,
    idempotency_key: str,
) -> ErrorBody | GatewayError | ImportOut | None:
    """Import customers and invoices from a CSV or JSON lines file; every row is checked first

    Args:
        idempotency_key (str): required; the same key and file replays the first import instead of
            starting another
        body (NewImport): A file of customers and invoices (docs/integrations.md names the
            columns): its text in `content`, or, for a
            file too large for one request, the `upload_id` it was uploaded under (POST
            /v1/imports/uploads).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | GatewayError | ImportOut
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
