"""A file too large for one request, over moto: POST /v1/imports/uploads hands out a presigned S3 form, the file
is uploaded to it, POST /v1/imports names its upload_id, and the worker checks every row before it queues the
chunks (or marks the import invalid, each row at fault named, nothing written); the file is deleted either way."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
import requests

from shared.domain import imports as import_rules
from tests.integration.conftest import REGION, Aws
from tests.integration.helpers import operator
from tests.integration.test_imports import csv_file, get_import, row, run_worker
from tests.support import api_event, json_body

BUCKET = "payportal-test-import-uploads"


def s3() -> Any:
    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def queue(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> str:
    from shared import wiring

    url = str(aws.sqs.create_queue(QueueName="imports")["QueueUrl"])
    s3().create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("PAYPORTAL_IMPORTS_QUEUE_URL", url)
    monkeypatch.setenv("PAYPORTAL_IMPORTS_BUCKET", BUCKET)
    wiring.reset()
    return url


def new_upload(key: str | None = None, **event: Any) -> dict[str, Any]:
    headers = {"Idempotency-Key": key or uuid.uuid4().hex}
    return operator("POST", "/v1/imports/uploads", "/v1/imports/uploads", headers=headers, **event)


def upload(content: bytes, key: str | None = None) -> str:
    """Upload `content` as an operator's system would: the form's fields, then the file. Its upload_id."""
    reply = new_upload(key)
    assert reply["statusCode"] == 201, reply["body"]
    body = json_body(reply)
    form = body["upload"]
    sent = requests.post(form["url"], data=form["fields"], files={"file": ("import.csv", content)}, timeout=10)
    assert sent.status_code in (200, 201, 204), sent.text
    return str(body["upload_id"])


def import_upload(upload_id: str, key: str | None = None, **body: Any) -> dict[str, Any]:
    return operator(
        "POST", "/v1/imports", "/v1/imports", body={"upload_id": upload_id, "format": "csv", **body},
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )  # fmt: skip


def objects(aws: Aws) -> list[str]:
    listed = s3().list_objects_v2(Bucket=BUCKET)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_an_uploaded_file_is_checked_by_the_worker_then_imported(
    aws: Aws, queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a file of 150 rows in three chunks (50 rows a chunk here, to keep the test quick), uploaded
    monkeypatch.setattr(import_rules, "CHUNK_ROWS", 50)
    content = csv_file(*(row(f"crm-{n}", f"UP-{n}") for n in range(150))).encode()
    upload_id = upload(content)
    assert len(objects(aws)) == 1

    # When it is imported by its upload id
    started = import_upload(upload_id)

    # Then the job waits for its check, nothing written yet
    assert started["statusCode"] == 202, started["body"]
    job = json_body(started)
    assert (job["status"], job["total_rows"], job["progress_percent"]) == ("checking", 0, 0)
    assert aws.items("INVOICE#") == []
    # When the worker takes its message: the file is checked, its rows kept, its chunks queued, the file gone
    assert run_worker(aws, queue) >= 1
    done = get_import(job["id"])
    assert (done["status"], done["total_rows"], done["rows_imported"]) == ("completed", 150, 150)
    assert done["sha256"] and done["problem"] is None
    assert objects(aws) == []
    found = json_body(operator("GET", "/v1/invoices", "/v1/invoices", query={"number": "UP-149"}))["invoices"]
    assert len(found) == 1


def test_an_uploaded_file_with_bad_rows_is_invalid_naming_each_and_nothing_is_written(aws: Aws, queue: str) -> None:
    content = csv_file(row("crm-1", "UP-1"), row("crm-2", "UP-2", amount="12.3.4"), row("", "UP-3")).encode()
    job = json_body(import_upload(upload(content)))

    run_worker(aws, queue)

    shown = get_import(job["id"])
    assert shown["status"] == "invalid" and "nothing was written" in shown["problem"]
    assert [r["line"] for r in shown["rejected_rows"]] == [3, 4]
    assert shown["progress_percent"] == 0 and shown["rows_imported"] == 0
    assert aws.items("INVOICE#") == [] and objects(aws) == []


def test_a_file_that_is_not_utf8_is_invalid(aws: Aws, queue: str) -> None:
    job = json_body(import_upload(upload(b"customer_external_id\r\n\xff\xfe\r\n")))

    run_worker(aws, queue)

    assert get_import(job["id"])["problem"] == "the file is not UTF-8 text"


def test_a_check_delivered_twice_imports_once(aws: Aws, queue: str) -> None:
    job = json_body(import_upload(upload(csv_file(row("crm-1", "UP-1")).encode())))

    run_worker(aws, queue, keep=True)  # the check, not deleted: SQS delivers it again
    run_worker(aws, queue)

    done = get_import(job["id"])
    assert (done["status"], done["rows_imported"], done["rows_skipped"]) == ("completed", 1, 0)


def test_an_upload_id_with_no_file_or_another_callers_is_a_404(aws: Aws, queue: str) -> None:
    missing = import_upload("upl_" + "0" * 32)
    assert missing["statusCode"] == 404 and "upload it first" in json_body(missing)["error"]["message"]

    # Given a file uploaded by another operator
    from functions.operator_api.handler import lambda_handler
    from tests.support import FakeLambdaContext

    theirs = upload(csv_file(row("crm-1", "UP-1")).encode())
    event = api_event("POST", "/v1/imports", resource="/v1/imports", body={"upload_id": theirs},
                      headers={"Idempotency-Key": "k-other"})  # fmt: skip
    event["requestContext"]["identity"]["userArn"] = "arn:aws:iam::123456789012:user/someone-else"
    reply = lambda_handler(event, FakeLambdaContext())
    assert reply["statusCode"] == 404


@pytest.mark.parametrize(
    "body",
    [
        {"upload_id": "upl_" + "0" * 32, "content": "x"},  # both
        {"format": "csv"},  # neither
        {"upload_id": "../../etc/passwd"},
        {"upload_id": "upl_" + "G" * 32},
    ],
)
def test_an_import_names_its_file_one_way_only(aws: Aws, queue: str, body: dict[str, Any]) -> None:
    reply = operator("POST", "/v1/imports", "/v1/imports", body=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert reply["statusCode"] == 422, reply["body"]


def test_an_upload_form_needs_an_idempotency_key_and_the_same_key_names_the_same_upload(aws: Aws, queue: str) -> None:
    refused = operator("POST", "/v1/imports/uploads", "/v1/imports/uploads")
    assert refused["statusCode"] in (400, 422)
    first, again = json_body(new_upload("k1")), json_body(new_upload("k1"))
    assert first["upload_id"] == again["upload_id"] and first["max_bytes"] == 50_000_000
    assert json_body(new_upload("k2"))["upload_id"] != first["upload_id"]


class UploadingApi:
    """The operator API in process, as the CLI calls it, for files sent in the request or uploaded first."""

    def __init__(self, aws: Aws, queue: str) -> None:
        self.aws, self.queue = aws, queue
        self.paths: list[str] = []

    def request(self, method: str, path: str, *, query: Any = None, idempotency_key: str | None = None,
                body: Any = None) -> Any:  # fmt: skip
        from cli.webhooks import ApiReply

        self.paths.append(f"{method} {path}")
        if path == "/v1/imports/uploads":
            reply = new_upload(idempotency_key)
        elif method == "POST":
            reply = operator("POST", path, path, body=body, headers={"Idempotency-Key": idempotency_key or "k"})
        else:
            run_worker(self.aws, self.queue)
            import_id = path.rsplit("/", 1)[1]
            reply = operator("GET", path, "/v1/imports/{import_id}", params={"import_id": import_id})
        return ApiReply(reply["statusCode"], json_body(reply))


def test_the_cli_uploads_a_file_too_large_for_one_request(
    aws: Aws, queue: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from cli import imports as cli_imports
    from cli.__main__ import main

    # Given a file over what one request takes (the limit made small here)
    monkeypatch.setattr(cli_imports, "INLINE_LIMIT", 200)
    file = tmp_path / "big.csv"
    file.write_text(csv_file(*(row(f"crm-{n}", f"BIG-{n}") for n in range(5))), encoding="utf-8")
    api = UploadingApi(aws, queue)
    out = io.StringIO()

    code = main(["import", str(file), "--stage", "test", "--url", "https://api.example.com/test/"], stdout=out,
                stderr=out, environ={}, operator_api=lambda url, region: api)  # fmt: skip

    said = out.getvalue()
    assert code == 0, said
    assert api.paths[:2] == ["POST /v1/imports/uploads", "POST /v1/imports"]
    assert "uploading" in said and "checking every row" in said and "done: 5 imported" in said
    # and a file with a bad row comes back invalid, the row named, exit 1
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_file(*(row(f"crm-{n}", f"BAD-{n}") for n in range(4)), row("crm-9", "BAD-9", amount="x")))
    out = io.StringIO()
    code = main(["import", str(bad), "--stage", "test", "--url", "https://api.example.com/test/"], stdout=out,
                stderr=out, environ={}, operator_api=lambda url, region: UploadingApi(aws, queue))  # fmt: skip
    assert code == 1 and "line 6: amount" in out.getvalue()
