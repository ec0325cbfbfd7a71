"""t23a: an independent HaloPSA server written from seeds 000/001 and the seeds README (not from bulkload's sandbox).

Rolling window counted on arrival at the server's own clock, OAuth2 client credentials with a short expires_in,
Retry-After as seconds / HTTP date / none, optional "other integration" spending the same window.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import csv
import email.utils
import html
import math
import random
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import anyio
from aiohttp import web
from limiting_servers import most_in_window


class State:
    def __init__(self, a: argparse.Namespace) -> None:
        self.a = a
        self.arrivals: collections.deque[float] = collections.deque()  # accepted, in the window
        self.all_accepted: list[float] = []
        self.records: dict[int, dict] = {}
        #: records deleted, each with until when a listing still shows it (`delete_lag_s`: a read replica)
        self.deleted: dict[int, tuple[dict, float]] = {}
        self.next_id = 1
        self.tokens: dict[str, float] = {}  # token -> expiry (server monotonic)
        self.stats = collections.Counter()
        self.expired_uses: list[dict] = []
        self.other_hits = 0
        self.lock = asyncio.Lock()

    def now(self) -> float:
        return time.monotonic()

    def window_admit(self, who: str) -> float | None:
        """None if admitted, else seconds until a place frees."""
        now = self.now()
        w, n = self.a.window_s, self.a.window_limit
        while self.arrivals and self.arrivals[0] <= now - w:
            self.arrivals.popleft()
        if len(self.arrivals) >= n:
            if self.a.count_rejected:
                self.arrivals.append(now)
            return self.arrivals[0] + w - now
        self.arrivals.append(now)
        if who == "client":
            self.all_accepted.append(now)
        return None


def make_app(a: argparse.Namespace) -> web.Application:
    st = State(a)

    def plural_of(path: str) -> str:
        return path.split("/")[2].lower()

    def too_many(wait: float) -> web.Response:
        st.stats["429"] += 1
        headers = {}
        skewed = time.time() + a.skew_s
        headers["Date"] = email.utils.formatdate(skewed, usegmt=True)
        if a.retry_after == "secs":
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        elif a.retry_after == "date":
            headers["Retry-After"] = email.utils.formatdate(skewed + max(1, math.ceil(wait)), usegmt=True)
        return web.Response(
            status=429,
            text=f"Rate Limit Reached - {a.window_limit} Requests per rolling {a.window_s} second window",
            headers=headers,
        )

    @web.middleware
    async def mw(request: web.Request, handler):
        if request.path.startswith("/_stats"):
            return await handler(request)
        st.stats["requests"] += 1
        if a.count_jitter_ms:
            await asyncio.sleep(random.uniform(0, a.count_jitter_ms) / 1000)
        wait = st.window_admit("client")
        if wait is not None:
            return too_many(wait)
        if a.latency_ms:
            await asyncio.sleep(a.latency_ms / 1000)
        resp = await handler(request)
        st.stats[str(resp.status)] += 1
        return resp

    async def token(request: web.Request) -> web.Response:
        if a.token_echo:
            raw = (await request.read()).decode()
            if a.token_echo == "form":
                return web.Response(status=400, text=f"invalid_request: could not parse {raw}")
            if a.token_echo == "json":
                esc = "".join(c if c.isalnum() or c in "-_." else f"\\u{ord(c):04X}" for c in a.client_secret)
                return web.Response(
                    status=401,
                    content_type="application/json",
                    text='{"error":"invalid_client","error_description":"unknown client secret ' + esc + '"}',
                )
            if a.token_echo == "html":
                return web.Response(
                    status=500,
                    content_type="text/html",
                    text=f"<html><body>Error for client_secret={html.escape(a.client_secret)}</body></html>",
                )
        form = await request.post()
        if form.get("client_id") != a.client_id or form.get("client_secret") != a.client_secret:
            return web.json_response({"error": "invalid_client"}, status=401)
        tok = "hs_" + secrets.token_hex(16)
        st.tokens[tok] = st.now() + a.expires_in
        st.stats["tokens"] += 1
        return web.json_response({"access_token": tok, "token_type": "Bearer", "expires_in": a.expires_in})

    def check(request: web.Request) -> web.Response | None:
        h = request.headers.get("Authorization", "")
        tok = h[7:] if h.startswith("Bearer ") else None
        if tok not in st.tokens:
            st.stats["401_unknown"] += 1
            return web.Response(status=401, text="Unauthorized")
        late = st.now() - st.tokens[tok]
        if late > 0:
            st.stats["401_expired"] += 1
            st.expired_uses.append({"late_s": round(late, 4), "path": request.path})
            return web.Response(status=401, text="Unauthorized")
        return None

    def shown(record: dict[str, Any]) -> bool:
        """Whether reads show the record yet: a listing (and a look by id) shows a record `list_lag_s` after it was
        stored, as a read replica does."""
        return st.now() >= record.get("_at", 0.0) + a.list_lag_s

    def served(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k not in ("_res", "_at")}

    async def listing(request: web.Request) -> web.Response:
        if (r := check(request)) is not None:
            return r
        res = request.path.split("/")[2]
        now = st.now()
        kept = [r for r, until in st.deleted.values() if until > now]  # deleted, still listed (`delete_lag_s`)
        live = [r for r in [*st.records.values(), *kept] if r.get("_res") == res and shown(r)]
        recs = sorted(live, key=lambda r: r["id"])
        recs = [served(r) for r in recs]
        q = request.query
        if q.get("pageinate") == "true":
            size = int(q.get("page_size", 50))
            page = int(q.get("page_no", 1))
            chunk = recs[(page - 1) * size : page * size]
            return web.json_response({"record_count": len(recs), plural_of(request.path): chunk})
        return web.json_response(recs)

    async def post(request: web.Request) -> web.Response:
        if (r := check(request)) is not None:
            return r
        body = await request.json()
        for i, item in enumerate(body):
            if str(item.get("name", "")).startswith("BAD"):
                auth = request.headers.get("Authorization", "")
                return web.json_response(
                    {
                        "errors": [
                            {"index": i, "message": f"name refused (request {auth}, client_secret {a.client_secret})"}
                        ]
                    },
                    status=400,
                )
        out = []
        for item in body:
            item = dict(item)
            if "id" in item and item["id"]:
                rid = int(item["id"])
                if rid not in st.records:
                    return web.json_response(
                        [{"index": len(out), "message": f"no XeroDetails with id {rid}"}], status=400
                    )
                st.records[rid].update(item)
            else:
                rid = st.next_id
                st.next_id += 1
                item["id"] = rid
                st.records[rid] = {**item, "_res": request.path.split("/")[2], "_at": st.now()}
            out.append(served(st.records[rid]))
        return web.json_response(out)

    async def one(request: web.Request) -> web.Response:
        if (r := check(request)) is not None:
            return r
        rid = int(request.match_info["id"])
        if rid not in st.records:
            return web.Response(status=404)
        if request.method == "DELETE":
            st.deleted[rid] = (st.records.pop(rid), st.now() + a.delete_lag_s)
            return web.Response(status=200)
        if not shown(st.records[rid]):
            return web.Response(status=404)
        return web.json_response(served(st.records[rid]))

    async def stats(request: web.Request) -> web.Response:
        acc = st.all_accepted

        # most accepted client requests in any rolling window, and in any rolling second
        def most(width: float) -> int:
            return most_in_window(acc, width)

        def per_s() -> list[int]:
            if not acc:
                return []
            out = [0] * (int(acc[-1] - acc[0]) + 1)
            for t in acc:
                out[int(t - acc[0])] += 1
            return out

        span = (acc[-1] - acc[0]) if len(acc) > 1 else 0.0
        return web.json_response(
            {
                **st.stats,
                "accepted": len(acc),
                "span_s": round(span, 3),
                "rate": round((len(acc) - 1) / span, 3) if span else None,
                "most_in_window": most(a.window_s),
                "most_in_1s": most(1.0),
                "other_hits": st.other_hits,
                "per_s": per_s(),
                "expired_uses": st.expired_uses[:20],
                "records": len(st.records),
            }
        )

    async def other_client(app: web.Application):
        async def run() -> None:
            if not a.other_rate:
                return
            t0 = time.monotonic()
            # `other_rate` for `other_for_s` (0: all along), then `other_then_rate` (0: none), and where
            # `other_cycle_s` is given, again from the start each time that many seconds have passed
            while True:
                since = time.monotonic() - t0
                if a.other_cycle_s:
                    since %= a.other_cycle_s
                rate = a.other_rate if not a.other_for_s or since < a.other_for_s else a.other_then_rate
                if not rate:
                    if not a.other_cycle_s:
                        return
                    await asyncio.sleep(min(0.01, a.other_cycle_s - since))
                    continue
                await asyncio.sleep(1 / rate)
                if st.window_admit("other") is None:
                    st.other_hits += 1

        task = asyncio.create_task(run())
        yield
        task.cancel()

    app = web.Application(middlewares=[mw], client_max_size=64 * 1024 * 1024)
    app.cleanup_ctx.append(other_client)
    app.router.add_post("/auth/token", token)
    for res in ("XeroDetails", "QuickBooksDetails"):
        app.router.add_get(f"/api/{res}", listing)
        app.router.add_post(f"/api/{res}", post)
        app.router.add_route("*", f"/api/{res}/{{id}}", one)
    app.router.add_get("/_stats", stats)
    return app


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--window-limit", type=int, default=20)
    p.add_argument("--window-s", type=float, default=1.0)
    p.add_argument("--retry-after", choices=["secs", "date", "none"], default="secs")
    p.add_argument("--skew-s", type=float, default=0.0)
    p.add_argument("--expires-in", type=float, default=3600)
    p.add_argument("--latency-ms", type=float, default=0)
    p.add_argument("--other-rate", type=float, default=0)
    p.add_argument("--count-jitter-ms", type=float, default=0)
    p.add_argument("--token-echo", choices=["form", "html", "json"], default=None)
    p.add_argument("--other-for-s", type=float, default=0)
    p.add_argument("--other-then-rate", type=float, default=0)
    p.add_argument("--other-cycle-s", type=float, default=0)
    p.add_argument("--count-rejected", action="store_true")
    p.add_argument("--list-lag-s", type=float, default=0.0)
    p.add_argument("--delete-lag-s", type=float, default=0.0)
    p.add_argument("--client-id", default="cid")
    p.add_argument("--client-secret", default="SECRET-xyzzy-42")
    a = p.parse_args()
    web.run_app(make_app(a), host="127.0.0.1", port=a.port, print=None)


if __name__ == "__main__":
    main()


def settings(**given: object) -> argparse.Namespace:
    """The server's settings as `main` parses them, with `given` in place of the defaults."""
    return argparse.Namespace(
        **{
            "window_limit": 20, "window_s": 1.0, "retry_after": "secs", "skew_s": 0.0, "expires_in": 3600,
            "latency_ms": 0, "other_rate": 0, "other_for_s": 0, "other_then_rate": 0, "other_cycle_s": 0,
            "count_jitter_ms": 0, "count_rejected": False, "list_lag_s": 0.0,
            "delete_lag_s": 0.0,
            "token_echo": None, "client_id": "cid", "client_secret": "SECRET-xyzzy-42", **given,
        }
    )  # fmt: skip


