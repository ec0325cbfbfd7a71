"""OData lists read whole: page after page of `$top` items from `$skip` 0 (Visma Core's list endpoints: seeds README,
"some list endpoints take OData `$top` (default 100), `$skip`"). A page of exactly the default size is no whole list.

A list may change while its pages are read (another writer adds or deletes an item): the items after the change
move, and a page asked by `$skip` then misses one or lists one again. So the pages overlap by one item: each is
asked at the `$skip` of the last item seen and begins with it, in the list's own order, or the list moved between
them and is read again from its first page (READS times at most), never taken as whole. An item the list holds all
the while it is read is so never skipped, whatever changes before it: a page lists the items after the last seen in
one answer, from where that item is then.

A server may also answer fewer items a page than `$top` asks (server-driven paging, OData's page size, or a cap of
bytes that fits fewer long items), or more, and the answer seed 003 documents (an array, or the one item) has no next
link or count to say so: any page of other than `$top` items, the first or a later one, may be the list's end or not.
So the read at the `$skip` of the items seen tells: it lists more, and the pages go on as the server pages them, each
from the last item seen, still overlapping (a short page is read on from, not taken for a list that moved); or it
lists nothing, and the list ends once the page from the last item seen, read after it, lists that item alone. That
read of nothing proves no end alone: an item deleted before the last seen moves the one after the last seen to its
place, and the read past the items seen lists nothing; the page after it then does not begin with the last seen, a
list that moved. A page of the last item seen alone where the read after it lists more (a cap of bytes two items
overflow) gives no overlap to read on from: not whole. Not caught, as no read of such a server can catch it: an item
deleted before the last seen, then one added before it, between the reads that end the list, where the last page
lists the last item seen alone though more follow (a cap of bytes two items overflow)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .targets.protocols import Sender

#: the items a page is asked for: the `$top` OData list endpoints default to (seeds README), so an endpoint that caps
#: its pages there pages as asked
TOP = 100
#: the most pages a list is read in (a read at the `$skip` of the items seen may follow each): 9,901 items in pages
#: of TOP, which overlap by one
MAX_PAGES = 100
#: the most times a list that moved while its pages were read is read, from its first page
READS = 3
#: the `$skip` that tells an endpoint that takes no `$skip` (it lists its first page there too) from a list that
#: moved by as many items as its first page holds between two reads (it lists nothing there, or items from 10,000
#: on): past the most items a list is read whole in
FAR_SKIP = MAX_PAGES * TOP


class Listed(NamedTuple):
    """What a list's pages held, in order (an item listed twice on one page kept twice: the caller tells of it)."""

    items: list[Any]
    #: why `items` may not be the whole list: "" where they are
    short: str = ""


class _Read(NamedTuple):
    """One read of a list's pages: what they held, and whether it moved while they were read (read it again)."""

    listed: Listed
    moved: bool = False


async def read_whole(
    client: Sender, path: str, into: Any, key: Callable[[Any], Hashable], noun: str, *, max_bytes: int
) -> Listed:
    """Every item of the OData list at `path`: pages of `$top` TOP, the first at `$skip` 0, each after it at the
    `$skip` of the last item seen (TOP - 1 after a page of TOP), beginning with that item. After a page of other
    than TOP (fewer: the list's last page, or a server answering fewer than `$top` asks, by count or by bytes; or
    more: an endpoint that takes no `$top` or pages more) or one of the last item seen alone, a read at the `$skip`
    of the items seen: where it lists more, the server pages otherwise than `$top` asks and the list is read on, each
    page from the last item seen, with no such read after them but after one of that item alone; where it lists
    nothing, the list ends once the next page lists the last item seen alone (else: more, read on; another first
    item, a list that moved). An endpoint that takes no `$skip`: the read after a first page lists that page again,
    item for item, and so does the read at FAR_SKIP: its whole list (a list that moved by as many items as its first
    page holds lists them at the first, not at FAR_SKIP). An empty first page is an empty list.

    GETs, a read: a server paging as asked, its pages and two more (a list shorter than a page: 3; of 100 to 198:
    4); one paging fewer (or more) than asked, its pages and four more (the read after its first page of other than
    TOP; after the last, the page of the last item alone, the read of nothing, that page again; 230 items 50 a
    page: 9); an endpoint that takes no `$skip`: 3. 2 * MAX_PAGES at most, the list growing at its end while read;
    READS times that at most, for a list that moved.

    `into`: what a page is read as, a list of items or one item (an object, the whole list); `key`: what tells an
    item from another (its id); `noun`: what the items are, for `Listed.short` ("costs"); `max_bytes`: the longest
    answer of a page. A list that moved while read (a page that does not begin with the last item seen, or lists an
    item an earlier page did past it) is read again from its first page, READS times at most. Not whole
    (`Listed.short` says why), never guessed: a list that moved at each of READS reads; a page that lists the first
    page's first item again (an endpoint that takes no `$skip`); a page of the last item seen alone where the read
    after it lists more (pages that cannot overlap: a cap of bytes two items overflow), at each of READS reads; its
    end not reached in MAX_PAGES pages. Not told: an endpoint that takes no `$skip` and answers other than asked (no
    read tells it). Raises what client.get raises (errors.APIError, BadAnswer)."""
    for _ in range(READS):
        read = await _read_once(client, path, into, key, noun, max_bytes)
        if not read.moved:
            return read.listed
    items, why = read.listed
    return Listed(items, f"{why}, at each of {READS} reads")


