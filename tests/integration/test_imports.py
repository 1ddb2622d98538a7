"""Bulk import over moto: POST /v1/imports checks the file and queues its chunks; the worker imports them
through the customer and invoice services; GET /v1/imports/{id} shows the counts and each rejected row."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from shared.domain import imports as import_rules
from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, create_invoice, operator
from tests.support import FakeLambdaContext, json_body

HEADER = ",".join(import_rules.COLUMNS)


@pytest.fixture
def queue(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> str:
    from shared import wiring

    url = str(aws.sqs.create_queue(QueueName="imports")["QueueUrl"])
    monkeypatch.setenv("PAYPORTAL_IMPORTS_QUEUE_URL", url)
    wiring.reset()
    return url


def csv_file(*rows: str) -> str:
    return "\r\n".join((HEADER, *rows)) + "\r\n"


def row(external_id: str, number: str = "", *, name: str = "Ada Lovelace", email: str = "ada@example.com",
        amount: str = "125.00", minor: str = "", currency: str = "GBP", due: str = "2027-04-30") -> str:  # fmt: skip
    if not number:
        return f"{external_id},{name},{email},en-GB,Europe/London,,,,,,"
    return f"{external_id},{name},{email},en-GB,Europe/London,{number},{currency},{amount},{minor},{due},Consulting"


def post_import(content: str, *, key: str | None = None, file_format: str = "csv") -> dict[str, Any]:
    return operator(
        "POST",
        "/v1/imports",
        "/v1/imports",
        body={"format": file_format, "content": content},
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )


def get_import(import_id: str) -> dict[str, Any]:
    response = operator("GET", f"/v1/imports/{import_id}", "/v1/imports/{import_id}", params={"import_id": import_id})
    assert response["statusCode"] == 200, response["body"]
    return dict(json_body(response))


def run_worker(aws: Aws, queue: str, *, keep: bool = False) -> int:
    """What the SQS event source does: each message to the worker, deleted once it succeeds."""
    from functions.imports.handler import lambda_handler

    ran = 0
    while True:
        messages = aws.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return ran
        for message in messages:
            record = {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                      "body": message["Body"], "attributes": {}, "messageAttributes": {},
                      "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:imports",
                      "awsRegion": "us-east-1", "md5OfBody": message["MD5OfBody"]}  # fmt: skip
            reply = lambda_handler({"Records": [record]}, FakeLambdaContext())
            assert reply == {"batchItemFailures": []}
            if not keep:
                aws.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            ran += 1
        if keep:
            return ran


def test_a_file_is_imported_in_the_background_and_its_progress_shown(aws: Aws, queue: str) -> None:
    # Given: two customers, three invoices, one in minor units
    content = csv_file(
        row("crm-1", "IMP-1"),
        "crm-1,,,,,IMP-2,GBP,,4200,2027-05-31,Consulting",
        row("crm-2", name="Grace Hopper", email="grace@example.com"),
        row("crm-2", "IMP-3", name="Grace Hopper", email="grace@example.com", currency="JPY", amount="5000"),
    )
    # When: it is posted
    response = post_import(content)
    # Then: 202 with the job queued, and nothing imported yet
    assert response["statusCode"] == 202, response["body"]
    job = json_body(response)
    assert job["status"] == "queued" and job["total_rows"] == 4 and job["rows_done"] == 0
    assert aws.items("INVOICE#") == []
    # When: the worker takes the queue
    assert run_worker(aws, queue) == 1
    # Then: the job is completed, every row imported, through the services (audited, listed)
    done = get_import(job["id"])
    assert (done["status"], done["progress_percent"], done["rows_imported"], done["rows_skipped"]) == (
        "completed", 100, 4, 0,
    )  # fmt: skip
    assert done["rejected_rows"] == []
    found = operator("GET", "/v1/invoices", "/v1/invoices", query={"number": "IMP-2"})
    [invoice] = json_body(found)["invoices"]
    assert (invoice["amount_due"], invoice["currency"], invoice["due_date"]) == (4200, "GBP", "2027-05-31")
    jpy = json_body(operator("GET", "/v1/invoices", "/v1/invoices", query={"number": "IMP-3"}))["invoices"][0]
    assert jpy["amount_due"] == 5000  # JPY has no minor unit: 5000 yen
    customers = json_body(operator("GET", "/v1/customers", "/v1/customers", query={"external_id": "crm-1"}))
    [ada] = customers["customers"]
    assert (ada["name"], ada["timezone"], ada["locale"]) == ("Ada Lovelace", "Europe/London", "en-GB")
    audit = [a for a in aws.items("INVOICE#") if a["sk"].startswith("AUDIT#")]
    assert {a["action"] for a in audit} == {"invoice.created"} and len(audit) == 3
    assert all("import imp_" in a["actor"] and "arn:aws:iam::" in a["actor"] for a in audit)


def test_the_same_file_again_changes_nothing(aws: Aws, queue: str) -> None:
    content = csv_file(row("crm-1", "IMP-1"), row("crm-1", "IMP-2", amount="9.99"))
    first = json_body(post_import(content))
    run_worker(aws, queue)
    stored = sorted((i["pk"], i.get("version")) for i in aws.items("INVOICE#") if i["sk"] == "INVOICE")
    # When: the same file is imported again, under another key
    second = json_body(post_import(content))
    run_worker(aws, queue)
    # Then: every row is skipped, and no record changed
    again = get_import(second["id"])
    assert second["id"] != first["id"]
    assert (again["rows_imported"], again["rows_skipped"], again["rows_rejected"]) == (0, 2, 0)
    assert sorted((i["pk"], i.get("version")) for i in aws.items("INVOICE#") if i["sk"] == "INVOICE") == stored
    assert len([i for i in aws.items("CUSTOMER#") if i["sk"] == "CUSTOMER"]) == 1


def test_rows_stored_differently_are_rejected_with_their_line_and_reason(aws: Aws, queue: str) -> None:
    # Given: a customer and an invoice the operator made by hand
    customer = create_customer(external_id="crm-9", email="kurt@example.com", name="Kurt Gödel")
    create_invoice(customer["id"], number="HAND-1", amount_due=100, currency="USD")
    content = csv_file(
        row("crm-9", name="Kurt Godel", email="kurt@example.com"),  # line 2: another name
        row("crm-1", "HAND-1"),  # line 3: the number is another customer's invoice
        row("crm-1", "IMP-7"),  # line 4: fine
    )
    job = json_body(post_import(content))
    run_worker(aws, queue)
    done = get_import(job["id"])
    assert (done["rows_imported"], done["rows_rejected"]) == (1, 2)
    assert done["rejected_rows"] == [
        {"line": 2, "reason": "customer crm-9 is stored with another name"},
        {
            "line": 3,
            "reason": "invoice HAND-1 is stored with another customer, currency, amount, due date, description",
        },
    ]
    kept = operator("GET", "/v1/customers/" + customer["id"], "/v1/customers/{customer_id}",
                    params={"customer_id": customer["id"]})  # fmt: skip
    assert json_body(kept)["name"] == "Kurt Gödel"  # left as it was


def test_a_chunk_delivered_twice_is_imported_and_counted_once(aws: Aws, queue: str) -> None:
    content = csv_file(*(row(f"crm-{n}", f"IMP-{n}", email=f"c{n}@example.com") for n in range(3)))
    job = json_body(post_import(content))
    run_worker(aws, queue, keep=True)  # the message is not deleted: SQS delivers it again
    aws.sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "0"})
    run_worker(aws, queue)
    done = get_import(job["id"])
    assert (done["rows_imported"], done["rows_skipped"], done["rows_done"], done["total_rows"]) == (3, 0, 3, 3)
    assert len([i for i in aws.items("INVOICE#") if i["sk"] == "INVOICE"]) == 3


def test_a_bad_file_is_a_400_naming_each_row_and_nothing_is_written(aws: Aws, queue: str) -> None:
    content = csv_file(
        row("crm-1", "IMP-1", amount="12.345"),  # line 2: GBP has two decimals
        row("crm-2", "IMP-2", email="not-an-address"),  # line 3
        row("crm-3", "IMP-1"),  # line 4: the number again
        row("crm-4", "IMP-4", due="2027-02-30"),  # line 5
    )
    response = post_import(content)
    assert response["statusCode"] == 400, response["body"]
    error = json_body(response)["error"]
    assert error["code"] == "import_invalid"
    assert [f["field"] for f in error["fields"]] == ["line 2", "line 3", "line 4", "line 5"]
    assert "GBP takes 2 decimal place(s)" in error["fields"][0]["message"]
    assert aws.items("IMPORT#") == [] and aws.items("CUSTOMER#") == []
    assert aws.sqs.receive_message(QueueUrl=queue).get("Messages") is None


def test_the_same_key_replays_the_first_import(aws: Aws, queue: str) -> None:
    content = csv_file(row("crm-1", "IMP-1"))
    first = post_import(content, key="k-1")
    again = post_import(content, key="k-1")
    assert json_body(first)["id"] == json_body(again)["id"]
    other = post_import(csv_file(row("crm-2", "IMP-2")), key="k-1")
    assert other["statusCode"] == 422 and json_body(other)["error"]["code"] == "idempotency_key_reused"
    assert post_import(content, key=" ")["statusCode"] == 400


def test_limits_and_hostile_bodies_are_4xx(aws: Aws, queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(import_rules, "MAX_ROWS", 2)
    assert post_import(csv_file(row("a", "A1"), row("b", "B1"), row("c", "C1")))["statusCode"] == 413
    assert post_import("")["statusCode"] == 422  # content is required
    assert post_import("not,a,header\r\n1,2,3\r\n")["statusCode"] == 400
    assert post_import('{"customer_external_id": "x"', file_format="jsonl")["statusCode"] == 400
    assert post_import(csv_file(row("a", "A1")), file_format="xlsx")["statusCode"] == 422
    missing = operator("GET", "/v1/imports/imp_nope", "/v1/imports/{import_id}", params={"import_id": "imp_nope"})
    assert missing["statusCode"] == 404


def test_json_lines_import_like_csv(aws: Aws, queue: str) -> None:
    lines = [
        {"customer_external_id": "crm-1", "customer_name": "Ada", "customer_email": "ada@example.com"},
        {"customer_external_id": "crm-1", "invoice_number": "J-1", "currency": "EUR", "amount_minor": 1999,
         "due_date": "2027-06-01"},
    ]  # fmt: skip
    job = json_body(post_import("\n".join(json.dumps(x) for x in lines), file_format="jsonl"))
    run_worker(aws, queue)
    assert get_import(job["id"])["rows_imported"] == 2


def test_the_template_is_a_csv_that_imports(aws: Aws, queue: str) -> None:
    response = operator("GET", "/v1/imports/template.csv", "/v1/imports/template.csv")
    assert response["statusCode"] == 200
    headers = {name: values[-1] for name, values in response["multiValueHeaders"].items()}
    assert headers["Content-Type"].startswith("text/csv")
    template = response["body"]
    assert template.splitlines()[0] == HEADER
    job = json_body(post_import(template))
    run_worker(aws, queue)
    assert get_import(job["id"])["rows_imported"] == 3


# ----- bin/payportal import FILE: the same import through the operator API, with a progress bar


class InProcessApi:
    """The operator API as the CLI reaches it, the handler run here over moto; the worker takes the queue
    whenever the CLI polls, as the SQS event source would meanwhile."""

    def __init__(self, aws: Aws, queue: str) -> None:
        self.aws, self.queue = aws, queue
        self.keys: list[str | None] = []

    def request(self, method: str, path: str, *, query: Any = None, idempotency_key: str | None = None,
                body: Any = None) -> Any:  # fmt: skip
        from cli.webhooks import ApiReply

        self.keys.append(idempotency_key)
        if method == "POST":
            reply = post_import(body["content"], key=idempotency_key, file_format=body["format"])
        else:
            run_worker(self.aws, self.queue)
            import_id = path.rsplit("/", 1)[1]
            reply = operator("GET", path, "/v1/imports/{import_id}", params={"import_id": import_id})
        return ApiReply(reply["statusCode"], json.loads(reply["body"]))


def cli(api: InProcessApi, path: str, *more: str) -> tuple[int, str]:
    import io

    from cli.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    code = main(["import", path, *more, "--stage", "test", "--url", "https://api.example.com/test/"], stdout=out,
                stderr=err, environ={}, operator_api=lambda url, region: api)  # fmt: skip
    return code, out.getvalue() + err.getvalue()


def test_the_cli_imports_a_file_with_a_progress_bar(aws: Aws, queue: str, tmp_path: Any) -> None:
    file = tmp_path / "customers.csv"
    file.write_text(csv_file(row("crm-1", "CLI-1"), row("crm-1", "CLI-2")), encoding="utf-8")
    api = InProcessApi(aws, queue)
    code, said = cli(api, str(file))
    assert code == 0, said
    assert "[##############################] 100%  2/2 rows  (2 imported, 0 skipped, 0 rejected)" in said
    assert said.rstrip().endswith("done: 2 imported, 0 skipped (stored already), 0 rejected")
    # Running it again follows the same import (the key is the file's digest): nothing new, same counts
    code, again = cli(api, str(file))
    assert code == 0 and "2 imported" in again
    assert api.keys[0] == api.keys[-1] and str(api.keys[0]).startswith("file-")
    assert len([i for i in aws.items("IMPORT#") if i["sk"] == "JOB"]) == 1


def test_the_cli_prints_each_row_error_and_exits_1(aws: Aws, queue: str, tmp_path: Any) -> None:
    file = tmp_path / "bad.csv"
    file.write_text(csv_file(row("crm-1", "CLI-1", amount="1.234")), encoding="utf-8")
    code, said = cli(InProcessApi(aws, queue), str(file))
    assert code == 1
    assert "the file was not imported: 1 row(s) cannot be imported; nothing was written" in said
    assert "  line 2: amount: GBP takes 2 decimal place(s)" in said
    missing = cli(InProcessApi(aws, queue), str(tmp_path / "nope.csv"))
    assert missing[0] == 2 and "cannot read" in missing[1]
