"""What a HaloPSA resource holds, listed: `GET /api/<Resource>`, asked for its first page
(`pageinate=true&page_no=1&page_size=`) and answered as a paged object `{"record_count": N, "<plural>": [...]}` (the
list under the resource's own key, halopsa_schema.PLURAL), whose pages are then read one by one until they hold
`record_count` records, and read again until two walks agree page for page, each page's ids as a set (offset pages
shift under another writer; the API promises no order within a page). A bare array is no proof of the end: seed 001
says only that the listing "Returns multiple … records", and a server may cap one (the first 3). A listing that
cannot be had whole says so (`Listing.whole`, `Listing.why`): what it leaves out is not proven absent. A
`record_count` is evidence of the end only where nothing shows it lags: one below the records listed, or a listing
without records the caller knows the API holds (the ids it answered to this run), is short, whatever the count says.
A count below the records the run created is read against those still there: each not listed is looked up by id
(`GET /api/<Resource>/{id}`, seed 001), and one answered 404 is gone (`Listing.gone`), not counted.
"""

from __future__ import annotations

import json
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ..errors import APIError, BadRequest
from ..http import api_path, decoded, keepable_ids, unreadable
from ..quoted_ids import as_int
from ..side_by_side import results_side_by_side
from .halopsa_schema import LIST_FILTERS, PLURAL
from .protocols import Sender

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence

#: a resource's listing (every record, in one answer or in all its pages together): some tens of thousands of records
LISTING_BYTES = 64 * 1024 * 1024
#: records asked for a page: the API documents no maximum (at 100 a page, a 10,000-record instance cost 200 calls a
#: listing, of 300 a hosted instance allows in 5 minutes); a server that serves fewer a page is asked for that many
#: from page 2 on (page 2 then begins where page 1 ended, whether the server counts its offsets by the size asked
#: or by the size it served), and every page after the first must hold as many until the listing is whole
PAGE_SIZE = 1000
#: records asked for a page of a server that refuses a first page of PAGE_SIZE (HTTP 400): what listings asked before
SMALL_PAGE = 100
#: pages one walk of a listing reads at most (at 300 calls per rolling 5 minutes, 17 minutes of the window): a server
#: whose pages never end is given up on, and the listing is not whole
MAX_PAGES = 1000
#: walks of a listing's pages at most: it is whole once two walks one after the other read the same pages
MAX_WALKS = 3
#: what a look at one record by id asks: seed 001's GET /{id} takes `includedetails`, "Include additional details in
#: the response" (its listing "Returns multiple … records", which may leave their details out)
DETAILS = {"includedetails": "true"}
#: records the run created that a reconciliation looks up by id at most, where the listing leaves them out and its
#: `record_count` is below what the run created (a third of the 300 calls a hosted instance allows in 5 minutes)
MAX_LOOKUPS = 100


class Listable(Protocol):
    """What a listing needs of a resource (halopsa_records.Resource)."""

    name: str
    path: str


class Listing(NamedTuple):
    """A resource's records as listed (each a dict whose `id` is an int)."""

    records: list[dict[str, Any]]
    #: the records are every record the API holds: what they leave out is absent
    whole: bool
    #: how many records the API says it holds (`record_count`; an array's length)
    held: int
    #: why the listing is not whole ("" when it is)
    why: str = ""
    #: ids of records the run created, left out of the listing, that a look by id answered 404: not there
    gone: frozenset[int] = frozenset()
    #: whether an answer gave `held` as its record_count (False: a bare array, or no whole number there)
    counted: bool = True

    def read(self) -> str:
        """How many records were listed, and the `held` the API's record_count gave (where one did): what it counts,
        never said to be what it holds (a count may lag: _short_by_evidence)."""
        n = len(self.records)
        return f"{n} records were listed" + (f", its record_count giving {self.held}" if self.counted else "")


