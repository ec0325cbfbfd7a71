"""A server that answers one call with a 1 GB body: bulkload's peak memory, and what it says.

    python -m benchmarks.big_answer [--size-mb 1024] [--tree PATH]

Each case runs `bulkload load` as a child process against a target's sandbox (served from this process, in a
thread) whose answer to one call is `--size-mb` MB, written 1 MB at a time (chunked, or with its Content-Length
announced), never held whole by the server either. Printed per case: the exit code, the stop reason, how much the
server could write before bulkload stopped reading, the peak RSS of bulkload's process tree (loader + planner,
sampled every 20 ms from /proc) and the wall time. The goal (issue 12): under 200 MB for a 1 GB answer.
`--tree PATH` runs the bulkload sources of another checkout (a before figure; mind the memory it may take).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web

from benchmarks.common import bulkload
from bulkload.sandbox import build_app
from bulkload.sandbox.common import SandboxOptions

MB = 1024 * 1024
_PIECE = b" " * MB
#: target, the call answered with the big body (method, path ending), announced length, input
CASES = [
    ("economic", "GET", "/draft-entries/paged", False, "baseline GET, chunked"),
    ("economic", "POST", "/draft-entries/bulk", False, "bulk POST, chunked"),
    ("economic", "POST", "/draft-entries/bulk", True, "bulk POST, Content-Length"),
    ("halopsa", "GET", "/api/XeroDetails", False, "listing GET (64 MB cap), chunked"),
]
PREFIX = {"economic": "/journalsapi/v11.0.2"}


class BigAnswer:
    """`target`'s sandbox, with the first call of `method` to a path ending in `path` answered `size` bytes."""

    def __init__(self, target: str, method: str, path: str, size: int, announced: bool) -> None:
        self.method, self.path, self.size, self.announced = method, path, size, announced
        self.written = 0
        self.app = build_app(target, SandboxOptions(window_limit=0))
        self.app.middlewares.insert(0, self.middleware)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.method != self.method or not request.path.endswith(self.path) or self.written:
            return await handler(request)  # type: ignore[no-any-return]
        resp = web.StreamResponse()
        resp.content_type = "application/json"
        if self.announced:
            resp.content_length = self.size
        else:
            resp.enable_chunked_encoding()
        await resp.prepare(request)
        with contextlib.suppress(ConnectionError, RuntimeError):  # the client stopped reading and went away
            while self.written < self.size:
                await resp.write(_PIECE)
                self.written += len(_PIECE)
        return resp


@contextlib.contextmanager
def served(app: web.Application) -> Iterator[str]:
    """Serve `app` on loopback from a thread with its own event loop, so this process can wait for its child."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = web.AppRunner(app, access_log=None)

    async def start() -> int:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return int(runner.addresses[0][1])

    port = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def input_file(target: str, folder: Path) -> list[str]:
    if target == "economic":
        path = folder / "e.csv"
        path.write_text("entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,text\n"
                        "5,1,1,2026-11-01,10.00,DKK,1010,sale\n5,1,1,2026-11-01,-10.00,DKK,5820,vat\n")
        return [str(path)]
    path = folder / "XeroDetails.csv"
    path.write_text("name\nOne\n")
    return [str(path), "--settle-s", "0"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="the big answer's size (default 1024)")
    parser.add_argument("--tree", type=Path, help="run the bulkload sources of this checkout instead")
    args = parser.parse_args()
    print(f"{'case':<36} {'exit':>4} {'server wrote':>13} {'peak RSS':>9} {'wall':>7}  stop reason")
    with tempfile.TemporaryDirectory(prefix="big-answer-") as tmp:
        for i, (target, method, path, announced, label) in enumerate(CASES):
            api = BigAnswer(target, method, path, args.size_mb * MB, announced)
            work = Path(tmp) / str(i)
            work.mkdir()
            with served(api.app) as origin:
                out = bulkload(work, "run", target, *input_file(target, work), "--base-url",
                               origin + PREFIX.get(target, ""), "--attempts", "2", "--window-limit", "0",
                               tree=args.tree)
            reason = str(out.get("stop_reason") or out.get("status", "no report"))
            print(f"{label:<36} {out['exit']:>4} {api.written / MB:>10,.0f} MB {out['peak_rss_mb']:>6.0f} MB "
                  f"{out['wall_s']:>6.1f}s  {reason[:150]}", flush=True)


if __name__ == "__main__":
    main()
