"""Journal endpoints of the e-conomic sandbox: list (cursor and paged), count, get, create, update,
delete (only when empty) and book (the journal's drafts leave the draft list)."""

from __future__ import annotations

import msgspec
from aiohttp import web

from bulkload.sandbox.common import json_response, problem
from bulkload.sandbox.economic_model import JOURNAL_FILTERS, JOURNAL_SORTABLE, Journal
from bulkload.sandbox.economic_store import EntryStore, JournalStore, take_page
from bulkload.sandbox.economic_web import (
    conflict,
    not_found,
    parse_sort,
    query_filter,
    query_int,
    sort_rows,
)

JOURNAL_TYPES = frozenset({1, 2, 3, 4})
_journal_decoder = msgspec.json.Decoder(Journal)
_encoder = msgspec.json.Encoder()


class JournalHandlers:
    def __init__(self, journals: JournalStore, entries: EntryStore, page_size: int, prefix: str) -> None:
        self.journals = journals
        self.entries = entries
        self.page_size = page_size
        self.prefix = prefix

    def _matching(self, request: web.Request, start: int = 0) -> list[Journal]:
        flt = query_filter(request, JOURNAL_FILTERS)
        return [
            j
            for number, j in sorted(self.journals.journals.items())
            if number >= start and (flt is None or flt.matches(j))
        ]

    def _lookup(self, request: web.Request) -> Journal | web.Response:
        number = int(request.match_info["number"])
        journal = self.journals.journals.get(number)
        return (
            journal
            if journal is not None
            else not_found(request, f"Journal {number} does not exist.", "JournalNotFound")
        )

    def _decode(self, request: web.Request, body: bytes) -> Journal | web.Response:
        try:
            journal = _journal_decoder.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            return problem(400, "Validation failed", str(exc), error_code="InvalidJournal", instance=request.path)
        if not journal.name.strip():
            return problem(
                400,
                "Validation failed",
                "The name of a journal is required.",
                error_code="JournalNameRequired",
                instance=request.path,
            )
        if journal.type not in JOURNAL_TYPES:
            return problem(
                400,
                "Validation failed",
                f"Journal type {journal.type} is not 1, 2, 3 or 4.",
                error_code="JournalTypeNotValid",
                instance=request.path,
            )
        return journal

    async def list_cursor(self, request: web.Request) -> web.Response:
        start = query_int(request, "cursor", 0, 0, 2**31)
        items, nxt = take_page(((j.number, j) for j in self._matching(request, start)), self.page_size)  # type: ignore[misc]
        payload: dict[str, object] = {"items": items}
        if nxt is not None:
            payload["cursor"] = str(nxt)
        return json_response(payload)

    async def list_paged(self, request: web.Request) -> web.Response:
        size = query_int(request, "pageSize", 20, 1, 100)
        skip = query_int(request, "skipPages", 0, 0, 100) * size
        rows = sort_rows(self._matching(request), parse_sort(request.query.get("sort", ""), JOURNAL_SORTABLE))
        return json_response(rows[skip : skip + size])

    async def count(self, request: web.Request) -> web.Response:
        return json_response(len(self._matching(request)))

    async def get_one(self, request: web.Request) -> web.Response:
        found = self._lookup(request)
        return found if isinstance(found, web.Response) else json_response(found)

    async def create(self, request: web.Request) -> web.Response:
        journal = self._decode(request, await request.read())
        if isinstance(journal, web.Response):
            return journal
        journal.number = msgspec.UNSET  # read-only: the sandbox numbers new journals
        number = self.journals.put(journal).number
        return json_response({"number": number}, 201, headers={"Location": f"{self.prefix}/journals/{number}"})

    async def update(self, request: web.Request) -> web.Response:
        journal = self._decode(request, await request.read())
        if isinstance(journal, web.Response):
            return journal
        if journal.number is msgspec.UNSET or journal.objectVersion is msgspec.UNSET:
            return problem(
                400,
                "Validation failed",
                "number and objectVersion are required on updates.",
                error_code="RequiredPropertyMissing",
                instance=request.path,
            )
        old = self.journals.journals.get(journal.number)
        if old is None:
            return not_found(request, f"Journal {journal.number} does not exist.", "JournalNotFound")
        if old.objectVersion != journal.objectVersion:
            return conflict(
                [{"index": 0, "number": journal.number, "property": "version", "errorCode": "UpdateConflict"}]
            )
        self.journals.put(journal)
        return json_response({"number": journal.number, "objectVersion": journal.objectVersion})

    async def delete(self, request: web.Request) -> web.Response:
        found = self._lookup(request)
        if isinstance(found, web.Response):
            return found
        number = int(request.match_info["number"])
        if self.entries.journal_counts.get(number, 0):
            return problem(
                400,
                "Bad Request",
                "Journal must be empty before deleting it.",
                error_code="JournalMustBeEmptyBeforeDeleting",
                instance=request.path,
            )
        del self.journals.journals[number]
        return web.Response(status=204)

    async def book(self, request: web.Request) -> web.Response:
        found = self._lookup(request)
        if isinstance(found, web.Response):
            return found
        if not found.isStandingJournal:  # a standing journal keeps its entries after booking
            self.entries.booked += self.entries.remove_journal(int(request.match_info["number"]))
        return web.Response(status=204)


def add_journal_routes(
    app: web.Application, journals: JournalStore, entries: EntryStore, page_size: int, prefix: str
) -> None:
    h = JournalHandlers(journals, entries, page_size, prefix)
    p = f"{prefix}/journals"
    app.router.add_get(p, h.list_cursor)
    app.router.add_post(p, h.create)
    app.router.add_put(p, h.update)
    app.router.add_get(f"{p}/paged", h.list_paged)
    app.router.add_get(f"{p}/count", h.count)
    app.router.add_get(p + r"/{number:\d+}", h.get_one)
    app.router.add_delete(p + r"/{number:\d+}", h.delete)
    app.router.add_post(p + r"/{number:\d+}/book", h.book)
