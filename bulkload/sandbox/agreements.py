"""One sandbox server for many agreements, keyed as the real API keys them: e-conomic by the
X-AgreementGrantToken header (seeds/README.md: the agreement grant token names the agreement a call acts on).
Each agreement gets a sandbox of its own on its first call (its own store, rate limit, daily quota, faults and
stats, all from the same SandboxOptions, but its faults drawn from a seed of its own: `agreement_options`), so one
process serves hundreds of agreements each under its own limits. `bulkload sandbox economic --agreements` serves it.

    GET /_sandbox/stats       the server's own: requests, in_flight and max_in_flight across every agreement
    GET /_sandbox/agreements  per agreement (its id: `agreement_id(token)`): its sandbox's stats, and `runs`: per
                              Idempotency-Key prefix (one per bulkload run) [first arrival, last answer] in
                              the server's monotonic seconds
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import msgspec
from aiohttp import web
from aiohttp.typedefs import Handler

from bulkload.sandbox.common import SANDBOX_KEY, SandboxOptions, json_response, new_app, problem

#: the header each API keys its agreements by (a target not here has an address per agreement: a sandbox each)
KEYED_BY = {"economic": "X-AgreementGrantToken"}
AGREEMENTS_PATH = "/_sandbox/agreements"


def agreement_id(token: str) -> str:
    """The name /_sandbox/agreements gives the agreement of `token` (a hash: the token is a credential)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def agreement_options(options: SandboxOptions, agreement: str) -> SandboxOptions:
    """The options of the sandbox of `agreement` (its `agreement_id`): those given, its faults drawn from a seed of
    its own where one is given (the given seed and the agreement's id), so that agreements meet their faults at
    other calls, as many independent clients of one API would, and the same again on the same seed (tester t66b:
    every agreement met the same fault at the same call, a trial across agreements less varied than it looked)."""
    if options.seed is None:
        return options
    return msgspec.structs.replace(options, seed=options.seed ^ int(agreement, 16))


class Agreements:
    """The sandbox of each agreement (by its `agreement_id`), made on its first call by `make`."""

    def __init__(self, make: Callable[[str], web.Application], header: str) -> None:
        self.make, self.header = make, header
        self.apps: dict[str, web.Application] = {}
        #: agreement id -> run (Idempotency-Key prefix) -> [first arrival, last answer], monotonic seconds
        self.runs: dict[str, dict[str, list[float]]] = {}

    def app_of(self, token: str) -> web.Application:
        app = self.apps.get(token)
        if app is None:
            app = self.apps[token] = self.make(agreement_id(token))
            app.freeze()  # as a server freezes the app it serves: its middlewares are built then
        return app

    @web.middleware
    async def dispatch(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Hand an API call to its agreement's sandbox (the server's own /_sandbox/ paths stay here)."""
        if request.path.startswith("/_sandbox/"):
            return await handler(request)
        token = request.headers.get(self.header, "")
        if not token:
            return problem(401, "Unauthorized", f"{self.header} is missing", instance=request.path)
        key = request.headers.get("Idempotency-Key", "")
        runs = self.runs.setdefault(agreement_id(token), {})
        # a bulkload run's keys are its prefix, "-", the chunk's number: the prefix names the run
        span = runs.setdefault(key.rsplit("-", 1)[0], [time.monotonic(), 0.0]) if key else None
        try:
            # aiohttp's dispatch, as a sub-app's, on a copy: the request's match_info is cached from the outer
            # router (the catch-all route), and the sub-app's route (…/{entryNumber}) must be matched afresh
            answer: web.StreamResponse = await self.app_of(token)._handle(request.clone())
            return answer
        finally:
            if span is not None:
                span[1] = time.monotonic()

    def stats(self) -> dict[str, Any]:
        """Each agreement's sandbox's stats and its runs' spans, by agreement id."""
        return {
            agreement_id(token): {**app[SANDBOX_KEY].stats.to_dict(), "runs": self.runs.get(agreement_id(token), {})}
            for token, app in self.apps.items()
        }


def create_app(target: str, make: Callable[[str], web.Application]) -> web.Application:
    """A server whose every agreement has its own sandbox of `target` (one of KEYED_BY), made by `make` (given the
    agreement's `agreement_id`) on the agreement's first call. KeyError for a target whose agreements are not told
    apart by a header."""
    header = KEYED_BY[target]
    agreements = Agreements(make, header)
    app = new_app(SandboxOptions(), agreements.dispatch)  # the server's own stats: every agreement's calls

    async def listing(request: web.Request) -> web.Response:
        return json_response(agreements.stats())

    app.router.add_get(AGREEMENTS_PATH, listing)
    app.router.add_route("*", "/{tail:.*}", _unrouted)  # every call is its agreement's sandbox's to route
    return app


async def _unrouted(request: web.Request) -> web.Response:
    raise AssertionError("dispatch hands every call to its agreement's sandbox")
