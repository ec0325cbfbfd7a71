"""The HaloPSA sandbox: an OAuth2 client-credentials token endpoint and the nine accounting-integration
resources under ``/api``, behind the shared fault and limit machinery of :mod:`bulkload.sandbox.common`.

    POST /auth/token                 form grant_type=client_credentials, client_id, client_secret, scope
    GET  /api/<Resource>             filters; pageinate=true&page_no=&page_size= → {record_count, <plural>}
    POST /api/<Resource>             ARRAY: items with an id update, without create; atomic; 201 + the array
    GET|DELETE /api/<Resource>/{id}

Resource names are matched in any case (``MYOBdetails`` and ``MYOBDetails`` are one resource), as the
real, ASP.NET-hosted API does. The whole host — token calls included — has HaloPSA's rolling window:
by default 300 requests per 5 minutes (``window_limit=None``; 0 turns it off), answered past it with a
429, HaloPSA's plain-text body and a Retry-After. ``time_factor`` shrinks the window and token lifetimes
alike. Secrets (see :func:`bulkload.targets.halopsa_schema.is_secret`) are stored and never returned.

With ``commit_delay_ms`` a POST commits its records a drawn delay after its body was read and answers then;
until that moment no listing shows them, and a client that stopped waiting sooner never hears of them. With
``count_lag`` a listing's ``record_count`` leaves out the newest records; with ``list_lag_ms`` a listing shows (and
counts) a record only that long after it was created, as a read replica behind the primary does (a look by id finds
it at once); and with ``unpaged_page`` a listing asked for without ``pageinate`` is a first page of that many records
(a short listing its lagging count can make look whole).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from bulkload.sandbox.common import (
    SANDBOX_KEY,
    SandboxOptions,
    auth_middleware,
    json_response,
    message_response,
    new_app,
    read_fixture,
    retry_after,
)
from bulkload.sandbox.halopsa_store import FilterError, Store
from bulkload.targets.halopsa_schema import PLURAL, canonical_resource

__all__ = ["DEFAULT_WINDOW_LIMIT", "HALOPSA_KEY", "MAX_ITEMS", "HaloPSA", "create_app", "window_message"]

DEFAULT_WINDOW_LIMIT = 300
#: not published by HaloPSA: more items in one POST get 413, to keep the sandbox sane
MAX_ITEMS = 1000
DEFAULT_PAGE_SIZE = 50
TOKEN_PATH = "/auth/token"
#: the records a POST saved, as its answer shows them (a name of its own: the handlers include one called `list`)
Saved = list[dict[str, Any]]
#: a number with a fraction or exponent as an exact Decimal (ints stay ints): stored and answered with the digits
#: the client sent, so that a test sees what was sent
_decode_body = msgspec.json.Decoder(float_hook=Decimal).decode


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return json_response({"error": error, "error_description": description}, status)


def window_message(options: SandboxOptions) -> str:
    """HaloPSA's 429 text for the configured window as the sandbox keeps it: under --time-factor, the shrunk
    window's real length (300 per 5 minutes at 100 is 300 per 3 seconds)."""
    limit, seconds = options.window_limit, options.window_s / options.time_factor
    span = f"{seconds / 60:g} minute" if seconds % 60 == 0 else f"{seconds:g} second"
    return f"Rate Limit Reached - {limit} Requests per rolling {span} window"


