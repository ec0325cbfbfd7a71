"""odata.read_whole's paging, against a fake server that pages a list as a server may (seeds README: OData `$top`,
default 100, and `$skip`; seed 003's answer carries no next link or count): as asked, at most a count a page
(server-driven paging), at most a number of bytes a page (fewer long items), more than asked, or ignoring `$skip`;
and a list another writer changes between two reads. Each test states the GETs the read takes (`$skip` of each)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bulkload import odata


class Paged:
    """A list of `{"Id": n, "Comment": …}` items answered a page at a time: `$skip` on (`skips` False: from 0 at
    each), `$top` of them (`top` given: that many whatever `$top` asks), at most `cap` a page, and at most `bytes`
    of JSON a page (at least one item). `after(skip, items)` runs after each GET (another writer changing the list
    between reads). `asked`: the `$skip` of each GET."""

    def __init__(
        self,
        items: list[dict[str, Any]],
        *,
        cap: int = 10**9,
        bytes: int = 10**9,
        top: int | None = None,
        skips: bool = True,
        after: Callable[[int, list[dict[str, Any]]], None] = lambda skip, items: None,
    ) -> None:
        self.items, self.cap, self.bytes, self.top, self.skips, self.after = items, cap, bytes, top, skips, after
        self.asked: list[int] = []

    async def get(
        self, path: str, params: Mapping[str, str] | None = None, *, into: Any = Any, max_bytes: int | None = None
    ) -> Any:
        assert params is not None and params["$top"] == str(odata.TOP), params
        skip = int(params["$skip"])
        self.asked.append(skip)
        start = skip if self.skips else 0
        page = self.items[start : start + min(self.top or odata.TOP, self.cap)]
        while len(page) > 1 and len(json.dumps(page)) > self.bytes:
            page = page[:-1]
        self.after(skip, self.items)
        return [dict(item) for item in page]


def costs(n: int, start: int = 1000, comment: str = "c") -> list[dict[str, Any]]:
    return [{"Id": start + i, "Comment": comment} for i in range(n)]


async def read(server: Paged) -> odata.Listed:
    client: Any = server  # a Sender's get alone: read_whole asks nothing else of it
    return await odata.read_whole(client, "/costs", Any, lambda item: item["Id"], "costs", max_bytes=1 << 20)


def ids(listed: odata.Listed) -> list[int]:
    return [item["Id"] for item in listed.items]


@pytest.mark.parametrize(
    ("n", "asked"),
    [
        (0, [0]),  # an empty first page: an empty list
        (3, [0, 3, 2]),  # the page, the read after it (nothing), its last item again, alone
        (100, [0, 99, 100, 99]),
        (120, [0, 99, 120, 119]),
        (199, [0, 99, 198, 199, 198]),
    ],
)
async def test_a_list_paged_as_asked_is_read_whole_in_its_pages_and_two_reads_more(n: int, asked: list[int]) -> None:
    """A server that pages as `$top` asks: pages of 100 from `$skip` 0, 99, 198 (each begins with the last item of
    the one before it); after the page of fewer, a read at the `$skip` of the items seen that lists nothing, then
    the last item seen listed alone at the `$skip` before it. GETs: the pages and two more (`asked`)."""
    server = Paged(costs(n))
    listed = await read(server)
    assert (ids(listed), listed.short) == ([c["Id"] for c in costs(n)], ""), listed
    assert server.asked == asked, server.asked


async def test_a_server_that_pages_50_a_page_is_read_on_to_the_end_not_refused() -> None:
    """A count cap of 50 a page whatever `$top` asks (OData server-driven paging), 230 costs: the read after the
    first page of 50 lists more, so the list is read on, `$skip` = the items seen - 1 (each page begins with the
    last item of the one before it), to a page of the last item alone, nothing after it, and that item alone again.
    Before: every read's second GET listed more, so the list was read 3 times, "cannot be read whole". GETs: 9,
    $skip 0, 50 (more: read on), 49, 98, 147, 196 (34), 229 (the last alone), 230 (nothing), 229."""
    server = Paged(costs(230), cap=50)
    listed = await read(server)
    assert (ids(listed), listed.short) == ([c["Id"] for c in costs(230)], ""), listed
    assert server.asked == [0, 50, 49, 98, 147, 196, 229, 230, 229], server.asked


async def test_a_server_that_caps_its_pages_by_bytes_is_read_on_past_long_items() -> None:
    """A cap of bytes a page, that 100 short costs fit (so the first page holds 100), then 60 long ones (300
    characters of comment each: 9 fit a page) and 5 short ones. The page at `$skip=99` holds 10 (the 100th and 9
    long): the read after it lists more, so the list is read on, a page of 9 at a time. Before: that read was taken
    for a list that moved, 3 times, and the list refused. GETs: 13, $skip 0, 99 (10), 109 (more), 108, 116 and on by
    8 to 156 (the last 4 long and the 5 short), 164 (the last alone), 165 (nothing), 164."""
    items = [*costs(100), *costs(60, 2000, "L" * 300), *costs(5, 3000)]
    server = Paged(items, bytes=len(json.dumps(items[:100])) + 10)
    listed = await read(server)
    assert (ids(listed), listed.short) == ([c["Id"] for c in items], ""), listed
    assert server.asked == [0, 99, 109, 108, 116, 124, 132, 140, 148, 156, 164, 165, 164], server.asked


async def test_a_first_page_longer_than_asked_is_read_on_where_skip_lists_more() -> None:
    """A server that pages 200 whatever `$top` asks, and takes `$skip`, 350 costs: the first page of 200 is the
    whole list only where the read at `$skip=200` lists nothing; it lists more, so the list is read on, by pages of
    more than asked too. GETs: 6, $skip 0, 200 (more), 199 (151), 349 (the last alone), 350, 349."""
    server = Paged(costs(350), top=200)
    listed = await read(server)
    assert (ids(listed), listed.short) == ([c["Id"] for c in costs(350)], ""), listed
    assert server.asked == [0, 200, 199, 349, 350, 349], server.asked


def deleting(at: int, when: Callable[[int], bool], times: int = 1) -> Callable[[int, list[dict[str, Any]]], None]:
    """Another writer: deletes the item at `at` after a GET of a `$skip` `when` holds, `times` times."""
    done: list[int] = []

    def after(skip: int, items: list[dict[str, Any]]) -> None:
        if when(skip) and len(done) < times:
            done.append(items.pop(at)["Id"])

    return after


def inserting(at: int, when: Callable[[int], bool]) -> Callable[[int, list[dict[str, Any]]], None]:
    """Another writer: inserts cost 9999 at `at` after the first GET of a `$skip` `when` holds."""

    def after(skip: int, items: list[dict[str, Any]]) -> None:
        if when(skip) and all(item["Id"] != 9999 for item in items):
            items.insert(at, {"Id": 9999, "Comment": "new"})

    return after


@pytest.mark.parametrize("change", ["delete", "insert"])
async def test_a_list_that_moves_while_read_on_after_a_short_page_is_read_again(change: str) -> None:
    """Count cap 50, 230 costs; right after the page at `$skip=49` another writer deletes (or inserts) a cost of
    the first page, before the cut: the page at `$skip=98` begins with another cost than the one the page before it
    ended with, a list that moved, so it is read again from its first page, and read whole then (with the change),
    never a cost skipped or listed twice. GETs: 4 (0, 50, 49, 98: moved), then 9 as the list is read whole."""
    items = costs(230)
    after = (deleting if change == "delete" else inserting)(10, lambda skip: skip == 49)
    server = Paged(items, cap=50, after=after)
    listed = await read(server)
    assert (ids(listed), listed.short) == ([c["Id"] for c in items], ""), listed
    assert len(listed.items) == 229 + (change == "insert") * 2, listed
    assert server.asked[:4] == [0, 50, 49, 98] and server.asked[4] == 0, server.asked
    assert len(server.asked) == 4 + 9, server.asked


async def test_a_cost_deleted_before_the_read_after_a_short_page_never_hides_the_one_past_it() -> None:
    """Count cap 50, 51 costs: the first page holds 50; right after it another writer deletes the 11th, so the 51st
    moves to `$skip=49` and the read at `$skip=50` lists nothing. Before: that made the first page's 50 the whole
    list, cost 1050 (there all along) left out. The end is proven by the last cost seen listed alone at the `$skip`
    before the items seen, after the read that lists nothing: here it is not (1050 is), the list moved, and it is
    read again, whole. GETs: 3 (0, 50, 49: moved), 3 (0, 50 nothing, 49 the last alone)."""
    items = costs(51)
    server = Paged(items, cap=50, after=deleting(10, lambda skip: skip == 0))
    listed = await read(server)
    assert 1050 in ids(listed) and 1010 not in ids(listed) and listed.short == "", listed
    assert server.asked == [0, 50, 49, 0, 50, 49], server.asked


async def test_a_cost_past_a_page_of_the_last_cost_alone_is_never_left_out() -> None:
    """A cap of bytes that two neighbouring costs overflow: after 100 short costs, one long cost that fills a page
    alone: the page at `$skip=99` holds only the cost it shares with the page before it, as the end of a list does,
    but the read after it lists the long one. No read lists them together, so the list cannot be read with its
    pages overlapping: never whole, read 3 times, the case's rows rejected. GETs: 3 a read (0, 99, 100), 9."""
    items = [*costs(100), *costs(1, 2000, "L" * 30000)]
    server = Paged(items, bytes=len(json.dumps(items[100:])) + 10)
    listed = await read(server)
    assert listed.short.startswith("$skip=100 listed 1 costs more, where $skip=99 listed none past the one"), listed
    assert listed.short.endswith("at each of 3 reads"), listed
    assert server.asked == [0, 99, 100] * 3, server.asked


