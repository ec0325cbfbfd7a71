"""A cursor walk that must get somewhere: every page it follows brings records past the last page's, under a
cursor it was not given before. A server whose cursor loops was seen to keep a walk going for 35,541 pages in
600 s; with these checks it stops at the first page that repeats a cursor or goes back. Pages that bring nothing
new (empty, or the previous page's ids alone again) whose cursor is new each time are followed (seed 002 never
says a page with a cursor holds an item: a server may window its pages over the agreement's entries and filter
each window, so a quiet journal of a busy agreement gets many), but not on the cursor's word alone: each time
their run doubles from `ASK_AFTER`, the API is asked how many entries lie ahead (`CursorTrail.ahead`), and none
is a walk that would not end. A page that brings nothing new under the very cursor that led to it is the end where
the API counts nothing past it (`CursorTrail.ended`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from hashlib import blake2b

from . import redact
from .errors import WalkStalled

#: empty pages in a row after which the API is first asked what lies ahead (again each time their run doubles)
ASK_AFTER = 4
#: characters of a cursor a message shows (a cursor may encode anything the API put in it)
SHOWN = 12

log = logging.getLogger(__name__)


def shown(cursor: str) -> str:
    """A cursor as messages name it: its first characters (credentials masked) and its length."""
    masked = redact.redact(cursor)  # whole: a credential cut in two would not be masked
    return f"{masked[:SHOWN]!r}{'…' if len(masked) > SHOWN else ''} ({len(cursor)} characters)"


class CursorTrail:
    """The cursors one walk (`what`, e.g. "the walk of journal 1") followed, and the ids the last page listed. `page`
    takes each page as it comes, before its records are used: it says how many of its first ids are the previous
    page's again, or raises WalkStalled naming the page and the cursor. Memory: 16 bytes a page and one page's ids.

    Seed 002 says "the cursor represents the identifier of the first item on the next set": a server may take that
    to include an item it gave already, so a page may list the end of the one before again (the same records, listed
    twice at a page boundary: dropped, not counted twice), wherever on the page it lists them: seed 002 gives no
    order within a page, and one listed newest first holds the repeat at its end. A page that goes back further than
    the previous page, with a cursor to follow, is a walk that would not end. One that brings nothing past them under
    a new cursor is followed as an empty page (a server that windows its pages over the agreement's entries, each
    under its own last entry as the cursor, lists a window's last entry of the journal alone again where the rest of
    the next window is other journals'); a run of such pages the API counts nothing ahead of is a walk that would not
    end: `asking` says when to ask (`ahead`). A page that brings nothing new and gives the very cursor that led to it
    would come again for ever: a server that gives the last item's own id as the cursor, the last page too (seed 002
    says a last page gives none). It is the walk's end where the API counts nothing past what the walk listed, else
    a loop: `repeating` says when to ask (`past`, `ended`)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.pages = 0
        #: the ids the walk listed, each once
        self.listed = 0
        self._seen: dict[bytes, int] = {}  # digest of a cursor -> the page that gave it
        self._last_id: int | None = None
        self._previous: frozenset[int] = frozenset()  # the ids the last page that listed any listed
        self._empty = 0
        self._cursor = ""  # the cursor the last page gave
        #: the last page brought nothing new under the cursor that led to it: the end, or a loop (`ended` tells)
        self.repeating = False

    def page(self, ids: Sequence[int], cursor: str) -> frozenset[int]:
        """Page `self.pages + 1`: the ids it lists, in any order, and the cursor it gives ("" for none: the last
        page). Returns those of its ids the previous page listed (to be dropped), wherever it lists them. Raises
        WalkStalled where it has a cursor and goes back (an id new to the walk at or below the highest of the
        previous page), or loops; a page of nothing new under a new cursor counts as empty (`asking`)."""
        self.pages += 1
        page = self.pages
        repeated = self._previous.intersection(ids)
        if page > 1 and cursor and cursor == self._cursor and len(repeated) == len(set(ids)):
            self.repeating = True  # the same page again under the same cursor: `ended` says which
            return repeated
        if ids and self._last_id is not None:
            back = next((i for i in ids if i not in repeated and i <= self._last_id), None)
            if cursor and back is not None:
                raise WalkStalled(
                    f"{self.what}: page {page} went back (it lists id {back} after page {page - 1} ended at "
                    f"{self._last_id}; the cursor that led to it: {shown(self._cursor)}): the walk would not end; "
                    f"stopped after {page} pages"
                )
        self.listed += sum(1 for i in ids if i not in repeated)
        if not cursor:
            self._empty = 0  # the last page: nothing to ask
            return repeated
        if len(repeated) < len(set(ids)):
            self._empty = 0
            self._last_id = max(ids)
            self._previous = frozenset(ids)
        else:
            # nothing new: empty, or only the ids the page before listed again under a new cursor (a server that
            # windows its pages over the agreement's entries and gives each window's own last entry as the cursor
            # lists that entry alone again where the rest of the next window is other journals'): followed as an
            # empty page, its cursor new, and asked about as their run doubles (`asking`)
            self._empty += 1
        digest = blake2b(cursor.encode(), digest_size=16).digest()
        earlier = self._seen.get(digest)
        if earlier is not None:
            raise WalkStalled(
                f"{self.what}: page {page} gave the cursor {shown(cursor)} that page {earlier} gave already: the "
                f"API's cursor loops and the walk would not end; stopped after {page} pages"
            )
        self._seen[digest] = page
        self._cursor = cursor
        return repeated

    @property
    def asking(self) -> str | None:
        """Where the last page was empty with a cursor, and its run of empty pages is `ASK_AFTER` long or has doubled
        since the API was last asked: what to ask it, the cursor as an id at or above which the rest lies (seed 002:
        "the cursor represents the identifier of the first item on the next set"; "" where the cursor is no number:
        then the count of everything the walk lists, against those it listed); else None."""
        if self._empty < ASK_AFTER or self._empty & (self._empty - 1):
            return None
        if not (self._cursor.isascii() and self._cursor.isdigit()):
            return ""
        # past the last id listed, wherever the cursor points: pages of nothing new under cursors that are new but
        # no further ("25", "025", "0025", …) would else be counted the entries the walk listed, and never end
        return str(max(int(self._cursor), -1 if self._last_id is None else self._last_id + 1))

    def ahead(self, counted: int, in_all: int | None = None) -> None:
        """The API counts `counted` of what the walk lists (as `asking` said: at or above the cursor, or in all):
        WalkStalled where none of it is left to list, else the walk's progress, said at INFO (a long run of empty
        pages is no stall while it gets somewhere). `in_all`: where `asking` is "" (a cursor that is no number, so
        no count tells how far it got), what the API holds in all, of every scope: a page with a cursor passes at
        least one of those (a server that windows its pages over them), so a walk of more pages than that, one
        more for the last, would not end (WalkStalled): before, pages of nothing under ever new cursors that are
        no number went on until the agreement's daily quota of calls was spent (tester t70e: 50,000 calls in 37 s)."""
        left = counted if self.asking else counted - self.listed
        first = self.pages - self._empty + 1
        if left <= 0:
            raise WalkStalled(
                f"{self.what}: pages {first}-{self.pages} brought nothing new (empty, or the entries the page before "
                f"listed), each with a cursor to one more (the last {shown(self._cursor)}), and the API counts no "
                f"record left to list: the walk would not end; stopped after {self.pages} pages"
            )
        if self.asking == "" and in_all is not None and self.pages > in_all + 1:
            raise WalkStalled(
                f"{self.what}: pages {first}-{self.pages} brought nothing new (empty, or the entries the page before "
                f"listed), each with a cursor that is no number (the last {shown(self._cursor)}), and the API holds "
                f"{in_all:,} record{'s' if in_all != 1 else ''} in all: no walk of them takes {self.pages} pages, "
                f"each passing at least one; the walk would not end; stopped after {self.pages} pages"
            )
        log.info(
            "%s: %d pages so far, %d records listed; pages %d-%d brought nothing new, each with a new cursor (the "
            "last %s), and the API counts %d records left to list: going on",
            self.what,
            self.pages,
            self.listed,
            first,
            self.pages,
            shown(self._cursor),
            left,
        )

    @property
    def past(self) -> str:
        """What to count once `repeating`, as `asking` says it: the id at or above which the rest lies (the one after
        the last id listed), or "" where the walk listed nothing yet (then the count of everything the walk lists)."""
        return "" if self._last_id is None else str(self._last_id + 1)

    def ended(self, counted: int) -> None:
        """The API counts `counted` of what the walk lists from where `past` says (in all where it says ""), once a
        page came again under the cursor that led to it (`repeating`): none left (past the last id listed; in all,
        against those listed, where none was) is the walk's end; any is a walk that would not end (WalkStalled)."""
        left = counted if self.past else counted - self.listed
        if left > 0:
            raise WalkStalled(
                f"{self.what}: page {self.pages} brings nothing new and gives the cursor that led to it again "
                f"({shown(self._cursor)}), and the API counts {left} record{'s' if left != 1 else ''} past "
                f"{'id ' + str(self._last_id) if self._last_id is not None else 'those the walk listed'}: the walk "
                f"would not end; stopped after {self.pages} pages"
            )
        log.info(
            "%s: page %d brings nothing new under the cursor that led to it (%s), and the API counts nothing past "
            "what the walk listed: taken as the last page",
            self.what,
            self.pages,
            shown(self._cursor),
        )
