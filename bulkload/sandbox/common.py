"""Machinery every sandbox shares: options, limits, injected faults, stats and problem+json answers.

A sandbox app is built with :func:`new_app`; its middleware chain is

    outer  →  the sandbox's own middlewares (auth, idempotency, …)  →  delay  →  handler

``outer`` counts the request, applies the rate limit, the daily quota and injected 5xx faults *before*
anything happens, and drops the connection *after* a write was committed ("commit then drop").
``delay`` sits innermost so latency and slow responses happen while, for example, an idempotency key
is still in progress, as it would on a real server.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

#: the shapes a PayorCRM sandbox may answer an upload in (SandboxOptions.answer)
ANSWERS = ("results", "records", "records-no-id", "ids", "count", "empty")
#: how an e-conomic 400's errors may vary their numbering (SandboxOptions.errors_numbering)
ERRORS_NUMBERINGS = ("by-kind", "by-call")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STATS_PATH = "/_sandbox/stats"
DAY_S = 86_400.0


class SandboxOptions(msgspec.Struct, kw_only=True):
    """How a sandbox misbehaves: every knob defaults to off (a perfect, instant API)."""

    latency_ms: float = 0
    #: requests per second over a sliding 1-second window (0 = no limit)
    rate_limit: float = 0
    #: calls per rolling ``quota_window_s`` (24 h unless scaled down for tests; 0 = no quota)
    daily_quota: int = 0
    quota_window_s: float = DAY_S
    #: fraction of requests answered 500/503 before anything is done
    fault_rate: float = 0
    #: fraction of writes that are committed and then get no answer (the connection is aborted)
    drop_rate: float = 0
    slow_rate: float = 0
    slow_ms: float = 3000
    seed: int | None = None
    #: 400 answers on bulk calls do not say which items are bad (the client must bisect)
    opaque_errors: bool = False
    page_size: int = 1000
    #: a JSON file with a sandbox's own starting data (e.g. Visma Core's entry definitions and cases)
    fixture: str | None = None
    #: requests per rolling ``window_s`` over the whole host; None = the API's published limit (HaloPSA:
    #: 300 per 5 minutes, the others: none), 0 = no limit
    window_limit: int | None = None
    window_s: float = 300
    #: a request refused past the rolling window takes a place in it too (HaloPSA's "300 Requests per rolling 5
    #: minute window" counts requests, and does not say it leaves out the ones it refused): a client that meets
    #: 429s also keeps the window full for the others
    window_counts_refused: bool = False
    #: divides the long windows (``window_s``, ``quota_window_s``) and token lifetimes, so a test can make
    #: "300 per 5 minutes" "300 per 3 seconds" with 100; per-second rates and latencies stay real time
    time_factor: float = 1.0
    #: (min, max) ms: a write is committed — and listed — only this long after its body was read, drawn per
    #: write; its answer comes after the commit, so a client that gives up sooner has lost the answer of a write
    #: that is still to land (HaloPSA, Visma Core cost PATCHes; (0, 0) = committed at once)
    commit_delay_ms: tuple[float, float] = (0.0, 0.0)
    #: Visma Core: drafts and entries numbered in sequences of their own (seed 003 gives each create its own
    #: `Id` and says nothing of one sequence for both: a real server may number them apart)
    separate_ids: bool = False
    #: Visma Core: another writer (a broker in Core) adds 100.00 to a cost's Amount right after each PATCH of it
    #: (its answer shows the PATCH's values): a client that looks after a lost answer must not overwrite that
    other_writer: bool = False
    #: PayorCRM: the shape of an upload's 2xx answer (seed 004 documents none): "results" (``{"uploaded",
    #: "results": [...]}``), "records" (a bare array of the stored records), "records-no-id" (the same without
    #: ids), "ids" (a bare array of ``{"id": n}``, naming no key), "count" (``{"success": true, "count": n}``) or
    #: "empty" (200 with no body)
    answer: str = "results"
    #: answer every API call with a redirect (``redirect_status``) to the same path under this origin, as a
    #: moved or hijacked API would: a client must not carry its credentials there
    redirect_to: str | None = None
    redirect_status: int = 307
    #: answer a 429 without Retry-After, as some servers do: the client must find the pace itself
    no_retry_after: bool = False
    #: e-conomic: the number of the first draft entry created (entry numbers are the agreement's, shared by its
    #: journals: a journal's entries may begin millions above 1, and lie far apart)
    first_entry_number: int = 1
    #: e-conomic: how far apart new draft entries are numbered, upwards (1: one after the other). Seed 002 promises
    #: entry numbers only to be unique, and they are the agreement's: with its other journals busy, a run's own
    #: entries may lie thousands of numbers apart
    entry_number_step: int = 1
    #: e-conomic: an eventually consistent count — a journal's count answers what the journal held this many count
    #: calls before (or at the first), so a new entry is counted late, from that many counts on (0 = at once, at
    #: most 1000); listings show it at once. HaloPSA: a listing's `record_count` leaves out the resource's this
    #: many newest records (a count that lags), which the listing itself shows
    count_lag: int = 0
    #: HaloPSA: a listing asked for without `pageinate=true` is answered as a server that pages by default does,
    #: `{"record_count": N, "<plural>": [the first this many records]}` (0 = an array of every record)
    unpaged_page: int = 0
    #: HaloPSA: a listing (its records and its record_count) leaves out the records created less than this many ms ago,
    #: as a read replica some seconds behind the primary does; a look by id finds them at once (0 = off)
    list_lag_ms: int = 0
    #: e-conomic, HaloPSA: a create's answer lists the records it made in the reverse of the request's order (the
    #: APIs' documents promise no order: a client must not pair them by place)
    reversed_answers: bool = False
    #: HaloPSA: a create (no `id`) naming a record the resource holds, in other letter case or spacing, updates that
    #: record, as a database comparing names without case does (the documents say nothing of it)
    names_folded: bool = False
    #: e-conomic: a bulk create's answer lists its first entry's number again in place of its last entry's (a
    #: record listed twice, one left out; seed 002 gives each created entry its own): a client must not give two
    #: lines one entry
    repeated_ids: bool = False
    #: e-conomic: a listing of draft entries whose filter holds an `$in:` list is answered 503 (a query the server
    #: cannot serve), every other listing as ever: a client's look for a call's entries by their vouchers fails
    in_lists_fail: bool = False
    #: e-conomic: each new draft entry gets a unique number drawn at random (from ``seed``) below 10,000,000, not the
    #: next one up (seed 002 calls entryNumber "the unique number of the entry" and promises no order): a client
    #: must not take a number at or below a journal's newest for one there before the run
    scattered_numbers: bool = False
    #: e-conomic: a 400's `errors` name each entry by its index counted from 1, not from 0 (seed 002 gives `errors`
    #: as `[ ]`, its items unsaid: a server written from it may count either way)
    errors_from_one: bool = False
    #: e-conomic: a 400's `errors` keep to no one numbering: "by-kind" counts an account's errors (…AccountNotFound)
    #: the other way from the rest, "by-call" counts the first refusal as `errors_from_one` says and every later one
    #: the other way ("": one numbering). A client must not read one answer by what another showed
    errors_numbering: str = ""
    #: e-conomic: a refused create stores the entries before its first bad one, and answers its 400 all the same (a
    #: server that writes as it checks; seed 002 never says a refusal stores nothing): a voucher whose line 1 came
    #: before the bad line 2 is half in the journal, and a client must not take its entries for another writer's
    refusal_stores_before_bad: bool = False
    #: PayorCRM: an upload of more than one record stores its first half only and answers for those, in the shape
    #: ``answer`` names (a server that stops part way): a client must not take the upload's other rows as stored
    half_stored: bool = False
    #: PayorCRM: invoices are keyed by invoiceNumber: an invoice's line replaces the line stored before it, and is
    #: answered with that record's id (an accounts-receivable platform that holds an invoice as one record; seed 004
    #: documents no key): every answer's count and ids are as a server holding every line would give them
    invoice_lines_replaced: bool = False


class RollingWindow:
    """At most ``limit`` events per rolling ``window_s``, counted in whole-second buckets.

    Memory is bounded by the window length in seconds, not by the number of events.
    """

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._buckets: deque[list[float]] = deque()  # [bucket start second, count]
        self._total = 0

    def _expire(self, now: float) -> None:
        while self._buckets and self._buckets[0][0] + 1 + self.window_s <= now:
            self._total -= int(self._buckets.popleft()[1])

    def try_acquire(self) -> float:
        """Take a slot and return 0, or return the seconds until one frees (nothing taken)."""
        now = self._clock()
        self._expire(now)
        if self._total >= self.limit:
            return max(self._buckets[0][0] + 1 + self.window_s - now, 0.001)
        second = math.floor(now)
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1][1] += 1
        else:
            self._buckets.append([second, 1])
        self._total += 1
        return 0.0


class SlidingWindow:
    """At most ``limit`` requests in any rolling ``window_s``, exact (keeps at most ``limit`` timestamps). With
    `counts_refused`, a request refused takes a place as one taken does: the window holds the latest ``limit``."""

    def __init__(
        self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic, counts_refused: bool = False
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._times: deque[float] = deque()
        self._counts_refused = counts_refused

    def try_acquire(self) -> float:
        """0.0 where the request is taken (it holds a place), else the seconds until the earliest place frees."""
        now = self._clock()
        times = self._times
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if len(times) >= self.limit:
            wait = times[0] + self.window_s - now
            if self._counts_refused:
                times.popleft()
                times.append(now)
            return wait
        times.append(now)
        return 0.0


class SlidingRate(SlidingWindow):
    """At most ``rate`` requests in any 1-second window, exact."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        # a rate below 1/s becomes "1 request per 1/rate seconds" so the window never holds zero
        limit = max(1, int(rate))
        super().__init__(limit, limit / rate, clock)


