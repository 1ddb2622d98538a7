"""Walking the due-work index: shard by shard, page by page, within a time budget."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.schema import DUE_WORK_SHARDS
from shared.services.due_work import ALL_SHARDS, walk_due
from shared.services.ports import Page, SkippedItem


def _no_skips(skipped: SkippedItem) -> None:
    raise AssertionError(f"nothing should be skipped here: {skipped}")


NO_SKIPS: dict[str, Any] = {"kind": "item", "skip": _no_skips}


def _pages(
    items_per_shard: Mapping[int, Sequence[object]], size: int
) -> tuple[Callable[[int, str | None], Page], list[tuple[int, str | None]]]:
    """A reader over fixed items: cursors are the index of the next item, as text."""
    reads: list[tuple[int, str | None]] = []

    def read(shard: int, cursor: str | None) -> Page:
        reads.append((shard, cursor))
        items = items_per_shard.get(shard, [])
        start = int(cursor or 0)
        end = start + size
        return Page(items=list(items[start:end]), next_cursor=str(end) if end < len(items) else None)

    return read, reads


def test_every_shard_is_walked_in_order_to_its_last_page() -> None:
    read, reads = _pages({0: ["a", "b", "c"], 2: ["d"]}, size=2)
    handled: list[str] = []
    left = walk_due(ALL_SHARDS, read, handled.append, **NO_SKIPS)
    assert left == [] and handled == ["a", "b", "c", "d"]
    assert reads[:3] == [(0, None), (0, "2"), (1, None)] and len(reads) == DUE_WORK_SHARDS + 1


def test_out_of_time_says_where_each_unfinished_shard_stands() -> None:
    # Given three pages of work in shard 0 and more in shard 1
    read, _ = _pages({0: ["a", "b", "c", "d", "e"], 1: ["f"]}, size=2)
    handled: list[str] = []
    # When time runs short after the first page
    left = walk_due([(0, None), (1, None)], read, handled.append, out_of_time=lambda: True, **NO_SKIPS)
    # Then one page was done, and the rest is left for a continuation, starting where it stopped
    assert handled == ["a", "b"] and left == [(0, "2"), (1, None)]
    # When the continuation runs with time to spare, Then it finishes without redoing anything
    assert walk_due(left, read, handled.append, **NO_SKIPS) == []
    assert handled == ["a", "b", "c", "d", "e", "f"]


def test_nothing_to_walk_is_done_at_once() -> None:
    read, reads = _pages({}, size=2)
    assert walk_due([], read, lambda _: None, **NO_SKIPS) == [] and reads == []


@given(
    st.dictionaries(st.integers(0, 3), st.lists(st.integers(), max_size=7), max_size=4),
    st.integers(1, 3),
    st.lists(st.booleans(), max_size=30),
)
def test_continuations_handle_every_item_exactly_once(
    items: dict[int, list[int]], size: int, budget: list[bool]
) -> None:
    read, _ = _pages({shard: [(shard, i) for i in values] for shard, values in items.items()}, size)
    answers = iter(budget)
    handled: list[object] = []
    work: list[tuple[int, str | None]] = [(shard, None) for shard in range(4)]
    for _ in range(100):
        work = walk_due(work, read, handled.append, out_of_time=lambda: next(answers, False), **NO_SKIPS)
        if not work:
            break
    assert handled == [(shard, i) for shard in range(4) for i in items.get(shard, [])]


def test_an_item_that_fails_or_does_not_read_is_skipped_and_the_walk_goes_on() -> None:
    # Given a shard whose second item makes its handling fail and whose third did not read
    unreadable = SkippedItem("item", "c", "KeyError")
    read, _ = _pages({0: ["a", "boom", unreadable, "d"], 1: ["e"]}, size=2)
    handled: list[str] = []
    skipped: list[SkippedItem] = []

    def handle(item: str) -> None:
        if item == "boom":
            raise ZeroDivisionError
        handled.append(item)

    # When the run walks it
    left = walk_due([(0, None), (1, None)], read, handle, kind="item", skip=skipped.append)
    # Then every other item is handled, and the two bad ones are reported with why
    assert left == [] and handled == ["a", "d", "e"]
    assert skipped == [SkippedItem("item", "?", "ZeroDivisionError"), unreadable]