async def test_a_server_that_takes_no_skip_is_read_whole_or_refused_as_before() -> None:
    """A server that answers every `$skip` from the first item: a list shorter than a page is answered whole at
    each (the read after it lists the same items, and so does the read at FAR_SKIP: the whole list, 3 GETs); one of
    more than a page lists the first page's first item again at `$skip=99`: never taken whole (1 read: no move to
    read again for, 2 GETs)."""
    short = Paged(costs(3), skips=False)
    assert (ids(await read(short)), short.asked) == ([1000, 1001, 1002], [0, 3, odata.FAR_SKIP])
    long = Paged(costs(150), skips=False)
    listed = await read(long)
    assert listed.short.startswith("$skip=99 listed the costs $skip=0 did: the server takes no $skip"), listed
    assert long.asked == [0, 99], long.asked


async def test_a_page_that_lists_a_cost_an_earlier_page_did_is_a_list_that_moved() -> None:
    """A page listing, past the cost it shares with the page before it, one an earlier page listed: a list that
    moved (or lists one twice), read again, 3 times, never whole."""
    items = [*costs(120), *costs(1, 1005)]
    server = Paged(items, cap=50)
    listed = await read(server)
    assert "listed costs $skip=0 did, past the one they share" in listed.short, listed
    assert listed.short.endswith("at each of 3 reads"), listed


