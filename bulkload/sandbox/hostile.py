"""A hostile API, for tests and benchmarks: a target's sandbox behind a middleware that answers chosen calls itself
(HTML, garbage, cut JSON, wrong types, redirects, error statuses, bodies of any length) or tampers with its cursor
pages, served on loopback from a thread of its own so that the caller can run the CLI meanwhile; and the small
good input of each target with the flags of a bounded `bulkload load` against it."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from aiohttp import web

from bulkload.sandbox import build_app
from bulkload.sandbox.common import SandboxOptions

CREDENTIALS = {
    "economic": {"ECONOMIC_APP_SECRET_TOKEN": "hostile-app", "ECONOMIC_AGREEMENT_GRANT_TOKEN": "hostile-grant"},
    "halopsa": {"HALO_CLIENT_ID": "hostile-client", "HALO_CLIENT_SECRET": "hostile-client-secret"},
    "visma-core": {"VISMA_CORE_TOKEN": "hostile-bearer"},
    "payorcrm": {"PAYORCRM_API_KEY": "hostile-key", "PAYORCRM_API_SECRET": "hostile-secret"},
}
#: the base URL below the server's origin
PREFIX = {"economic": "/journalsapi/v11.0.2"}
_PIECE = b" " * (1024 * 1024)


@dataclass(frozen=True)
class Answer:
    """What the hostile server answers instead of the sandbox."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    #: after `body`, stream this many bytes (chunked unless `claimed_length`), written 1 MiB at a time
    stream: int = 0
    #: announce this Content-Length, send `body` (and `stream`) and close
    claimed_length: int | None = None
    #: the sandbox's own answer, rewritten (cut short, a field changed)
    rewrite: Callable[[bytes], bytes] | None = None


@dataclass
class Hostile:
    """`target`'s sandbox; a call is answered by `rule(method, path, n)` (n: the call's number, from 0) when it
    returns an Answer, else by the sandbox. Counts the calls and the bytes streamed."""

    target: str
    rule: Callable[[str, str, int], Answer | None] = lambda method, path, n: None
    calls: list[tuple[str, str]] = field(default_factory=list)
    streamed: int = 0

    def app(self) -> web.Application:
        app = build_app(self.target, SandboxOptions(window_limit=0))
        app.middlewares.insert(0, self.middleware)
        return app

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        n = len(self.calls)
        self.calls.append((request.method, request.path))
        answer = self.rule(request.method, request.path, n)
        if answer is None:
            return await handler(request)  # type: ignore[no-any-return]
        if answer.rewrite is not None:
            real = await handler(request)
            body = real.body if isinstance(real.body, bytes) else b""
            return web.Response(status=real.status, body=answer.rewrite(body), content_type="application/json")
        if answer.stream or answer.claimed_length is not None:
            return await self.streaming(request, answer)
        return web.Response(
            status=answer.status, body=answer.body, headers=dict(answer.headers), content_type=answer.content_type
        )

    async def streaming(self, request: web.Request, answer: Answer) -> web.StreamResponse:
        resp = web.StreamResponse(status=answer.status, headers=dict(answer.headers))
        resp.content_type = answer.content_type
        if answer.claimed_length is not None:
            resp.content_length = answer.claimed_length
        else:
            resp.enable_chunked_encoding()
        await resp.prepare(request)
        sent, left = 0, answer.stream
        with contextlib.suppress(ConnectionError, RuntimeError):  # the client stopped reading and went away
            if answer.body:
                await resp.write(answer.body)
                self.streamed += len(answer.body)
                sent += len(answer.body)
            while left > 0:  # written piece by piece: the server never holds the body either
                piece = _PIECE[: min(left, len(_PIECE))]
                await resp.write(piece)
                self.streamed += len(piece)
                sent += len(piece)
                left -= len(piece)
        short = left > 0 or (answer.claimed_length is not None and sent < answer.claimed_length)
        if request.transport is not None and short:
            request.transport.close()  # the answer is not whole: the client must not wait for the rest
        return resp


Tamper = Callable[[int, dict[str, Any]], dict[str, Any]]


