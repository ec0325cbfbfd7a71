"""A tester's own rate-limited servers (t32c), written from the seed documents only: Visma Core bookkeeping
entries (seed 003) and HaloPSA XeroDetails with OAuth2 client credentials (seed 001 + seeds/README.md), on
127.0.0.1, each with a limiter that differs from bulkload's sandboxes, and counting what arrives."""

from __future__ import annotations

import asyncio
import collections
import email.utils
import itertools
import json
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web


@dataclass
class Limiter:
    """kind: "rolling" (N per W s, sliding log), "fixed" (N per wall-clock-aligned W s), "bucket" (rate N per s,
    capacity burst), "none". counts_refused: a refused call takes a place too (rolling only)."""

    kind: str = "rolling"
    n: float = 10
    w: float = 1.0
    burst: float = 1.0
    counts_refused: bool = False
    log: collections.deque[float] = field(default_factory=collections.deque)
    fixed_key: float = -1.0
    fixed_count: int = 0
    tokens: float = -1.0
    last: float = 0.0

    def admit(self, now: float, wall: float) -> tuple[bool, float]:
        """(accepted, seconds until a place frees)."""
        if self.kind == "none":
            return True, 0.0
        if self.kind == "rolling":
            while self.log and self.log[0] <= now - self.w:
                self.log.popleft()
            if len(self.log) < self.n:
                self.log.append(now)
                return True, 0.0
            wait = self.log[0] + self.w - now
            if self.counts_refused:
                self.log.append(now)
            return False, wait
        if self.kind == "fixed":
            key = wall // self.w
            if key != self.fixed_key:
                self.fixed_key, self.fixed_count = key, 0
            if self.fixed_count < self.n:
                self.fixed_count += 1
                return True, 0.0
            return False, (key + 1) * self.w - wall
        if self.kind == "bucket":
            if self.tokens < 0:
                self.tokens, self.last = self.burst, now
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.n)
            self.last = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return True, 0.0
            return False, (1.0 - self.tokens) / self.n
        raise ValueError(self.kind)


@dataclass
class Hit:
    t: float
    method: str
    path: str
    status: int
    note: str = ""


