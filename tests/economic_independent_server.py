"""A small e-conomic Journals API v11.0.2 server written from seed 002 alone (by a tester), independent of bulkload's
sandbox: it differs from the sandbox where the document allows (`Opts`, or the command line): numbering out of
order, refusals that store entries, errors indexed other ways, cursor pages windowed over the whole agreement,
listings that lag, and more. Tests serve it on loopback (conftest.serving); run alone it binds 127.0.0.1 only.
`/_t/entries` and `/_t/stats` show what it holds and was asked."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

PREFIX = "/journalsapi/v11.0.2"
STORE = web.AppKey("store", object)
ACCOUNTS = set(range(1000, 9000)) - {4444, 8888}
CURRENCIES = {"DKK", "EUR", "USD", "SEK", "NOK", "GBP", "JPY"}
OPEN_YEARS = {2025, 2026}
CLOSED_YEARS = {2024}
FIELDS_INT = (
    "entryTypeNumber",
    "journalNumber",
    "voucherNumber",
    "accountNumber",
    "contraAccountNumber",
    "customerNumber",
    "supplierNumber",
    "projectNumber",
    "costTypeNumber",
    "supplierPaymentType",
)


@dataclass
class Opts:
    numbering: str = "seq"  # seq | hilo | random | desc
    first: int = 1
    errors: str = "index0"  # index0 | index1 | property | dict | none | byvoucher
    refusal_stores: str = "none"  # none | before-bad | good
    page_size: int = 1000
    items_empty: str = "empty"  # empty | null | missing
    full_last_cursor: bool = False
    r429_every: int = 0
    retry_after: bool = True
    fail_after_commit: set[int] = field(default_factory=set)  # POST numbers (1-based) answered 500 after commit
    drop_after_commit: set[int] = field(default_factory=set)  # POST numbers answered by dropping after commit
    amounts: str = "exact"  # exact | g17 | float
    reverse_answer: bool = False
    cache_errors: bool = True  # the idempotency cache replays 5xx too
    renumber_vouchers: bool = False  # server assigns voucher numbers of its own (journal's next)
    paged_object: bool = False  # /paged answers {"items": [...]} instead of a bare list
    latency_ms: int = 0
    list_lag_ms: int = 0  # listings and counts show an entry this long after it was stored (a read replica)
    #: the entries of a POST of fail_after_commit are listed this much later again: its commit lands after the 500
    late_commit_ms: int = 0
    null_for_bad: bool = False
    gateway_502: bool = False
    max_body: int = 0  # a gateway answers 413 to a larger body (0: none)
    object_answer: bool = False  # a bulk create answers one object {"entryNumber": first} (seed 002's sample)
    page_order: str = "id"  # id | voucher | desc: the order of the items within a cursor page
    retry_after_value: str = "1"
    sparse_pages: bool = False  # a cursor page is page_size entries of the whole store, then filtered
    echo_secret: str = ""  # "" | plain | json | lower: a 400 quotes the X-AppSecretToken so
    ids_as_text: bool = False  # answers and listings write every whole number as a string of digits: "entryNumber": "7"


class Store:
    def __init__(self, o: Opts) -> None:
        self.o = o
        self.entries: dict[int, dict[str, Any]] = {}
        self.next = o.first
        self.hilo = [o.first, o.first + 5_000_000]
        self.calls = 0
        self.posts = 0
        self.cache: dict[str, tuple[float, int, bytes]] = {}
        self.log: list[str] = []
        self.next_voucher: dict[int, int] = {}
        self.born: dict[int, float] = {}  # entry number -> when it was stored (listing lag)

    def number(self, call: int) -> int:
        n = self._number(call)
        self.born[n] = time.time()
        return n

    def _number(self, call: int) -> int:
        if self.o.numbering == "seq":
            n = self.next
            self.next += 1
            return n
        if self.o.numbering == "hilo":  # two server nodes, each with its own block; calls alternate between them
            node = call % 2
            n = self.hilo[node]
            self.hilo[node] += 1
            return n
        if self.o.numbering == "desc":
            self.next += 1
            return 1_000_000 - self.next
        while True:
            n = random.randint(1, 9_999_999)
            if n not in self.entries:
                return n


def dec(v: Any) -> Decimal:
    return v if isinstance(v, Decimal) else Decimal(str(v))


def validate(i: int, e: Any, store: Store) -> list[tuple[str, str, str]]:
    """[(property, errorCode, message)] for entry e."""
    out = []
    if not isinstance(e, dict):
        return [("", "JournalVoucherNullEntry", "Journal voucher contains a null entry")]
    for k, v in e.items():
        if v is None:
            out.append((k, "InvalidPropertyValue", f"{k} cannot be null"))
    for req in ("entryTypeNumber", "journalNumber", "voucherNumber", "date", "amount", "currency"):
        if req not in e:
            out.append((req, "Required", f"The {req} field is required."))
    if out:
        return out
    if e["entryTypeNumber"] not in (2, 3, 4, 5, 10):
        out.append(("entryTypeNumber", "JournalEntryTypeNotCorrect", "The journal entry type is incorrect"))
    a = e.get("accountNumber")
    if a is not None and a not in ACCOUNTS:
        out.append(("accountNumber", "JournalEntryAccountNotFound", f"Account {a} could not be found."))
    c = e.get("contraAccountNumber")
    if c is not None and c not in ACCOUNTS:
        out.append(("contraAccountNumber", "JournalEntryContraAccountNotFound", f"Contra account {c} not found."))
    if a is None and c is None and e.get("customerNumber") is None and e.get("supplierNumber") is None:
        out.append(("accountNumber", "JournalEntryAccountAndContraAccountNotSet", "Neither account nor contra set"))
    if e["currency"] not in CURRENCIES:
        out.append(("currency", "JournalEntryCurrencyNotFound", f"Currency {e['currency']} not found"))
    amt = e["amount"]
    if isinstance(amt, (str, bool)):
        out.append(("amount", "InvalidPropertyValue", "amount must be a number"))
    else:
        d = dec(amt)
        if len(d.as_tuple().digits) > 18:
            out.append(("amount", "JournalEntryAmountExceedsDigitLimit", "The amount cannot be more than 18 digits"))
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)", str(e["date"]))
    if not m:
        out.append(("date", "InvalidPropertyValue", "date is not a date"))
    else:
        y = int(m.group(1))
        if y in CLOSED_YEARS:
            out.append(("date", "JournalEntryDateAccountingYearClosed", "The entry date's accounting year is closed"))
        elif y not in OPEN_YEARS:
            out.append(
                (
                    "date",
                    "JournalEntryDateAccountingYearDoesNotExist",
                    "The entry date's accounting year does not exist",
                )
            )
    t = e.get("text")
    if isinstance(t, str) and len(t) > 250:
        out.append(("text", "JournalEntryTextTooLong", "The text for the journal entry is too long"))
    return out


def year_errors(entries: list[dict]) -> dict[int, tuple[str, str, str]]:
    """A voucher whose lines lie in two accounting years: JournalEntryNotWithinEnclosingVoucherAccountingYear on
    the lines of the other year than its first line's."""
    first: dict[tuple, str] = {}
    out = {}
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or "date" not in e:
            continue
        k = (e.get("journalNumber"), e.get("voucherNumber"))
        y = str(e["date"])[:4]
        if k not in first:
            first[k] = y
        elif first[k] != y:
            out[i] = (
                "date",
                "JournalEntryNotWithinEnclosingVoucherAccountingYear",
                "The journal entry is not within the enclosing voucher's accounting year",
            )
    return out