async def test_a_list_longer_than_max_pages_is_not_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """MAX_PAGES bounds the pages a read takes, whatever the server pages: 5 pages here, of 50, and the read after
    the first (that listed more): 6 GETs, and the list said not whole."""
    monkeypatch.setattr(odata, "MAX_PAGES", 5)
    server = Paged(costs(1000), cap=50)
    listed = await read(server)
    assert listed.short == "its end was not reached in 5 pages (246 costs read)", listed
    assert server.asked == [0, 50, 49, 98, 147, 196], server.asked


@settings(max_examples=300)
@given(
    size=st.integers(0, 260),
    cap=st.integers(2, 220),
    moves=st.lists(st.tuples(st.integers(0, 12), st.booleans(), st.integers(0, 300)), max_size=3),
)
# two costs added before the first after the first page of 2 (of 3): the read after it lists that page again, as an
# endpoint that takes no $skip does; before, [1000, 1001] was taken whole, 1002 left out
@example(size=3, cap=2, moves=[(1, False, 0), (1, False, 0)])
@example(size=3, cap=2, moves=[(1, False, 0), (1, False, 0), (2, True, 0)])
async def test_no_item_the_list_holds_all_the_while_is_ever_left_out_whatever_moves(
    size: int, cap: int, moves: list[tuple[int, bool, int]]
) -> None:
    """Any count a page of 2 or more (fewer than `$top`, or more), and another writer deleting or adding items
    anywhere after any GETs: the list is never taken whole without every item it held all the while it was read,
    in order, none twice (a list that moved at each read is said not whole); without moves, it is read whole."""
    items = costs(size)
    first = {item["Id"] for item in items}
    gets = [0]
    added = iter(range(5000, 6000))

    def after(skip: int, listed: list[dict[str, Any]]) -> None:
        gets[0] += 1
        for at, delete, where in moves:
            if at == gets[0] and listed and delete:
                listed.pop(where % len(listed))
            elif at == gets[0] and not delete:
                listed.insert(where % (len(listed) + 1), {"Id": next(added), "Comment": "new"})

    server = Paged(items, cap=cap, top=max(cap, odata.TOP), after=after)
    listed = await read(server)
    if not moves and cap > 3:  # 2 or 3 a page: more than MAX_PAGES pages for a long list, said not whole
        assert (ids(listed), listed.short) == (sorted(first), ""), listed
    if listed.short:
        return
    throughout = [item["Id"] for item in items if item["Id"] in first]  # in the list's order
    assert [i for i in ids(listed) if i in set(throughout)] == throughout, (listed, moves)
    assert len(set(ids(listed))) == len(listed.items), (listed, moves)
