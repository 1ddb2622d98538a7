"""Bulk import over the in-memory ledger: checked whole, imported chunk by chunk through the customer and
invoice services, each chunk counted once, and a second import of the same file skipped row by row."""

from __future__ import annotations

import pytest

from shared.domain import imports as rules
from shared.domain.errors import NotFound
from shared.domain.imports import FileFormat, ImportFileInvalid, ImportStatus
from shared.services import imports
from shared.services.customers import CustomerDraft, create_customer
from tests.fakes import FixedClock
from tests.fakes.imports import InMemoryImportFiles, InMemoryImportStore, InMemoryQueue
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import NOW

HEADER = ",".join(rules.COLUMNS)
CLOCK = FixedClock(NOW)


def line(n: int, *, name: str = "Ada", amount: str = "10.00") -> str:
    return f"crm-{n},{name},c{n}@example.com,en-GB,Europe/London,INV-{n},EUR,{amount},,2027-01-31,"


def started(content: str, store: InMemoryImportStore, queue: InMemoryQueue, import_id: str = "imp_1") -> str:
    imports.start_import(store, queue, CLOCK, content, FileFormat.CSV, import_id=import_id, actor="arn:ops")
    return import_id


def work(ledger: object, store: InMemoryImportStore, queue: InMemoryQueue) -> None:
    while queue.messages:
        message = queue.messages.pop(0)
        imports.import_chunk(ledger, store, CLOCK, message["import_id"], message["chunk"])  # type: ignore[arg-type]


def test_a_big_file_is_queued_in_chunks_and_imported_once_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "CHUNK_ROWS", 2)
    ledger, store, queue = a_ledger_with(), InMemoryImportStore(), InMemoryQueue()
    import_id = started("\n".join([HEADER, *(line(n) for n in range(5))]), store, queue)
    assert [m["chunk"] for m in queue.messages] == [0, 1, 2]
    assert store.jobs[import_id].status is ImportStatus.QUEUED
    queue.messages.append(dict(queue.messages[0]))  # a redelivery
    work(ledger, store, queue)
    job = store.jobs[import_id]
    assert (job.status, job.rows_imported, job.rows_skipped, job.rows_done) == (ImportStatus.COMPLETED, 5, 0, 5)
    assert len(ledger.invoices) == 5 and len(ledger.customers) == 5


def test_a_bad_file_writes_nothing() -> None:
    store, queue = InMemoryImportStore(), InMemoryQueue()
    with pytest.raises(ImportFileInvalid):
        started("\n".join([HEADER, line(1), line(2, amount="abc")]), store, queue)
    assert (store.jobs, store.rows, queue.messages) == ({}, {}, [])


def test_a_second_import_skips_identical_rows_and_rejects_changed_ones() -> None:
    ledger, store, queue = a_ledger_with(), InMemoryImportStore(), InMemoryQueue()
    started("\n".join([HEADER, line(1), line(2)]), store, queue, "imp_1")
    work(ledger, store, queue)
    started(
        "\n".join([HEADER, line(1), line(2, amount="11.00"), "crm-3,,,,,INV-3,EUR,1.00,,2027-01-31,"]),
        store,
        queue,
        "imp_2",
    )
    work(ledger, store, queue)
    report = imports.get_import(store, "imp_2")
    assert (report.job.rows_imported, report.job.rows_skipped, report.job.rows_rejected) == (0, 1, 2)
    assert [(r.line, r.reason) for r in report.rejected] == [
        (3, "invoice INV-2 is stored with another amount"),
        (4, "no customer has external_id crm-3: give customer_name and customer_email"),
    ]
    assert sorted(i.amount_due for i in ledger.invoices.values()) == [1000, 1000]


def test_a_customer_row_alone_is_imported_or_found(monkeypatch: pytest.MonkeyPatch) -> None:
    ledger, store, queue = a_ledger_with(), InMemoryImportStore(), InMemoryQueue()
    create_customer(
        ledger, CLOCK, CustomerDraft(email="c1@example.com", name="Ada", external_id="crm-1",
                                     timezone="Europe/London", locale="en-GB"), actor="arn:ops",
    )  # fmt: skip
    started("\n".join([HEADER, "crm-1,Ada,c1@example.com,en-GB,Europe/London,,,,,,",
                       "crm-2,Bo,bo@example.com,,,,,,,,"]), store, queue)  # fmt: skip
    work(ledger, store, queue)
    job = store.jobs["imp_1"]
    assert (job.rows_imported, job.rows_skipped) == (1, 1)
    created = [a for a in ledger.audit if a.action == "customer.created"]
    assert [a.actor for a in created] == ["arn:ops", "arn:ops (import imp_1)"]


def test_an_unknown_import_is_not_found() -> None:
    with pytest.raises(NotFound):
        imports.get_import(InMemoryImportStore(), "imp_nope")


class _Once:
    """RunOnce that simply runs (the operator API's Powertools idempotency, out of the picture)."""

    def __call__(self, key: str, fingerprint: dict[str, object], work: object) -> dict[str, str]:
        assert callable(work)
        return dict(work())


