"""The console's Import page: upload a file of customers and invoices, see every row's problem before anything
is written, then import it and follow its progress.

It goes through the operator API's own service (shared.services.imports): the same checks, the same job, the
same worker. Checking and starting an import are the collector's and the admin's (Action.IMPORT); a viewer
reads the page and an import's progress. The job names the staff member, and so does every audit entry its
rows write.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Final

from shared.clock import Clock
from shared.domain.console_roles import Action, allowed_actions, require
from shared.domain.console_session import ConsoleSession
from shared.domain.imports import (
    MAX_ERRORS_REPORTED,
    FileFormat,
    ImportFileInvalid,
    ImportFileTooLarge,
    RowError,
    check_file,
)
from shared.services.imports import ImportReport, get_import, start_import_once
from shared.services.ports import ImportStore, RunOnce, WorkQueue

# The console posts the checked file back in its confirm form (URL-encoded, which can triple its size): it takes
# half what the API does, so the confirm post stays inside Lambda's 6 MB request.
CONSOLE_MAX_BYTES: Final = 1_500_000
REFRESH_SECONDS: Final = 3


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """A file as checked: its rows' problems (nothing written), or how many rows and what they hold."""

    file_format: FileFormat
    content: str  # posted back by the confirm form when it is good
    key: str  # the confirm's Idempotency-Key: the file's digest, so a double click starts one import
    rows: int = 0
    customers: int = 0
    invoices: int = 0
    problem: str = ""  # the file as a whole (too large, not CSV, its header)
    errors: tuple[RowError, ...] = ()
    more_errors: int = 0  # beyond those listed

    @property
    def importable(self) -> bool:
        return not self.problem and not self.errors


@dataclass(frozen=True, slots=True)
class ImportPage:
    actions: frozenset[Action]
    report: ImportReport | None = None  # the import being followed
    checked: CheckedFile | None = None
    reload: bool = True  # the staff member may stop the reloading (WCAG 2.2.1: a time limit they can turn off)
    reload_every: int = REFRESH_SECONDS

    @property
    def refresh_seconds(self) -> int | None:
        """While the followed import runs, the page reloads itself (a Refresh header: no script, and no meta
        refresh, which axe-core counts as a critical violation)."""
        if not self.reload or self.report is None or self.report.job.status.value == "completed":
            return None
        return self.reload_every


def import_page(
    store: ImportStore, session: ConsoleSession, import_id: str | None, *, reload: bool = True
) -> ImportPage:
    require(session.roles, Action.VIEW)
    report = get_import(store, import_id) if import_id else None
    return ImportPage(actions=allowed_actions(session.roles), report=report, reload=reload)


def check_upload(session: ConsoleSession, content: str, file_format: str) -> ImportPage:
    """Every row checked, nothing written."""
    require(session.roles, Action.IMPORT)
    fmt = FileFormat(file_format) if file_format in {f.value for f in FileFormat} else FileFormat.CSV
    key = "console-" + hashlib.sha256(f"{fmt.value}|{content}".encode("utf-8", "surrogatepass")).hexdigest()
    checked = CheckedFile(file_format=fmt, content=content, key=key)
    if len(content.encode("utf-8", "surrogatepass")) > CONSOLE_MAX_BYTES:
        checked = _with(checked, problem=f"The file is larger than {CONSOLE_MAX_BYTES:,} bytes: split it, or send "
                        "it with bin/payportal import, which takes up to 4,000,000.")  # fmt: skip
    else:
        try:
            rows = check_file(content, fmt)
        except ImportFileTooLarge as error:
            checked = _with(checked, problem=error.message)
        except ImportFileInvalid as error:
            checked = _with(checked, errors=tuple(error.errors), more_errors=max(0, error.total - MAX_ERRORS_REPORTED))
        else:
            checked = _with(
                checked,
                rows=len(rows),
                customers=len({r.customer.external_id for r in rows}),
                invoices=sum(1 for r in rows if r.invoice is not None),
            )
    return ImportPage(actions=allowed_actions(session.roles), checked=checked)


def _with(checked: CheckedFile, **changes: object) -> CheckedFile:
    return replace(checked, **changes)  # type: ignore[arg-type]


def start(
    store: ImportStore,
    queue: WorkQueue,
    clock: Clock,
    once: RunOnce,
    session: ConsoleSession,
    content: str,
    file_format: str,
    key: str,
) -> str:
    """Start the import of a checked file (checked again: the form could have been altered); its id."""
    require(session.roles, Action.IMPORT)
    fmt = FileFormat(file_format) if file_format in {f.value for f in FileFormat} else FileFormat.CSV
    if len(content.encode("utf-8", "surrogatepass")) > CONSOLE_MAX_BYTES:
        raise ImportFileTooLarge(f"the file is larger than {CONSOLE_MAX_BYTES:,} bytes", field="content")
    job = start_import_once(store, queue, clock, once, content, fmt, key=key or None, actor=session.actor)
    return job.id
