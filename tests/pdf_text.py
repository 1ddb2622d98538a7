"""The text a PDF drawn by shared.pdf shows, for tests: its content streams' strings, in reading order."""

from __future__ import annotations

import re
import zlib

_STREAM_START = re.compile(rb">>\s*stream\r?\n")
_SHOWN = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj")
_ESCAPE = re.compile(rb"\\([nrtbf()\\]|[0-7]{1,3})")
_ESCAPED = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(raw: bytes) -> bytes:
    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8)])
        return _ESCAPED.get(code, code)

    return _ESCAPE.sub(one, raw)


def _inflated(document: bytes, start: int) -> bytes | None:
    """The stream that starts at `start`, inflated; None for a stream that is not deflated (an image, say).

    The deflate data says itself where it ends, so the end is not searched for: compressed bytes can end in a
    carriage return, or hold "endstream", and a pattern for the end would then cut the stream short.
    """
    try:
        return zlib.decompressobj().decompress(document[start:])
    except zlib.error:
        return None


def pdf_text(document: bytes) -> str:
    """Every string the document shows (Windows-1252, as shared.pdf writes them), one per line."""
    assert document.startswith(b"%PDF-"), document[:20]
    lines: list[str] = []
    for start in _STREAM_START.finditer(document):
        content = _inflated(document, start.end())
        if content is None:
            continue
        lines.extend(_unescape(shown).decode("windows-1252") for shown in _SHOWN.findall(content))
    return "\n".join(lines)