def records_file(path: Path, n: int) -> Path:
    """A XeroDetails CSV of `n` records at `path`."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "tenant_id"])
        w.writerows([f"Xero {i}", f"ten-{i}"] for i in range(n))
    return path


def credentials(origin: str) -> dict[str, str]:
    """The environment a bulkload run against the server at `origin` takes its credentials from."""
    return {"HALO_CLIENT_ID": "cid", "HALO_CLIENT_SECRET": "SECRET-xyzzy-42", "HALO_AUTH_URL": origin + "/auth"}


async def stats(origin: str) -> dict[str, Any]:
    """What the server at `origin` received (`/_stats`)."""
    async with aiohttp.ClientSession() as session, session.get(origin + "/_stats") as r:
        return dict(await r.json())


async def killed_when_full(cmd: list[str], env: dict[str, str], origin: str, posts: int = 8) -> None:
    """Run `cmd` (a load) and kill it (kill -9) once the server at `origin` holds `posts` records (its calls
    filled the window) and a moment more, as its other calls wait for a place; bounded (a slow start on a busy
    machine)."""
    async with await anyio.open_process(cmd, env=env) as child:
        with anyio.fail_after(30):
            while (await stats(origin))["records"] < posts:
                assert child.returncode is None, "the load ended before it was killed"
                await anyio.sleep(0.05)
        await anyio.sleep(0.3)
        child.kill()


async def within(cmd: list[str], env: dict[str, str], seconds: float) -> tuple[int | None, str]:
    """Run `cmd` for at most `seconds`, the event loop serving meanwhile: its exit code (None: it was still running,
    and is killed) and output."""

    def run() -> tuple[int | None, str]:
        try:
            done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=seconds)
        except subprocess.TimeoutExpired as exc:
            return None, (exc.output or b"").decode(errors="replace")
        return done.returncode, done.stdout.decode(errors="replace")

    return await anyio.to_thread.run_sync(run)
