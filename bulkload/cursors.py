"""A cursor walk that must get somewhere: every page it follows brings records past the last page's, under a
cursor it was not given before. A server whose cursor loops was seen to keep a walk going for 35,541 pages in
600 s; with these checks it stops at the first page that repeats, goes back, or brings nothing (a few empty pages
are allowed: a listing being written to may give one)."""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import blake2b

from . import redact
from .errors import WalkStalled

#: empty pages in a row a walk follows before it gives up on the cursor
EMPTY_PAGES = 3
#: characters of a cursor a message shows (a cursor may encode anything the API put in it)
SHOWN = 12


def shown(cursor: str) -> str:
    """A cursor as messages name it: its first characters (credentials masked) and its length."""
    masked = redact.redact(cursor)  # whole: a credential cut in two would not be masked
    return f"{masked[:SHOWN]!r}{'…' if len(masked) > SHOWN else ''} ({len(cursor)} characters)"


class CursorTrail:
    """The cursors one walk (`what`, e.g. "the walk of journal 1") followed, and the last id it listed. `follow`
    returns the next page's cursor or raises WalkStalled naming the page and the cursor. Memory: 16 bytes a page."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.pages = 0
        self._seen: dict[bytes, int] = {}  # digest of a cursor -> the page that gave it
        self._last_id: int | None = None
        self._empty = 0
        self._cursor = ""  # the cursor the last page gave

    def follow(self, cursor: str, ids: Sequence[int]) -> str:
        """The cursor page `self.pages + 1` gave, with the ids it listed in the order listed (ascending)."""
        self.pages += 1
        page = self.pages
        if ids:
            self._empty = 0
            if self._last_id is not None and ids[0] <= self._last_id:
                raise WalkStalled(
                    f"{self.what}: page {page} went back (it lists id {ids[0]} after page {page - 1} ended at "
                    f"{self._last_id}; the cursor that led to it: {shown(self._cursor)}): the walk would not end; "
                    f"stopped after {page} pages"
                )
            self._last_id = ids[-1]
        else:
            self._empty += 1
            if self._empty > EMPTY_PAGES:
                raise WalkStalled(
                    f"{self.what}: pages {page - self._empty + 1}-{page} were empty, each with a cursor to one more "
                    f"(the last {shown(cursor)}): the walk would not end; stopped after {page} pages"
                )
        digest = blake2b(cursor.encode(), digest_size=16).digest()
        earlier = self._seen.get(digest)
        if earlier is not None:
            raise WalkStalled(
                f"{self.what}: page {page} gave the cursor {shown(cursor)} that page {earlier} gave already: the "
                f"API's cursor loops and the walk would not end; stopped after {page} pages"
            )
        self._seen[digest] = page
        self._cursor = cursor
        return cursor
