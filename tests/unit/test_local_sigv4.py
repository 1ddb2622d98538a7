"""The local stack checks operator API signatures like API Gateway: signed by botocore passes, anything
altered, unsigned, or signed with the wrong secret, scope or time is rejected."""

from __future__ import annotations

from datetime import timedelta
from http.client import HTTPMessage
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.sigv4 import (
    ReceivedRequest,
    SignatureRejected,
    canonical_query,
    normalise_url,
    verify_request,
)
from shared.clock import wall_clock_now

URL = "http://127.0.0.1:3000/v1/invoices?limit=10&customer_id=cus_123"
BODY = b'{"customer_id": "cus_123", "amount_due": 12500}'


def botocore_signed(
    method: str = "POST",
    url: str = URL,
    body: bytes = BODY,
    *,
    secret: str = "testing",
    region: str = "us-east-1",
    service: str = "execute-api",
    signer: type[SigV4Auth] = SigV4Auth,
) -> ReceivedRequest:
    """What the server receives from a client that signed with botocore: its headers plus Host."""
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
    signer(Credentials("testing", secret), service, region).add_auth(request)
    parts = urlsplit(url)
    headers = [("Host", parts.netloc), *request.headers.items()]
    return ReceivedRequest(method, parts.path, parts.query, headers, body)


def replace_header(request: ReceivedRequest, name: str, value: str | None) -> ReceivedRequest:
    headers = [(key, val) for key, val in request.headers if key.lower() != name.lower()]
    if value is not None:
        headers.append((name, value))
    return ReceivedRequest(request.method, request.path, request.query, headers, request.body)


def rejection(request: ReceivedRequest, **kwargs: object) -> SignatureRejected:
    with pytest.raises(SignatureRejected) as raised:
        verify_request(request, **kwargs)  # type: ignore[arg-type]
    return raised.value


def test_a_request_signed_by_botocore_is_accepted_as_the_local_operator() -> None:
    # Given a request signed with the local credentials by botocore itself
    request = botocore_signed()

    # When the local API checks it
    caller = verify_request(request)

    # Then the caller is the local operator
    assert caller.access_key == "testing"
    assert caller.user_arn == "arn:aws:iam::123456789012:user/local-operator"
    assert caller.account_id == "123456789012"


def test_a_get_without_body_and_with_an_encoded_query_is_accepted() -> None:
    url = normalise_url("http://127.0.0.1:3000/v1/customers/cus 1/transactions?since=2030-01-01T00:00:00Z&a=1")

    assert verify_request(botocore_signed("GET", url, b""))


def test_a_tampered_body_is_rejected() -> None:
    request = botocore_signed()
    tampered = ReceivedRequest(
        request.method, request.path, request.query, request.headers, BODY.replace(b"12500", b"1")
    )

    assert rejection(tampered).error_type == "InvalidSignatureException"


def test_a_tampered_path_is_rejected() -> None:
    request = botocore_signed()
    tampered = ReceivedRequest(request.method, "/v1/customers", request.query, request.headers, request.body)

    assert "does not match" in rejection(tampered).message


def test_a_tampered_query_is_rejected() -> None:
    request = botocore_signed()
    tampered = ReceivedRequest(request.method, request.path, "limit=1000", request.headers, request.body)

    assert rejection(tampered).error_type == "InvalidSignatureException"


def test_a_body_hash_header_that_does_not_match_the_body_is_rejected() -> None:
    request = botocore_signed()
    tampered = replace_header(request, "X-Amz-Content-SHA256", "0" * 64)
    tampered = ReceivedRequest(tampered.method, tampered.path, tampered.query, tampered.headers, b"{}")

    assert rejection(tampered).error_type == "InvalidSignatureException"


def test_the_wrong_secret_is_rejected() -> None:
    assert rejection(botocore_signed(secret="not-the-secret")).error_type == "InvalidSignatureException"


def test_an_unknown_access_key_is_rejected() -> None:
    request = botocore_signed()

    error = rejection(request, credentials={"someone-else": "testing"})

    assert error.error_type == "UnrecognizedClientException"


@pytest.mark.parametrize(
    ("region", "service"), [("eu-west-1", "execute-api"), ("us-east-1", "lambda")], ids=["region", "service"]
)
def test_a_signature_scoped_to_another_region_or_service_is_rejected(region: str, service: str) -> None:
    assert rejection(botocore_signed(region=region, service=service)).error_type == "InvalidSignatureException"


def test_a_signature_older_than_five_minutes_is_rejected() -> None:
    request = botocore_signed()

    error = rejection(request, now=wall_clock_now() + timedelta(minutes=6))

    assert error.message.startswith("Signature expired")


def test_a_signature_from_the_future_is_rejected() -> None:
    request = botocore_signed()

    error = rejection(request, now=wall_clock_now() - timedelta(minutes=6))

    assert error.message.startswith("Signature not yet current")


def test_a_signature_four_minutes_old_is_still_accepted() -> None:
    assert verify_request(botocore_signed(), now=wall_clock_now() + timedelta(minutes=4))


def test_a_request_without_authorization_is_missing_its_token() -> None:
    request = replace_header(botocore_signed(), "Authorization", None)

    error = rejection(request)

    assert (error.message, error.error_type) == (
        "Missing Authentication Token",
        "MissingAuthenticationTokenException",
    )


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer abc",
        "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=abc",
        "AWS4-HMAC-SHA256 Credential=testing/20300101/us-east-1, SignedHeaders=host, Signature=abc",
    ],
    ids=["other-scheme", "no-credential", "short-credential"],
)
def test_a_malformed_authorization_header_is_rejected(authorization: str) -> None:
    request = replace_header(botocore_signed(), "Authorization", authorization)

    assert rejection(request).error_type == "IncompleteSignatureException"


def test_a_signature_that_leaves_the_host_unsigned_is_rejected() -> None:
    class HostlessSigV4(SigV4Auth):
        """A valid signature that simply does not cover Host (what some hand-rolled signers do)."""

        def headers_to_sign(self, request: AWSRequest) -> HTTPMessage:
            headers = super().headers_to_sign(request)
            del headers["host"]
            return headers

    request = botocore_signed(signer=HostlessSigV4)

    assert "host" in rejection(request).message


def test_a_request_without_x_amz_date_is_rejected() -> None:
    request = replace_header(botocore_signed(), "X-Amz-Date", None)

    assert rejection(request).error_type == "IncompleteSignatureException"


def test_the_canonical_query_is_sorted_and_encoded_once() -> None:
    assert canonical_query("b=2&a=x%20y&a=1&c") == "a=1&a=x%20y&b=2&c="
