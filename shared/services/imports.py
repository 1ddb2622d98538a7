"""Bulk import of customers and invoices: the whole file is checked before anything is written, then its
rows are imported in the background, a chunk per queue message, through the same services as
`POST /v1/customers` and `POST /v1/invoices`.

Safe to repeat at every step. The job's id comes from the caller's Idempotency-Key; the customers and
invoices it creates get ids derived from the job and the row's external id or number, so a chunk delivered
twice finds what its first delivery created and counts it as this import's; each chunk's result is recorded
once. A second import of the same file finds every row stored and identical, and skips it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from shared.clock import Clock
from shared.domain.dunning import DunningPolicy
from shared.domain.errors import DomainError, NotFound
from shared.domain.imports import (
    MAX_UPLOAD_BYTES,
    ChunkResult,
    CustomerFields,
    FileFormat,
    ImportFileInvalid,
    ImportFileTooLarge,
    ImportJob,
    ImportRow,
    InvoiceFields,
    RejectedRow,
    RowError,
    RowOutcome,
    check_file,
    chunked,
    needs_stored_customer,
)
from shared.domain.invoices import Invoice
from shared.domain.records import Customer
from shared.services.customers import CustomerDraft, create_customer
from shared.services.dunning_policy import current_policy
from shared.services.invoices import InvoiceDraft, Known, create_invoice
from shared.services.once import create_once, entity_id, scoped_key
from shared.services.ports import (
    ChangeRejected,
    ImportFiles,
    ImportStore,
    InvoiceListing,
    Ledger,
    Rejection,
    RunOnce,
    UploadForm,
    WorkQueue,
)

KEPT_FOR: Final = timedelta(days=30)  # a job, its rows and results go by TTL after this
UPLOAD_WINDOW: Final = timedelta(minutes=15)  # how long an upload form may be used


@dataclass(frozen=True, slots=True)
class ImportReport:
    job: ImportJob
    rejected: list[RejectedRow]


def file_fingerprint(content: str, file_format: FileFormat) -> dict[str, object]:
    return {"format": file_format.value, "sha256": hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()}


def start_import(
    store: ImportStore,
    queue: WorkQueue,
    clock: Clock,
    content: str,
    file_format: FileFormat,
    *,
    import_id: str,
    actor: str,
) -> ImportJob:
    """Check every row (ImportFileInvalid, ImportFileTooLarge: nothing written), keep the rows, then the job,
    then queue one message per chunk. Repeating it writes the same items and queues the chunks again, which
    the worker recognises as done."""
    rows = check_file(content, file_format)
    chunks = chunked(rows)
    now = clock.now()
    expires_at = now + KEPT_FOR
    for number, chunk in enumerate(chunks):
        store.save_rows(import_id, number, chunk, expires_at)
    job = ImportJob(
        id=import_id,
        file_format=file_format,
        total_rows=len(rows),
        chunks=len(chunks),
        created_at=now,
        actor=actor,
        sha256=str(file_fingerprint(content, file_format)["sha256"]),
    )
    store.create_job(job, expires_at)  # the job only once its rows are all there: a reader never sees fewer
    queue.send([{"import_id": import_id, "chunk": number} for number in range(len(chunks))])
    return store.get_job(import_id) or job


def start_import_once(
    store: ImportStore,
    queue: WorkQueue,
    clock: Clock,
    once: RunOnce,
    content: str,
    file_format: FileFormat,
    *,
    key: str | None,
    actor: str,
) -> ImportJob:
    """One job per (caller, Idempotency-Key): the same key and file again gets the same job back."""
    import_id = create_once(
        once,
        scoped=scoped_key(actor, key),
        fingerprint=file_fingerprint(content, file_format),
        prefix="imp",
        result_key="import_id",
        create=lambda wanted: start_import(store, queue, clock, content, file_format, import_id=wanted, actor=actor),
        exists=lambda wanted: store.get_job(wanted) is not None,
    )
    return get_import(store, import_id).job


def get_import(store: ImportStore, import_id: str) -> ImportReport:
    job = store.get_job(import_id)
    if job is None:
        raise NotFound(f"no import {import_id}", field="import_id")
    return ImportReport(job=job, rejected=store.rejected_rows(import_id))


# ----- a file uploaded first (too large for one request), checked by the worker


class UploadMissing(NotFound):
    """POST /v1/imports names an upload that holds no file: never uploaded, or by another caller, or gone."""


@dataclass(frozen=True, slots=True)
class Upload:
    id: str
    form: UploadForm
    expires_at: datetime
    max_bytes: int


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def upload_key(actor: str, upload_id: str) -> str:
    """Where a caller's upload is kept: under the caller, so an upload id is no use to anyone else."""
    return f"imports/{_digest(actor)[:24]}/{upload_id}"


