"""The Import page's upload: a multipart/form-data body read into its fields, or refused; never another error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.console.upload import UnreadableUpload, multipart_fields

BOUNDARY = "xYzZY"
TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def body(*parts: tuple[str, str, str | None]) -> bytes:
    lines = []
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        lines += [f"--{BOUNDARY}", f"Content-Disposition: {disposition}", "", value]
    return ("\r\n".join([*lines, f"--{BOUNDARY}--", ""])).encode()


def test_fields_and_the_file_are_read_as_text() -> None:
    fields = multipart_fields(TYPE, body(("csrf", "t0k", None), ("file", "a,b\r\n1,2\r\n", "x.csv")))
    assert fields == {"csrf": "t0k", "file": "a,b\r\n1,2\r\n"}


def test_the_first_of_a_repeated_field_counts() -> None:
    assert multipart_fields(TYPE, body(("csrf", "one", None), ("csrf", "two", None)))["csrf"] == "one"


@pytest.mark.parametrize(
    "content_type", [None, "", "text/plain", "multipart/form-data", "application/x-www-form-urlencoded"]
)
def test_anything_but_multipart_with_a_boundary_is_refused(content_type: str | None) -> None:
    with pytest.raises(UnreadableUpload):
        multipart_fields(content_type, body(("csrf", "t", None)))


def test_a_file_that_is_not_utf8_is_refused() -> None:
    raw = body(("file", "PLACEHOLDER", "x.csv")).replace(b"PLACEHOLDER", "caf\u00e9".encode("latin-1"))
    with pytest.raises(UnreadableUpload):
        multipart_fields(TYPE, raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([TYPE, "multipart/form-data; boundary=--", "multipart/x"]))
def test_any_bytes_are_fields_or_refused(raw: bytes, content_type: str) -> None:
    try:
        fields = multipart_fields(content_type, raw)
    except UnreadableUpload:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())