class SandboxStats:
    """Counters served at ``GET /_sandbox/stats``; bounded memory whatever the run length."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.requests = 0
        self.by_status: dict[str, int] = {}
        self.faults = {
            "http_5xx": 0,
            "drop": 0,
            "slow": 0,
            "rate_limited": 0,
            "window": 0,
            "quota": 0,
            "delayed_commit": 0,
            "redirect": 0,
        }
        self.in_flight = 0
        self.max_in_flight = 0
        self.max_per_second = 0
        self._last_second: deque[float] = deque()  # arrivals in the last second only
        self.started = clock()
        self._arrivals: dict[str, list[float]] = {}  # method → [requests, first arrival, last arrival]
        self._flights: dict[str, list[int]] = {}  # method → [in flight now, the most at once]

    def arrived(self, method: str) -> None:
        now = self._clock()
        self.requests += 1
        seen = self._arrivals.setdefault(method, [0, now, now])
        seen[0] += 1
        seen[2] = now
        window = self._last_second
        window.append(now)
        while window[0] <= now - 1.0:
            window.popleft()
        self.max_per_second = max(self.max_per_second, len(window))

    def flight(self, method: str) -> list[int]:
        """A request of `method` is being handled: its [in flight now, the most at once], counted up (the caller
        counts it down once answered)."""
        flight = self._flights.setdefault(method, [0, 0])
        flight[0] += 1
        flight[1] = max(flight[1], flight[0])
        return flight

    def answered(self, status: int) -> None:
        key = str(status)
        self.by_status[key] = self.by_status.get(key, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_status": dict(self.by_status),
            "faults": dict(self.faults),
            "max_requests_per_second": self.max_per_second,
            # per method, the requests and the seconds from the first arrival to the last: the pace the API saw
            "by_method": {
                m: {
                    "requests": int(n),
                    "span_s": round(last - first, 6),
                    "max_in_flight": self._flights.get(m, [0, 0])[1],
                }
                for m, (n, first, last) in self._arrivals.items()
            },
            "arrivals_span_s": round(
                max((a[2] for a in self._arrivals.values()), default=0.0)
                - min((a[1] for a in self._arrivals.values()), default=0.0),
                6,
            ),
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "uptime_s": round(self._clock() - self.started, 3),
        }


#: every answer's encoder: a number kept exactly (a Decimal) goes out as the JSON number it is, not as text
_problem_encoder = msgspec.json.Encoder(decimal_format="number")


def trace_id() -> str:
    return uuid.uuid4().hex


def utc_now() -> str:
    """Now in UTC as the APIs write it: ``YYYY-MM-DDTHH:MM:SS``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    error_code: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    instance: str = "",
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An RFC 7807 problem+json answer shaped like e-conomic's error body."""
    body = {
        "type": f"https://httpstatuses.io/{status}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "errors": errors or [],
        "traceId": trace_id(),
        "errorCode": error_code or "",
        "traceTimeUtc": utc_now(),
    }
    return web.Response(
        status=status,
        body=_problem_encoder.encode(body),
        content_type="application/problem+json",
        headers=headers,
    )


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, body=_problem_encoder.encode(payload), content_type="application/json", headers=headers
    )