def tampered(tamper: Tamper, counted: dict[str, int]) -> web.Application:
    """The e-conomic sandbox (5 entries a page) whose cursor pages pass through `tamper(cursor asked, page)`;
    `counted["pages"]` counts the pages it served."""
    app = build_app("economic", SandboxOptions(page_size=5))

    @web.middleware
    async def hostile(request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)
        if request.method != "GET" or not request.path.endswith("/draft-entries"):
            return response  # type: ignore[no-any-return]
        counted["pages"] += 1
        assert isinstance(response, web.Response) and isinstance(response.body, bytes)
        page = tamper(int(request.query.get("cursor", "0")), msgspec.json.decode(response.body))
        return web.json_response(page)

    app.middlewares.append(hostile)  # inside the sandbox's own: its counters see every page
    return app


def looping(asked: int, page: dict[str, Any]) -> dict[str, Any]:
    """A cursor that leads to the page it came from, again and again."""
    return {**page, "cursor": str(asked)} if asked and "cursor" in page else page


def going_back(asked: int, page: dict[str, Any]) -> dict[str, Any]:
    """A cursor that leads three pages back."""
    return {**page, "cursor": str(max(1, asked - 3))} if asked and "cursor" in page else page


def self_signed_context(folder: Path) -> ssl.SSLContext:
    """A server's TLS context with a certificate for 127.0.0.1 that signs itself (no client trusts it), made by
    `openssl` in `folder`. Raises CalledProcessError where openssl refuses."""
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(folder / "key.pem"),
            "-out",
            str(folder / "cert.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


@contextlib.contextmanager
def served(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve `app` on a free loopback port from a thread with its own event loop; yields its origin."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = web.AppRunner(app, access_log=None)

    async def start() -> int:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context).start()
        return int(runner.addresses[0][1])

    port = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def inputs(target: str, folder: Path, tag: str = "") -> list[str]:
    """A small good input for `target` and its flags; `tag` makes the content (and so the load) new."""
    folder.mkdir(parents=True, exist_ok=True)
    if target == "economic":
        path = folder / "e.csv"
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(
                [
                    "entryTypeNumber",
                    "journalNumber",
                    "voucherNumber",
                    "date",
                    "amount",
                    "currency",
                    "accountNumber",
                    "text",
                ]
            )
            for v in (1, 2):
                w.writerow([5, 1, v, "2026-11-01", "10.00", "DKK", 1010, f"sale {v} {tag}"])
                w.writerow([5, 1, v, "2026-11-01", "-10.00", "DKK", 5820, f"vat {v} {tag}"])
        return [str(path)]
    if target == "halopsa":
        path = folder / "XeroDetails.csv"
        path.write_text(f"name\nOne {tag}\nTwo {tag}\n")
        return [str(path), "--settle-s", "0"]
    if target == "visma-core":
        path = folder / "v.csv"
        path.write_text(
            "caseId,accountingCostType,amount,description,entryDate\n"
            f"1001,FEE,10.00,one {tag},2026-11-01\n1002,FEE,12.50,two {tag},2026-11-01\n"
        )
        return [str(path)]
    path = folder / "c.csv"
    path.write_text(f"customerno,emailaddress1\nC1{tag},a@example.com\nC2{tag},b@example.com\n")
    return ["--kind", "customers", str(path)]


def load_args(target: str, origin: str, folder: Path, *flags: str, tag: str = "") -> list[str]:
    """`bulkload load` of `inputs` against `origin`, its ledger and report in `folder`; bounded: 2 attempts a call,
    5 s an answer."""
    return [
        "load",
        target,
        *inputs(target, folder, tag),
        "--base-url",
        origin + PREFIX.get(target, ""),
        "--ledger",
        str(folder / "run.sqlite"),
        "--report",
        str(folder / "report.json"),
        "--no-progress",
        "--attempts",
        "2",
        "--timeout",
        "5",
        "--window-limit",
        "0",
        *flags,
    ]


def report_of(folder: Path) -> dict[str, Any] | None:
    """The JSON report `load_args` asked for, or None where the run wrote none."""
    path = folder / "report.json"
    return msgspec.json.decode(path.read_bytes()) if path.exists() else None
