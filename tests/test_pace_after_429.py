"""Pacing after a 429 where no window explains it (tester t32c, issue 15): a server that spaces calls strictly (a
token bucket of 10/s with a burst of 1) meets a 429 now and then at --rate 10, and the pace is kept, the spacing
widened a little; a `Retry-After: 0` cuts the pace once a round trip, not once a 429. Judged by what the tester's
own server (tests/limiting_servers.py) counted and when it took the calls, bulkload running as a subprocess, bounded in
rows and time; and on the rate meter alone, on a clock of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from limiting_servers import Limiter, Server, entries_csv

from bulkload.meters import RateMeter

TIMEOUT_S = 120


def _load(server: Server, tmp: Path, n: int, *flags: str) -> list[float]:
    """Load `n` Visma Core entries into `server` with `flags`; returns when the server took each entry (its clock)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).parent.parent),
        "XDG_CACHE_HOME": str(tmp / "cache"),
        "VISMA_CORE_TOKEN": "vc-token",
    }
    server.tokens["vc-token"] = float("inf")
    data = entries_csv(tmp / "entries.csv", n)
    command = [sys.executable, "-m", "bulkload", "load", "visma-core", str(data), "--base-url", server.url]
    command += ["--ledger", str(tmp / "l.db"), *flags]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    took = sorted(h.t for h in server.hits if h.status == 200 and "Entries" in h.path)
    assert len(took) == len(server.entries) == n
    assert len({e["Description"] for e in server.entries}) == n  # none created twice
    return took


def test_a_429_from_a_server_that_spaces_calls_strictly_keeps_the_pace(tmp_path: Path) -> None:
    """10 calls/s with a burst of 1 (calls at least 100 ms apart), Retry-After in whole seconds; --rate 10. The
    calls leave 100 ms apart and arrive a ms or two closer now and then: a 429 is the clocks'. It was taken for a
    share of the rate's window, which narrowed to 1-2 calls, and the calls left in pairs after each pause: 50 429s
    and 56 s for 60 rows. Now the spacing widens a little (5 % at most): 1-2 429s, 3.1-3.3 s for 30 rows."""
    n = 30
    with Server({"*": Limiter("bucket", 10, burst=1.0)}, retry_after="int") as server:
        took = _load(server, tmp_path, n, "--rate", "10")
        refused = server.count(429)
    assert refused <= n // 10, f"{refused} 429s for {n} rows: the pace collapsed after a 429"
    assert took[-1] - took[0] <= 1.5 * (n - 1) / 10, took[-1] - took[0]


def test_retry_after_0_cuts_the_pace_once_a_round_trip_and_finds_the_servers(tmp_path: Path) -> None:
    """10 calls per rolling second, 429s with `Retry-After: 0`; no --rate, 8 calls at once. A pause of 0 s never
    told the 429s of the calls in flight apart, so each cut the pace by 30 % again, to the 0.2/s floor: 41-44 s for
    60 rows. A Retry-After of 0 ("now", which it was not) now backs off as none does, and only a call that started
    after the last cut cuts again: ~6.7 s for 40 rows, 3-4 s the least (4 x allowed, the server's clock)."""
    n = 40
    with Server({"*": Limiter("rolling", 10, 1.0)}, retry_after="zero") as server:
        took = _load(server, tmp_path, n, "--concurrency", "8")
    least_s = (n - 1) // 10
    assert took[-1] - took[0] <= 4 * (least_s + 1), f"{n} entries over {took[-1] - took[0]:.1f} s"


def test_the_429s_of_calls_that_started_before_a_cut_cut_nothing() -> None:
    """Retry-After: 0 sets no pause: the 429s of the 8 calls in flight at the first cut lower the pace once, and a
    call that started after it lowers it again (once a round trip). Before, 8 429s took 10/s to 10 x 0.7^8."""
    now = [100.0]
    meter = RateMeter(10.0, clock=lambda: now[0])
    starts = [now[0] - i / 10 for i in range(8)]
    assert meter.on_rate_limited(0.0, starts[0]) == pytest.approx(meter.BACKOFF_S)  # "now" was not: the back-off
    now[0] += 0.3
    for started in starts[1:]:
        assert meter.on_rate_limited(0.0, started) == 0.0
    assert meter.rate == pytest.approx(7.0)
    meter.on_rate_limited(0.0, now[0] - 0.01)
    assert meter.rate == pytest.approx(7.0 * 0.7)


def test_calls_a_slow_answer_held_leave_spaced_at_a_server_that_spaces_calls_strictly(tmp_path: Path) -> None:
    """5 calls/s with a burst of 1 (calls at least 200 ms apart), no Retry-After, answers taking 0-1.5 s; --rate 5.
    The rate's own window places each call by when its answer came, so slow answers hold calls past their slots,
    and the calls it let go together left at once: tester t61b's server of the same kind refused 55 of 133 calls
    (arriving 1 ms apart), and the load took 60 s for 3,000 rows; this one 16 of 46 (calls 6 ms apart). Such a
    429 says the server spaces calls strictly: from then on every call leaves an interval after the one before."""
    n = 30
    with Server({"*": Limiter("bucket", 5, burst=1.0)}, retry_after=None, latency_spread_s=1.5) as server:
        took = _load(server, tmp_path, n, "--rate", "5")
        refused = sorted(h.t for h in server.hits if h.status == 429)
        arrived = sorted(h.t for h in server.hits if "Entries" in h.path)
    assert len(refused) <= 3, f"{len(refused)} 429s for {n} rows"
    since = [t for t in arrived if not refused or t > refused[-1]]
    gaps = sorted(b - a for a, b in zip(since, since[1:]))
    # after the last 429, none closer than the spacing less what a busy machine's loop may add to one write
    assert gaps[0] >= 0.75 / 5, f"calls {gaps[:3]} s apart after the spacing was learned"
    assert took[-1] - took[0] <= 3 * (n - 1) / 5, took[-1] - took[0]
