"""The pagination helper: pages, cursors bound to filters, inserted rows."""

from __future__ import annotations

import anyio
import pytest

from interlace.errors import InterlaceError
from interlace.service.pagination import Page, PageRequest, paginate


class NewestFirst:
    """A list kept newest first, paged by offset like the state store."""

    def __init__(self, count: int) -> None:
        self.items = list(range(count, 0, -1))
        self.fetches = 0

    def insert_newer(self, *values: int) -> None:
        self.items[:0] = sorted(values, reverse=True)

    async def fetch(self, limit: int, offset: int) -> tuple[list[int], int]:
        self.fetches += 1
        return self.items[offset : offset + limit], len(self.items)


def page_of(
    source: NewestFirst, request: PageRequest, filters: dict[str, object] | None = None
) -> Page[int]:
    async def run() -> Page[int]:
        return await paginate(
            request,
            fetch=source.fetch,
            key=lambda item: (item,),
            filters=filters or {"status": "done"},
            descending=True,
        )

    return anyio.run(run)


def test_a_first_page_reports_total_and_a_cursor() -> None:
    source = NewestFirst(5)

    page = page_of(source, PageRequest(limit=2))

    assert page.items == [5, 4]
    assert (page.total, page.has_more) == (5, True)
    assert page.next_cursor is not None


def test_following_cursors_visits_every_item_once() -> None:
    source = NewestFirst(7)
    seen: list[int] = []
    cursor = None

    for _ in range(10):
        page = page_of(source, PageRequest(limit=3, cursor=cursor))
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == [7, 6, 5, 4, 3, 2, 1]


def test_items_inserted_before_the_cursor_neither_repeat_nor_shift_the_page() -> None:
    source = NewestFirst(6)
    first = page_of(source, PageRequest(limit=2))
    source.insert_newer(7, 8, 9)

    second = page_of(source, PageRequest(limit=2, cursor=first.next_cursor))

    assert first.items == [6, 5]
    assert second.items == [4, 3]
    assert second.total == 9
    assert second.has_more is True


def test_many_insertions_are_skipped_across_several_fetches() -> None:
    source = NewestFirst(4)
    first = page_of(source, PageRequest(limit=2))
    source.insert_newer(*range(5, 30))

    second = page_of(source, PageRequest(limit=2, cursor=first.next_cursor))

    assert second.items == [2, 1]
    assert second.has_more is False
    assert second.next_cursor is None


def test_an_offset_without_cursor_skips_items() -> None:
    page = page_of(NewestFirst(5), PageRequest(limit=2, offset=3))

    assert page.items == [2, 1]
    assert page.has_more is False


def test_the_last_page_has_no_cursor() -> None:
    page = page_of(NewestFirst(2), PageRequest(limit=2))

    assert (page.has_more, page.next_cursor) == (False, None)


def test_a_cursor_is_refused_for_other_filters() -> None:
    source = NewestFirst(5)
    cursor = page_of(source, PageRequest(limit=2)).next_cursor

    with pytest.raises(InterlaceError, match="issued for different filters"):
        page_of(source, PageRequest(limit=2, cursor=cursor), {"status": "failed"})


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", "eyJmIjoxfQ"])
def test_a_damaged_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InterlaceError, match="not a valid pagination cursor"):
        page_of(NewestFirst(3), PageRequest(limit=2, cursor=cursor))
