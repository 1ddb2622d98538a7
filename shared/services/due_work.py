"""Walking the sparse due_work index: shard by shard, page by page, within a time budget.

Shared by the dunning run and the charge run; each passes how to read a page of its own kind of work
and what to do with each item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shared.schema import DUE_WORK_SHARDS
from shared.services.ports import Page, SkippedItem

# Where to start in each shard: (shard, cursor); None starts at the beginning.
Work = Sequence[tuple[int, str | None]]
ALL_SHARDS: tuple[tuple[int, str | None], ...] = tuple((shard, None) for shard in range(DUE_WORK_SHARDS))


def all_shards_from(first: int) -> Work:
    """Every shard from the beginning, starting with `first` (mod the count): a run that rotates where it
    starts never leaves the same shards for last each time its time runs short."""
    return ALL_SHARDS[first % DUE_WORK_SHARDS :] + ALL_SHARDS[: first % DUE_WORK_SHARDS]


def walk_due(
    work: Work,
    read_page: Callable[[int, str | None], Page],
    handle: Callable[[Any], None],
    out_of_time: Callable[[], bool] = lambda: False,
    *,
    kind: str,
    skip: Callable[[SkippedItem], None],
) -> list[tuple[int, str | None]]:
    """Handle every due item of `work`. Returns what is left when time ran short (empty when done): at
    least one page is always handled, so a continuation makes progress.

    One bad item never stops the walk: an item that does not read, or whose handling fails, goes to `skip`
    and the walk goes on. It stays due, so the next run tries it again; each of its writes is guarded, so
    a failure halfway leaves nothing half done."""
    pages = 0
    for position, (shard, start) in enumerate(work):
        cursor = start
        while True:
            if pages and out_of_time():
                return [(shard, cursor), *work[position + 1 :]]
            page = read_page(shard, cursor)
            pages += 1
            for item in page.items:
                _handle_one(item, handle, kind, skip)
            cursor = page.next_cursor
            if cursor is None:
                break
    return []


def _handle_one(item: Any, handle: Callable[[Any], None], kind: str, skip: Callable[[SkippedItem], None]) -> None:
    if isinstance(item, SkippedItem):
        skip(item)
        return
    try:
        handle(item)
    except Exception as error:  # the run's boundary: the caller reports it, with a metric and an alarm
        skip(SkippedItem(kind, str(getattr(item, "id", None) or getattr(item, "key", "?")), type(error).__name__))