def with_id(record: Any, index: int, call: str, body: bytes, *, acted_on: bool = False) -> dict[str, Any]:
    """A listed or saved record, its `id` an int the ledger keeps: every record the API holds has one (matches,
    counts and rollback go by it). BadAnswer for anything else (`acted_on`: the answer of a write, which did arrive),
    and for an id the ledger cannot keep (http.keepable_ids)."""
    value = record.get("id") if isinstance(record, dict) else None
    value = as_int(value)  # an id written as a string of digits is that id
    if type(value) is not int:
        what = (
            "is not a record"
            if not isinstance(record, dict)
            else "has no id"
            if value is None
            else f"has an id that is not a whole number ({str(value)[:20]!r})"
        )
        raise unreadable(call, body, f"item {index} {what}", acted_on=acted_on)
    keepable_ids(call, body, [value], acted_on=acted_on, first=index)
    checked: dict[str, Any] = record
    checked["id"] = value
    return checked


async def in_full(
    client: Sender, kind: Listable, records: Sequence[dict[str, Any]], fields: Sequence[str]
) -> tuple[list[dict[str, Any]], str]:
    """`records` (listed, each with its int id) each with every one of `fields` the API shows of it: one that leaves a
    field out (not null: null is a value, none) is read by id with its details (DETAILS), side by side through the
    run's limits, and taken in the listed one's place (one answered 404 is gone: kept as listed). And why a field is
    not known of every record, or "": more than MAX_LOOKUPS records leave one out (none is read then), or no record,
    listed or read so, gives it (the API shows it of none). A record read so that still leaves it out, where others
    give it, holds none. Raises what a call raises but 404, and BadAnswer for an answer that is no record."""
    lacking = [r["id"] for r in records if any(name not in r for name in fields)]
    named = ", ".join(fields)
    if len(lacking) > MAX_LOOKUPS:
        return list(records), (
            f"{len(lacking)} of its {len(records)} records were listed without {named}, more than the {MAX_LOOKUPS} "
            "bulkload reads one by one"
        )
    read = await results_side_by_side({i: partial(_details, client, kind, i) for i in lacking})
    full = [read.get(r["id"]) or r for r in records]
    unshown = [name for name in fields if full and all(name not in r for r in full)]
    if unshown:
        return full, (
            f"no record gives {', '.join(unshown)}: not as listed, nor read by id with its details "
            f"({len(lacking)} of {len(full)} records)"
        )
    return full, ""


async def _details(client: Sender, kind: Listable, record_id: int) -> dict[str, Any] | None:
    """The record `record_id` read by id with its details (`GET /api/<Resource>/{id}?includedetails=true`, seed
    001), None where it is gone (404). BadAnswer for an answer that is no record, or another record's."""
    call = f"GET {kind.path}/{record_id}"
    try:
        body = (await client.send("GET", api_path(kind.path, record_id), params=DETAILS)).body
    except APIError as exc:
        if exc.status != 404:
            raise
        return None
    record = with_id(decoded(body, Any, call), 0, call, body)
    if record["id"] != record_id:
        raise unreadable(call, body, f"the record with id {record['id']}, not {record_id}")
    return record


async def listings(client: Sender, kinds: Iterable[Listable], *, probed: bool = False) -> dict[str, Listing]:
    """Every record of each resource of `kinds`, by its name (`listing_whole`, `probed` as it says): the listings side
    by side, one round trip for all (before the load, and after it for reconciliation, where one after the other they
    were the run's start and its tail)."""
    return await results_side_by_side(
        {kind.name: partial(listing_whole, client, kind, probed=probed) for kind in kinds}
    )


async def listings_read(client: Sender, kinds: Iterable[Listable]) -> dict[str, Listing]:
    """`listings` as read, before `listings_judged` judges them against the records the run created."""
    return await results_side_by_side({kind.name: partial(listing_read, client, kind) for kind in kinds})


async def listings_judged(
    client: Sender, kinds: Iterable[Listable], read: Mapping[str, Listing], created: Mapping[str, Collection[int]]
) -> dict[str, Listing]:
    """The listings `listings_read` read (`read`, by resource name), each judged as `listing_whole` judges it
    against the records of it the run created (`created`: their ids, by name), side by side."""
    return await results_side_by_side(
        {
            kind.name: partial(listing_judged, client, kind, read[kind.name], created=created.get(kind.name, ()))
            for kind in kinds
        }
    )