def new_upload(files: ImportFiles, clock: Clock, *, actor: str, key: str) -> Upload:
    """A form to upload one file for an import. Its id comes from the caller and the Idempotency-Key, so a repeat
    gets the same id (and a fresh form for it); nothing is stored until the file is uploaded."""
    upload_id = "upl_" + _digest(f"{actor}|{key}")[:32]
    window = int(UPLOAD_WINDOW.total_seconds())
    form = files.upload_form(upload_key(actor, upload_id), MAX_UPLOAD_BYTES, window)
    return Upload(id=upload_id, form=form, expires_at=clock.now() + UPLOAD_WINDOW, max_bytes=MAX_UPLOAD_BYTES)


def start_upload_import_once(
    store: ImportStore,
    queue: WorkQueue,
    files: ImportFiles,
    clock: Clock,
    once: RunOnce,
    upload_id: str,
    file_format: FileFormat,
    *,
    key: str | None,
    actor: str,
) -> ImportJob:
    """The import of an uploaded file: a job that waits for the worker to check the file (status `checking`);
    one job per (caller, Idempotency-Key), as for a file sent in the request."""
    where = upload_key(actor, upload_id)
    if not files.exists(where):
        raise UploadMissing(f"no file uploaded as {upload_id}: upload it first", field="upload_id")

    def start(import_id: str) -> None:
        now = clock.now()
        job = ImportJob(
            id=import_id, file_format=file_format, total_rows=0, chunks=0, created_at=now, actor=actor, sha256="",
            upload_key=where, checking=True,
        )  # fmt: skip
        store.create_job(job, now + KEPT_FOR)
        queue.send([{"import_id": import_id, "check": True}])

    import_id = create_once(
        once,
        scoped=scoped_key(actor, key),
        fingerprint={"upload_id": upload_id, "format": file_format.value},
        prefix="imp",
        result_key="import_id",
        create=start,
        exists=lambda wanted: store.get_job(wanted) is not None,
    )
    return get_import(store, import_id).job


def check_upload(store: ImportStore, queue: WorkQueue, files: ImportFiles, import_id: str) -> ImportJob:
    """The worker's check of an uploaded file, as POST /v1/imports checks a file sent in the request: every row
    first. Passed: its rows are kept and its chunks queued, then the job runs; not: the job is invalid, with
    each row's problem, and nothing is written. Either way the file is deleted. A repeat (a redelivered message)
    after the job was marked does nothing; one before does the same work again, which is safe."""
    job = store.get_job(import_id)
    if job is None:
        raise NotFound(f"no import {import_id}", field="import_id")
    if not job.checking:
        return job
    try:
        data = files.read(job.upload_key, MAX_UPLOAD_BYTES)
    except ImportFileTooLarge as refused:
        return _refuse(store, files, job, refused.message, [], "")
    if data is None:
        return _refuse(store, files, job, "the uploaded file is gone (uploads are kept a day); upload it again", [], "")
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        rows = check_file(data.decode("utf-8"), job.file_format, MAX_UPLOAD_BYTES)
    except UnicodeDecodeError:
        return _refuse(store, files, job, "the file is not UTF-8 text", [], sha256)
    except ImportFileInvalid as refused:
        return _refuse(store, files, job, refused.message, refused.errors, sha256)
    except ImportFileTooLarge as refused:
        return _refuse(store, files, job, refused.message, [], sha256)
    chunks = chunked(rows)
    for number, chunk in enumerate(chunks):
        store.save_rows(import_id, number, chunk, expires(job))
    queue.send([{"import_id": import_id, "chunk": number} for number in range(len(chunks))])
    store.mark_checked(import_id, len(rows), len(chunks), sha256)
    files.delete(job.upload_key)
    return store.get_job(import_id) or job


