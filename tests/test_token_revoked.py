"""HaloPSA access tokens the API revokes after they worked (a key rotation, a restart): renewed and the load goes on,
never taken for refused credentials (exit 2), nothing doubled; and a call whose every token is revoked as it goes
out stops the run resumable (exit 4). Judged by what the server counted: the records it holds, its 401s and its
token calls. A tester's finding (t32c): tokens revoked at 2, 3 and 4 s stopped the run at the second 401 of a call
that had renewed its token once, blaming HALO_CLIENT_ID and HALO_CLIENT_SECRET (exit 2, 21 of 50 rows loaded)."""

from __future__ import annotations

import collections
import csv
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest
from aiohttp import web
from conftest import sandbox_read, serving
from test_halopsa_answers import job

from bulkload import load
from bulkload.dispatch import Dispatcher, RetryPolicy
from bulkload.errors import AuthError, NoToken, RunStopped
from bulkload.http import Client
from bulkload.limits import Limits
from bulkload.meters import DailyQuota, RateMeter
from bulkload.sandbox import SandboxOptions, build_app
from bulkload.targets.halopsa import HaloPSA

ENV = {"HALO_CLIENT_ID": "revoked-client", "HALO_CLIENT_SECRET": "revoked-secret"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Rule = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


class Revoking:
    """A middleware in front of the HaloPSA sandbox that revokes every access token it gave so far at each of
    `at` (the count of calls to the API, not the token endpoint, so far: the revocation comes with the call after
    that many; counted, not timed, so that a busy machine cannot move it), though each says it lives an hour: a call
    with a revoked token is answered `401 invalid_token`, and the token endpoint keeps taking the client id and
    secret. `counted`: the 401s, the token calls, the token calls refused."""

    def __init__(self, *at: int) -> None:
        self.counted: collections.Counter[str] = collections.Counter()
        self._at = list(at)
        self._calls = 0
        self._given: set[str] = set()
        self._revoked: set[str] = set()

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.endswith("/auth/token"):
            self.counted["token calls"] += 1
            response = await handler(request)
            if response.status != 200:
                self.counted["token calls refused"] += 1
            elif isinstance(response, web.Response) and response.body is not None:
                self._given.add(f"Bearer {json.loads(bytes(response.body))['access_token']}")
            return response
        while self._at and self._calls >= self._at[0]:
            self._at.pop(0)
            self._revoked |= self._given
        self._calls += 1
        if request.headers.get("Authorization", "") in self._revoked:
            self.counted["401"] += 1
            return web.json_response({"error": "invalid_token", "error_description": "revoked"}, status=401)
        return await handler(request)


def halo_app(tmp_path: Path, rule: Rule) -> web.Application:
    """The HaloPSA sandbox without limits of its own (the run keeps its own), empty, behind `rule`."""
    fixture = tmp_path / "halo.json"
    fixture.write_text(json.dumps({"XeroDetails": []}))
    app = build_app("halopsa", SandboxOptions(window_limit=0, fixture=str(fixture)))

    @web.middleware
    async def shaped(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await rule(request, handler)

    app.middlewares.insert(0, shaped)
    return app


def rows(path: Path, n: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "tenant_id"])
        w.writerows([f"Row {i:04d}", f"tenant-{i}"] for i in range(n))
    return path


async def held(url: str) -> list[str]:
    """The names of the XeroDetails records the sandbox holds, doubles too."""
    return [r["name"] for r in await sandbox_read(url, "records/XeroDetails")]


async def test_tokens_revoked_three_times_a_second_apart_are_renewed_and_the_load_goes_on(tmp_path: Path) -> None:
    """The tester's case: 50 rows one a call, 10 calls a second (--rate 10, a window of 10 calls a second), every
    token revoked at 2, 3 and 4 s though each says it lives an hour (here: at the 20th, 30th and 40th call). A call
    answered 401 at the first revocation renewed its token, waited for its place behind the others and met the next
    one: its second 401 stopped the run blaming the credentials (exit 2, 21 of 50 loaded, 29 not sent). A token that
    worked and is then refused was revoked: each is renewed, the run loads all 50 once (exit 0), the token endpoint
    never refused the client."""
    n = 50
    data = rows(tmp_path / "XeroDetails.csv", n)
    server = Revoking(20, 30, 40)
    with anyio.fail_after(60):
        async with serving(halo_app(tmp_path, server)) as url:
            report = await load(job(tmp_path, data, url, rate=10, window_limit=10, window_s=1, batch_size=1), env=ENV)
            names = await held(url)
    assert server.counted["token calls refused"] == 0, server.counted
    assert server.counted["401"] >= 3, f"no token was revoked while the run sent: {server.counted}"
    assert (report.exit_code, report.loaded) == (0, n), (report.exit_code, report.stop_reason)
    assert sorted(names) == sorted(set(names)) and len(names) == n, collections.Counter(names).most_common(3)
    # the first token and one for each revocation: the calls that meet one revocation share the token fetched for it
    assert server.counted["token calls"] == 1 + 3, server.counted


async def test_a_call_refused_with_token_after_token_that_worked_stops_resumable() -> None:
    """One call (the victim) is answered 401 at every try, its token revoked, while a read sent meanwhile with the
    same token was answered: each token worked, the credentials are good, and renewing would go on for ever. The
    call is sent with 6 tokens in turn (5 renewals) and stops resumable (NoToken, exit 4), never blaming the
    credentials; no other token call goes out. Before, its second 401 blamed the credentials (AuthError, exit 2)."""
    counted: collections.Counter[str] = collections.Counter()
    revoked: set[str] = set()
    arrived, answered = anyio.Event(), anyio.Event()

    async def token(request: web.Request) -> web.Response:
        counted["token calls"] += 1
        return web.json_response({"access_token": f"tok{counted['token calls']}", "expires_in": 3600})

    async def probe(request: web.Request) -> web.Response:
        if request.headers["Authorization"] in revoked:
            return web.json_response({"error": "invalid_token"}, status=401)
        return web.json_response([])

    async def victim(request: web.Request) -> web.Response:
        counted["victim"] += 1
        arrived.set()
        await answered.wait()
        revoked.add(request.headers["Authorization"])
        return web.json_response({"error": "invalid_token", "error_description": "revoked"}, status=401)

    app = web.Application()
    app.router.add_post("/auth/token", token)
    app.router.add_get("/api/probe", probe)
    app.router.add_post("/api/victim", victim)
    target = HaloPSA(["XeroDetails"])
    headers = target.headers(ENV)
    with anyio.fail_after(30):
        async with serving(app) as origin, Client(origin, headers) as client:
            dispatcher = Dispatcher(
                client, target, limits=Limits(quota=DailyQuota(0), rate=RateMeter(None)), policy=RetryPolicy()
            )
            await dispatcher.send("GET", "/api/probe")  # the first token works
            stopped: list[NoToken] = []
            async with anyio.create_task_group() as tg:

                async def the_victim() -> None:
                    try:
                        await dispatcher.send("POST", "/api/victim", body=b"[]", safe_to_repeat=False)
                    except NoToken as exc:
                        stopped.append(exc)
                    finally:
                        tg.cancel_scope.cancel()

                tg.start_soon(the_victim)
                while True:  # each try of the victim: a read with its token is answered, then the victim's 401
                    await arrived.wait()
                    arrived = anyio.Event()
                    await dispatcher.send("GET", "/api/probe")
                    answered.set()
                    answered = anyio.Event()
    said = str(stopped[0]) if stopped else "the victim was not stopped"
    assert said.startswith("the API refused a call's access token 6 times in turn (401)"), said
    assert stopped[0].exit_code == 4 and "HALO_CLIENT" not in said, said
    assert (counted["victim"], counted["token calls"]) == (6, 6), counted


async def _refused_after(tokens_taken: int) -> tuple[AuthError, collections.Counter[str]]:
    """A call sent after `tokens_taken` calls with the first token were answered, to an API that takes no later
    token (401 invalid_token) while its token endpoint gives one each time: the AuthError it stops with, and what
    the server counted (token calls, refusals)."""
    counted: collections.Counter[str] = collections.Counter()

    async def token(request: web.Request) -> web.Response:
        counted["token calls"] += 1
        return web.json_response({"access_token": f"tok{counted['token calls']}", "expires_in": 3600})

    async def api(request: web.Request) -> web.Response:
        if counted["taken"] < tokens_taken and request.headers["Authorization"] == "Bearer tok1":
            counted["taken"] += 1
            return web.json_response([])
        counted["401"] += 1
        return web.json_response({"error": "invalid_token"}, status=401)

    app = web.Application()
    app.router.add_post("/auth/token", token)
    app.router.add_get("/api/probe", api)
    target = HaloPSA(["XeroDetails"])
    with anyio.fail_after(30):
        async with serving(app) as origin, Client(origin, target.headers(ENV)) as client:
            dispatcher = Dispatcher(
                client, target, limits=Limits(quota=DailyQuota(0), rate=RateMeter(None)), policy=RetryPolicy()
            )
            for _ in range(tokens_taken):
                await dispatcher.send("GET", "/api/probe")
            try:
                await dispatcher.send("GET", "/api/probe")
            except AuthError as exc:
                return exc, counted
    raise AssertionError(f"the call was not refused: {counted}")


async def test_tokens_the_api_never_takes_say_the_token_endpoint_took_the_credentials() -> None:
    """The token endpoint gives tokens for the client id and secret, the API takes none of them: the run stops (exit
    2) saying the token endpoint took the credentials and the API did not let the client in, not only "check
    HALO_CLIENT_ID and HALO_CLIENT_SECRET" (which the token endpoint had just accepted). Two tokens: the first, and
    one renewed after its 401."""
    exc, counted = await _refused_after(0)
    said = str(exc)
    assert exc.exit_code == 2 and (counted["token calls"], counted["401"]) == (2, 2), (said, counted)
    assert "the token endpoint had just given that token for them (renewed for this call once" in said, said
    assert "none of this run's was taken: the API does not let in the client" in said, said


async def test_renewed_tokens_refused_after_tokens_that_worked_say_they_may_expire_early() -> None:
    """A token of the run was taken (three calls), then the API takes no token, the renewed ones neither (a server
    that expires its tokens long before their expires_in while calls wait for a place, tester t65a): the run stops
    saying that tokens were taken before and the API may expire them sooner than they say, not blaming the
    credentials alone. The call's token is renewed twice (the second renewed token refused unproven ends it)."""
    exc, counted = await _refused_after(3)
    said = str(exc)
    assert (counted["taken"], counted["token calls"], counted["401"]) == (3, 3, 3), (said, counted)
    assert "(renewed for this call 2 times, refused each time before any call with it was answered)" in said, said
    assert "tokens of this run were taken before: the API may expire its tokens sooner" in said, said


class Disabling(Revoking):
    """Revoking, whose client is disabled with its tokens: from the `at`th call to the API on, every token is
    refused and so is the client at the token endpoint (`401 invalid_client`), as an administrator who disables the
    client (or rotates its secret) while a run loads leaves it."""

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.endswith("/auth/token") and self._revoked:
            self.counted["token calls refused"] += 1
            return web.json_response({"error": "invalid_client", "error_description": "client disabled"}, status=401)
        return await super().__call__(request, handler)


async def test_credentials_refused_after_they_worked_are_told_so_not_as_never_right(tmp_path: Path) -> None:
    """Helper t74d: the client disabled after 3 rows had loaded with its tokens; the run stopped with "the token
    endpoint refused the credentials: HTTP 401 …; check HALO_CLIENT_ID and HALO_CLIENT_SECRET", as a mistyped secret
    is told, where they had worked for 4 calls. The stop says they were taken before, after how many calls, what
    happened since and what to do."""
    data = rows(tmp_path / "XeroDetails.csv", 6)
    server = Disabling(4)  # the listing before the first write, then 3 rows a call each
    with anyio.fail_after(60):
        async with serving(halo_app(tmp_path, server)) as url:
            with pytest.raises(RunStopped) as stopped:
                await load(job(tmp_path, data, url, batch_size=1, concurrency=1), env=ENV)
            names = await held(url)
    report = stopped.value.report
    assert report is not None and (report.loaded, len(names)) == (3, 3), (report, names)
    assert server.counted["token calls refused"] == 1, server.counted
    said = str(report.stop_reason)
    assert said.startswith(
        'the token endpoint refused the credentials it had taken: HTTP 401: {"error": "invalid_client", '
        '"error_description": "client disabled"}, after 4 calls of this command had been answered with tokens it '
        "gave for them: the client was disabled, or its secret changed, since then; ask the API's administrator, and "
        "give the client's current ones as HALO_CLIENT_ID and HALO_CLIENT_SECRET"
    ), said
    assert "continue with `bulkload resume --ledger" in said and "revoked-secret" not in said, said
