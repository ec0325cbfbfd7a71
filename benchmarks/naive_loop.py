"""The plain asyncio script a user would write instead of bulkload, as a benchmark comparator.

    python -m benchmarks.naive_loop FILE --base-url URL [--concurrency 8]

It stands for "what you would write yourself" to push an e-conomic CSV into ``POST /draft-entries/bulk``:
``csv.DictReader`` over the file, empty cells dropped, the number columns converted with ``int()`` and
``float()``, chunks of 500 rows, one ``aiohttp.ClientSession``, an ``asyncio.Semaphore`` bounding the
requests in flight (default 8), every chunk sent as an asyncio task and gathered at the end. A chunk that
meets a 5xx, a dropped connection or a timeout is retried up to 3 times after a short sleep and then
counted as failed; a 4xx is counted as failed at once. There is no validation, no idempotency key, no
ledger and no reconciliation, so a call whose answer is lost after the server committed it is simply
sent again (see ``benchmarks.tally`` for counting what that costs).

The file is streamed: the reader only runs ahead of the requests by the chunks the semaphore lets
through, so a million rows need no more memory than ``concurrency`` chunks. Prints one JSON object:
``rows, chunks, requests, retries, failed_chunks, failed_rows, wall_s, rows_per_s``. Any non-empty token
pair works against the sandbox; against the real API set ECONOMIC_APP_SECRET_TOKEN and
ECONOMIC_AGREEMENT_GRANT_TOKEN.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp

CHUNK_SIZE = 500
RETRIES = 3
RETRY_SLEEP_S = 0.5
TIMEOUT_S = 60
INT_FIELDS = frozenset(
    {
        "entryTypeNumber",
        "journalNumber",
        "voucherNumber",
        "accountNumber",
        "contraAccountNumber",
        "customerNumber",
        "supplierNumber",
        "projectNumber",
        "costTypeNumber",
        "supplierPaymentType",
    }
)
FLOAT_FIELDS = frozenset({"amount", "exchangeRate"})


def to_entry(row: dict[str, Any]) -> dict[str, Any]:
    """A row as a draft entry: empty cells (and None) left out, numbers converted."""
    entry: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or value == "":
            continue
        if key in INT_FIELDS:
            entry[key] = int(value)
        elif key in FLOAT_FIELDS:
            entry[key] = float(value)
        else:
            entry[key] = value
    return entry


def read_chunks(path: Path, size: int = CHUNK_SIZE) -> Iterator[list[dict[str, Any]]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        chunk: list[dict[str, Any]] = []
        for row in csv.DictReader(f):
            chunk.append(to_entry(row))
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


async def post_chunk(
    session: aiohttp.ClientSession, url: str, chunk: list[dict[str, Any]], stats: dict[str, int]
) -> bool:
    """POST one chunk; True once the API answered 2xx, False after a 4xx or when the retries ran out."""
    for attempt in range(RETRIES + 1):
        if attempt:
            stats["retries"] += 1
            await asyncio.sleep(RETRY_SLEEP_S)
        stats["requests"] += 1
        try:
            async with session.post(url, json=chunk) as resp:
                if resp.status < 300:
                    await resp.read()
                    return True
                if resp.status < 500:
                    print(f"chunk refused: {resp.status} {await resp.text()}", file=sys.stderr)
                    return False
        except (aiohttp.ClientError, TimeoutError):  # ServerDisconnectedError is a ClientError
            pass
    return False


async def run(path: Path, base_url: str, concurrency: int = 8) -> dict[str, Any]:
    headers = {
        "X-AppSecretToken": os.environ.get("ECONOMIC_APP_SECRET_TOKEN", "naive-secret"),
        "X-AgreementGrantToken": os.environ.get("ECONOMIC_AGREEMENT_GRANT_TOKEN", "naive-grant"),
    }
    url = base_url.rstrip("/") + "/draft-entries/bulk"
    stats = {"requests": 0, "retries": 0}
    sem = asyncio.Semaphore(concurrency)
    started = time.perf_counter()
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as session:

        async def send(chunk: list[dict[str, Any]]) -> tuple[int, bool]:
            try:
                return len(chunk), await post_chunk(session, url, chunk, stats)
            finally:
                sem.release()

        tasks = []
        for chunk in read_chunks(path):
            await sem.acquire()  # read no further ahead than there is room to send
            tasks.append(asyncio.create_task(send(chunk)))
        results = await asyncio.gather(*tasks)
    wall = time.perf_counter() - started
    rows = sum(n for n, _ in results)
    return {
        "rows": rows,
        "chunks": len(results),
        "requests": stats["requests"],
        "retries": stats["retries"],
        "failed_chunks": sum(1 for _, ok in results if not ok),
        "failed_rows": sum(n for n, ok in results if not ok),
        "wall_s": round(wall, 3),
        "rows_per_s": round(rows / wall) if wall else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--base-url", required=True, help="API root, e.g. the sandbox's URL")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.file, args.base_url, args.concurrency))))


if __name__ == "__main__":
    main()