def message_response(status: int, text: str, errors: list[dict[str, Any]] | None = None) -> web.Response:
    """The plain error body of APIs without problem+json: ``{"message": ...}``, with ``errors`` when given."""
    body: dict[str, Any] = {"message": text}
    if errors is not None:
        body["errors"] = errors
    return json_response(body, status)


#: the 429 for a request past the rolling window: (request, seconds until a slot frees) → answer
WindowRefusal = Callable[[web.Request, float], web.Response]


class Sandbox:
    """One sandbox's fault injector, limits and stats; its two middlewares wrap the app's own."""

    def __init__(
        self,
        options: SandboxOptions,
        window_refusal: WindowRefusal | None = None,
        never_dropped: frozenset[str] = frozenset(),
    ) -> None:
        self.options = options
        self.never_dropped = never_dropped
        self.stats = SandboxStats()
        # one seeded generator for every fault decision, so a seed replays the same faults
        self.rng = random.Random(options.seed)
        self.rate = SlidingRate(options.rate_limit) if options.rate_limit > 0 else None
        scale, window = options.time_factor, options.window_limit or 0
        self.window = (
            SlidingWindow(window, options.window_s / scale, counts_refused=options.window_counts_refused)
            if window > 0
            else None
        )
        self.window_refusal = window_refusal or _window_problem
        self.quota = (
            RollingWindow(options.daily_quota, options.quota_window_s / scale) if options.daily_quota > 0 else None
        )

    def _chance(self, rate: float) -> bool:
        # draw only when the fault is on, so turning one fault on does not shift the others' sequence
        return rate > 0 and self.rng.random() < rate

    @web.middleware
    async def outer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_sandbox/"):
            return await handler(request)
        stats = self.stats
        stats.arrived(request.method)
        if self.options.redirect_to:
            stats.faults["redirect"] += 1
            stats.answered(self.options.redirect_status)
            location = self.options.redirect_to.rstrip("/") + request.path_qs
            return web.Response(status=self.options.redirect_status, headers={"Location": location})
        refused = self._refuse(request)
        if refused is not None:
            stats.answered(refused.status)
            return refused
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        flight = stats.flight(request.method)
        try:
            try:
                resp = await handler(request)
            except web.HTTPException as exc:
                # router 404/405 and friends: answer in the same problem+json shape as everything else
                resp = problem(exc.status, exc.reason, exc.text or exc.reason, instance=request.path)
        finally:
            stats.in_flight -= 1
            flight[0] -= 1
        droppable = request.method in WRITE_METHODS and request.path not in self.never_dropped
        if droppable and self._chance(self.options.drop_rate):
            # The write is committed (and, where the API has idempotency, its answer cached) — now the
            # client gets nothing. Aborting makes aiohttp's write of the response fail with a
            # ConnectionError, which it swallows, so not a byte of the answer leaves.
            stats.faults["drop"] += 1
            if request.transport is not None:
                request.transport.abort()
            return resp
        stats.answered(resp.status)
        return resp

    def _refuse(self, request: web.Request) -> web.Response | None:
        """The answer for a request turned away before any work, or None to let it through."""
        if self.rate is not None and (wait := self.rate.try_acquire()) > 0:
            self.stats.faults["rate_limited"] += 1
            return without_retry_after(
                self.options, _too_many(request, wait, "Rate limit exceeded.", "RateLimitExceeded")
            )
        if self.window is not None and (wait := self.window.try_acquire()) > 0:
            self.stats.faults["window"] += 1
            return without_retry_after(self.options, self.window_refusal(request, wait))
        if self.quota is not None and (wait := self.quota.try_acquire()) > 0:
            self.stats.faults["quota"] += 1
            return _too_many(request, wait, "Daily call quota exhausted.", "QuotaExceeded")
        if self._chance(self.options.fault_rate):
            self.stats.faults["http_5xx"] += 1
            status = self.rng.choice((500, 503))
            title = "Internal Server Error" if status == 500 else "Service Unavailable"
            return problem(status, title, "Injected fault: nothing was done.", instance=request.path)
        return None

    def commit_delay_s(self) -> float:
        """How long the write being handled takes to commit, in seconds (0: at once), drawn from
        ``commit_delay_ms`` by the seeded generator."""
        low, high = self.options.commit_delay_ms
        if high <= 0:
            return 0.0
        self.stats.faults["delayed_commit"] += 1
        return self.rng.uniform(low, high) / 1000

    @web.middleware
    async def delay(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_sandbox/"):
            return await handler(request)
        wait_ms = self.options.latency_ms
        if self._chance(self.options.slow_rate):
            self.stats.faults["slow"] += 1
            wait_ms += self.options.slow_ms
        if wait_ms > 0:
            if request.can_read_body:
                # the body has arrived before the server works on it: a client that goes away now (killed, timed
                # out) leaves a call the server still carries out, as a real one does. aiohttp keeps the body
                # read here for the handler; unread, a lost connection would fail the handler's read instead
                await request.read()
            await asyncio.sleep(wait_ms / 1000)
        return await handler(request)


def retry_after(wait_s: float) -> str:
    """A Retry-After value: whole seconds, at least 1, never earlier than the slot frees."""
    return str(max(1, math.ceil(wait_s)))


def _window_problem(request: web.Request, wait_s: float) -> web.Response:
    return _too_many(request, wait_s, "Rolling window limit reached.", "RateLimitExceeded")


def _too_many(request: web.Request, wait_s: float, detail: str, code: str) -> web.Response:
    seconds = retry_after(wait_s)
    return problem(
        429,
        "Too Many Requests",
        f"{detail} Retry after {seconds} s.",
        error_code=code,
        instance=request.path,
        headers={"Retry-After": seconds},
    )


def without_retry_after(options: SandboxOptions, answer: web.Response) -> web.Response:
    """The 429 `answer` as it goes out: without its Retry-After when `options.no_retry_after`."""
    if options.no_retry_after:
        answer.headers.pop("Retry-After", None)
    return answer


SANDBOX_KEY = web.AppKey("sandbox", Sandbox)
StatsExtra = Callable[[], dict[str, Any]]


def new_app(
    options: SandboxOptions,
    *middlewares: Middleware,
    extra_stats: StatsExtra | None = None,
    client_max_size: int = 1024**2,
    window_refusal: WindowRefusal | None = None,
    never_dropped: frozenset[str] = frozenset(),
) -> web.Application:
    """An application with the sandbox's limits and faults around ``middlewares`` and the stats route.

    ``extra_stats`` adds sandbox-specific numbers (e.g. how many records the store holds) to the stats;
    ``client_max_size`` is the largest request body accepted (larger ones get 413); ``window_refusal``
    answers a request past the rolling window in the API's own words (default: a problem+json 429);
    ``never_dropped`` are paths whose POSTs store nothing (token endpoints), so "commit then drop" skips them.
    """
    sandbox = Sandbox(options, window_refusal, never_dropped)
    app = web.Application(middlewares=[sandbox.outer, *middlewares, sandbox.delay], client_max_size=client_max_size)
    app[SANDBOX_KEY] = sandbox

    async def stats(request: web.Request) -> web.Response:
        payload = sandbox.stats.to_dict()
        if extra_stats is not None:
            payload.update(extra_stats())
        return json_response(payload)

    app.router.add_get(STATS_PATH, stats)
    return app


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags every ``bulkload sandbox TARGET`` accepts."""
    defaults = SandboxOptions()
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument(
        "--port", type=number(int, 0, 65535), default=0, help="port (default 0: a free port, printed at start)"
    )
    parser.add_argument(
        "--latency-ms",
        type=number(float, 0),
        default=defaults.latency_ms,
        help=f"milliseconds added to every answer (default {defaults.latency_ms:g})",
    )
    parser.add_argument(
        "--rate-limit",
        type=number(float, 0),
        default=defaults.rate_limit,
        help=f"requests/s, 0 = off (default {defaults.rate_limit:g})",
    )
    parser.add_argument(
        "--daily-quota",
        type=number(int, 0),
        default=defaults.daily_quota,
        help=f"calls per 24 h, 0 = off (default {defaults.daily_quota})",
    )
    parser.add_argument(
        "--fault-rate",
        type=number(float, 0, 1),
        default=defaults.fault_rate,
        help=f"fraction answered 5xx (default {defaults.fault_rate:g})",
    )
    parser.add_argument(
        "--drop-rate",
        type=number(float, 0, 1),
        default=defaults.drop_rate,
        help=f"fraction of writes dropped (default {defaults.drop_rate:g})",
    )
    parser.add_argument(
        "--slow-rate",
        type=number(float, 0, 1),
        default=defaults.slow_rate,
        help=f"fraction answered --slow-ms late (default {defaults.slow_rate:g})",
    )
    parser.add_argument(
        "--slow-ms",
        type=number(float, 0),
        default=defaults.slow_ms,
        help=f"how late a slow answer is (default {defaults.slow_ms:g})",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the faults' randomness (default: random)")
    parser.add_argument("--opaque-errors", action="store_true", help="bulk 400s do not name the bad items")
    parser.add_argument(
        "--page-size",
        type=number(int, 1),
        default=defaults.page_size,
        help=f"records a listing page (default {defaults.page_size})",
    )
    parser.add_argument(
        "--fixture", default=None, metavar="PATH", help="JSON file with the sandbox's own starting data"
    )
    parser.add_argument(
        "--window-limit",
        type=number(int, 0),
        default=None,
        metavar="N",
        help="requests per rolling --window-s (default: the API's published limit, HaloPSA 300; 0 = off)",
    )
    parser.add_argument(
        "--window-s",
        type=number(float, 0, above=True),
        default=defaults.window_s,
        help=f"the rolling window's length (default {defaults.window_s:g})",
    )
    parser.add_argument(
        "--separate-ids", action="store_true", help="visma-core: number drafts and entries in separate sequences"
    )
    parser.add_argument(
        "--other-writer",
        action="store_true",
        help="visma-core: another writer adds 100.00 to a cost's Amount right after each PATCH of it",
    )
    parser.add_argument(
        "--answer",
        choices=ANSWERS,
        default=defaults.answer,
        help="payorcrm: the shape of an upload's answer (default results)",
    )
    parser.add_argument(
        "--time-factor",
        type=number(float, 0, above=True),
        default=defaults.time_factor,
        help="divides the long windows and token lifetimes (100: 5 minutes pass in 3 s; "
        f"default {defaults.time_factor:g})",
    )
    parser.add_argument(
        "--commit-delay-ms",
        type=_delay_range,
        default=defaults.commit_delay_ms,
        metavar="MIN,MAX",
        help="HaloPSA, Visma Core (cost PATCHes): each write commits (and lists) a random MIN..MAX ms after its "
        "body was read, and answers "
        "then: a client timeout below MAX loses answers of writes still to land (default 0,0: at once)",
    )
    parser.add_argument(
        "--redirect-to",
        default=None,
        metavar="ORIGIN",
        help="answer every API call with a redirect to the same path under ORIGIN",
    )
    parser.add_argument(
        "--no-retry-after", action="store_true", help="answer 429s without Retry-After: the client finds the pace"
    )
    parser.add_argument(
        "--window-counts-refused",
        action="store_true",
        help="a request refused past the rolling window takes a place in it too (its 429s keep it full)",
    )
    parser.add_argument(
        "--first-entry-number",
        type=number(int, 1, 2**31 - 1),
        default=defaults.first_entry_number,
        metavar="N",
        help="economic: the number of the first draft entry created (default 1)",
    )
    parser.add_argument(
        "--entry-number-step",
        type=number(int, 1, 2**24),
        default=defaults.entry_number_step,
        metavar="N",
        help="economic: number new draft entries N apart, upwards, as where the agreement's other journals take "
        "the numbers between (default 1)",
    )
    parser.add_argument(
        "--count-lag",
        type=number(int, 0, 1000),
        default=defaults.count_lag,
        metavar="N",
        help="economic: a journal's count answers what it held N count calls before, an eventually consistent "
        "count; halopsa: a listing's record_count leaves out the N newest records (default 0)",
    )
    parser.add_argument(
        "--list-lag-ms",
        type=number(int, 0, 3_600_000),
        default=defaults.list_lag_ms,
        metavar="MS",
        help="halopsa: a listing leaves out (and does not count) the records created less than MS ms ago, as a read "
        "replica behind the primary does; economic: a listing leaves out the entries created less than MS ms ago, "
        "which a journal's count counts at once (default 0)",
    )
    parser.add_argument(
        "--unpaged-page",
        type=number(int, 0, 2**31 - 1),
        default=defaults.unpaged_page,
        metavar="N",
        help="halopsa: a listing asked without pageinate answers {record_count, <plural>: the first N records} "
        "(default 0: an array of every record)",
    )
    parser.add_argument(
        "--reversed-answers",
        action="store_true",
        help="economic, halopsa: answer a create's records in the reverse of the request's order (none is promised)",
    )
    parser.add_argument(
        "--names-folded",
        action="store_true",
        help="halopsa: a create naming a record held in other letter case or spacing updates that record",
    )
    parser.add_argument(
        "--repeated-ids",
        action="store_true",
        help="economic: a bulk create's answer lists its first entry's number again in place of its last's",
    )
    parser.add_argument(
        "--in-lists-fail",
        action="store_true",
        help="economic: answer 503 to a listing of draft entries whose filter holds an $in: list",
    )
    parser.add_argument(
        "--scattered-numbers",
        action="store_true",
        help="economic: number new draft entries at random below 10,000,000 (unique; no order), not upwards",
    )
    parser.add_argument(
        "--errors-from-one",
        action="store_true",
        help="economic: a 400's errors name each entry by its index counted from 1, not from 0",
    )
    parser.add_argument(
        "--errors-numbering",
        choices=ERRORS_NUMBERINGS,
        default=defaults.errors_numbering,
        help="economic: count an account's errors the other way from the rest (by-kind), or every refusal after the "
        "first the other way (by-call); which way: --errors-from-one",
    )
    parser.add_argument(
        "--refusal-stores-before-bad",
        action="store_true",
        help="economic: a refused create stores the entries before its first bad one, and answers the 400",
    )
    parser.add_argument(
        "--half-stored",
        action="store_true",
        help="payorcrm: an upload of more than one record stores its first half only, and answers for those",
    )
    parser.add_argument(
        "--invoice-lines-replaced",
        action="store_true",
        help="payorcrm: invoices keyed by invoiceNumber: a line replaces the one stored before, answered with its id",
    )
    parser.add_argument(
        "--redirect-status",
        type=int,
        default=defaults.redirect_status,
        choices=(301, 302, 303, 307, 308),
        help="the redirect's status (default 307)",
    )


def number(
    kind: type[int | float], low: float, high: float | None = None, *, above: bool = False
) -> Callable[[str], float]:
    """An argparse `type`: a finite number of `kind` from `low` (greater than it with `above`) up to `high`; any
    other is refused with exit 2 and the range (a negative latency or a fault rate of 2 was taken as given, and
    a time factor of 0 or a port past 65535 ended in an internal error)."""
    if above:
        said = f"a number greater than {low:g}"
    elif high is None:
        said = f"a number of at least {low:g}"
    else:
        said = f"a number from {low:g} to {high:g}"
    if kind is int:
        said = said.replace("a number", "a whole number")

    def parse(value: str) -> float:
        try:
            n = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{said}, not {value!r}") from None
        if not math.isfinite(n) or n < low or (above and n == low) or (high is not None and n > high):
            raise argparse.ArgumentTypeError(f"{said}, not {value!r}")
        return n

    return parse


def _delay_range(value: str) -> tuple[float, float]:
    """``MIN,MAX`` (or one number for both) in milliseconds."""
    try:
        parts = [float(p) for p in value.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"MIN,MAX in milliseconds, not {value!r}") from None
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not 0 <= parts[0] <= parts[1]:
        raise argparse.ArgumentTypeError(f"MIN,MAX with 0 <= MIN <= MAX, not {value!r}")
    return parts[0], parts[1]


def options_from_args(ns: argparse.Namespace) -> SandboxOptions:
    return SandboxOptions(
        latency_ms=ns.latency_ms,
        rate_limit=ns.rate_limit,
        daily_quota=ns.daily_quota,
        fault_rate=ns.fault_rate,
        drop_rate=ns.drop_rate,
        slow_rate=ns.slow_rate,
        slow_ms=ns.slow_ms,
        seed=ns.seed,
        opaque_errors=ns.opaque_errors,
        page_size=ns.page_size,
        fixture=ns.fixture,
        window_limit=ns.window_limit,
        window_s=ns.window_s,
        time_factor=ns.time_factor,
        commit_delay_ms=ns.commit_delay_ms,
        separate_ids=ns.separate_ids,
        other_writer=ns.other_writer,
        answer=ns.answer,
        redirect_to=ns.redirect_to,
        redirect_status=ns.redirect_status,
        no_retry_after=ns.no_retry_after,
        window_counts_refused=ns.window_counts_refused,
        first_entry_number=ns.first_entry_number,
        entry_number_step=ns.entry_number_step,
        count_lag=ns.count_lag,
        unpaged_page=ns.unpaged_page,
        list_lag_ms=ns.list_lag_ms,
        reversed_answers=ns.reversed_answers,
        names_folded=ns.names_folded,
        repeated_ids=ns.repeated_ids,
        in_lists_fail=ns.in_lists_fail,
        scattered_numbers=ns.scattered_numbers,
        errors_from_one=ns.errors_from_one,
        errors_numbering=ns.errors_numbering,
        refusal_stores_before_bad=ns.refusal_stores_before_bad,
        half_stored=ns.half_stored,
        invoice_lines_replaced=ns.invoice_lines_replaced,
    )


def read_fixture(options: SandboxOptions) -> Any:
    """The decoded JSON document named by ``options.fixture``, or None when there is none."""
    if options.fixture is None:
        return None
    return msgspec.json.decode(Path(options.fixture).read_bytes())


def is_sandbox_path(request: web.Request) -> bool:
    """True for the sandbox's own routes (stats, test read-backs), which no real API has."""
    return request.path.startswith("/_sandbox/")


def auth_middleware(accept: Callable[[web.Request], bool], refuse: Callable[[web.Request], web.Response]) -> Middleware:
    """Answer ``refuse(request)`` to every API call ``accept`` turns down; the sandbox's routes are open."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_sandbox_path(request) or accept(request):
            return await handler(request)
        return refuse(request)

    return middleware


T = TypeVar("T")
P = TypeVar("P")
#: (field, message) of one item that failed its types; the field is "" when the item itself is wrong
FieldProblem = tuple[str, str]


_untyped: msgspec.json.Decoder[Any] = msgspec.json.Decoder()


class BodyError(ValueError):
    """The request body is not JSON (`not_json`), or not the shape the endpoint takes."""

    def __init__(self, message: str, *, not_json: bool = False) -> None:
        super().__init__(message)
        self.not_json = not_json


def field_problem(exc: msgspec.ValidationError) -> FieldProblem:
    """The field and a plain-words message for a msgspec type error on one object."""
    message = str(exc)
    if message.startswith("Object missing required field `"):
        return message.split("`")[1], "is required"
    field = message.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in message else ""
    field = field.split(".", 1)[0].split("[", 1)[0]
    expected = message.split("`")[1] if message.startswith("Expected `") else ""
    words = {
        "int": "must be an integer",
        "str": "must be a string",
        "bool": "must be true or false",
        "object": "must be an object",
        "array": "must be an array",
    }
    plain = words.get(expected.removesuffix(" | null"))
    if plain is None and "date" in message:
        plain = "must be an ISO date (YYYY-MM-DD)"
    return field, plain or message.split(" - at ", 1)[0]


def decode_items(
    body: bytes,
    decoder: msgspec.json.Decoder[list[T]],
    item: type[T],
    problem: Callable[[msgspec.ValidationError], P],
    untyped: msgspec.json.Decoder[Any] = _untyped,
) -> tuple[list[T | None], list[P | None]]:
    """The items of an array body, index for index with each one's type problem (None where it is fine),
    described by `problem`.

    The typed decoder does the usual case in one pass; only a body with a bad item is looked at item by
    item, so every bad item is found, not just the first: `untyped` reads it for that, and must read
    numbers as `decoder` does (e.g. both with ``float_hook=Decimal``). BodyError when the body is not a
    JSON array.
    """
    try:
        items: list[T | None] = list(decoder.decode(body))
        return items, [None] * len(items)
    except msgspec.ValidationError:
        pass  # find every bad item below, not just the first
    except msgspec.DecodeError as exc:
        raise BodyError(f"the body is not valid JSON: {exc}", not_json=True) from None
    try:
        # a type error can come before a syntax error further on: the body may still not be JSON
        raw = untyped.decode(body)
    except msgspec.DecodeError as exc:
        raise BodyError(f"the body is not valid JSON: {exc}", not_json=True) from None
    if not isinstance(raw, list):
        raise BodyError("the body must be a JSON array")
    problems: list[P | None] = []
    items = []
    for value in raw:
        try:
            items.append(msgspec.convert(value, item))
            problems.append(None)
        except msgspec.ValidationError as exc:
            items.append(None)
            problems.append(problem(exc))
    return items, problems
