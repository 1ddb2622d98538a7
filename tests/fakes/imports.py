"""An in-memory ImportStore, uploaded files and work queue, for the bulk import's unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from shared.domain.imports import (
    MAX_ERRORS_REPORTED,
    ChunkResult,
    ImportFileTooLarge,
    ImportJob,
    ImportRow,
    RejectedRow,
    RowError,
)
from shared.services.ports import UploadForm


class InMemoryImportStore:
    def __init__(self) -> None:
        self.jobs: dict[str, ImportJob] = {}
        self.rows: dict[tuple[str, int], list[ImportRow]] = {}
        self.results: dict[tuple[str, int], ChunkResult] = {}

    def save_rows(self, import_id: str, chunk: int, rows: list[ImportRow], expires_at: datetime) -> None:
        self.rows[(import_id, chunk)] = list(rows)

    def create_job(self, job: ImportJob, expires_at: datetime) -> bool:
        if job.id in self.jobs:
            return False
        self.jobs[job.id] = job
        return True

    def get_job(self, import_id: str) -> ImportJob | None:
        return self.jobs.get(import_id)

    def get_rows(self, import_id: str, chunk: int) -> list[ImportRow]:
        return list(self.rows.get((import_id, chunk), []))

    def record_chunk(self, import_id: str, result: ChunkResult, expires_at: datetime) -> bool:
        if (import_id, result.chunk) in self.results:
            return False
        self.results[(import_id, result.chunk)] = result
        job = self.jobs[import_id]
        self.jobs[import_id] = replace(
            job,
            chunks_done=job.chunks_done + 1,
            rows_imported=job.rows_imported + result.imported,
            rows_skipped=job.rows_skipped + result.skipped,
            rows_rejected=job.rows_rejected + len(result.rejected),
        )
        return True

    def rejected_rows(self, import_id: str) -> list[RejectedRow]:
        found = [r for (job, _), result in self.results.items() if job == import_id for r in result.rejected]
        return sorted(found, key=lambda r: r.line)

    def mark_checked(self, import_id: str, total_rows: int, chunks: int, sha256: str) -> bool:
        job = self.jobs[import_id]
        if not job.checking:
            return False
        self.jobs[import_id] = replace(job, checking=False, total_rows=total_rows, chunks=chunks, sha256=sha256)
        return True

    def mark_invalid(self, import_id: str, problem: str, errors: list[RowError], sha256: str) -> bool:
        job = self.jobs[import_id]
        if not job.checking:
            return False
        kept = tuple(errors[:MAX_ERRORS_REPORTED])
        self.jobs[import_id] = replace(job, checking=False, problem=problem, errors=kept, sha256=sha256)
        return True


class InMemoryImportFiles:
    """Uploaded files by key, as S3 keeps them; `forms` records each upload form handed out."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.forms: list[tuple[str, int, int]] = []
        self.deleted: list[str] = []

    def upload_form(self, key: str, max_bytes: int, expires_in_seconds: int) -> UploadForm:
        self.forms.append((key, max_bytes, expires_in_seconds))
        return UploadForm(url="https://uploads.example.test/", fields={"key": key})

    def exists(self, key: str) -> bool:
        return key in self.files

    def read(self, key: str, max_bytes: int) -> bytes | None:
        data = self.files.get(key)
        if data is not None and len(data) > max_bytes:
            raise ImportFileTooLarge(f"the file is larger than {max_bytes:,} bytes; split it", field="content")
        return data

    def delete(self, key: str) -> None:
        self.deleted.append(key)
        self.files.pop(key, None)


class InMemoryQueue:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def send(self, bodies: Sequence[dict[str, Any]]) -> None:
        self.messages.extend(bodies)
