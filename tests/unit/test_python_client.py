"""The typed client (clients/python): the committed package is exactly what the pinned generator makes of
docs/openapi.json (regenerate with `make client`), and its requests carry signatures API Gateway accepts,
checked by the local stack's verifier (local/sigv4.py), as its query strings and bodies go on the wire."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from botocore.credentials import Credentials
from payportal_client import Client
from payportal_client.api.invoices import create_invoice, list_invoices
from payportal_client.models import ListInvoicesStatusItem, NewInvoice
from payportal_signing import signed_client

from local.config import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY
from local.sigv4 import ReceivedRequest, SignatureRejected, verify_request

CLIENTS = Path(__file__).parents[2] / "clients" / "python"


def files(folder: Path) -> dict[str, bytes]:
    """The package's files, without the bytecode Python writes beside them when it imports the package."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_committed_client_is_what_the_generator_makes_of_the_document(tmp_path: Path) -> None:
    fresh = tmp_path / "payportal_client"
    subprocess.run([sys.executable, str(CLIENTS / "generate.py"), "--output", str(fresh)], check=True)
    committed, generated = files(CLIENTS / "payportal_client"), files(fresh)
    stale = sorted(name for name in committed.keys() | generated.keys() if committed.get(name) != generated.get(name))
    assert not stale, f"clients/python/payportal_client is stale ({stale[:5]}): run `make client`"


def received(request: httpx.Request) -> ReceivedRequest:
    path, _, query = request.url.raw_path.decode().partition("?")
    return ReceivedRequest(request.method, path, query, list(request.headers.multi_items()), request.content)


class Gateway:
    """A transport that checks every request's signature as API Gateway would, and answers `reply`."""

    def __init__(self, reply: dict[str, object], status: int = 200) -> None:
        self.reply, self.status = reply, status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        try:
            verify_request(received(request))
        except SignatureRejected as rejected:
            return httpx.Response(403, json={"message": rejected.message})
        return httpx.Response(self.status, json=self.reply)


def client_through(gateway: Gateway) -> Client:
    return signed_client(
        "http://127.0.0.1:3000/",
        region=REGION,
        credentials=Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY),
        httpx_args={"transport": httpx.MockTransport(gateway)},
    )


def test_a_list_with_repeated_and_encoded_query_values_is_signed_as_sent() -> None:
    gateway = Gateway({"invoices": [], "next_cursor": None})
    page = list_invoices.sync(
        client=client_through(gateway),
        status=[ListInvoicesStatusItem.OPEN, ListInvoicesStatusItem.PARTIALLY_PAID],
        currency="USD",
        due_before=datetime.date(2027, 1, 31),
        cursor="a b+c/=",
    )
    assert page is not None and page.to_dict() == {"invoices": [], "next_cursor": None}
    (request,) = gateway.requests
    assert request.url.params.get_list("status") == ["open", "partially_paid"]
    assert request.url.params["cursor"] == "a b+c/=" and request.url.params["due_before"] == "2027-01-31"
    assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=")


def test_a_create_is_signed_with_its_body_and_idempotency_key_and_an_altered_body_is_refused() -> None:
    taken = {"error": {"code": "number_taken", "message": "invoice number INV-1 is taken", "fields": []}}
    gateway = Gateway(taken, status=409)  # an answer the document gives create_invoice: the signature passed
    body = NewInvoice(customer_id="cus_1", number="INV-1", currency="EUR", amount_due=12_550,
                      due_date=datetime.date(2027, 1, 15))  # fmt: skip
    client = client_through(gateway)
    reply = create_invoice.sync_detailed(client=client, body=body, idempotency_key="key-1")
    assert reply.status_code == 409
    (request,) = gateway.requests
    signed = request.headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"content-type", "host", "idempotency-key", "x-amz-date"} <= set(signed)
    assert json.loads(request.content)["amount_due"] == 12_550

    as_sent = received(request)
    altered = ReceivedRequest(
        as_sent.method, as_sent.path, as_sent.query, as_sent.headers, as_sent.body.replace(b"12550", b"12551")
    )
    with pytest.raises(SignatureRejected):
        verify_request(altered)
