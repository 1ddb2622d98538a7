"""List cursors: bound to the listing that handed them out, and checked in shape before DynamoDB sees one."""

from __future__ import annotations

import base64
import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.adapters.dynamodb.cursors import decode_list_cursor, encode_list_cursor, listing_fingerprint
from shared.services.ports import InvalidCursor, InvoiceListing

LISTING = InvoiceListing("owed", "USD")
PARTITIONS = ("OWED#USD",)
KEY = {
    "gsi4pk": {"S": "OWED#USD"},
    "gsi4sk": {"S": "2027-01-01#inv_1"},
    "pk": {"S": "INVOICE#inv_1"},
    "sk": {"S": "LIST#OWED"},
}


def decode(cursor: str, listing: object = LISTING) -> tuple[str, object]:
    return decode_list_cursor(cursor, listing_fingerprint(listing), PARTITIONS, "gsi4pk", "gsi4sk")


def test_a_cursor_reads_back_for_its_listing_only() -> None:
    cursor = encode_list_cursor(listing_fingerprint(LISTING), "OWED#USD", KEY)
    assert decode(cursor) == ("OWED#USD", KEY)
    assert decode(encode_list_cursor(listing_fingerprint(LISTING), "OWED#USD", None)) == ("OWED#USD", None)
    with pytest.raises(InvalidCursor):
        decode(cursor, InvoiceListing("owed", "EUR"))


def _forged(**changes: object) -> str:
    payload = {"l": listing_fingerprint(LISTING), "p": "OWED#USD", "k": KEY} | changes
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        _forged(p="INVOICES#void#USD"),
        _forged(k=KEY | {"gsi4pk": {"S": "INVOICES#void#USD"}}),
        _forged(k={"pk": {"S": "x"}}),
        _forged(k=KEY | {"gsi4sk": {"N": "1"}}),
        _forged(k=KEY | {"gsi4sk": {"S": "x" * 2000}}),
        _forged(l="0" * 16),
        "!!!",
        "",
    ],
)
def test_a_forged_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode(cursor)


@given(st.text(max_size=300))
def test_no_text_makes_decoding_fail_other_than_as_an_invalid_cursor(text: str) -> None:
    with contextlib.suppress(InvalidCursor):
        decode(text)
