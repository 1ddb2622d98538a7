"""Reading the Import page's upload: a multipart/form-data post (a file input needs it), parsed with the
standard library's MIME parser. At most a few parts are read; the file must be UTF-8 text."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import Final

MAX_PARTS: Final = 5


class UnreadableUpload(Exception):
    pass


def multipart_fields(content_type: str | None, body: bytes) -> dict[str, str]:
    """Each part's name -> its text (a file part: the file's text). UnreadableUpload for anything else."""
    if (
        not content_type
        or not content_type.lower().startswith("multipart/form-data")
        or "boundary=" not in content_type
    ):
        raise UnreadableUpload("not multipart/form-data")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise UnreadableUpload("no parts")
    fields: dict[str, str] = {}
    for part in list(message.iter_parts())[:MAX_PARTS]:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or name in fields:
            continue
        raw = part.get_payload(decode=True) or b""
        if not isinstance(raw, bytes):
            raise UnreadableUpload(f"{name} is not a file or a field")
        try:
            fields[name] = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UnreadableUpload(f"{name} is not UTF-8 text") from None
    return fields
