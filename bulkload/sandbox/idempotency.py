"""Idempotency-Key handling as e-conomic does it: the first complete answer for a key is cached (one
hour by default) and replayed with ``X-ResultFromCache: true``; a key still in progress gets 409.

The middleware sits inside the sandbox's fault layer: injected 5xx never reach it (nothing happened,
nothing is cached) and commit-then-drop happens after it stored the answer, so a retry gets the replay.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bulkload.sandbox.common import problem

IDEMPOTENT_METHODS = frozenset({"POST", "PUT", "DELETE"})
REPLAY_HEADERS = ("Location",)


class CachedAnswer(msgspec.Struct, frozen=True, gc=False):
    expires: float
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...]


class IdempotencyCache:
    """Answers by (scope, key); expired ones are dropped oldest first (a constant TTL keeps them in order)."""

    def __init__(self, ttl_s: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._done: dict[tuple[str, str], CachedAnswer] = {}
        self._busy: set[tuple[str, str]] = set()
        self.replays = 0

    def __len__(self) -> int:
        return len(self._done)

    def _expire(self) -> None:
        now = self._clock()
        done = self._done
        while done:
            oldest = next(iter(done))
            if done[oldest].expires > now:
                break
            del done[oldest]

    def lookup(self, slot: tuple[str, str]) -> CachedAnswer | bool | None:
        """The cached answer, True when the key is in progress, None when it is new."""
        self._expire()
        if slot in self._busy:
            return True
        return self._done.get(slot)

    def begin(self, slot: tuple[str, str]) -> None:
        self._busy.add(slot)

    def finish(self, slot: tuple[str, str], resp: web.Response | None) -> None:
        """Store ``resp`` for the key (None: forget the attempt, e.g. after a crash or a 5xx)."""
        self._busy.discard(slot)
        if resp is None:
            return
        body = resp.body if isinstance(resp.body, bytes) else b""
        headers = tuple((h, resp.headers[h]) for h in REPLAY_HEADERS if h in resp.headers)
        self._done[slot] = CachedAnswer(self._clock() + self.ttl_s, resp.status, body, resp.content_type, headers)


def idempotency_middleware(cache: IdempotencyCache, scope: Callable[[web.Request], str]) -> Middleware:
    """A middleware applying ``cache`` to writes that carry an ``Idempotency-Key`` header."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if not key or request.method not in IDEMPOTENT_METHODS:
            return await handler(request)
        slot = (scope(request), key)
        hit = cache.lookup(slot)
        if hit is True:
            return problem(
                409,
                "Conflict",
                "A request with this Idempotency-Key is still being processed; retry later.",
                error_code="IdempotencyKeyInUse",
                instance=request.path,
            )
        if isinstance(hit, CachedAnswer):
            cache.replays += 1
            resp = web.Response(status=hit.status, body=hit.body or None, headers=dict(hit.headers))
            if hit.body:
                resp.content_type = hit.content_type
            resp.headers["X-ResultFromCache"] = "true"
            return resp
        cache.begin(slot)
        answer: web.Response | None = None
        try:
            result = await handler(request)
            if isinstance(result, web.Response) and result.status < 500:
                answer = result
            return result
        finally:
            cache.finish(slot, answer)

    return middleware
