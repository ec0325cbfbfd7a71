"""What the ledger costs per chunk, SQLite file against PostgreSQL schema (a throwaway local server, from
bulkload.sandbox.postgres): each chunk written `sending` (its key and groups) then `done` (its ids), then the
figures reconciliation asks for.

    python -m benchmarks.bench_ledger_pg [--chunks 2000] [--rows 100]

Needs the PostgreSQL server binaries and psycopg (the `postgres` extra).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bulkload.ledger import Ledger, RunInfo
from bulkload.model import GroupInfo
from bulkload.sandbox.postgres import create_database, running


def measure(where: str, chunks: int, rows: int) -> tuple[float, float]:
    """(ms per chunk for sending + done, s for rows_by_kind + group_counts + figures) of one new ledger."""
    ledger = Ledger.create(where, RunInfo(target="economic", base_url="http://x", files=[], key_prefix="k"))
    lines = list(range(2, 2 + rows))
    groups = [GroupInfo(f"v{i}", 2, 0, 500, 0, i) for i in range(rows // 2)]
    started = time.perf_counter()
    for seq in range(1, chunks + 1):
        ledger.sending(seq, "", 0, f"k-{seq}", lines, "h", {seq // 60: seq}, groups)
        ids = [seq * 1000 + i for i in range(rows)]
        ledger.done(seq, "", 0, lines, ids, {"1": {"DKK": [rows, 0, 5]}}, {seq // 60: seq})
    per_chunk_ms = (time.perf_counter() - started) * 1e3 / chunks
    started = time.perf_counter()
    ledger.rows_by_kind()
    ledger.group_counts()
    ledger.figures()
    figures_s = time.perf_counter() - started
    ledger.close()
    return per_chunk_ms, figures_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=100)
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sqlite = measure(str(Path(folder) / "l.sqlite"), ns.chunks, ns.rows)
    with running() as server:
        postgres = measure(create_database(server.url, "bench") + "?ledger=bench", ns.chunks, ns.rows)
    print(f"{ns.chunks} chunks x {ns.rows} rows, sending + done each; then the figures over {ns.chunks * ns.rows} rows")
    for name, (per_chunk_ms, figures_s) in (("sqlite", sqlite), ("postgresql", postgres)):
        print(f"{name:>10}: {per_chunk_ms:.2f} ms a chunk, figures {figures_s:.2f} s")


if __name__ == "__main__":
    main()
