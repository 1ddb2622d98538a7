"""The tests' PDF reader finds every shown string, whatever bytes the compressed streams end with."""

from __future__ import annotations

import zlib

from tests.pdf_text import pdf_text


def _document(content: bytes) -> bytes:
    compressed = zlib.compress(content)
    return b"%%PDF-1.3\n1 0 obj\n<</Filter /FlateDecode /Length %d>>\nstream\n%s\nendstream\nendobj\n" % (
        len(compressed),
        compressed,
    )


def test_a_stream_whose_compressed_bytes_end_in_a_carriage_return_is_read_whole() -> None:
    # The compressed bytes of one of these texts end in "\r" (the checksum's last byte grows by 97 a letter),
    # which a search for "\r?\nendstream" (fpdf2 writes "\nendstream") would take as part of the end marker
    content = next(c for c in (b"(Invoice %s) Tj" % (b"a" * n) for n in range(512)) if zlib.compress(c).endswith(b"\r"))
    assert pdf_text(_document(content)) == content[1:-4].decode()


def test_strings_are_unescaped_and_read_as_windows_1252() -> None:
    assert pdf_text(_document(rb"BT (Caf\351 \(1\)) Tj ET")) == "Café (1)"
