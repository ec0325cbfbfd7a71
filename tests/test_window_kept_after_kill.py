"""HaloPSA's rolling window outlives a `kill -9`: the calls a run makes in it are kept in the user's cache as they
leave (at most a second apart, and as the window fills), not only as the process ends, so a resume right after the
kill (the documented way on) counts them and waits for their places. Before (a tester, t23a, with a HaloPSA of its
own from the seeds) a killed run left none: the resume met the killed run's calls as a 429 at once, took them for
another integration's, narrowed its share to the 1-2 calls it held and grew it back a call a window: seen at 30 per
15 s, 12 of 72 records in 74 s (at HaloPSA's 300 per 5 minutes: hours). Here: 10 calls per 2 s, 40 records."""

from __future__ import annotations

from pathlib import Path

from conftest import bulkload_cmd, child_env, serving
from halo_server import credentials, killed_when_full, make_app, records_file, settings, stats, within


async def test_a_resume_right_after_a_kill_counts_the_killed_runs_window(tmp_path: Path) -> None:
    data = records_file(tmp_path / "XeroDetails.csv", 40)
    ledger = tmp_path / "run.sqlite"
    async with serving(make_app(settings(window_limit=10, window_s=2.0, retry_after="none", latency_ms=10))) as origin:
        env = child_env(credentials(origin))
        await killed_when_full(
            bulkload_cmd(
                "load", "halopsa", str(data), "--base-url", origin, "--batch-size", "1", "--concurrency", "4",
                "--window-limit", "10", "--window-s", "2", "--settle-s", "0.2", "--ledger", str(ledger),
                "--no-progress",
            ),
            env,
            origin,
        )  # fmt: skip
        code, out = await within(bulkload_cmd("resume", "--ledger", str(ledger), "--no-progress"), env, 60)
        seen = await stats(origin)
    assert code == 0 and seen["records"] == 40, out
    # the server's window held the killed run's calls when the resume began: counted, none of the resume's met them
    assert seen.get("429", 0) == 0, f"calls the server took per second {seen['per_s']}, 429s {seen.get('429')}\n{out}"
