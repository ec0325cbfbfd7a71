"""``python -m bulkload.sandbox economic --port 0`` — the same as ``bulkload sandbox economic``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bulkload.sandbox import TARGETS, add_arguments, options_from_args, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bulkload.sandbox", description=__doc__)
    parser.add_argument("target", choices=sorted(TARGETS))
    add_arguments(parser)
    ns = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(ns.target, options_from_args(ns), ns.host, ns.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
