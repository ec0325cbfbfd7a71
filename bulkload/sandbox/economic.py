"""The e-conomic Journals API v11.0.2 sandbox: draft entries (single and bulk of ≤ 500, atomic),
cursor and classic paging, counts, filters, objectVersion conflicts, Idempotency-Key, journals and
booking, behind the shared fault and limit machinery of :mod:`bulkload.sandbox.common`."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from bulkload.sandbox.common import BodyError, SandboxOptions, decode_items, json_response, new_app, problem
from bulkload.sandbox.economic_journals import add_journal_routes
from bulkload.sandbox.economic_model import (
    CHART,
    CURRENCIES,
    DEFAULT_JOURNALS,
    ENTRY_FILTERS,
    ENTRY_SORTABLE,
    DraftEntry,
    IncomingEntry,
    Problem,
    Rules,
    decode_problem,
    error_item,
)
from bulkload.sandbox.economic_store import EntryStore, JournalStore, Versions, entry_encoder
from bulkload.sandbox.economic_web import (
    PREFIX,
    auth_middleware,
    conflict,
    not_found,
    parse_sort,
    query_filter,
    query_int,
    sort_rows,
)
from bulkload.sandbox.idempotency import IdempotencyCache, idempotency_middleware

__all__ = ["ECONOMIC_KEY", "MAX_BULK", "PREFIX", "Economic", "create_app"]

MAX_BULK = 500

# float_hook: a JSON number with a fraction or exponent decodes to an exact Decimal (ints stay ints),
# in the one-pass decode and in the item-by-item one that finds every bad entry alike
_list_decoder = msgspec.json.Decoder(list[IncomingEntry], float_hook=Decimal)
_entry_decoder = msgspec.json.Decoder(IncomingEntry, float_hook=Decimal)
_untyped_decoder = msgspec.json.Decoder(float_hook=Decimal)


#: decoded entries (None where one failed its types) and, index for index, that type problem
Decoded = tuple[list[IncomingEntry | None], list[Problem | None]]


class Economic:
    """One agreement's state and the draft-entry handlers; journals live in economic_journals."""

    def __init__(
        self,
        options: SandboxOptions,
        rules: Rules,
        store: EntryStore,
        journals: JournalStore,
        cache: IdempotencyCache,
    ) -> None:
        self.options = options
        self.rules = rules
        self.store = store
        self.journals = journals
        self.cache = cache
        #: the 400s of creates and updates answered (errors_numbering "by-call" counts the first one apart)
        self.refusals = 0

    # -- shared pieces -------------------------------------------------------------------------

    def invalid(self, request: web.Request, errors: list[dict[str, Any]]) -> web.Response:
        """The atomic 400 of a create/update: every bad entry named (by its index counted from 0, or from 1 with
        `errors_from_one`; an account's errors, or the refusals after the first, the other way with
        `errors_numbering`), unless the sandbox is opaque."""
        self.refusals += 1
        base, varies = int(self.options.errors_from_one), self.options.errors_numbering
        if varies == "by-call" and self.refusals > 1:
            base = 1 - base
        other = 1 - base if varies == "by-kind" else base
        errors = [{**e, "index": e["index"] + (other if "AccountNotFound" in e["errorCode"] else base)} for e in errors]
        first = errors[0]
        if self.options.opaque_errors:
            detail = f"The request contains invalid entries: {first['message']}"
            return problem(400, "Validation failed", detail, error_code=first["errorCode"], instance=request.path)
        detail = f"{len(errors)} validation error(s); the first is at index {first['index']}: {first['message']}"
        return problem(
            400,
            "Validation failed",
            detail,
            error_code=first["errorCode"],
            errors=errors,
            instance=request.path,
        )

    @staticmethod
    def bad_request(request: web.Request, code: str, detail: str) -> web.Response:
        return problem(400, "Bad Request", detail, error_code=code, instance=request.path)

    def decode_list(self, request: web.Request, body: bytes) -> Decoded | web.Response:
        """The entries of an array body (None where one fails its types) and each one's type problem."""
        try:
            return decode_items(body, _list_decoder, IncomingEntry, decode_problem, _untyped_decoder)
        except BodyError as exc:
            if exc.not_json:
                return self.bad_request(request, "InvalidJson", f"The body is not valid JSON: {exc}")
            return self.bad_request(request, "InvalidBody", "The body must be a JSON array of entries.")

    async def decode_bulk(self, request: web.Request) -> Decoded | web.Response:
        """The body of a bulk call: 1 to 500 entries, else the seed's OneAPI… refusal."""
        decoded = self.decode_list(request, await request.read())
        if isinstance(decoded, web.Response):
            return decoded
        if not decoded[0]:
            return self.bad_request(request, "OneAPIEntriesListCannotBeEmpty", "Entries list cannot be empty.")
        if len(decoded[0]) > MAX_BULK:
            return self.bad_request(
                request, "OneAPITooManyEntries", f"Entries list cannot contain more than {MAX_BULK} entries."
            )
        return decoded

    def decode_one(self, request: web.Request, body: bytes) -> Decoded | web.Response:
        try:
            return [_entry_decoder.decode(body)], [None]
        except msgspec.ValidationError as exc:
            return [None], [decode_problem(exc)]
        except msgspec.DecodeError as exc:
            return self.bad_request(request, "InvalidJson", f"The body is not valid JSON: {exc}")

    # -- creates -------------------------------------------------------------------------------

    async def create_one(self, request: web.Request) -> web.Response:
        decoded = self.decode_one(request, await request.read())
        if isinstance(decoded, web.Response):
            return decoded
        created = self.create(request, *decoded)
        if isinstance(created, web.Response):
            return created
        number = created[0]
        return json_response({"entryNumber": number}, 201, headers={"Location": f"{PREFIX}/draft-entries/{number}"})

    async def create_bulk(self, request: web.Request) -> web.Response:
        decoded = await self.decode_bulk(request)
        if isinstance(decoded, web.Response):
            return decoded
        created = self.create(request, *decoded)
        if isinstance(created, web.Response):
            return created
        listed = created[::-1] if self.options.reversed_answers else created
        if self.options.repeated_ids and len(listed) > 1:
            listed = [*listed[:-1], listed[0]]
        body = b"[" + b",".join(b'{"entryNumber":%d}' % n for n in listed) + b"]"
        return web.Response(status=201, body=body, content_type="application/json")

    def create(
        self, request: web.Request, entries: list[IncomingEntry | None], problems: list[Problem | None]
    ) -> list[int] | web.Response:
        """Check every entry and store all of them, or none (the call is atomic); with
        `refusal_stores_before_bad`, a refusal stores the entries before the first bad one all the same."""
        errors: list[dict[str, Any]] = []
        check = self.rules.check
        for i, entry in enumerate(entries):
            if entry is None:
                errors.append(error_item(i, problems[i]))  # type: ignore[arg-type]
                continue
            for bad in check(entry):
                errors.append(error_item(i, bad))
        if errors:
            if self.options.refusal_stores_before_bad:  # each checked, none bad: the first error is the first bad
                self.store.add(entries[: errors[0]["index"]])  # type: ignore[arg-type]
            return self.invalid(request, errors)
        return self.store.add(entries)  # type: ignore[arg-type]

    # -- updates -------------------------------------------------------------------------------

    async def update_one(self, request: web.Request) -> web.Response:
        decoded = self.decode_one(request, await request.read())
        if isinstance(decoded, web.Response):
            return decoded
        entry = decoded[0][0]
        if entry is not None and entry.entryNumber is not msgspec.UNSET and self.store.get(entry.entryNumber) is None:
            return problem(
                404,
                "Not Found",
                f"Draft entry {entry.entryNumber} does not exist.",
                error_code="JournalEntryDoesNotExist",
                instance=request.path,
            )
        updated = self.update(request, *decoded)
        return updated if isinstance(updated, web.Response) else json_response(updated[0])

    async def update_bulk(self, request: web.Request) -> web.Response:
        decoded = await self.decode_bulk(request)
        if isinstance(decoded, web.Response):
            return decoded
        updated = self.update(request, *decoded)
        return updated if isinstance(updated, web.Response) else json_response(updated)

    def update(
        self, request: web.Request, entries: list[IncomingEntry | None], problems: list[Problem | None]
    ) -> list[dict[str, Any]] | web.Response:
        """Check every update, refuse stale objectVersions with 409, then apply all of them or none."""
        errors: list[dict[str, Any]] = []
        current: list[DraftEntry | None] = []
        seen: set[int] = set()
        for i, entry in enumerate(entries):
            old = None
            if entry is None:
                errors.append(error_item(i, problems[i]))  # type: ignore[arg-type]
            elif entry.entryNumber is msgspec.UNSET or entry.objectVersion is msgspec.UNSET:
                prop = "entryNumber" if entry.entryNumber is msgspec.UNSET else "objectVersion"
                errors.append(error_item(i, (prop, "RequiredPropertyMissing", f"{prop} is required on updates.")))
            elif entry.entryNumber in seen or (old := self.store.get(entry.entryNumber)) is None:
                errors.append(
                    error_item(
                        i,
                        (
                            "entryNumber",
                            "JournalEntryDoesNotExist",
                            f"Draft entry {entry.entryNumber} does not exist (or is repeated).",
                        ),
                    )
                )
            else:
                seen.add(entry.entryNumber)
                if old.journalNumber != entry.journalNumber:
                    errors.append(
                        error_item(
                            i,
                            (
                                "journalNumber",
                                "JournalNumberCannotBeChangedOnDraftEntry",
                                "JournalNumber cannot be changed on draft entry.",
                            ),
                        )
                    )
                errors.extend(error_item(i, bad) for bad in self.rules.check(entry))
            current.append(old)
        if errors:
            return self.invalid(request, errors)
        stale = [
            {"index": i, "entryNumber": e.entryNumber, "property": "version", "errorCode": "UpdateConflict"}
            for i, (e, old) in enumerate(zip(entries, current, strict=False))
            if e is not None and old is not None and e.objectVersion != old.objectVersion
        ]
        if stale:
            return conflict(stale)
        done = [e for e in entries if e is not None]
        self.store.replace(done)
        return [{"entryNumber": e.entryNumber, "objectVersion": e.objectVersion} for e in done]

    # -- reads and deletes ---------------------------------------------------------------------

    async def list_cursor(self, request: web.Request) -> web.Response:
        if self.options.in_lists_fail and "$in:" in request.query.get("filter", ""):
            return web.Response(status=503, text="Service Unavailable")
        flt = query_filter(request, ENTRY_FILTERS)
        cursor = query_int(request, "cursor", 0, 0, 2**31)
        items, nxt = self.store.page(flt, cursor, self.options.page_size)
        tail = b"}" if nxt is None else b',"cursor":"%d"}' % nxt
        return web.Response(body=b'{"items":[' + b",".join(items) + b"]" + tail, content_type="application/json")

    async def list_paged(self, request: web.Request) -> web.Response:
        flt = query_filter(request, ENTRY_FILTERS)
        size = query_int(request, "pageSize", 20, 1, 100)
        skip = query_int(request, "skipPages", 0, 0, 100) * size
        keys = parse_sort(request.query.get("sort", ""), ENTRY_SORTABLE)
        if not keys or keys in ([("entryNumber", False, False)], [("entryNumber", True, False)]):
            # entry-number order is the store's own order (or its reverse): no decoding, no sorting
            matches = self.store.scan(flt, descending=bool(keys) and keys[0][1])
            page = [raw for _, raw in itertools.islice(matches, skip, skip + size)]
            return web.Response(body=b"[" + b",".join(page) + b"]", content_type="application/json")
        rows = [self.store.get(n) for n, _ in self.store.scan(flt)]
        return web.Response(
            body=entry_encoder.encode(sort_rows(rows, keys)[skip : skip + size]),
            content_type="application/json",
        )

    async def count(self, request: web.Request) -> web.Response:
        return json_response(self.store.count(query_filter(request, ENTRY_FILTERS)))

    async def get_one(self, request: web.Request) -> web.Response:
        number = int(request.match_info["entryNumber"])
        raw = self.store.entries.get(number)
        if raw is None:
            return not_found(request, f"Draft entry {number} does not exist.", "JournalEntryDoesNotExist")
        return web.Response(body=raw, content_type="application/json")

    async def delete_one(self, request: web.Request) -> web.Response:
        number = int(request.match_info["entryNumber"])
        if not self.store.delete(number):
            return not_found(request, f"Draft entry {number} does not exist.", "JournalEntryDoesNotExist")
        return web.Response(status=204)

    async def delete_journal_entries(self, request: web.Request) -> web.Response:
        journal = int(request.match_info["journalNumber"])
        if journal not in self.journals.journals:
            return not_found(request, f"Journal {journal} does not exist.", "JournalNotFound")
        self.store.remove_journal(journal)
        return web.Response(status=204)


