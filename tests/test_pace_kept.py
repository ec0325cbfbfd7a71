"""The pace 429s found where none was set (no --rate) is kept for the next command against the same API (tester
t50a): a reconcile after its load started unpaced, its walk's ranges let go together, and met 429s a burst a second
(24-40 % of its calls at a server of 20 a second, each spending the daily quota). Where a 429 came unpaced, the pace
is cut from the calls sent in the second before it, not from a burst's pace of thousands a second. Judged by what
the sandbox answered (the report's 429 count), bounded in rows and time; and on the rate meter alone."""

from __future__ import annotations

import json
import time
from pathlib import Path

from conftest import run_bulkload, spawn_sandbox, write_entries

from bulkload.meters import RateMeter


def test_a_pace_429s_found_is_kept_and_a_set_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "pace.json"
    found = RateMeter(None)
    found.on_rate_limited(1.0)  # a 429: the pace cut
    cut = found.rate
    found.on_success()  # and raised since: the cut one is kept, below what the server took
    found.keep(path)
    started = RateMeter(None)
    started.restore(path)
    assert started.rate == cut and cut is not None and started.interval_s() > 0
    RateMeter(40.0).restore(path)  # a pace set is the user's: nothing kept replaces it
    configured = RateMeter(40.0)
    configured.restore(path)
    assert configured.rate == 40.0
    path.write_text(json.dumps({"rate": 17.5, "at": time.time() - RateMeter.KEPT_S - 1}))
    stale = RateMeter(None)
    stale.restore(path)
    assert stale.rate is None  # too old: the server may take more now
    RateMeter(None).keep(path)  # unpaced at its end (the pace no longer bound): nothing kept
    assert not path.exists()


def test_a_reconcile_after_a_load_that_met_429s_starts_at_the_pace_they_found(tmp_path: Path) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 1500)
    sandbox = spawn_sandbox("--rate-limit", "20", "--page-size", "50")
    try:
        ledger = str(tmp_path / "run.sqlite")
        common = ["--no-progress", "-q"]
        loaded = run_bulkload(
            tmp_path, "load", "economic", str(data), "--base-url", sandbox.url, "--ledger", ledger,
            "--batch-size", "50", "--report", str(tmp_path / "load.json"), *common,
        )  # fmt: skip
        assert loaded.returncode == 0, loaded.stderr
        load = json.loads((tmp_path / "load.json").read_text())
        assert load["rate_limited"] > 0  # it found the server's pace by its 429s
        again = run_bulkload(tmp_path, "reconcile", "--ledger", ledger, "--report", str(tmp_path / "r.json"), *common)
        assert again.returncode == 0, again.stderr
        walked = json.loads((tmp_path / "r.json").read_text())
        # 60 pages and its counts: unpaced, its ranges let go together met a burst of 429s (6 of 67 calls)
        assert walked["requests"] >= 60 and walked["rate_limited"] <= 1, walked
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