def problem(status: int, code: str, detail: str, errors: Any = None) -> web.Response:
    body: dict[str, Any] = {
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": "One or more validation errors occurred." if status == 400 else "Error",
        "status": status,
        "detail": detail,
        "traceId": f"00-{random.getrandbits(64):016x}-01",
        "errorCode": code,
        "traceTimeUtc": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    if errors is not None:
        body["errors"] = errors
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


def shape_errors(o: Opts, bad: dict[int, list[tuple[str, str, str]]], entries: list) -> Any:
    if o.errors == "none":
        return []
    if o.errors == "dict":
        return {f"[{i}].{p}": [m] for i, errs in bad.items() for p, _, m in errs}
    out = []
    o.refusals = getattr(o, "refusals", 0) + 1
    for i, errs in sorted(bad.items()):
        for p, code, msg in errs:
            if o.errors == "alternate":  # each refusal counts the other way than the one before
                out.append({"index": i + (o.refusals % 2), "property": p, "errorCode": code, "message": msg})
            elif o.errors == "kind":  # accounts' errors from 1, the rest from 0
                out.append({"index": i + ("Account" in code), "property": p, "errorCode": code, "message": msg})
            elif o.errors == "index0":
                out.append({"index": i, "property": p, "errorCode": code, "message": msg})
            elif o.errors == "index1":
                out.append({"index": i + 1, "property": p, "errorCode": code, "message": msg})
            elif o.errors == "property":
                out.append({"property": f"entries[{i}].{p}", "errorCode": code, "message": msg})
            elif o.errors == "byvoucher":  # index counts vouchers, not entries
                e = entries[i]
                vs = []
                for x in entries:
                    k = (x.get("journalNumber"), x.get("voucherNumber"))
                    if k not in vs:
                        vs.append(k)
                out.append(
                    {
                        "index": vs.index((e.get("journalNumber"), e.get("voucherNumber"))),
                        "property": p,
                        "errorCode": code,
                        "message": msg,
                    }
                )
    return out


def encode_entry(e: dict[str, Any], o: Opts) -> str:
    parts = []
    for k, v in e.items():
        if isinstance(v, Decimal):
            if o.amounts == "exact":
                s = str(v)
            elif o.amounts == "g17":
                s = repr(float(v)) if len(repr(float(v)).replace("-", "").replace(".", "")) > 15 else f"{float(v):.17g}"
            elif o.amounts == "dotnet":  # .NET Core's shortest round-trip double: E notation from 1E+15 up
                f = float(v)
                if f == int(f) and abs(f) < 1e15:
                    s = str(int(f))
                elif abs(f) >= 1e15:
                    m, e = (f"{f!r}" if "e" in f"{f!r}" else f"{f:.16e}").split("e")
                    m = repr(float(m)).rstrip("0").rstrip(".") if "." in repr(float(m)) else m
                    s = f"{m}E+{int(e)}"
                    if float(s) != f:
                        s = repr(f)
                else:
                    s = repr(f)
            else:
                s = repr(float(v))
            parts.append(f"{json.dumps(k)}: {s}")
        else:
            text = o.ids_as_text and type(v) is int
            parts.append(f"{json.dumps(k)}: {json.dumps(str(v) if text else v)}")
    return "{" + ", ".join(parts) + "}"


# --- filters: field$op:value joined by $and: / $or: (no parentheses needed by our clients) ---
OPS = ("$eq:", "$ne:", "$gte:", "$gt:", "$lte:", "$lt:", "$like:", "$in:", "$nin:")


def parse_filter(flt: str):
    if not flt:
        return lambda e: True
    ors = flt.split("$or:")
    alts = []
    for alt in ors:
        preds = []
        for p in alt.split("$and:"):
            for op in OPS:
                if op in p:
                    name, val = p.split(op, 1)
                    preds.append((name, op, val))
                    break
            else:
                raise ValueError(f"bad predicate {p!r}")
        alts.append(preds)

    def conv(v: str, sample: Any) -> Any:
        if isinstance(sample, bool):
            return v.lower() == "true"
        if isinstance(sample, int):
            return int(v)
        if isinstance(sample, Decimal):
            return Decimal(v)
        return v

    def check(e: dict, name: str, op: str, val: str) -> bool:
        key = next((k for k in e if k.lower() == name.lower()), None)
        x = e.get(key) if key else None
        if op in ("$in:", "$nin:"):
            vals = [v for v in val.strip("[]").split(",") if v != ""]
            inside = x is not None and any(conv(v, x) == x for v in vals)
            return inside if op == "$in:" else not inside
        if x is None:
            return op == "$ne:"
        v = conv(val, x)
        return {
            "$eq:": x == v,
            "$ne:": x != v,
            "$gt:": x > v,
            "$gte:": x >= v,
            "$lt:": x < v,
            "$lte:": x <= v,
            "$like:": str(v).lower() in str(x).lower(),
        }[op]

    return lambda e: any(all(check(e, *p) for p in preds) for preds in alts)


def make_app(o: Opts) -> web.Application:
    store = Store(o)
    app = web.Application(client_max_size=20 * 1024 * 1024)
    app[STORE] = store

    @web.middleware
    async def mw(request: web.Request, handler):
        store.calls += 1
        if o.latency_ms:
            await asyncio.sleep(o.latency_ms / 1000)
        store.log.append(f"{request.method} {request.path_qs}")
        if request.path.startswith("/_t/"):
            return await handler(request)
        if o.echo_secret == "401":
            body = {
                "message": "The credentials you supplied us with weren't correct",
                "developerHint": f"No agreement for grant {request.headers.get('X-AgreementGrantToken')} with "
                f"app token {request.headers.get('X-AppSecretToken')!r}",
                "logId": request.headers.get("X-AgreementGrantToken", "")[::-1],
            }
            return web.Response(
                status=401,
                text=json.dumps(body),
                content_type="application/json",
                headers={"WWW-Authenticate": f'Token realm="{request.headers.get("X-AppSecretToken")}"'},
            )
        if not request.headers.get("X-AppSecretToken") or not request.headers.get("X-AgreementGrantToken"):
            return problem(401, "Unauthorized", "The credentials you supplied us with weren't correct")
        if o.r429_every and store.calls % o.r429_every == 0:
            headers = {"Retry-After": o.retry_after_value} if o.retry_after else {}
            return web.Response(status=429, text="", headers=headers)
        return await handler(request)

    app.middlewares.append(mw)

    async def bulk(request: web.Request) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        now = time.time()
        if key and key in store.cache and now - store.cache[key][0] < 3600:
            _, status, body = store.cache[key]
            return web.Response(
                status=status, body=body, content_type="application/json", headers={"X-ResultFromCache": "true"}
            )
        if "json" not in request.headers.get("Content-Type", ""):
            return problem(415, "UnsupportedMediaType", "Our API is a JSON api")
        raw = await request.read()
        if o.max_body and len(raw) > o.max_body:
            return web.Response(
                status=413, text="<html><body>413 Request Entity Too Large</body></html>", content_type="text/html"
            )
        try:
            entries = json.loads(raw, parse_float=Decimal)
        except ValueError:
            return problem(400, "InvalidJson", "The body is not JSON")
        store.posts += 1
        post = store.posts
        if not isinstance(entries, list) or not entries:
            resp = problem(400, "OneAPIEntriesListCannotBeEmpty", "Entries list cannot be empty")
        elif len(entries) > 500:
            resp = problem(400, "OneAPITooManyEntries", "Entries list cannot contain more than 500 entries")
        else:
            bad: dict[int, list] = {}
            for i, e in enumerate(entries):
                errs = validate(i, e, store)
                if errs:
                    bad[i] = errs
            for i, err in year_errors(entries).items():
                bad.setdefault(i, []).append(err)
            if (
                bad and o.null_for_bad
            ):  # 201: the good entries created, null for the bad ones (entryNumber "integer or null")
                created = []
                for i, e in enumerate(entries):
                    if i in bad:
                        created.append({"entryNumber": None})
                    else:
                        n = store.number(post)
                        store.entries[n] = {"entryNumber": n, **e}
                        created.append({"entryNumber": n})
                resp = web.Response(status=201, text=json.dumps(created), content_type="application/json")
            elif bad:
                if o.refusal_stores == "before-bad":
                    first = min(bad)
                    for e in entries[:first]:
                        n = store.number(post)
                        store.entries[n] = {"entryNumber": n, **e}
                elif o.refusal_stores == "good":
                    badv = {
                        (entries[i].get("journalNumber"), entries[i].get("voucherNumber"))
                        for i in bad
                        if isinstance(entries[i], dict)
                    }
                    for e in entries:
                        if (e.get("journalNumber"), e.get("voucherNumber")) not in badv:
                            n = store.number(post)
                            store.entries[n] = {"entryNumber": n, **e}
                first_code = next(iter(bad.values()))[0][1]
                errs = shape_errors(o, bad, entries)
                tok = request.headers.get("X-AppSecretToken", "")
                if o.echo_secret == "json":
                    tok = json.dumps(tok)[1:-1].replace("-", "\\u002d")
                elif o.echo_secret == "lower":
                    tok = tok.upper()
                if o.echo_secret and isinstance(errs, list):
                    for it in errs:
                        it["message"] += f" (app {tok})"
                resp = problem(
                    400, first_code, "Validation failed" + (f" for app {tok}" if o.echo_secret else ""), errs
                )
            else:
                created = []
                remap: dict = {}
                for e in entries:
                    if o.renumber_vouchers:
                        k = (e["journalNumber"], e["voucherNumber"])
                        if k not in remap:
                            nv = store.next_voucher.get(k[0], 5001)
                            store.next_voucher[k[0]] = nv + 1
                            remap[k] = nv
                        e = {**e, "voucherNumber": remap[k]}
                    n = store.number(post)
                    store.entries[n] = {"entryNumber": n, **e}
                    created.append({"entryNumber": str(n) if o.ids_as_text else n})
                if o.reverse_answer:
                    created.reverse()
                resp = web.Response(
                    status=201,
                    text=json.dumps(created[0] if o.object_answer else created),
                    content_type="application/json",
                )
                if post in o.fail_after_commit:
                    if o.gateway_502:  # the API cached its 201; a gateway in front answers 502
                        store.cache[key] = (now, resp.status, resp.body)
                        return web.Response(status=502, text="<html>502 Bad Gateway</html>", content_type="text/html")
                    resp = problem(500, "InternalServerError", "something went wrong on our end")
                    for made in created:
                        store.born[int(made["entryNumber"])] += o.late_commit_ms / 1000
                    if not o.cache_errors:
                        return resp
        if key and (resp.status < 500 or o.cache_errors):
            store.cache[key] = (now, resp.status, resp.body)
        if post in o.drop_after_commit:
            request.transport.close()  # committed and cached; the answer never arrives
            raise asyncio.CancelledError
        return resp

    def listed(request: web.Request) -> list[dict]:
        flt = request.query.get("filter", "")
        try:
            pred = parse_filter(flt)
        except ValueError as exc:
            raise web.HTTPBadRequest(
                text=json.dumps({"errorCode": "InvalidFilter", "detail": str(exc)}), content_type="application/json"
            ) from None
        cutoff = time.time() - o.list_lag_ms / 1000
        return [
            store.entries[n] for n in sorted(store.entries) if pred(store.entries[n]) and store.born.get(n, 0) <= cutoff
        ]

    async def get_all(request: web.Request) -> web.Response:
        items = listed(request)
        cur = request.query.get("cursor")
        if cur:
            items = [e for e in items if e["entryNumber"] >= int(cur)]
        page, rest = items[: o.page_size], items[o.page_size :]
        if o.sparse_pages:
            keep = {id(e) for e in items}
            every = [store.entries[n] for n in sorted(store.entries) if not cur or n >= int(cur)]
            window, after = every[: o.page_size], every[o.page_size :]
            page = [e for e in window if id(e) in keep]
            rest = [e for e in after if id(e) in keep]
            rest = after[:1] if rest else []
        if o.page_order == "voucher":
            page = sorted(page, key=lambda e: (e.get("journalNumber"), e.get("voucherNumber"), e["entryNumber"]))
        elif o.page_order == "desc":
            page = page[::-1]
        parts = []
        if rest:
            parts.append(f'"cursor": "{rest[0]["entryNumber"]}"')
        elif o.full_last_cursor and len(page) == o.page_size and page:
            parts.append(f'"cursor": "{page[-1]["entryNumber"] + 1}"')
        if page:
            parts.append('"items": [' + ", ".join(encode_entry(e, o) for e in page) + "]")
        elif o.items_empty == "null":
            parts.append('"items": null')
        elif o.items_empty == "empty":
            parts.append('"items": []')
        parts.reverse()  # items first, cursor after
        return web.Response(text="{" + ", ".join(parts) + "}", content_type="application/json")

    async def count(request: web.Request) -> web.Response:
        return web.Response(text=str(len(listed(request))), content_type="application/json")

    async def paged(request: web.Request) -> web.Response:
        items = listed(request)
        sort = request.query.get("sort", "")
        if sort == "-entryNumber":
            items = list(reversed(items))
        size = int(request.query.get("pageSize", request.query.get("pagesize", "20")))
        skip = int(request.query.get("skipPages", request.query.get("skippages", "0")))
        page = items[skip * size : (skip + 1) * size]
        text = "[" + ", ".join(encode_entry(e, o) for e in page) + "]"
        if o.paged_object:
            text = '{"items": ' + text + "}"
        return web.Response(text=text, content_type="application/json")

    async def one(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if n not in store.entries:
            return problem(404, "JournalEntryDoesNotExist", "Journal entry does not exist")
        return web.Response(text=encode_entry(store.entries[n], o), content_type="application/json")

    async def delete(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if store.entries.pop(n, None) is None:
            return problem(404, "JournalEntryDoesNotExist", "Journal entry does not exist")
        return web.Response(status=204)

    async def journals(request: web.Request) -> web.Response:
        js = sorted({e["journalNumber"] for e in store.entries.values()} | {1, 2, 3})
        return web.Response(
            text=json.dumps({"items": [{"journalNumber": j, "name": f"J{j}"} for j in js]}),
            content_type="application/json",
        )

    async def dump(request: web.Request) -> web.Response:
        return web.Response(
            text="[" + ", ".join(encode_entry(store.entries[n], Opts()) for n in sorted(store.entries)) + "]",
            content_type="application/json",
        )

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"calls": store.calls, "posts": store.posts, "log": store.log[-400:]})

    r = app.router
    r.add_post(PREFIX + "/draft-entries/bulk", bulk)
    r.add_get(PREFIX + "/draft-entries", get_all)
    r.add_get(PREFIX + "/draft-entries/count", count)
    r.add_get(PREFIX + "/draft-entries/paged", paged)
    r.add_get(PREFIX + "/draft-entries/{n:\\d+}", one)
    r.add_delete(PREFIX + "/draft-entries/{n:\\d+}", delete)
    r.add_get(PREFIX + "/journals", journals)
    r.add_get("/_t/entries", dump)
    r.add_get("/_t/stats", stats)
    return app


def add_other(st: Store, count: int, journal: int = 2) -> None:
    """Another writer's `count` entries in `journal`, before the run."""
    for i in range(count):
        n = st.number(0)
        st.entries[n] = {
            "entryNumber": n,
            "entryTypeNumber": 5,
            "journalNumber": journal,
            "voucherNumber": 1 + i // 2,
            "date": "2026-10-01",
            "amount": Decimal("10.00") * (1 if i % 2 == 0 else -1),
            "currency": "DKK",
            "accountNumber": 1010,
        }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--numbering", default="seq")
    ap.add_argument("--first", type=int, default=1)
    ap.add_argument("--errors", default="index0")
    ap.add_argument("--refusal-stores", default="none")
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--items-empty", default="empty")
    ap.add_argument("--full-last-cursor", action="store_true")
    ap.add_argument("--r429", type=int, default=0)
    ap.add_argument("--no-retry-after", action="store_true")
    ap.add_argument("--fail-after-commit", default="")
    ap.add_argument("--drop-after-commit", default="")
    ap.add_argument("--amounts", default="exact")
    ap.add_argument("--reverse-answer", action="store_true")
    ap.add_argument("--no-cache-errors", action="store_true")
    ap.add_argument("--paged-object", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--list-lag-ms", type=int, default=0)
    ap.add_argument("--null-for-bad", action="store_true")
    ap.add_argument("--gateway-502", action="store_true")
    ap.add_argument("--max-body", type=int, default=0)
    ap.add_argument("--object-answer", action="store_true")
    ap.add_argument("--page-order", default="id")
    ap.add_argument("--retry-after-value", default="1")
    ap.add_argument("--echo-secret", default="")
    ap.add_argument("--renumber-vouchers", action="store_true")
    ap.add_argument("--sparse-pages", action="store_true")
    ap.add_argument("--other-journal", type=int, default=0)
    ap.add_argument("--ids-as-text", action="store_true")
    a = ap.parse_args()
    random.seed(a.seed)
    nums = lambda s: {int(x) for x in s.split(",") if x}  # noqa: E731
    o = Opts(
        numbering=a.numbering,
        first=a.first,
        errors=a.errors,
        refusal_stores=a.refusal_stores,
        page_size=a.page_size,
        items_empty=a.items_empty,
        full_last_cursor=a.full_last_cursor,
        r429_every=a.r429,
        retry_after=not a.no_retry_after,
        fail_after_commit=nums(a.fail_after_commit),
        drop_after_commit=nums(a.drop_after_commit),
        amounts=a.amounts,
        reverse_answer=a.reverse_answer,
        cache_errors=not a.no_cache_errors,
        paged_object=a.paged_object,
        latency_ms=a.latency_ms,
        echo_secret=a.echo_secret,
        renumber_vouchers=a.renumber_vouchers,
        sparse_pages=a.sparse_pages,
        retry_after_value=a.retry_after_value,
        page_order=a.page_order,
        object_answer=a.object_answer,
        max_body=a.max_body,
        gateway_502=a.gateway_502,
        null_for_bad=a.null_for_bad,
        list_lag_ms=a.list_lag_ms,
        ids_as_text=a.ids_as_text,
    )
    app = make_app(o)
    add_other(app[STORE], a.other_journal)
    web.run_app(app, host="127.0.0.1", port=a.port, print=lambda *x: None)


if __name__ == "__main__":
    main()