def create_app(
    options: SandboxOptions | None = None,
    *,
    accounts: Iterable[int] = CHART,
    currencies: Iterable[str] = CURRENCIES,
    journals: Mapping[int, str] = DEFAULT_JOURNALS,
    tokens: tuple[str, str] | None = None,
    idempotency_ttl_s: float = 3600.0,
    accounting_years: tuple[int, int] = (2015, 2035),
) -> web.Application:
    """The sandbox app; the API is under ``/journalsapi/v11.0.2``.

    ``tokens`` = (app secret, agreement grant) to accept only those (plus demo/demo, read-only);
    by default any non-empty pair is accepted.
    """
    options = options or SandboxOptions()
    versions = Versions()
    journal_store = JournalStore(versions, dict(journals))
    rules = Rules(frozenset(accounts), frozenset(currencies), journal_store.journals, accounting_years)
    scatter = random.Random(options.seed) if options.scattered_numbers else None
    store = EntryStore(
        versions,
        options.first_entry_number,
        options.count_lag,
        scatter,
        options.entry_number_step,
        options.list_lag_ms / 1000,
    )
    cache = IdempotencyCache(idempotency_ttl_s)
    eco = Economic(options, rules, store, journal_store, cache)

    def extra_stats() -> dict[str, Any]:
        return {
            "entries": len(store.entries),
            "booked": store.booked,
            "journals": len(journal_store.journals),
            "idempotency_cached": len(cache),
            "idempotency_replays": cache.replays,
        }

    app = new_app(
        options,
        auth_middleware(tokens),
        idempotency_middleware(cache, lambda r: r.headers.get("X-AgreementGrantToken", "")),
        extra_stats=extra_stats,
    )
    app[ECONOMIC_KEY] = eco
    p = f"{PREFIX}/draft-entries"
    app.router.add_get(p, eco.list_cursor)
    app.router.add_post(p, eco.create_one)
    app.router.add_put(p, eco.update_one)
    app.router.add_post(f"{p}/bulk", eco.create_bulk)
    app.router.add_put(f"{p}/bulk", eco.update_bulk)
    app.router.add_get(f"{p}/paged", eco.list_paged)
    app.router.add_get(f"{p}/count", eco.count)
    app.router.add_get(p + r"/{entryNumber:\d+}", eco.get_one)
    app.router.add_delete(p + r"/{entryNumber:\d+}", eco.delete_one)
    app.router.add_delete(p + r"/delete/{journalNumber:\d+}", eco.delete_journal_entries)
    add_journal_routes(app, journal_store, store, options.page_size, PREFIX)
    return app


ECONOMIC_KEY = web.AppKey("economic", Economic)
