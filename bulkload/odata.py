"""OData lists read whole: page after page of `$top` items from `$skip` 0 (Visma Core's list endpoints: seeds README,
"some list endpoints take OData `$top` (default 100), `$skip`"). A page of exactly the default size is no whole list."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .targets.protocols import Sender

#: the items a page is asked for: the `$top` OData list endpoints default to (seeds README), so an endpoint that caps
#: its pages there pages as asked
TOP = 100
#: the most pages a list is read in: TOP * MAX_PAGES items
MAX_PAGES = 100


class Listed(NamedTuple):
    """What a list's pages held, in order (an item listed twice on one page kept twice: the caller tells of it)."""

    items: list[Any]
    #: why `items` may not be the whole list: "" where they are
    short: str = ""


async def read_whole(
    client: Sender, path: str, into: Any, key: Callable[[Any], Hashable], noun: str, *, max_bytes: int
) -> Listed:
    """Every item of the OData list at `path`: pages of `$top` TOP from `$skip` 0, until one holds fewer (the last).
    `into`: what a page is read as, a list of items or one item (an object, the whole list); `key`: an item's id;
    `noun`: what the items are, for `Listed.short` ("costs"); `max_bytes`: the longest answer of a page. A first
    page of more than TOP items is an endpoint that takes no `$top`: the whole list. Not whole (`Listed.short` says
    why), never guessed: a page that lists an item a page before it did (an endpoint that takes no `$skip` answers
    the first page again, or the list moved while read), a later page of more than TOP, more than MAX_PAGES pages.
    Raises what client.get raises (errors.APIError, BadAnswer)."""
    items: list[Any] = []
    seen: dict[Hashable, int] = {}  # an item's id -> the $skip of the page that listed it
    for skip in range(0, TOP * MAX_PAGES, TOP):
        found = await client.get(path, {"$top": str(TOP), "$skip": str(skip)}, into=into, max_bytes=max_bytes)
        page = found if isinstance(found, list) else [found]
        again = next((seen[key(item)] for item in page if key(item) in seen), None)
        if again is not None:
            why = f"$skip={skip} listed the {noun} $skip={again} did: the server takes no $skip, or the list moved"
            return Listed(items, f"{why} while its pages were read")
        if len(page) > TOP and skip:
            return Listed(items, f"$skip={skip} answered {len(page)} {noun}, where $top={TOP} asked for at most {TOP}")
        items += page
        if len(page) != TOP:
            return Listed(items)
        seen.update((key(item), skip) for item in page)
    return Listed(items, f"it holds more than {TOP * MAX_PAGES} {noun} ({MAX_PAGES} pages of {TOP})")