class _Page(NamedTuple):
    records: list[dict[str, Any]]
    #: the answer's `record_count`; None for an array or an object without a whole number there
    record_count: int | None
    paged: bool
    size: int
    #: what a paged answer gives of its record_count where that is None (`_uncounted`)
    uncounted: str = ""


async def _page(client: Sender, kind: Listable, params: dict[str, str]) -> _Page:
    """One answer of the listing. BadAnswer for one that is not what the API documents: not JSON, neither an array
    nor an object with a list under the resource's plural key, a record without a whole-number id."""
    call = f"GET {kind.path}"
    body = (await client.send("GET", kind.path, params=params, max_bytes=LISTING_BYTES)).body
    answer: list[Any] | dict[str, Any] = decoded(body, list[Any] | dict[str, Any], call)
    if isinstance(answer, list):
        return _Page(_once([with_id(r, i, call, body) for i, r in enumerate(answer)]), None, False, len(body))
    plural = PLURAL[kind.name]
    count = answer.get("record_count")
    # a whole number written with a fraction (`30.0`, as a serializer of doubles writes one) is that number (tester
    # t69b: read as no count, every listing of such a server was not whole, a complete load exit 3); past 2**53 a
    # double holds no count exactly
    if type(count) is float and count.is_integer() and 0 <= count <= 2**53:
        count = int(count)
    known = count if type(count) is int and count >= 0 else None
    listed = records_under(answer, kind.name)
    if listed is None and _left_nothing(answer, plural, known, params):
        listed = []
    if listed is None:
        raise unreadable(call, body, f"an object without the list of records under {plural!r}")
    records = _once([with_id(r, i, call, body) for i, r in enumerate(listed)])
    return _Page(records, known, True, len(body), "" if known is not None else _uncounted(count))


def _left_nothing(answer: dict[str, Any], plural: str, count: int | None, params: dict[str, str]) -> bool:
    """Whether a page whose list of records is left out or `null` (a serializer that ignores nulls, or writes an empty
    list as null) is empty: its `record_count` leaves the page asked for nothing (pages `page_size` records each, from
    `page_no` 1; an unpaged listing is the first), and no other key of the answer holds a list of anything (the
    records under a name the seeds do not give). Before, such a page of an instance holding no records stopped every
    load, resume and reconciliation before its first call (tester t74b)."""
    if count is None or any(isinstance(value, list) and value for value in answer.values()):
        return False
    if any(key.lower() == plural and value is not None for key, value in answer.items()):
        return False
    page_no, size = (int(params.get(name, "1")) for name in ("page_no", "page_size"))
    return (page_no - 1) * size >= count