class Server:
    """One aiohttp app in a thread of its own. `limiters`: {"*": Limiter} or per method {"GET": .., "POST": ..}.
    `retry_after`: None, "int", "decimal", "date", "zero". `change`: (after_s, {"*": Limiter}) swaps the limits
    that many seconds after the first limited call (an admin lowering it). Token life `token_life` s (HaloPSA).
    Each taken call is answered `latency_s` later, plus up to `latency_spread_s` more (uniform, seeded)."""

    def __init__(
        self,
        limiters: dict[str, Limiter] | None = None,
        *,
        retry_after: str | None = "int",
        date_offset_s: float = 0.0,
        html_429: bool = False,
        change: tuple[float, dict[str, Limiter]] | None = None,
        token_life: float = 3600.0,
        token_latency_s: float = 0.0,
        revoke_at: tuple[float, ...] = (),
        latency_s: float = 0.0,
        latency_spread_s: float = 0.0,
        limit_token_calls: bool = True,
        rate_headers: bool = False,
    ) -> None:
        self.limiters = limiters or {"*": Limiter("none")}
        self.retry_after = retry_after
        self.date_offset_s = date_offset_s
        self.html_429 = html_429
        self.change = change
        self.token_life = token_life
        self.token_latency_s = token_latency_s
        self.revoke_at = list(revoke_at)
        self.latency_s = latency_s
        self.latency_spread_s = latency_spread_s
        self._spread = random.Random(61)
        self.limit_token_calls = limit_token_calls
        self.rate_headers = rate_headers
        self.hits: list[Hit] = []
        self.entries: list[dict[str, Any]] = []
        self.records: list[dict[str, Any]] = []
        self.tokens: dict[str, float] = {}  # token -> expires at (monotonic)
        self.revoked: set[str] = set()
        self.expired_used = 0
        self.t0: float | None = None
        self._ids = itertools.count(1)
        self._tok = itertools.count(1)
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    # --- lifecycle -----------------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        fut = asyncio.run_coroutine_threadsafe(self._stop(), self._loop)
        fut.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _stop(self) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        app = web.Application(middlewares=[self._limit])
        app.router.add_get("/flow/api/Integrations/Bookkeeping/AccountingCostTypes/{t}", self.definition)
        app.router.add_post("/flow/api/Integrations/Bookkeeping/Cases/{case}/Entries", self.entry)
        app.router.add_post("/auth/token", self.token)
        app.router.add_get("/api/{res}", self.listing)
        app.router.add_post("/api/{res}", self.create)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:  # its self-pipe's sockets too: left open, the collector warns of them inside a later test
            self._loop.close()

    # --- limits --------------------------------------------------------------------------------------------
    def _limiter(self, method: str, now: float) -> Limiter:
        assert self.t0 is not None
        if self.change is not None and now - self.t0 >= self.change[0]:
            self.limiters, self.change = self.change[1], None
        return self.limiters.get(method) or self.limiters["*"]

    def _date(self, wall: float) -> str:
        return email.utils.formatdate(wall + self.date_offset_s, usegmt=True)

    @web.middleware
    async def _limit(self, request: web.Request, handler: Any) -> web.StreamResponse:
        now, wall = time.monotonic(), time.time()
        if self.t0 is None:
            self.t0 = now
        limited = self.limit_token_calls or request.path != "/auth/token"
        if limited:
            ok, wait = self._limiter(request.method, now).admit(now, wall)
        else:
            ok, wait = True, 0.0
        if not ok:
            self.hits.append(Hit(now, request.method, request.path, 429))
            headers = {"Date": self._date(wall)}
            if self.retry_after == "int":
                headers["Retry-After"] = str(max(1, int(-(-wait // 1))))
            elif self.retry_after == "decimal":
                headers["Retry-After"] = f"{wait:.3f}"
            elif self.retry_after == "zero":
                headers["Retry-After"] = "0"
            elif self.retry_after == "date":
                headers["Retry-After"] = email.utils.formatdate(wall + self.date_offset_s + wait + 1, usegmt=True)
            if self.html_429:
                return web.Response(
                    status=429,
                    text="<html><body><h1>Too Many Requests</h1></body></html>",
                    content_type="text/html",
                    headers=headers,
                )
            return web.json_response({"message": "Rate Limit Reached"}, status=429, headers=headers)
        await request.read()
        if self.latency_s or self.latency_spread_s:
            await asyncio.sleep(self.latency_s + self._spread.uniform(0.0, self.latency_spread_s))
        response: web.StreamResponse = await handler(request)
        self.hits.append(Hit(now, request.method, request.path, response.status, getattr(request, "note", "")))
        response.headers["Date"] = self._date(wall)
        return response

    # --- auth ----------------------------------------------------------------------------------------------
    def _bearer(self, request: web.Request) -> web.Response | None:
        """None when the bearer token is good; else a 401 (and the expired use counted)."""
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return web.json_response({"error": "invalid_token"}, status=401)
        tok = auth[7:]
        now = time.monotonic()
        if self.t0 is not None:
            while self.revoke_at and now - self.t0 >= self.revoke_at[0]:
                self.revoke_at.pop(0)
                self.revoked.update(self.tokens)
        if tok not in self.tokens:
            return web.json_response({"error": "invalid_token"}, status=401)
        if tok in self.revoked:
            return web.json_response({"error": "invalid_token", "error_description": "revoked"}, status=401)
        if now >= self.tokens[tok]:
            self.expired_used += 1
            return web.json_response({"error": "invalid_token", "error_description": "expired"}, status=401)
        return None

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials" or form.get("client_secret") != "s3cr3t-CANARY":
            return web.json_response({"error": "invalid_client"}, status=401)
        issued = time.monotonic()
        tok = f"tok{next(self._tok)}-CANARYTOKEN"
        self.tokens[tok] = issued + self.token_life
        if self.token_latency_s:
            await asyncio.sleep(self.token_latency_s)
        return web.json_response({"access_token": tok, "token_type": "Bearer", "expires_in": self.token_life})

    # --- Visma Core (seed 003) -----------------------------------------------------------------------------
    async def definition(self, request: web.Request) -> web.Response:
        if (bad := self._bearer(request)) is not None:
            return bad
        return web.json_response({"Id": 17, "Name": "Fee", "IsDraft": False, "MergeOrderLinesToOneEntry": False})

    async def entry(self, request: web.Request) -> web.Response:
        if (bad := self._bearer(request)) is not None:
            return bad
        body = await request.json()
        n = next(self._ids)
        rec = {
            "Id": n,
            "CaseId": int(request.match_info["case"]),
            "EntryNumber": n,
            "EntryDate": body.get("EntryDate"),
            "Description": body.get("Description"),
            "Amount": body.get("Amount"),
            "EntrySource": "IntegrationsBookkeepingApi",
        }
        self.entries.append(rec)
        return web.json_response(rec, status=200)

    # --- HaloPSA XeroDetails (seed 001) --------------------------------------------------------------------
    async def listing(self, request: web.Request) -> web.Response:
        if (bad := self._bearer(request)) is not None:
            return bad
        res = request.match_info["res"]
        size = int(request.query.get("page_size", "1000"))
        page = int(request.query.get("page_no", "1"))
        recs = self.records[(page - 1) * size : page * size]
        return web.json_response({"record_count": len(self.records), res.lower(): recs})

    async def create(self, request: web.Request) -> web.Response:
        if (bad := self._bearer(request)) is not None:
            return bad
        body = await request.json()
        out = []
        for item in body:
            rec = {**item, "id": next(self._ids)}
            self.records.append(rec)
            out.append(rec)
        return web.json_response(out, status=201)

    # --- what it counted -----------------------------------------------------------------------------------
    def count(self, status: int | None = None, method: str | None = None) -> int:
        return sum(
            1 for h in self.hits if (status is None or h.status == status) and (method is None or h.method == method)
        )

    def most_in(self, w: float = 1.0, *, accepted_only: bool = False, method: str | None = None) -> int:
        """The most requests that arrived in any rolling `w` seconds."""
        counted = [h for h in self.hits if (not accepted_only or h.status != 429) and method in (None, h.method)]
        return most_in_window(sorted(h.t for h in counted), w)

    def span(self, method: str | None = None, path_part: str = "") -> float:
        ts = [h.t for h in self.hits if (method is None or h.method == method) and path_part in h.path]
        return max(ts) - min(ts) if ts else 0.0

    def summary(self) -> str:
        return json.dumps(
            {
                "requests": len(self.hits),
                "429": self.count(429),
                "401": self.count(401),
                "expired_used": self.expired_used,
                "entries": len(self.entries),
                "records": len(self.records),
                "span_s": round(self.span(), 2),
                "most_in_1s": self.most_in(1.0),
                "most_ok_in_1s": self.most_in(1.0, accepted_only=True),
            }
        )


def most_in_window(times: Sequence[float], width_s: float) -> int:
    """The most of `times` (seconds, ascending) in any rolling `width_s` seconds: what a server counting a rolling
    window saw at its fullest (also halo_server's)."""
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - width_s:
            j += 1
        best = max(best, i - j + 1)
    return best


def entries_csv(path: Any, n: int) -> Any:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("caseId,accountingCostType,amount,description,note,entryDate\n")
        for i in range(n):
            fh.write(f"{1000 + i},FEE,{i + 1}.25,Entry {i},note {i},2026-03-01\n")
    return path


def halo_csv(path: Any, n: int) -> Any:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("name,tenant_id,client_id\n")
        for i in range(n):
            fh.write(f"Row {i:04d},tenant-{i},client-{i}\n")
    return path
