"""The benchmark data generator and the e-conomic sample: balanced adjacent vouchers, exact counts,
bad rows where asked, and the sandbox accepting every good row and refusing the bad ones."""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bulkload.sandbox import generate_data as gen
from bulkload.sandbox.economic import create_app
from bulkload.sandbox.economic_web import PREFIX

ROOT = Path(__file__).resolve().parent.parent
AUTH = {"X-AppSecretToken": "app-secret", "X-AgreementGrantToken": "grant-1"}
INTS = {"entryTypeNumber", "journalNumber", "voucherNumber", "accountNumber", "contraAccountNumber",
        "customerNumber", "supplierNumber"}  # fmt: skip
FLOATS = {"amount", "exchangeRate"}


def test_counts_are_exact_and_vouchers_balance_and_stay_adjacent() -> None:
    for n in (1, 2, 3, 5, 999):
        assert sum(1 for _ in gen.generate_rows(n, seed=n)) == n
    rows = list(gen.generate_rows(3000, seed=4))
    seen: list[tuple[int, int]] = []
    totals: Counter[tuple[int, int]] = Counter()
    for row in rows:
        key = (row["journalNumber"], row["voucherNumber"])
        if not seen or seen[-1] != key:
            seen.append(key)
        totals[key] += round(row["amount"] * 100)
    assert len(seen) == len(set(seen)), "a voucher's lines are not adjacent"
    assert not [key for key, cents in totals.items() if cents], "unbalanced vouchers"
    assert {r["entryTypeNumber"] for r in rows} == {2, 3, 5}
    assert {r["journalNumber"] for r in rows} == {1, 2, 3}
    assert Counter(r["currency"] for r in rows).most_common(1)[0][0] == "DKK"
    assert all(r["date"].startswith("2026-11-") for r in rows)
    assert all("supplierNumber" in r or r["entryTypeNumber"] != 3 or r["accountNumber"] != 6900 for r in rows)


def test_bad_every_spoils_exactly_those_rows(tmp_path: Path) -> None:
    out = tmp_path / "rows.jsonl.gz"
    assert gen.write_file(out, 50, fmt="jsonl", compress=True, bad_every=10, seed=1) == 50
    with gzip.open(out, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    spoiled = [rows[i] for i in (9, 19, 29, 39, 49)]
    assert spoiled[0]["accountNumber"] == 9999
    assert "amount" not in spoiled[1]
    assert spoiled[2]["entryTypeNumber"] == 7
    assert spoiled[3]["date"] == "2026-02-30"
    assert len(spoiled[4]["text"]) > 250


def read_sample(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(file line, entry) for every data row, typed as a loader would type it."""
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for line, raw in enumerate(csv.DictReader(f), start=2):
            typed = {k: int(v) if k in INTS else float(v) if k in FLOATS else v for k, v in raw.items() if v}
            rows.append((line, typed))
    return rows


async def test_sample_is_accepted_except_its_bad_rows() -> None:
    rows = read_sample(ROOT / "bulkload" / "samples" / "economic" / "entries.csv")
    assert len(rows) == 3000
    client = TestClient(TestServer(create_app()), timeout=aiohttp.ClientTimeout(total=30))
    await client.start_server()
    try:
        refused: dict[int, str] = {}
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            resp = await client.post(f"{PREFIX}/draft-entries/bulk", json=[e for _, e in chunk], headers=AUTH)
            if resp.status == 400:
                body = await resp.json(content_type=None)
                bad = {chunk[item["index"]][0]: item["errorCode"] for item in body["errors"]}
                refused.update(bad)
                good = [e for line, e in chunk if line not in bad]
                resp = await client.post(f"{PREFIX}/draft-entries/bulk", json=good, headers=AUTH)
            assert resp.status == 201
        assert refused == {
            401: "JournalEntryAccountNotFound",
            801: "JournalEntryEitherAmountsNotSet",
            1201: "JournalEntryTypeNotCorrect",
            1601: "InvalidDate",
            2001: "JournalEntryTextTooLong",
            2401: "JournalEntryAccountNotFound",
            2801: "JournalEntryEitherAmountsNotSet",
        }
        count = await client.get(f"{PREFIX}/draft-entries/count", headers=AUTH)
        assert await count.json() == 3000 - len(refused)
    finally:
        await client.close()


def _sample_commands() -> list[tuple[str, list[str]]]:
    """Each shipped sample with the generator's arguments its README says made it."""
    found = []
    for readme in sorted((ROOT / "bulkload" / "samples").glob("*/README.md")):
        for command in re.findall(r"python -m bulkload\.sandbox\.generate_data ([^`\n]+)", readme.read_text()):
            *args, out = shlex.split(command)
            found.append((out, args))
    return found


@pytest.mark.parametrize(("sample", "args"), _sample_commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_each_shipped_sample_is_what_its_readme_command_makes(sample: str, args: list[str], tmp_path: Path) -> None:
    # the samples' READMEs count their rejects from the generator's bad rows: a sample edited by hand (or a generator
    # changed without regenerating them) would make those counts, and the demo's, say something the file does not
    made = tmp_path / Path(sample).name
    assert gen.main([*args, str(made)]) == 0
    assert made.read_bytes() == (ROOT / sample).read_bytes(), f"{sample} is not what its README's command makes"


def test_every_sample_file_has_its_command() -> None:
    shipped = {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "bulkload" / "samples").glob("*/*") if p.name != "README.md"
    }
    assert shipped == {out for out, _ in _sample_commands()}


def test_a_generation_stopped_with_ctrl_c_leaves_no_file_that_looks_whole(tmp_path: Path) -> None:
    """Found by a tester: Ctrl-C in `generate_data --rows 1000000 big.csv` printed a traceback and left big.csv
    holding the first ~150,000 rows, whole lines, at its name: a load of it then loaded a seventh of what was asked
    for, exit 0. Now the rows go to a partial file beside it, moved into place only once all are written."""
    out = tmp_path / "big.csv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bulkload.sandbox.generate_data", "--rows", "5000000", "--seed", "1", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size > 0 for p in tmp_path.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)  # writing has begun
        os.kill(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr and f"{out} was not written" in stderr, stderr
    assert list(tmp_path.iterdir()) == [], list(tmp_path.iterdir())  # neither big.csv nor the partial file