async def _read_once(
    client: Sender, path: str, into: Any, key: Callable[[Any], Hashable], noun: str, max_bytes: int
) -> _Read:
    """One read of the list's pages, as read_whole reads them."""
    items: list[Any] = []
    seen: dict[Hashable, int] = {}  # an item's key -> the $skip of the page that listed it
    skip = last = 0  # the $skip of the page to read, and of the one read before it
    nothing_after = False  # the read at the $skip of the items seen listed none: the next page proves the end, or not
    paged_otherwise = False  # a read after a page of other than TOP listed more: read on after each such page
    for _ in range(MAX_PAGES):
        page = await _page(client, path, into, skip, max_bytes)
        held = len(page)
        if items:  # a page after the first, at the $skip of the last item seen
            if skip and page and key(page[0]) == key(items[0]):
                why = f"$skip={skip} listed the {noun} $skip=0 did: the server takes no $skip, or the list moved"
                return _Read(Listed(items, f"{why} while its pages were read"))
            if not page or key(page[0]) != key(items[-1]):
                why = f"$skip={skip} did not begin with the last of the {noun} $skip={last} listed"
                return _Read(Listed(items, f"{why}: the list moved while its pages were read"), moved=True)
            page = page[1:]  # the overlap, listed already
        again = next((seen[key(item)] for item in page if key(item) in seen), None)
        if again is not None:
            why = f"$skip={skip} listed {noun} $skip={again} did, past the one they share: the list moved while its"
            return _Read(Listed(items, f"{why} pages were read, or lists one twice"), moved=True)
        items += page
        seen.update((key(item), skip) for item in page)
        if not held or (nothing_after and not page):  # an empty first page; the last item alone after nothing
            return _Read(Listed(items))
        skip, last, nothing_after = len(items) - 1, skip, False
        if page and (held == TOP or paged_otherwise):
            continue
        # a page of other than TOP, or of the last item seen alone: the end, if the read after it lists nothing
        after = await _page(client, path, into, len(items), max_bytes)
        if not last and after and key(after[0]) == key(items[0]):  # an endpoint that takes no $skip
            if not _same(after, items, key):
                why = f"$skip={len(items)} listed the {noun} $skip=0 did, and others: the server takes no $skip, and"
                return _Read(Listed(items, f"{why} the list moved while it was read"), moved=True)
            if _same(await _page(client, path, into, FAR_SKIP, max_bytes), items, key):
                return _Read(Listed(items))  # its whole list again, far past any list read whole too
            why = f"$skip={len(items)} listed the {noun} $skip=0 did, and $skip={FAR_SKIP} did not: the list moved"
            return _Read(Listed(items, f"{why} by as many while it was read"), moved=True)
        if after and not page:
            why = f"$skip={len(items)} listed {len(after)} {noun} more, where $skip={last} listed none past the one"
            why += " it shares with the page before it: no page lists them with it to overlap, or the list moved"
            return _Read(Listed(items, f"{why} while its pages were read"), moved=True)
        nothing_after, paged_otherwise = not after, paged_otherwise or bool(after)
    return _Read(Listed(items, f"its end was not reached in {MAX_PAGES} pages ({len(items)} {noun} read)"))


def _same(page: list[Any], items: list[Any], key: Callable[[Any], Hashable]) -> bool:
    """Whether `page` lists `items`, item for item."""
    return list(map(key, page)) == list(map(key, items))


async def _page(client: Sender, path: str, into: Any, skip: int, max_bytes: int) -> list[Any]:
    """The items of the page of `$top` TOP at `skip` (an answer of one item, not a list, is that item)."""
    found = await client.get(path, {"$top": str(TOP), "$skip": str(skip)}, into=into, max_bytes=max_bytes)
    return found if isinstance(found, list) else [found]