def _refuse(
    store: ImportStore, files: ImportFiles, job: ImportJob, problem: str, errors: list[RowError], sha256: str
) -> ImportJob:
    store.mark_invalid(job.id, problem, errors, sha256)
    files.delete(job.upload_key)
    return store.get_job(job.id) or job


# ----- the worker: one chunk


def import_chunk(ledger: Ledger, store: ImportStore, clock: Clock, import_id: str, chunk: int) -> ChunkResult:
    """Import one chunk's rows and record the result once. A redelivered chunk imports nothing new (every
    row is found stored) and is not counted again."""
    job = store.get_job(import_id)
    if job is None:
        raise NotFound(f"no import {import_id}", field="import_id")
    actor = f"{job.actor} (import {import_id})"
    imported = skipped = 0
    rejected: list[RejectedRow] = []
    known: dict[str, Customer] = {}  # external id -> the customer, once a row of this chunk found or made them
    policy = current_policy(ledger)  # read once a chunk: each invoice's first reminder is planned by it
    for row in store.get_rows(import_id, chunk):
        outcome, reason = import_row(ledger, clock, row, import_id=import_id, actor=actor, known=known, policy=policy)
        if outcome is RowOutcome.IMPORTED:
            imported += 1
        elif outcome is RowOutcome.SKIPPED:
            skipped += 1
        else:
            rejected.append(RejectedRow(line=row.line, reason=reason))
    result = ChunkResult(chunk=chunk, imported=imported, skipped=skipped, rejected=rejected)
    store.record_chunk(import_id, result, expires(job))
    return result


def import_row(
    ledger: Ledger,
    clock: Clock,
    row: ImportRow,
    *,
    import_id: str,
    actor: str,
    known: dict[str, Customer] | None = None,
    policy: DunningPolicy | None = None,
) -> tuple[RowOutcome, str]:
    """The row's customer (found by external id, or created), then its invoice (found by number, or created).
    `known`: customers met on earlier rows of the chunk, so a customer with many invoices is read once;
    `policy`: the dunning policy as the chunk read it. An invoice of a customer this import created is
    created at once, without looking its number up first: the create's own guards find one already there
    (from an earlier delivery of the chunk, or another customer's), and only then is it read."""
    met = known if known is not None else {}
    customer, created = _customer_for(ledger, clock, row, import_id=import_id, actor=actor, known=met)
    if isinstance(customer, str):
        return RowOutcome.REJECTED, customer
    if row.invoice is None:
        return (RowOutcome.IMPORTED if created else RowOutcome.SKIPPED), ""
    return _invoice_for(
        ledger, clock, customer, row.invoice, import_id=import_id, actor=actor,
        known=Known(customer, policy), look_up_first=not created,
    )  # fmt: skip


