"""OData lists read whole: page after page of `$top` items from `$skip` 0 (Visma Core's list endpoints: seeds README,
"some list endpoints take OData `$top` (default 100), `$skip`"). A page of exactly the default size is no whole list.

A list may change while its pages are read (another writer adds or deletes an item): the items after the change
move, and a page asked by `$skip` then misses one or lists one again. So the pages overlap by one item: each begins
with the item the one before it ended with, in the list's own order, or the list moved between them and is read
again from its first page (READS times at most), never taken as whole.

A server may also answer fewer items a page than `$top` asks (server-driven paging, OData's page size, or a cap of
bytes that fits fewer long items), or more, and the answer seed 003 documents (an array, or the one item) has no next
link or count to say so: any page shorter than asked, the first or a later one, looks like the list's end, and a first
page longer than asked like the whole list. So such a page is taken as the end only once a read at the `$skip` after
the items seen adds nothing: one read more a list (the last page of a list is short), never a part taken for it."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .targets.protocols import Sender

#: the items a page is asked for: the `$top` OData list endpoints default to (seeds README), so an endpoint that caps
#: its pages there pages as asked
TOP = 100
#: the `$skip` of a page after the one before it: one item less than a page, whose last item it lists again
STEP = TOP - 1
#: the most pages a list is read in: STEP * MAX_PAGES + 1 items
MAX_PAGES = 100
#: the most times a list that moved while its pages were read is read, from its first page
READS = 3


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
    """Every item of the OData list at `path`: pages of `$top` TOP from `$skip` 0, each after the first from STEP
    on (it begins with the last item of the one before it), while one holds TOP. A page of other than TOP (fewer,
    at any `$skip`: the list's last page, or a server answering fewer than `$top` asks, by count or by bytes; or a
    first page of more, an endpoint that takes no `$top` or pages more) is the end only once a read at the `$skip`
    after the items seen lists nothing, or lists them again, item for item (an endpoint that takes no `$skip`: it
    answers its whole list at each); one that lists more is a server that pages otherwise than `$top` asks (or a
    list that moved): read again, as below. An empty first page is an empty list. Calls: one a page and one more,
    READS times at most: READS * (pages + 1) for a server paging otherwise. `into`: what a page is read as, a list
    of items or one item (an object, the whole list); `key`: what tells an item from another (its id); `noun`: what
    the items are, for `Listed.short` ("costs"); `max_bytes`: the longest answer of a page. A list that moved while
    read (a page that does not begin with the item the one before it ended with, or lists an item an earlier page
    did) is read again from its first page, READS times at most. Not whole (`Listed.short` says why), never
    guessed: a list that moved (or was paged otherwise than asked) at each of READS reads, a page that lists the
    first page's first item again (an endpoint that takes no `$skip`), a later page of more than TOP, more than
    MAX_PAGES pages. Not told: an endpoint that takes no `$skip` and answers other than asked (no read tells it).
    Raises what client.get raises (errors.APIError, BadAnswer)."""
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
    for skip in range(0, STEP * MAX_PAGES, STEP):
        page = await _page(client, path, into, skip, max_bytes)
        held = len(page)
        if held > TOP and skip:
            why = f"$skip={skip} answered {len(page)} {noun}, where $top={TOP} asked for at most {TOP}"
            return _Read(Listed(items, why))
        if skip:
            if page and key(page[0]) == key(items[0]):
                why = f"$skip={skip} listed the {noun} $skip=0 did: the server takes no $skip, or the list moved"
                return _Read(Listed(items, f"{why} while its pages were read"))
            if not page or key(page[0]) != key(items[-1]):
                why = f"$skip={skip} did not begin with the last of the {noun} $skip={skip - STEP} listed"
                return _Read(Listed(items, f"{why}: the list moved while its pages were read"), moved=True)
            page = page[1:]  # the overlap, listed already
        again = next((seen[key(item)] for item in page if key(item) in seen), None)
        if again is not None:
            why = f"$skip={skip} listed {noun} $skip={again} did, past the one they share: the list moved while its"
            return _Read(Listed(items, f"{why} pages were read, or lists one twice"), moved=True)
        items += page
        if not held:  # at $skip=0 (a later page lists the overlap at least, or moved): an empty list
            return _Read(Listed(items))
        if held != TOP:
            return await _ends(client, path, into, key, noun, max_bytes, items, skip, held)
        seen.update((key(item), skip) for item in page)
    return _Read(Listed(items, f"it holds more than {len(items)} {noun} ({MAX_PAGES} pages of {TOP})"))


async def _ends(
    client: Sender,
    path: str,
    into: Any,
    key: Callable[[Any], Hashable],
    noun: str,
    max_bytes: int,
    items: list[Any],
    skip: int,
    held: int,
) -> _Read:
    """The list's pages held `items`, the last, at `skip`, `held` items where TOP were asked (fewer; or more, a first
    page): its end where a read at the `$skip` after them lists nothing, or them again, item for item (an endpoint
    that takes no `$skip`); else a server that pages otherwise than `$top` asks, or a list that moved (read it
    again)."""
    page = await _page(client, path, into, len(items), max_bytes)
    if not page or list(map(key, page)) == list(map(key, items)):
        return _Read(Listed(items))
    why = f"$skip={len(items)} listed {len(page)} {noun} more, where $skip={skip} listed {held} for $top={TOP}"
    why += f": the server answers {'fewer' if held < TOP else 'more'} than $top asks, or the list moved while its"
    return _Read(Listed(items, f"{why} pages were read"), moved=True)


async def _page(client: Sender, path: str, into: Any, skip: int, max_bytes: int) -> list[Any]:
    """The items of the page of `$top` TOP at `skip` (an answer of one item, not a list, is that item)."""
    found = await client.get(path, {"$top": str(TOP), "$skip": str(skip)}, into=into, max_bytes=max_bytes)
    return found if isinstance(found, list) else [found]