def _once(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A page's records by id: one listed twice is one record, and counts once toward the `record_count` (before, a
    page listing one record twice and leaving another out counted as whole: --match-on took the one for two, its row
    rejected as matching more than one record, and created the record left out again, a double; tester t65a)."""
    return list({r["id"]: r for r in records}.values())


def records_under(answer: dict[str, Any], resource: str) -> list[Any] | None:
    """The records an object lists under the resource's own key (its plural), whatever else it lists (a `columns`
    list, …), in whatever letter case the server writes it (`xerodetails`, `XeroDetails`: the seeds give the plural,
    not its case); None where no one key so named holds a list."""
    plural = PLURAL[resource]
    lists = [value for key, value in answer.items() if key.lower() == plural and isinstance(value, list)]
    return lists[0] if len(lists) == 1 else None


def _uncounted(count: Any) -> str:
    """What an answer gives of its `record_count` (a JSON value) that is no count of records, quoted (20 characters at
    most): none, text, or another value."""
    if count is None:
        return "gives no record_count"
    shown = json.dumps(count)[:20]
    if isinstance(count, str):
        return f"gives its record_count as text ({shown}), not a number"
    return f"gives a record_count ({shown}) that is no count of records"


async def listing_whole(
    client: Sender, kind: Listable, known: Collection[int] = (), created: Collection[int] = (), *, probed: bool = False
) -> Listing:
    """Every record of the resource, and whether the answers hold them all: the first page is asked for
    (`_first_page`); a paged object holding fewer than its `record_count` is read page by page from there (`_walks`);
    one without a `record_count`, or a bare array (no count says where it ends), is not whole. Whole only
    where nothing shows it short (`_short_by_evidence`): `known`, the ids the API answered to this run (created or
    updated), must all be listed, and `record_count` be no fewer than the records of `created` (the ids of those the
    run was answered for as created) still there: where it is fewer, those not listed are looked up (`gone_by_id`).
    `probed` (a listing whose wholeness decides what is created: --match-on's, a look for a lost create): a first page
    its `record_count` calls whole is whole only where page 2 brings no other record (`_count_of_its_page`).
    Raises what a call raises (errors.APIError, BadAnswer)."""
    return await listing_judged(client, kind, await listing_read(client, kind, probed=probed), known, created)


async def listing_read(client: Sender, kind: Listable, *, probed: bool = False) -> Listing:
    """`listing_whole`'s pages, whole where the answers' `record_count` says so, not yet judged (`listing_judged`)."""
    # every record, enabled or not: what exists is what a match or a count must see
    params: dict[str, str] = {f: "true" for f in ("includedisabled", "includeenabled") if f in LIST_FILTERS[kind.name]}
    first, size = await _first_page(client, kind, params)
    if not first.paged:
        n = len(first.records)
        why = f"its first page was answered as a bare array of {n} records, without the record_count that ends it"
        return Listing(first.records, False, n, why, counted=False)
    if first.record_count is None:
        return Listing(first.records, False, len(first.records), f"the answer {first.uncounted}", counted=False)
    if first.record_count <= len(first.records):
        if probed and first.records and (why := await _count_of_its_page(client, kind, params, first, size)):
            return Listing(first.records, False, len(first.records), why, counted=False)
        return Listing(first.records, True, first.record_count)
    return await _walks(client, kind, params, first, size)


async def _count_of_its_page(client: Sender, kind: Listable, params: dict[str, str], first: _Page, size: int) -> str:
    """Why the first page's `record_count`, which calls it whole, counts that page and not the resource, or "": the
    seeds give `{record_count, <plural>}` and do not say which. Page 2 is asked for, as many records as page 1 served
    (a server counting its offsets by the size asked or by the size served answers the same): a record on it that page
    1 did not list shows the count is the page's (before, a server serving 30 a page with a record_count of 30 was
    listed as its first 30 records, and --match-on created the other 90 rows' records again). A page 2 answered 404
    is none: a server may answer so a page past the last, which page 2 of a listing whose count is whole is (before,
    every --match-on load of such a server was refused as 'no such call there: is --base-url right?')."""
    seen = {r["id"] for r in first.records}
    try:
        page = await _page(client, kind, _asked(params, 2, min(size, len(first.records))))
    except APIError as exc:
        if exc.status != 404:
            raise
        return ""
    more = sum(1 for r in page.records if r["id"] not in seen)
    if not more:
        return ""
    return (
        f"its record_count ({first.record_count}) counts a page, not the resource: page 2 lists {more} records page 1"
        " did not"
    )


async def listing_judged(
    client: Sender, kind: Listable, listing: Listing, known: Collection[int] = (), created: Collection[int] = ()
) -> Listing:
    """`listing` (`listing_read`) whole only where nothing shows it short, as `listing_whole` says."""
    if listing.whole and listing.held < len(created):
        listing = listing._replace(gone=await gone_by_id(client, kind, listing, created))
    why = _short_by_evidence(listing, known, len(created)) if listing.whole else ""
    return listing._replace(whole=False, why=why) if why else listing


async def _first_page(client: Sender, kind: Listable, params: dict[str, str]) -> tuple[_Page, int]:
    """The listing's first page, PAGE_SIZE records asked for (SMALL_PAGE of a server that refuses that with a 400),
    and the records asked. Raises what a call raises."""
    try:
        return await _page(client, kind, _asked(params, 1, PAGE_SIZE)), PAGE_SIZE
    except BadRequest:
        # a server that caps the page size by refusing a larger one (400): pages of SMALL_PAGE
        return await _page(client, kind, _asked(params, 1, SMALL_PAGE)), SMALL_PAGE


def _asked(params: dict[str, str], page_no: int, size: int) -> dict[str, str]:
    return {**params, "pageinate": "true", "page_no": str(page_no), "page_size": str(size)}


async def read_by_id(
    client: Sender, kind: Listable, listing: Listing, ids: Collection[int]
) -> dict[int, dict[str, Any] | None]:
    """The records of `ids` (the run's) that `listing`, not whole, leaves out, each read by id with its details
    (`GET /api/<Resource>/{id}?includedetails=true`, seed 001): id -> the record, or None where it is gone (404). The
    first MAX_LOOKUPS of them in id order at most, side by side through the run's limits: a listing that cannot be
    had whole (a server that ignores `page_no` and answers every page with its first) leaves a rollback the records
    it can read one by one (before, it deleted none of them, "run rollback again" for ever). Raises what a call
    raises but 404, and BadAnswer for an answer that is no record, or another record's."""
    listed = {r["id"] for r in listing.records}
    unlisted = sorted(set(ids) - listed)[:MAX_LOOKUPS]
    return await results_side_by_side({i: partial(_details, client, kind, i) for i in unlisted})


async def gone_by_id(client: Sender, kind: Listable, listing: Listing, created: Collection[int]) -> frozenset[int]:
    """The ids of `created` (records the run created) that `listing` leaves out and a look by id answers 404 (deleted
    since): a `record_count` below what the run created may count what is left of them, not lag; a listing not whole
    proves no absence, and a look by id does (halopsa_books.Resources.held). The first
    MAX_LOOKUPS of them in id order at most, side by side, through the run's limits; one found is there, left out by
    a count that lags. Raises what a call raises but 404."""
    listed = {r["id"] for r in listing.records}
    unlisted = sorted(set(created) - listed)[:MAX_LOOKUPS]

    async def absent(record_id: int) -> bool:
        try:
            await client.send("GET", api_path(kind.path, record_id))
        except APIError as exc:
            if exc.status != 404:
                raise
            return True
        return False

    looked = await results_side_by_side({i: partial(absent, i) for i in unlisted})
    return frozenset(i for i, is_gone in looked.items() if is_gone)


def left_out(listing: Listing, ids: Collection[int]) -> list[int]:
    """The ids of `ids` (records an earlier run into the resource was answered for) that `listing` leaves out, in id
    order."""
    listed = {r["id"] for r in listing.records}
    return sorted(set(ids) - listed)


def left_out_said(left: Mapping[str, Sequence[int]]) -> str:
    """What a listing leaves out of the records of earlier runs (`left_out`'s, by each run's ledger), in words."""
    return "; ".join(
        f"{len(ids)} record{'s' if len(ids) != 1 else ''} the run of ledger {ledger} was answered for {_ids_said(ids)}"
        for ledger, ids in left.items()
    )


def _ids_said(ids: Sequence[int]) -> str:
    """The first three of `ids`, in words: "(id 4, 7, 9, …)"."""
    return f"(id {', '.join(map(str, ids[:3]))}{', …' if len(ids) > 3 else ''})"


def _short_by_evidence(listing: Listing, known: Collection[int], created: int) -> str:
    """Why a listing its `record_count` calls whole is short all the same, or "": the count is below the records it
    listed or the `created` ones the API answered to this run less those gone (`Listing.gone`: a count that lags, as
    one counting only records some time old: records past it are not reached), or it leaves out records of `known`,
    which the API answered as created or updated (a short page, a lagging count; another writer's delete looks the
    same, and proves no absence either)."""
    listed = {r["id"] for r in listing.records}
    there = created - len(listing.gone)
    still = f" and not gone since (of {created}, {len(listing.gone)} answered 404)" if listing.gone else ""
    for floor, what in ((len(listed), "records it listed"), (there, f"records this run created{still}")):
        if listing.held < floor:
            return (
                f"its record_count ({listing.held}) is below the {floor} {what}: a count that lags shows no end of "
                "the listing"
            )
    if missing := left_out(listing, known):
        return (
            f"it leaves out {len(missing)} record{'s' if len(missing) != 1 else ''} this run was answered for "
            f"{_ids_said(missing)}, so it is not every record"
        )
    return ""


class _Walk(NamedTuple):
    """One reading of a listing's pages from the first: each page's ids (a set: the API documents no order within a
    page), and the records by id."""

    pages: list[frozenset[int]]
    records: dict[int, dict[str, Any]]
    #: the `record_count` its last page gave
    held: int
    #: the records it asked for a page after the first: what the server served on page 1 (the next walk asks as many)
    size: int


async def _walks(client: Sender, kind: Listable, params: dict[str, str], first: _Page, size: int) -> Listing:
    """Read the listing's pages until two walks one after the other read the same ids on every page, in any order
    within it (the API promises none): offset pages shift when a record is deleted before the walk's place and
    another is added after it (the `record_count` stays the same), and a walk then skips a record and still holds
    `record_count` of them; a second walk whose pages hold the same sets of ids shows no record moved between them
    (one that moved leaves one page's set and joins another's). The first walk begins with `first`, the page already
    read (`size` records asked). At most MAX_WALKS walks; a walk that ends short (`_walk`) ends the listing, not
    whole."""
    last: _Walk | None = None
    count = first.record_count or 0
    begun: _Page | None = first
    for _ in range(MAX_WALKS):
        walk = await _walk(client, kind, params, count, size, begun)
        begun = None
        if isinstance(walk, Listing):
            return walk
        if last is not None and walk.pages == last.pages:
            return Listing(list(walk.records.values()), True, walk.held)
        last, count, size = walk, walk.held, walk.size
    return Listing(
        list(last.records.values()) if last is not None else [],
        False,
        count,
        f"it moved while its pages were read: {MAX_WALKS} walks of its pages, one after the other, did not list the "
        "same records",
    )


async def _walk(
    client: Sender, kind: Listable, params: dict[str, str], count: int, ask: int, first: _Page | None = None
) -> _Walk | Listing:
    """One walk of the listing's pages from the first (`first`, where it was read already), `ask` records a page, until
    they hold the `count` records it was last known to hold (a `record_count` that changes on the way is followed:
    the walk is compared with the next). A first page of fewer records than asked, short of the listing, is the
    server's page size: the pages after it are asked for that many (a server that counts offsets by the size asked
    would skip records). Bounded: a page that brings no record not listed before, one shorter than the first that
    does not end the listing, a page answered as a bare array, more than MAX_PAGES pages or LISTING_BYTES in all end
    the walk with a listing that is not whole."""
    by_id: dict[int, dict[str, Any]] = {}
    pages: list[frozenset[int]] = []
    size, read = 0, 0

    def short(why: str) -> Listing:
        return Listing(list(by_id.values()), False, count, why)

    for page_no in range(1, MAX_PAGES + 1):
        page = first if page_no == 1 and first is not None else await _page(client, kind, _asked(params, page_no, ask))
        if not page.paged:
            # no record_count ends a bare array: its records are records all the same, not proven all of them
            by_id.update((r["id"], r) for r in page.records)
            return short(
                f"page {page_no} was answered as a bare array of {len(page.records)} records, without the "
                f"record_count that ends it (the API counted {count})"
            )
        read += page.size
        if page.record_count is None:
            return short(f"page {page_no} {page.uncounted}")
        count = page.record_count
        pages.append(frozenset(r["id"] for r in page.records))
        new = [r for r in page.records if r["id"] not in by_id]
        if not new and count and page_no > 1 and pages[-1] == pages[0]:
            return short(
                f"page {page_no} held the same records as page 1: the server answers every page with its first "
                f"(it ignores page_no), so no walk lists more than {len(pages[0])} of its {count} records: have it "
                "serve the page asked (seed 001: pageinate=true&page_no=&page_size=)"
            )
        if not new and count:
            return short(f"page {page_no} brought no record the pages before it had not")
        by_id.update((r["id"], r) for r in new)
        if len(by_id) >= count:
            return _Walk(pages, by_id, count, ask)
        if page_no == 1:
            size = ask = min(ask, len(page.records))
        elif len(page.records) < size:
            return short(f"page {page_no} held {len(page.records)} records, page 1 {size}, and the listing is short")
        if read > LISTING_BYTES:
            return short(f"its pages came to more than {LISTING_BYTES // (1024 * 1024)} MB")
    return short(f"{count} records in more than {MAX_PAGES} pages")
