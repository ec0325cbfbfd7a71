"""Local aiohttp apps that behave like the accounting APIs (auth, limits, 429, faults, cursors, counts,
idempotency, validation errors): for tests, benchmarks and ``bulkload demo``.

    async with running("economic", SandboxOptions(rate_limit=20)) as base_url:
        ...  # base_url == "http://127.0.0.1:PORT/journalsapi/v11.0.2"
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web

from bulkload.sandbox.common import SandboxOptions, add_arguments, options_from_args

__all__ = ["TARGETS", "SandboxOptions", "add_arguments", "build_app", "options_from_args", "running", "serve"]


def _economic(options: SandboxOptions) -> tuple[web.Application, str]:
    from bulkload.sandbox.economic import create_app
    from bulkload.sandbox.economic_web import PREFIX

    return create_app(options), PREFIX


def _visma_core(options: SandboxOptions) -> tuple[web.Application, str]:
    from bulkload.sandbox.visma_core import create_app

    return create_app(options), ""


def _payorcrm(options: SandboxOptions) -> tuple[web.Application, str]:
    from bulkload.sandbox.payorcrm import create_app

    return create_app(options), ""


def _halopsa(options: SandboxOptions) -> tuple[web.Application, str]:
    from bulkload.sandbox.halopsa import create_app

    return create_app(options), ""


#: target name → (app factory returning the app and the API's path prefix)
TARGETS: dict[str, Callable[[SandboxOptions], tuple[web.Application, str]]] = {
    "economic": _economic,
    "visma-core": _visma_core,
    "payorcrm": _payorcrm,
    "halopsa": _halopsa,
}


def _lookup(target: str) -> Callable[[SandboxOptions], tuple[web.Application, str]]:
    try:
        return TARGETS[target]
    except KeyError:
        raise KeyError(f"no sandbox for {target!r} (have: {', '.join(sorted(TARGETS))})") from None


def build_app(target: str, options: SandboxOptions) -> web.Application:
    """The sandbox app for ``target`` (KeyError for a target without a sandbox)."""
    return _lookup(target)(options)[0]


@asynccontextmanager
async def running(
    target: str,
    options: SandboxOptions | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    agreements: bool = False,
) -> AsyncIterator[str]:
    """Serve the sandbox on ``host:port`` (0 = a free port) while the block runs; yields the base URL.
    ``agreements``: a sandbox of its own for each agreement (sandbox/agreements.py; KeyError for a target whose
    agreements no header tells apart)."""
    make = _lookup(target)
    app, prefix = make(options or SandboxOptions())
    if agreements:
        from bulkload.sandbox.agreements import agreement_options, create_app

        given = options or SandboxOptions()
        app = create_app(target, lambda agreement: make(agreement_options(given, agreement))[0])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        yield f"http://{host}:{bound}{prefix}"
    finally:
        await runner.cleanup()


async def serve(
    target: str, options: SandboxOptions, host: str = "127.0.0.1", port: int = 0, *, agreements: bool = False
) -> None:
    """Run the sandbox until cancelled, announcing the base URL on one stdout line for whoever spawned it."""
    async with running(target, options, host, port, agreements=agreements) as base_url:
        print(f"sandbox {target} listening on {base_url}", flush=True)
        await asyncio.Event().wait()
