"""Hostile files: memory and time stay bounded, and the exit code says what happened.

    python -m benchmarks.bounded [--gib 1] [--long-mb 100]

Generates, into benchmarks/data/ (once): a gzip file expanding to --gib GiB of one line, gzip files expanding to
--gib GiB of blank lines (JSONL, and CSV after a header), a plain CSV of 1,000 e-conomic entries with --gib GiB of
blank lines amid them, and a JSONL file of 1,000 entries with one --long-mb MB line among them. Each is loaded
with `bulkload load economic` as a child process, once with --dry-run and once against the e-conomic sandbox; the
table shows the exit code, the wall time and the peak RSS of the whole process tree (loader and planner child,
/proc sampled every 20 ms); what the run said goes to the terminal.
Expected: the bombs are refused before anything is sent (exit 2); the plain file loads whole (exit 0); the long
line is rejected with its voucher (exit 1), everything else loads.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import DATA, bulkload, data_file, sandbox

_MIB = 1 << 20


def _gzip(path: Path, blocks: Callable[[], Any]) -> Path:
    """`path` written once, gzip (level 9) of the byte blocks `blocks()` yields."""
    if not path.exists():
        print(f"  generating {path.name} ...", flush=True)
        DATA.mkdir(exist_ok=True)
        packer = zlib.compressobj(9, zlib.DEFLATED, 31)
        draft = path.with_name(path.name + ".part")
        with open(draft, "wb") as out:
            for block in blocks():
                out.write(packer.compress(block))
            out.write(packer.flush())
        draft.replace(path)
    return path


def bombs(gib: float) -> list[tuple[str, Path]]:
    """Gzip files expanding to `gib` GiB: of one line; of blank lines (JSONL); of blank lines after a CSV header."""
    size = int(gib * (1 << 30))
    one = _MIB * b"x"
    blank = _MIB * b"\n"
    return [
        (
            f"gzip: {gib} GiB of one line",
            _gzip(DATA / f"bomb-line-{gib}g.jsonl.gz", lambda: [*([one] * (size // _MIB)), b"\n"]),
        ),
        (
            f"gzip: {gib} GiB of blank lines (JSONL)",
            _gzip(DATA / f"bomb-blank-{gib}g.jsonl.gz", lambda: [blank] * (size // _MIB)),
        ),
        (
            f"gzip: {gib} GiB of blank lines (CSV)",
            _gzip(
                DATA / f"bomb-blank-{gib}g.csv.gz",
                lambda: [
                    b"entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber\n",
                    *[blank] * (size // _MIB),
                ],
            ),
        ),
    ]


def blank_run(gib: int) -> Path:
    """A plain CSV of 1,000 entries with `gib` GiB of blank lines between their halves: no bomb, read whole."""
    path = DATA / f"blank-run-{gib}g.csv"
    if not path.exists():
        print(f"  generating {path.name} ...", flush=True)
        lines = data_file("economic", 1000).read_bytes().splitlines(keepends=True)
        draft = path.with_name(path.name + ".part")
        with open(draft, "wb") as out:
            out.writelines(lines[:501])  # the header and 250 whole vouchers
            for _ in range((gib << 30) // _MIB):
                out.write(_MIB * b"\n")
            out.writelines(lines[501:])
        draft.replace(path)
    return path


def long_line(mb: int) -> Path:
    """1,000 entries with one line of `mb` MB (the first line of voucher 251, its text made long) among them."""
    path = DATA / f"long-line-{mb}mb.jsonl"
    if not path.exists():
        print(f"  generating {path.name} ...", flush=True)
        lines = data_file("economic", 1000, fmt="jsonl").read_bytes().splitlines(keepends=True)
        at = len(lines) // 2
        entry = json.loads(lines[at])
        entry["text"] = "x" * (mb * 1_000_000)
        lines[at] = json.dumps(entry).encode() + b"\n"
        path.write_bytes(b"".join(lines))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gib", type=int, default=1, help="GiB the bombs expand to")
    parser.add_argument("--long-mb", type=int, default=100, help="MB of the long line")
    args = parser.parse_args()
    files = [
        *bombs(args.gib),
        (f"plain CSV: 1,000 entries around {args.gib} GiB of blank lines", blank_run(args.gib)),
        (f"JSONL, one {args.long_mb} MB line among 1,000", long_line(args.long_mb)),
    ]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bulkload-bench-") as tmp:
        workdir = Path(tmp)
        for i, (what, path) in enumerate(files):
            size = path.stat().st_size
            rows.append((what, "--dry-run", size, bulkload(workdir, f"d{i}", "economic", str(path), "--dry-run")))
            with sandbox("economic") as box:
                rows.append(
                    (what, "sandbox", size, bulkload(workdir, f"s{i}", "economic", str(path), "--base-url", box.url))
                )
    print("\n| input | run | file | exit | wall | peak RSS (tree) | rows read | loaded | rejected |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for what, how, size, r in rows:
        print(
            f"| {what} | {how} | {size / _MIB:,.1f} MiB | {r['exit']} | {r['wall_s']:.1f} s | "
            f"{r['peak_rss_mb']:.0f} MB | {r.get('rows_read', '-')} | {r.get('loaded', '-')} | "
            f"{r.get('rejected', '-')} |"
        )


if __name__ == "__main__":
    main()
