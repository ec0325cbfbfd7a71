"""Why msgspec and not orjson, and why the GCRA RateMeter and not aiolimiter: the two libraries the original
design named, measured against what bulkload uses, in one run.

    pip install -e '.[bench]' && python -m benchmarks.deps [--out benchmarks/results]

JSON: a real chunk body (500 e-conomic draft entries as the target sends them, amounts with the digits as read)
encoded, and a listing page of 1,000 entries (what reconciliation reads) decoded into the typed records it
compares; orjson is given dicts made in advance and the ``Fragment`` trick for Decimals, and its decode is
followed by ``msgspec.convert`` to the same records, since bulkload needs them typed.
Pacing: 800 request starts at 100/s by 8 workers with the real clock, counted per rolling second (what a server
counts) and per 100 ms (a burst); for the RateMeter, ``AsyncLimiter(100, 1)`` and ``AsyncLimiter(1, 0.01)``.
Writes deps.md into --out.
"""

from __future__ import annotations

import argparse
import bisect
import importlib.metadata
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import msgspec
import orjson
from aiolimiter import AsyncLimiter

from bulkload.meters import RateMeter
from bulkload.sandbox.generate_data import generate_rows
from bulkload.targets.economic import DraftEntry, _Page

RATE = 100.0
STARTS = 800
WORKERS = 8


def chunk(n: int) -> list[DraftEntry]:
    """``n`` generated entries as the target validates them from a CSV (amounts written with two decimals)."""
    rows = [{**r, "amount": f"{r['amount']:.2f}"} for r in generate_rows(n, seed=1)]
    return [msgspec.convert(r, DraftEntry, strict=False) for r in rows]


def page_body(entries: list[DraftEntry]) -> bytes:
    """A listing page as the API answers it: the entries with their numbers, amounts as JSON numbers."""
    items = [{"entryNumber": i, **msgspec.structs.asdict(e)} for i, e in enumerate(entries, 1)]
    items = [{k: v for k, v in item.items() if v is not None} for item in items]
    return msgspec.json.Encoder(decimal_format="number").encode({"items": items, "cursor": "next"})


def best_us(fn: Callable[[], Any], repeat: int = 7, number: int = 20) -> float:
    """The best of ``repeat`` timings of ``number`` calls, per call in microseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - started) / number)
    return min(times) * 1e6


def _decimal_fragment(value: Any) -> orjson.Fragment:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value).encode())
    raise TypeError(type(value))


def json_rows() -> list[list[str]]:
    entries = chunk(500)
    ours = msgspec.json.Encoder(decimal_format="number")
    dicts = [{k: v for k, v in msgspec.structs.asdict(e).items() if v is not None} for e in entries]
    body = ours.encode(entries)
    theirs = orjson.dumps(dicts, default=_decimal_fragment)
    assert theirs == body, "orjson's body differs from the one sent"
    page = page_body(chunk(1000))
    decode = msgspec.json.Decoder(_Page).decode
    typed = decode(page)
    via_orjson = msgspec.convert(orjson.loads(page), _Page)
    written = [str(e.amount) for e in typed.items]
    lost = sum(str(e.amount) != w for e, w in zip(via_orjson.items, written))
    from_dicts = best_us(lambda: orjson.dumps(dicts, default=_decimal_fragment))
    loads_convert = best_us(lambda: msgspec.convert(orjson.loads(page), _Page))
    return [
        [
            f"encode a chunk (500 entries, {len(body):,} bytes)",
            f"{best_us(lambda: ours.encode(entries)):,.0f} µs",
            f"{from_dicts:,.0f} µs (from dicts)",
            "identical bytes",
        ],
        [
            f"decode a listing page (1,000 entries, {len(page):,} bytes) into typed records",
            f"{best_us(lambda: decode(page)):,.0f} µs",
            f"{loads_convert:,.0f} µs (loads + convert)",
            f"orjson reads amounts as floats: {lost:,} of 1,000 lose their digits as written (6116.40 → 6116.4)",
        ],
    ]


async def starts_of(acquire: Callable[[], Awaitable[Any]]) -> list[float]:
    """The start times of STARTS requests by WORKERS workers that each acquire before every start."""
    starts: list[float] = []

    async def worker() -> None:
        while len(starts) < STARTS:
            await acquire()
            starts.append(time.monotonic())

    async with anyio.create_task_group() as tg:
        for _ in range(WORKERS):
            tg.start_soon(worker)
    return sorted(starts)[:STARTS]


def most_in(starts: list[float], window_s: float) -> int:
    """The most starts in any rolling window of ``window_s`` (half open, as a server's counter)."""
    return max(bisect.bisect_left(starts, t + window_s) - i for i, t in enumerate(starts))


def pacing_row(name: str, starts: list[float]) -> list[str]:
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    span = starts[-1] - starts[0]
    return [
        name,
        f"{most_in(starts, 1.0)}",
        f"{most_in(starts, 0.1)}",
        f"{(len(starts) - 1) / span:.1f}/s",
        f"{statistics.median(gaps) * 1000:.1f} ms",
        f"{max(gaps) * 1000:.1f} ms",
    ]


async def pacing_rows() -> list[list[str]]:
    meter = RateMeter(RATE)
    bucket = AsyncLimiter(RATE, 1)
    steady = AsyncLimiter(1, 1 / RATE)

    async def from_bucket() -> None:
        await bucket.acquire()

    async def from_steady() -> None:
        await steady.acquire()

    return [
        pacing_row("bulkload RateMeter(100)", await starts_of(meter.acquire)),
        pacing_row("aiolimiter AsyncLimiter(100, 1)", await starts_of(from_bucket)),
        pacing_row("aiolimiter AsyncLimiter(1, 0.01)", await starts_of(from_steady)),
    ]


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    out = parser.parse_args().out
    json_table = table(["what", "msgspec", "orjson", "note"], json_rows())
    pace_table = table(
        ["meter", "most starts in a rolling 1 s", "most in 100 ms", "mean rate", "median gap", "longest gap"],
        anyio.run(pacing_rows),
    )
    load = os.getloadavg()[0]
    text = f"""# Dependencies: msgspec vs orjson, RateMeter vs aiolimiter

`python -m benchmarks.deps`: orjson {orjson.__version__}, msgspec {msgspec.__version__}, aiolimiter \
{importlib.metadata.version("aiolimiter")}; JSON the best of 7 timings, pacing one run of {STARTS} starts by {WORKERS}
workers at {RATE:.0f}/s with the real clock, on a machine whose load average was {load:.1f} at the end ({os.cpu_count()}
cores).

{json_table}

{pace_table}

What follows: msgspec stays. orjson writes the same bytes only with a Decimal hook (`orjson.Fragment`) from dicts
made in advance, and cannot read a number as a Decimal: reconciliation's exact digits would go through floats.
The RateMeter stays. `AsyncLimiter(100, 1)` lets a full second's calls through at once on an idle bucket;
`AsyncLimiter(1, 0.01)` never bursts but its leaky bucket falls behind the pace it is given, and neither slows
down on a 429. Where a server counts a rolling window, `WindowMeter` bounds each window (a late start followed
by an on-time one can put one call more into a second than the GCRA's average allows, as above).
"""
    out.mkdir(parents=True, exist_ok=True)
    (out / "deps.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
