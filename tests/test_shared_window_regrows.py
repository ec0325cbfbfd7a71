"""HaloPSA's rolling window shared with another integration that stops: the run's share, narrowed by its 429s
(without Retry-After), grows back to the whole window once the other has gone (`WindowMeter`'s probe for room). A
tester (t23a, a HaloPSA of its own from the seeds) saw it grow a call a window: at HaloPSA's 300 per 5 minutes a
share narrowed to 16 took hours to fill a window left empty. Scaled here: 60 calls per rolling second, the other
there first and stopping 1.5 s into the run; judged by what the server counted, not by the clock."""

from __future__ import annotations

from pathlib import Path

import anyio
from conftest import serving
from halo_server import credentials, make_app, records_file, settings, stats

from bulkload import Job, load


async def test_a_share_narrowed_by_another_integration_grows_back_once_it_stops(tmp_path: Path) -> None:
    data = records_file(tmp_path / "XeroDetails.csv", 240)
    server = settings(window_limit=60, retry_after="none", latency_ms=20, other_rate=200, other_for_s=2.5)
    async with serving(make_app(server)) as origin:
        job = Job(
            target="halopsa", files=[str(data)], base_url=origin, ledger=str(tmp_path / "run.sqlite"),
            batch_size=1, window_limit=60, window_s=1.0, concurrency=8,
        )  # fmt: skip
        await anyio.sleep(1.0)  # the other integration was there first: it holds the window
        with anyio.fail_after(60):  # a call a window: ~20 s; the whole window: ~6 s
            report = await load(job, env=credentials(origin))
        seen = await stats(origin)
    assert seen["other_hits"] > 60 and seen.get("429", 0) > 0, "the other integration took no share: proves nothing"
    assert report.loaded == 240
    # once the other had gone, a second held as many of the run's calls as the window takes, or nearly
    assert seen["most_in_window"] >= 0.75 * 60, f"the run's calls the server took, per second: {seen['per_s']}"


async def test_a_share_takes_the_room_another_integration_leaves_when_it_shrinks(tmp_path: Path) -> None:
    # found by tester t24a: the other integration takes 90 % of the window, then 10 % all along. The probe for
    # room found it and met the 429 at its end, and gave all it had found back to the share of before: probing up
    # and back down, window after window, the run took 1.7-2.1 x the least time the room left allows. The share now
    # keeps 90 % of what the probe found. Judged by the server's count: the run's calls per second once the other
    # has shrunk, against the 54 it leaves (before: 9-54 a second, 18.2 s for what now takes 9.3 s)
    data = records_file(tmp_path / "XeroDetails.csv", 400)
    server = settings(
        window_limit=60, retry_after="none", latency_ms=20, count_rejected=True,  # a 429 costs a place too
        other_rate=54, other_for_s=2.0, other_then_rate=6,
    )  # fmt: skip
    async with serving(make_app(server)) as origin:
        job = Job(
            target="halopsa", files=[str(data)], base_url=origin, ledger=str(tmp_path / "run.sqlite"),
            batch_size=1, window_limit=60, window_s=1.0, concurrency=8,
        )  # fmt: skip
        await anyio.sleep(1.0)  # the other integration was there first, at 90 % of the window
        with anyio.fail_after(60):
            report = await load(job, env=credentials(origin))
        seen = await stats(origin)
    assert seen.get("429", 0) > 0, "the other integration took no share: proves nothing"
    assert report.loaded == 400
    settled = seen["per_s"][3:-1]  # the other at 6/s for two seconds, its 54/s out of the window: 54 left
    assert sum(settled) / len(settled) >= 0.8 * 54, f"the run's calls the server took, per second: {seen['per_s']}"