def _customer_for(
    ledger: Ledger, clock: Clock, row: ImportRow, *, import_id: str, actor: str, known: dict[str, Customer]
) -> tuple[Customer | str, bool]:
    """(the customer, whether this import created it), or (why not, False)."""
    fields = row.customer
    wanted = entity_id("cust", f"import|{import_id}|{fields.external_id}")
    stored = known.get(fields.external_id) or ledger.customer_by_external_id(fields.external_id)
    if stored is None:
        if needs_stored_customer(row):
            return f"no customer has external_id {fields.external_id}: give customer_name and customer_email", False
        draft = CustomerDraft(
            email=fields.email,
            name=fields.name,
            external_id=fields.external_id,
            timezone=fields.timezone,
            locale=fields.locale,
        )
        try:
            stored = create_customer(ledger, clock, draft, actor=actor, customer_id=wanted)
        except ChangeRejected as rejected:
            # Created meanwhile: by this import's earlier delivery or another chunk, or by someone else.
            if rejected.reason not in (Rejection.EXISTS, Rejection.DUPLICATE_EXTERNAL_ID):
                raise
            stored = ledger.get_customer(wanted) or ledger.customer_by_external_id(fields.external_id)
        if stored is None:  # pragma: no cover - a refused create leaves the one holding the external id
            return f"customer {fields.external_id} could not be created; import the file again", False
    known[fields.external_id] = stored
    if not needs_stored_customer(row):
        differs = customer_differences(stored, fields)
        if differs:
            return f"customer {fields.external_id} is stored with another {', '.join(differs)}", False
    return stored, stored.id == wanted


def customer_differences(stored: Customer, fields: CustomerFields) -> list[str]:
    found = []
    if stored.name != fields.name:
        found.append("name")
    if stored.email.lower() != fields.email.lower():
        found.append("email")
    if stored.locale != fields.locale:
        found.append("locale")
    if stored.timezone != fields.timezone:
        found.append("time zone")
    return found


def _invoice_for(
    ledger: Ledger,
    clock: Clock,
    customer: Customer,
    fields: InvoiceFields,
    *,
    import_id: str,
    actor: str,
    known: Known | None = None,
    look_up_first: bool = True,
) -> tuple[RowOutcome, str]:
    wanted = entity_id("inv", f"import|{import_id}|{fields.number}")
    stored = _invoice_numbered(ledger, fields.number) if look_up_first else None
    if stored is None:
        draft = InvoiceDraft(
            customer_id=customer.id,
            number=fields.number,
            currency=fields.currency,
            amount_due=fields.amount_due,
            due_date=fields.due_date,
            description=fields.description,
        )
        try:
            create_invoice(ledger, clock, draft, actor=actor, invoice_id=wanted, known=known)
        except ChangeRejected as rejected:
            if rejected.reason not in (Rejection.EXISTS, Rejection.DUPLICATE_NUMBER):
                raise
        except DomainError as refused:  # a rule create_invoice holds that the file check does not know
            return RowOutcome.REJECTED, f"invoice {fields.number}: {refused.message}"
        else:
            return RowOutcome.IMPORTED, ""
        stored = ledger.get_invoice(wanted) or _invoice_numbered(ledger, fields.number)
        if stored is None:  # pragma: no cover - a refused create leaves the one holding the number
            return RowOutcome.REJECTED, f"invoice {fields.number} could not be created; import the file again"
    if stored.id == wanted:
        return RowOutcome.IMPORTED, ""
    differs = invoice_differences(stored, customer, fields)
    if differs:
        return RowOutcome.REJECTED, f"invoice {fields.number} is stored with another {', '.join(differs)}"
    return RowOutcome.SKIPPED, ""


def _invoice_numbered(ledger: Ledger, number: str) -> Invoice | None:
    found = ledger.list_invoices(InvoiceListing(by="number", number=number), 1, None).items
    return found[0] if found else None


def invoice_differences(stored: Invoice, customer: Customer, fields: InvoiceFields) -> list[str]:
    found = []
    if stored.customer_id != customer.id:
        found.append("customer")
    if stored.currency != fields.currency:
        found.append("currency")
    if stored.amount_due != fields.amount_due:
        found.append("amount")
    if stored.due_date != fields.due_date:
        found.append("due date")
    if stored.description != fields.description:
        found.append("description")
    return found


def expires(job: ImportJob) -> datetime:
    return job.created_at + KEPT_FOR
