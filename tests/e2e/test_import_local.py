"""`bin/payportal import FILE --stage local` against the local stack (`make dev`): the file goes to the API signed
with SigV4 as API Gateway checks it (a body signed for the first time: the other commands send none), the
imports worker runs from the stack's queue poller, and the command follows it to the end; again, the same
import is followed and nothing changes."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cli import imports as cli_imports
from cli.__main__ import main
from local.stack import LocalStack


def test_the_cli_imports_a_file_into_the_local_stack(local_stack: LocalStack, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    file = tmp_path / "customers.csv"
    file.write_text(
        "customer_external_id,customer_name,customer_email,invoice_number,currency,amount,due_date\n"
        f"e2e-{tag},Ada Lovelace,ada-{tag}@example.com,E2E-{tag}-1,EUR,125.00,2027-06-30\n"
        f"e2e-{tag},,,E2E-{tag}-2,EUR,99.99,2027-07-31\n",
        encoding="utf-8",
    )
    port = str(urlsplit(local_stack.api_url).port)

    def run() -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(["import", str(file), "--stage", "local"], stdout=out, stderr=err,
                    environ={"PAYPORTAL_LOCAL_API_PORT": port})  # fmt: skip
        return code, out.getvalue() + err.getvalue()

    code, said = run()
    assert code == 0, said
    assert "100%  2/2 rows  (2 imported, 0 skipped, 0 rejected)" in said
    found = local_stack.signed("GET", f"/v1/invoices?number=E2E-{tag}-2")
    assert found.status_code == 200 and found.json()["invoices"][0]["amount_due"] == 9_999

    again, said = run()
    assert again == 0 and "done: 2 imported" in said  # the same import, followed again


def test_a_file_too_large_for_one_request_is_uploaded_to_the_local_s3_and_imported(
    local_stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a file the CLI sends by upload (the threshold made small: a real one would be over 4 MB)
    monkeypatch.setattr(cli_imports, "INLINE_LIMIT", 100)
    tag = uuid.uuid4().hex[:8]
    file = tmp_path / "big.csv"
    rows = "".join(f"up-{tag}-{n},Grace {n},grace-{tag}-{n}@example.com,UP-{tag}-{n},USD,10.00,2027-06-30\n"
                   for n in range(3))  # fmt: skip
    file.write_text("customer_external_id,customer_name,customer_email,invoice_number,currency,amount,due_date\n"
                    + rows, encoding="utf-8")  # fmt: skip
    port = str(urlsplit(local_stack.api_url).port)
    out = io.StringIO()

    # When it is imported with the CLI
    code = main(["import", str(file), "--stage", "local"], stdout=out, stderr=out,
                environ={"PAYPORTAL_LOCAL_API_PORT": port})  # fmt: skip

    # Then it went through the upload form, the worker checked it, and every row is in
    said = out.getvalue()
    assert code == 0, said
    assert "uploading" in said and "done: 3 imported" in said
    found = local_stack.signed("GET", f"/v1/invoices?number=UP-{tag}-2")
    assert found.status_code == 200 and found.json()["invoices"][0]["amount_due"] == 1_000
