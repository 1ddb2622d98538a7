"""`payportal import FILE`: a bulk import through the stage's operator API, with a progress bar.

The file goes to `POST /v1/imports` exactly as an operator's system would send it, signed with the caller's
AWS credentials (SigV4); the reply is either the row errors (nothing was written: each is printed with its
line and the command exits 1) or the import, whose progress is then read from `GET /v1/imports/{id}` until
it is completed. A file too large for one request (over 4,000,000 bytes) is uploaded first, to the form
`POST /v1/imports/uploads` hands out, and checked by the worker: its row errors come from `GET` then.
The Idempotency-Key is the file's SHA-256 unless one is given, so running the command again
after a lost connection or a Ctrl-C follows the same import rather than starting another.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from cli.stripe_setup import SetupError
from cli.webhooks import OperatorApi

BAR_WIDTH: Final = 30
INLINE_LIMIT: Final = 4_000_000  # the largest file POST /v1/imports takes in its body (shared.domain.imports)
POLL_SECONDS: Final = 2.0
FORMATS: Final = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass(frozen=True, slots=True)
class Progress:
    """Where the progress bar goes: `update` redraws it (a terminal) or prints a line (a log)."""

    update: Callable[[str], None]
    say: Callable[[str], None]


def format_for(path: str, asked: str | None) -> str:
    if asked:
        return asked
    for suffix, name in FORMATS.items():
        if path.lower().endswith(suffix):
            return name
    return "csv"


def file_key(content: str) -> str:
    return "file-" + hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()


def bar(job: dict[str, Any]) -> str:
    percent = int(job.get("progress_percent") or 0)
    filled = BAR_WIDTH * percent // 100
    return (
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {percent:3d}%  {job.get('rows_done', 0):,}/"
        f"{job.get('total_rows', 0):,} rows  ({job.get('rows_imported', 0):,} imported, "
        f"{job.get('rows_skipped', 0):,} skipped, {job.get('rows_rejected', 0):,} rejected)"
    )


# Uploads a file to an upload form: (the form's URL, its fields, the file's bytes).
Uploader = Callable[[str, dict[str, str], bytes], None]


def run_import(
    api: OperatorApi,
    content: str,
    file_format: str,
    *,
    key: str | None,
    progress: Progress,
    upload: Uploader | None = None,
    poll_seconds: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Send the file, follow the import to its end; 0 when every row is imported or skipped, 1 otherwise."""
    key = key or file_key(content)
    data = content.encode("utf-8", "surrogatepass")
    if len(data) > INLINE_LIMIT:
        if upload is None:
            raise SetupError("this file is too large for one request and no uploader was given")
        upload_id = _uploaded(api, data, key, upload, progress)
        body_of_import: dict[str, Any] = {"format": file_format, "upload_id": upload_id}
    else:
        body_of_import = {"format": file_format, "content": content}
    reply = api.request("POST", "/v1/imports", body=body_of_import, idempotency_key=key)
    body = reply.body if isinstance(reply.body, dict) else {}
    if reply.status == 400 and isinstance(body.get("error"), dict) and body["error"].get("code") == "import_invalid":
        progress.say(f"the file was not imported: {body['error'].get('message')}")
        for problem in body["error"].get("fields") or []:
            progress.say(f"  {problem.get('field')}: {problem.get('message')}")
        return 1
    if not 200 <= reply.status < 300:
        error: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
        message = error.get("message") or body.get("message") or "no details"
        hint = " (is your IAM identity allowed to call the operator API?)" if reply.status == 403 else ""
        raise SetupError(f"could not start the import: HTTP {reply.status}: {message}{hint}")
    job = body
    if job.get("status") == "checking":
        progress.say(f"import {job.get('id')}: the worker is checking every row of the file")
    else:
        progress.say(f"import {job.get('id')}: {job.get('total_rows', 0):,} rows checked, importing")
    path = f"/v1/imports/{quote(str(job.get('id')), safe='')}"
    shown = ""
    while True:
        line = "checking the file ..." if job.get("status") == "checking" else bar(job)
        if line != shown:
            progress.update(line)
            shown = line
        if job.get("status") == "invalid":
            progress.say(f"the file was not imported: {job.get('problem')}")
            for problem in job.get("rejected_rows") or []:
                progress.say(f"  line {problem.get('line')}: {problem.get('reason')}")
            return 1
        if job.get("status") == "completed":
            break
        sleep(poll_seconds)
        polled = api.request("GET", path)
        if polled.status != 200 or not isinstance(polled.body, dict):
            raise SetupError(f"could not read the import {job.get('id')}: HTTP {polled.status}")
        job = polled.body
    for rejected in job.get("rejected_rows") or []:
        progress.say(f"  line {rejected.get('line')}: {rejected.get('reason')}")
    progress.say(
        f"done: {job.get('rows_imported', 0):,} imported, {job.get('rows_skipped', 0):,} skipped (stored already), "
        f"{job.get('rows_rejected', 0):,} rejected"
    )
    return 1 if job.get("rows_rejected") else 0


def _uploaded(api: OperatorApi, data: bytes, key: str, upload: Uploader, progress: Progress) -> str:
    """Upload the file to a form of POST /v1/imports/uploads; its upload_id."""
    reply = api.request("POST", "/v1/imports/uploads", idempotency_key=key)
    body = reply.body if isinstance(reply.body, dict) else {}
    if reply.status != 201 or not isinstance(body.get("upload"), dict):
        raise SetupError(f"could not get an upload form: HTTP {reply.status}")
    if len(data) > int(body.get("max_bytes") or 0):
        raise SetupError(f"the file is {len(data):,} bytes; an import takes at most {body.get('max_bytes'):,}")
    progress.say(f"uploading {len(data):,} bytes")
    form = body["upload"]
    upload(str(form["url"]), {str(k): str(v) for k, v in (form.get("fields") or {}).items()}, data)
    return str(body["upload_id"])