class HaloPSA:
    """The tokens issued and the records held, and the handlers."""

    def __init__(
        self, options: SandboxOptions, client_id: str | None, client_secret: str | None, token_ttl_s: float
    ) -> None:
        self.options = options
        self.client_id, self.client_secret = client_id, client_secret
        self.token_lifetime = token_ttl_s / options.time_factor  # real seconds
        self.tokens: dict[str, float] = {}  # token → monotonic expiry
        self.tokens_issued = 0
        #: token requests answered, a token or a refusal: what a client asked of the token endpoint
        self.token_calls = 0
        self.store = Store()
        #: a listing's record_count leaves out this many newest records, and an unpaged listing is its first page of
        #: this many (SandboxOptions.count_lag, unpaged_page): a test may change them while the sandbox runs
        self.count_lag, self.unpaged_page = options.count_lag, options.unpaged_page
        #: a listing leaves out the records created less than this many seconds ago (SandboxOptions.list_lag_ms)
        self.list_lag_s = options.list_lag_ms / 1000
        #: writes read but not yet committed (commit_delay_ms), each committed by the loop's timer
        self.pending: set[asyncio.TimerHandle] = set()

    # -- auth --------------------------------------------------------------------------------------------
    async def token(self, request: web.Request) -> web.Response:
        self.token_calls += 1
        form = await request.post()
        grant, scope = str(form.get("grant_type", "")), str(form.get("scope", "") or "all")
        client_id, client_secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        if not grant:
            return _oauth_error(400, "invalid_request", "grant_type is required")
        if grant != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")
        if (
            not (client_id and client_secret)
            or self.client_id not in (None, client_id)
            or (self.client_secret not in (None, client_secret))
        ):
            return _oauth_error(401, "invalid_client", "unknown client_id or wrong client_secret")
        now = time.monotonic()
        self.tokens = {t: expiry for t, expiry in self.tokens.items() if expiry > now}
        access = secrets.token_urlsafe(32)
        self.tokens[access] = now + self.token_lifetime
        self.tokens_issued += 1
        expires_in = max(1, int(self.token_lifetime))  # real seconds, so a client can renew in time
        return json_response({"access_token": access, "token_type": "Bearer", "expires_in": expires_in, "scope": scope})

    def authorized(self, request: web.Request) -> bool:
        if not request.path.startswith("/api/"):
            return True  # the token endpoint, and paths that 404 anyway
        scheme, _, access = request.headers.get("Authorization", "").partition(" ")
        expiry = self.tokens.get(access.strip()) if scheme.lower() == "bearer" else None
        if expiry is None:
            return False
        if expiry <= time.monotonic():
            del self.tokens[access.strip()]
            return False
        return True

    @staticmethod
    def unauthorized(request: web.Request) -> web.Response:
        resp = _oauth_error(401, "invalid_token", "a valid Bearer token is required (POST /auth/token)")
        resp.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return resp

    # -- resources -------------------------------------------------------------------------------------
    @staticmethod
    def _resource(request: web.Request) -> str:
        try:
            return canonical_resource(request.match_info["resource"])
        except KeyError:
            raise web.HTTPNotFound(text=f"no resource {request.match_info['resource']!r}") from None

    def _record_id(self, request: web.Request, resource: str) -> int:
        raw = request.match_info["id"]
        if not raw.isdigit() or int(raw) not in self.store.records[resource]:
            raise web.HTTPNotFound(text=f"no {resource} with id {raw}")
        return int(raw)

    async def list(self, request: web.Request) -> web.Response:
        resource = self._resource(request)
        query = request.query
        try:
            rows = self.store.listed_by(resource, self.store.matching(resource, query), self.list_lag_s)
            paged = query.get("pageinate", "").lower() in ("true", "1")
            if not paged and not self.unpaged_page:
                return json_response(rows)
            page_no, page_size = _positive(query, "page_no", 1), _positive(query, "page_size", DEFAULT_PAGE_SIZE)
        except FilterError as exc:
            return message_response(400, str(exc))
        page_size = min(page_size, self.options.page_size) if paged else self.unpaged_page
        start = (page_no - 1) * page_size if paged else 0
        # the newest records (the highest ids) are the ones a lagging count has not reached yet
        count = max(0, len(rows) - self.count_lag)
        return json_response({"record_count": count, PLURAL[resource]: rows[start : start + page_size]})

    async def save(self, request: web.Request) -> web.Response:
        resource = self._resource(request)
        try:
            items = _decode_body(await request.read())
        except msgspec.DecodeError as exc:
            return message_response(400, f"the body is not valid JSON: {exc}", [])
        if not isinstance(items, list) or not items:
            return message_response(400, f"the body must be a non-empty JSON array of {resource} objects", [])
        if len(items) > MAX_ITEMS:
            return message_response(413, f"{len(items)} items: at most {MAX_ITEMS} per call")
        errors = self.store.problems(resource, items)
        if errors:
            bad = len({e["index"] for e in errors})
            text = f"{resource}: {bad} of {len(items)} items refused, nothing was saved"
            return message_response(400, text, [] if self.options.opaque_errors else errors)
        if self.options.names_folded:
            items = [self._by_folded_name(resource, item) for item in items]
        delay_s = request.app[SANDBOX_KEY].commit_delay_s()
        if delay_s <= 0:
            saved: Saved | None = self.store.save(resource, items)
        else:
            saved = await self.commit_later(delay_s, resource, items)
        if saved is None:
            return message_response(400, f"{resource}: a record was deleted before the write committed", [])
        return json_response(saved[::-1] if self.options.reversed_answers else saved, 201)

    def _by_folded_name(self, resource: str, item: Any) -> Any:
        """`item` with the id of the record whose name is its own in other letter case or spacing (--names-folded)."""
        if not isinstance(item, dict) or item.get("id") is not None or not isinstance(item.get("name"), str):
            return item
        folded = item["name"].strip().casefold()
        for record_id, held in self.store.records[resource].items():
            if str(held.get("name", "")).strip().casefold() == folded:
                return {**item, "id": record_id}
        return item

    def commit_later(self, delay_s: float, resource: str, items: Saved) -> asyncio.Future[Saved | None]:
        """Commit `items` in `delay_s` seconds: the saved records then, or None if they can no longer be saved.
        The timer, not the handler, commits: a client that gives up (and a handler cancelled with it) stops
        nothing, as on a server that carries on with a request whose caller has gone."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Saved | None] = loop.create_future()

        def commit() -> None:
            self.pending.discard(handle)
            saved = None if self.store.problems(resource, items) else self.store.save(resource, items)
            if not done.done():
                done.set_result(saved)

        handle = loop.call_later(delay_s, commit)
        self.pending.add(handle)
        return done

    def drop_pending(self) -> None:
        """The server goes away: what was still to commit never will."""
        for handle in self.pending:
            handle.cancel()
        self.pending.clear()

    async def get(self, request: web.Request) -> web.Response:
        resource = self._resource(request)  # includedetails (and Exact's division) change nothing here
        return json_response(self.store.public(resource, self._record_id(request, resource)))

    async def delete(self, request: web.Request) -> web.Response:
        resource = self._resource(request)
        self.store.delete(resource, self._record_id(request, resource))
        return web.Response(status=204)

    # Test-only read-backs, not part of the API: the loader must never use them. Tests read the stored
    # secrets to prove they arrived (no API answer shows them), and every record without the rate limit.
    async def read_secrets(self, request: web.Request) -> web.Response:
        resource = self._resource(request)
        record_id = self._record_id(request, resource)
        return json_response({"id": record_id, **self.store.secrets[resource][record_id]})

    async def read_records(self, request: web.Request) -> web.Response:
        resource = self._resource(request)
        return json_response([self.store.public(resource, n) for n in sorted(self.store.records[resource])])

    def load_fixture(self, document: Any) -> None:
        """Start with ``{"<Resource>": [items...]}`` saved as if POSTed (ValueError for a bad one)."""
        for name, items in dict(document).items():
            resource = canonical_resource(name)
            errors = self.store.problems(resource, items)
            if errors:
                raise ValueError(f"fixture {resource}: {errors}")
            self.store.save(resource, items)

    def extra_stats(self) -> dict[str, Any]:
        return {
            "records": {name: len(records) for name, records in self.store.records.items()},
            "tokens_issued": self.tokens_issued,
            "token_calls": self.token_calls,
            "pending_commits": len(self.pending),
        }


def _positive(query: Any, name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise FilterError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def create_app(
    options: SandboxOptions | None = None,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    token_ttl_s: float = 3600,
) -> web.Application:
    """The sandbox app (paths start with ``/api`` and ``/auth``).

    With ``client_id`` / ``client_secret`` only those get a token, by default any non-empty pair.
    ``options.window_limit`` None means HaloPSA's own 300 per ``window_s``; 0 means no window.
    """
    options = options or SandboxOptions()
    if options.window_limit is None:
        options = msgspec.structs.replace(options, window_limit=DEFAULT_WINDOW_LIMIT)
    halo = HaloPSA(options, client_id, client_secret, token_ttl_s)
    fixture = read_fixture(options)
    if fixture is not None:
        halo.load_fixture(fixture)
    text = window_message(options)

    def too_many(request: web.Request, wait_s: float) -> web.Response:
        return web.Response(status=429, text=text, headers={"Retry-After": retry_after(wait_s)})

    app = new_app(
        options,
        auth_middleware(halo.authorized, halo.unauthorized),
        extra_stats=halo.extra_stats,
        client_max_size=16 * 1024**2,
        window_refusal=too_many,
        never_dropped=frozenset({TOKEN_PATH}),
    )
    app[HALOPSA_KEY] = halo

    async def stop_committing(_: web.Application) -> None:
        halo.drop_pending()

    app.on_cleanup.append(stop_committing)
    app.router.add_post(TOKEN_PATH, halo.token)
    app.router.add_get("/api/{resource}", halo.list)
    app.router.add_post("/api/{resource}", halo.save)
    app.router.add_get("/api/{resource}/{id}", halo.get)
    app.router.add_delete("/api/{resource}/{id}", halo.delete)
    app.router.add_get("/_sandbox/secrets/{resource}/{id}", halo.read_secrets)
    app.router.add_get("/_sandbox/records/{resource}", halo.read_records)
    return app


HALOPSA_KEY = web.AppKey("halopsa", HaloPSA)
