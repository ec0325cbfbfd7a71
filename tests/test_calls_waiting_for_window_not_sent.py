"""A call waiting for its place in HaloPSA's rolling window has not left: the ledger has it `pending` until it
takes its place and leaves, so a `kill -9` during that wait (a 300-per-5-minutes window holds calls minutes: when a
user kills) leaves it not sent, and the resume sends it at once. Before (a tester, t23a, with a HaloPSA of its own
from the seeds), the ledger had such calls `sending`: the resume said of each "the ledger has its call as sent … it
may have arrived", though the server never received it, and waited the settle delay (HaloPSA: 120 s) to look it
up first; seen: 28 POSTs received, 28 chunks done and 8 more `sending`. Here: 20 records, a window of 10 per 2.5 s,
killed while the window is full."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import bulkload_cmd, child_env, serving
from halo_server import credentials, killed_when_full, make_app, records_file, settings, stats, within


async def test_calls_waiting_for_a_window_slot_are_not_recorded_as_sent(tmp_path: Path) -> None:
    data = records_file(tmp_path / "XeroDetails.csv", 20)
    ledger = tmp_path / "run.sqlite"
    async with serving(make_app(settings(window_limit=10, window_s=2.5, latency_ms=10))) as origin:
        env = child_env(credentials(origin))
        await killed_when_full(
            bulkload_cmd(
                "load", "halopsa", str(data), "--base-url", origin, "--batch-size", "1", "--concurrency", "4",
                "--window-limit", "10", "--window-s", "2.5", "--ledger", str(ledger), "--no-progress",
            ),
            env,
            origin,
        )  # fmt: skip
        received = (await stats(origin))["records"]  # one per POST the server received, each answered
        with sqlite3.connect(ledger) as db:
            states = dict(db.execute("SELECT state, count(*) FROM chunks GROUP BY state").fetchall())
        sent = states.get("sending", 0) + states.get("done", 0)
        assert sent <= received, f"the ledger has {states}: {sent} calls as sent, the server received {received}"
        # 12 records left, 10 per 2.5 s: seconds, unless the resume waits the settle delay (120 s) on calls in doubt
        code, out = await within(bulkload_cmd("resume", "--ledger", str(ledger), "--no-progress"), env, 60)
    assert code == 0, out
    assert "may have arrived" not in out, out