def uploaded_job(files: InMemoryImportFiles, store: InMemoryImportStore, queue: InMemoryQueue, data: bytes) -> str:
    upload = imports.new_upload(files, CLOCK, actor="arn:ops", key="k1")
    files.files[imports.upload_key("arn:ops", upload.id)] = data
    job = imports.start_upload_import_once(
        store, queue, files, CLOCK, _Once(), upload.id, FileFormat.CSV, key="k1", actor="arn:ops"
    )
    assert job.status is ImportStatus.CHECKING and queue.messages == [{"import_id": job.id, "check": True}]
    return job.id


def test_an_upload_is_checked_then_its_chunks_are_queued_and_the_file_deleted() -> None:
    files, store, queue = InMemoryImportFiles(), InMemoryImportStore(), InMemoryQueue()
    content = "\r\n".join([HEADER, *(line(n) for n in range(600))]) + "\r\n"
    import_id = uploaded_job(files, store, queue, content.encode())

    job = imports.check_upload(store, queue, files, import_id)

    assert (job.status, job.total_rows, job.chunks) == (ImportStatus.QUEUED, 600, 3)
    assert queue.messages[1:] == [{"import_id": import_id, "chunk": n} for n in range(3)]
    assert files.files == {} and len(files.deleted) == 1
    # a second delivery of the check does nothing more
    imports.check_upload(store, queue, files, import_id)
    assert len(queue.messages) == 4


def test_an_upload_that_is_gone_or_too_large_is_invalid_and_nothing_is_queued(monkeypatch: pytest.MonkeyPatch) -> None:
    files, store, queue = InMemoryImportFiles(), InMemoryImportStore(), InMemoryQueue()
    import_id = uploaded_job(files, store, queue, b"customer_external_id\r\nx\r\n")
    files.files.clear()  # expired by the bucket's lifecycle

    job = imports.check_upload(store, queue, files, import_id)

    assert job.status is ImportStatus.INVALID and "gone" in job.problem and len(queue.messages) == 1
    big_files, big_store, big_queue = InMemoryImportFiles(), InMemoryImportStore(), InMemoryQueue()
    monkeypatch.setattr(imports, "MAX_UPLOAD_BYTES", 10)
    big = imports.check_upload(
        big_store, big_queue, big_files, uploaded_job(big_files, big_store, big_queue, b"x" * 11)
    )
    assert big.status is ImportStatus.INVALID and "larger than 10 bytes" in big.problem


def test_an_upload_id_is_the_callers_own() -> None:
    files = InMemoryImportFiles()
    mine = imports.new_upload(files, CLOCK, actor="arn:ops", key="k1")
    theirs = imports.new_upload(files, CLOCK, actor="arn:other", key="k1")

    assert mine.id != theirs.id
    assert imports.upload_key("arn:ops", mine.id) != imports.upload_key("arn:other", mine.id)
    with pytest.raises(NotFound):
        imports.start_upload_import_once(
            InMemoryImportStore(),
            InMemoryQueue(),
            files,
            CLOCK,
            _Once(),
            mine.id,
            FileFormat.CSV,
            key="k",
            actor="arn:ops",
        )


def test_new_customers_invoices_are_created_without_reading_what_the_chunk_knows() -> None:
    # Given a file of three new customers with two invoices each, and a number another customer holds
    ledger, store, queue = a_ledger_with(), InMemoryImportStore(), InMemoryQueue()
    other = create_customer(
        ledger, CLOCK, CustomerDraft(email="x@example.com", name="Xi", external_id="crm-x", timezone="UTC",
                                     locale="en-GB"), actor="arn:ops",
    )  # fmt: skip
    from shared.services.invoices import InvoiceDraft, create_invoice

    create_invoice(ledger, CLOCK, InvoiceDraft(other.id, "HELD-1", "EUR", 500, NOW.date()), actor="arn:ops")
    rows = [f"crm-{n},Ada,c{n}@example.com,en-GB,Europe/London,INV-{n}-{k},EUR,10.00,,2027-01-31," for n in range(3)
            for k in range(2)]  # fmt: skip
    rows.append("crm-0,Ada,c0@example.com,en-GB,Europe/London,HELD-1,EUR,10.00,,2027-01-31,")
    started("\n".join([HEADER, *rows]), store, queue)
    reads: list[str] = []
    for name in ("get_customer", "get_dunning_policy", "list_invoices"):
        original = getattr(ledger, name)

        def counted(*args: object, _name: str = name, _original: object = original) -> object:
            reads.append(_name)
            return _original(*args)  # type: ignore[operator]

        setattr(ledger, name, counted)
    # When it is imported
    work(ledger, store, queue)
    # Then the six invoices are created with no number looked up and no customer or policy read again: the
    # policy once for the chunk; only the number the create found taken is read, and that row is rejected
    report = imports.get_import(store, "imp_1")
    assert (report.job.rows_imported, report.job.rows_rejected) == (6, 1)
    assert [(r.line, r.reason.split(" is stored")[0]) for r in report.rejected] == [(8, "invoice HELD-1")]
    assert sorted(reads) == ["get_dunning_policy", "list_invoices"]
    # And the same file again still skips every row it imported, reading what it must
    started("\n".join([HEADER, *rows]), store, queue, "imp_2")
    work(ledger, store, queue)
    again = imports.get_import(store, "imp_2").job
    assert (again.rows_imported, again.rows_skipped, again.rows_rejected) == (0, 6, 1)
