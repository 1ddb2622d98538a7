"""Bulk imports in the table, all in one partition per job, gone by TTL 30 days after the job began:

| item           | pk                  | sk                 | holds                                          |
|----------------|---------------------|--------------------|------------------------------------------------|
| job            | IMPORT#{import_id}  | JOB                | the file's size and digest, who sent it, counts;|
|                |                     |                    | an uploaded file's key until it is checked, and |
|                |                     |                    | why it did not pass (its first 100 row errors)  |
| rows of a chunk| IMPORT#{import_id}  | ROWS#{chunk:05d}   | the checked rows, as compact JSON (< 400 KB)    |
| chunk result   | IMPORT#{import_id}  | RESULT#{chunk:05d} | its counts and rejected rows: written once, in  |
|                |                     |                    | the transaction that adds the counts to the job |
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any, Final

from shared import schema
from shared.adapters.dynamodb.codec import deserialize, serialize
from shared.domain.imports import (
    MAX_ERRORS_REPORTED,
    ChunkResult,
    CustomerFields,
    FileFormat,
    ImportJob,
    ImportRow,
    InvoiceFields,
    RejectedRow,
    RowError,
)

PREFIX: Final = "IMPORT#"
JOB: Final = "JOB"
ROWS: Final = "ROWS#"
RESULT: Final = "RESULT#"


def _pk(import_id: str) -> str:
    return PREFIX + import_id


def _key(import_id: str, sort: str) -> dict[str, Any]:
    return serialize({schema.PARTITION_KEY: _pk(import_id), schema.SORT_KEY: sort})


def _row_out(row: ImportRow) -> list[Any]:
    c = row.customer
    fields: list[Any] = [row.line, c.external_id, c.name, c.email, c.locale, c.timezone]
    if row.invoice is not None:
        i = row.invoice
        fields += [i.number, i.currency, i.amount_due, i.due_date.isoformat(), i.description]
    return fields


def _row_in(fields: list[Any]) -> ImportRow:
    line, external_id, name, email, locale, timezone, *invoice = fields
    customer = CustomerFields(external_id=external_id, name=name, email=email, locale=locale, timezone=timezone)
    if not invoice:
        return ImportRow(line=int(line), customer=customer)
    number, currency, amount_due, due, description = invoice
    return ImportRow(
        line=int(line),
        customer=customer,
        invoice=InvoiceFields(
            number=number,
            currency=currency,
            amount_due=int(amount_due),
            due_date=date.fromisoformat(due),
            description=description,
        ),
    )


def _job_from(item: dict[str, Any]) -> ImportJob:
    return ImportJob(
        id=str(item[schema.PARTITION_KEY]).removeprefix(PREFIX),
        file_format=FileFormat(item["format"]),
        total_rows=int(item["total_rows"]),
        chunks=int(item["chunks"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        actor=item["actor"],
        sha256=item["sha256"],
        chunks_done=int(item.get("chunks_done", 0)),
        rows_imported=int(item.get("rows_imported", 0)),
        rows_skipped=int(item.get("rows_skipped", 0)),
        rows_rejected=int(item.get("rows_rejected", 0)),
        upload_key=str(item.get("upload_key", "")),
        checking=bool(item.get("checking", False)),
        problem=str(item.get("problem", "")),
        errors=tuple(RowError(int(line), reason) for line, reason in json.loads(item.get("errors", "[]"))),
    )


class DynamoImportStore:
    """Implements the ImportStore port."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def save_rows(self, import_id: str, chunk: int, rows: list[ImportRow], expires_at: datetime) -> None:
        item = {
            schema.PARTITION_KEY: _pk(import_id),
            schema.SORT_KEY: f"{ROWS}{chunk:05d}",
            "rows": json.dumps([_row_out(r) for r in rows], separators=(",", ":"), ensure_ascii=False),
            schema.TTL_ATTRIBUTE: int(expires_at.timestamp()),
        }
        self._db.put_item(TableName=self._table, Item=serialize(item))

    def create_job(self, job: ImportJob, expires_at: datetime) -> bool:
        item = {
            schema.PARTITION_KEY: _pk(job.id),
            schema.SORT_KEY: JOB,
            "format": job.file_format.value,
            "total_rows": job.total_rows,
            "chunks": job.chunks,
            "created_at": job.created_at.isoformat(),
            "actor": job.actor,
            "sha256": job.sha256,
            "chunks_done": 0,
            "rows_imported": 0,
            "rows_skipped": 0,
            "rows_rejected": 0,
            "upload_key": job.upload_key,
            "checking": job.checking,
            schema.TTL_ATTRIBUTE: int(expires_at.timestamp()),
        }
        try:
            self._db.put_item(
                TableName=self._table, Item=serialize(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get_job(self, import_id: str) -> ImportJob | None:
        found = self._db.get_item(TableName=self._table, Key=_key(import_id, JOB), ConsistentRead=True).get("Item")
        return _job_from(deserialize(found)) if found else None

    def get_rows(self, import_id: str, chunk: int) -> list[ImportRow]:
        key = _key(import_id, f"{ROWS}{chunk:05d}")
        found = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        return [_row_in(fields) for fields in json.loads(deserialize(found)["rows"])] if found else []

    def record_chunk(self, import_id: str, result: ChunkResult, expires_at: datetime) -> bool:
        rejected = [[r.line, r.reason] for r in result.rejected]
        put = {
            schema.PARTITION_KEY: _pk(import_id),
            schema.SORT_KEY: f"{RESULT}{result.chunk:05d}",
            "imported": result.imported,
            "skipped": result.skipped,
            "rejected": json.dumps(rejected, separators=(",", ":"), ensure_ascii=False),
            schema.TTL_ATTRIBUTE: int(expires_at.timestamp()),
        }
        counts = {":one": 1, ":imported": result.imported, ":skipped": result.skipped, ":rejected": len(rejected)}
        writes = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": serialize(put),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _key(import_id, JOB),
                    "UpdateExpression": "ADD chunks_done :one, rows_imported :imported, rows_skipped :skipped, "
                    "rows_rejected :rejected",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": serialize(counts),
                }
            },
        ]
        token = hashlib.sha256(f"{import_id}|{result.chunk}".encode()).hexdigest()[:36]
        try:
            self._db.transact_write_items(TransactItems=writes, ClientRequestToken=token)
        except self._db.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False  # recorded by an earlier delivery of the chunk
            raise
        return True

    def rejected_rows(self, import_id: str) -> list[RejectedRow]:
        found: list[RejectedRow] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :result)",
            "ExpressionAttributeValues": serialize({":pk": _pk(import_id), ":result": RESULT}),
            "ProjectionExpression": "rejected",
            "ConsistentRead": True,
        }
        while True:
            reply = self._db.query(**request)
            for item in reply.get("Items", []):
                found += [RejectedRow(int(line), reason) for line, reason in json.loads(deserialize(item)["rejected"])]
            if "LastEvaluatedKey" not in reply:
                return sorted(found, key=lambda r: r.line)
            request["ExclusiveStartKey"] = reply["LastEvaluatedKey"]

    def mark_checked(self, import_id: str, total_rows: int, chunks: int, sha256: str) -> bool:
        return self._checked(
            import_id,
            "SET checking = :no, total_rows = :rows, chunks = :chunks, sha256 = :sha256",
            {":rows": total_rows, ":chunks": chunks, ":sha256": sha256},
        )

    def mark_invalid(self, import_id: str, problem: str, errors: list[RowError], sha256: str) -> bool:
        kept = json.dumps([[e.line, e.reason] for e in errors[:MAX_ERRORS_REPORTED]], ensure_ascii=False)
        return self._checked(
            import_id,
            "SET checking = :no, problem = :problem, errors = :errors, sha256 = :sha256",
            {":problem": problem, ":errors": kept, ":sha256": sha256},
        )

    def _checked(self, import_id: str, update: str, values: dict[str, Any]) -> bool:
        """One update of a job still being checked; False when it was checked already (a repeat)."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=_key(import_id, JOB),
                UpdateExpression=update,
                ConditionExpression="checking = :yes",
                ExpressionAttributeValues=serialize({":yes": True, ":no": False, **values}),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True
