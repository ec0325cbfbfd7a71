"""HaloPSA's rolling window shared with another integration that stops, shrinks, or comes and goes: the run's share,
narrowed by its 429s (without Retry-After), grows back to the room the other leaves (`WindowMeter`'s probe for
room). A tester (t23a, a HaloPSA of its own from the seeds) saw it grow a call a window: at HaloPSA's 300 per 5
minutes a share narrowed to 16 took hours to fill a window left empty. Scaled here: 60 calls per rolling second,
the other there first; judged by what the server counted, not by the clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import serving
from halo_server import credentials, make_app, records_file, settings, stats

from bulkload import Job, load


async def _loaded_beside_another(tmp_path: Path, records: int, timeout_s: float, **server: object) -> dict[str, Any]:
    """Load `records` XeroDetails through the test server's rolling window of 60 calls per second (no Retry-After,
    20 ms latency, `server`'s other integration), a second after the other began; the server's stats."""
    data = records_file(tmp_path / "XeroDetails.csv", records)
    async with serving(make_app(settings(window_limit=60, retry_after="none", latency_ms=20, **server))) as origin:
        job = Job(
            target="halopsa", files=[str(data)], base_url=origin, ledger=str(tmp_path / "run.sqlite"),
            batch_size=1, window_limit=60, window_s=1.0, concurrency=8,
        )  # fmt: skip
        await anyio.sleep(1.0)  # the other integration was there first
        with anyio.fail_after(timeout_s):
            report = await load(job, env=credentials(origin))
        seen: dict[str, Any] = await stats(origin)
    assert report.loaded == records
    return seen


async def test_a_share_narrowed_by_another_integration_grows_back_once_it_stops(tmp_path: Path) -> None:
    # the other holds the whole window, and stops; a call a window: ~20 s; the whole window: ~6 s
    seen = await _loaded_beside_another(tmp_path, 240, 60, other_rate=200, other_for_s=2.5)
    assert seen["other_hits"] > 60 and seen.get("429", 0) > 0, "the other integration took no share: proves nothing"
    # once the other had gone, a second held as many of the run's calls as the window takes, or nearly
    assert seen["most_in_window"] >= 0.75 * 60, f"the run's calls the server took, per second: {seen['per_s']}"


async def test_a_share_takes_the_room_another_integration_leaves_when_it_shrinks(tmp_path: Path) -> None:
    # found by tester t24a: the other integration takes 90 % of the window, then 10 % all along. The probe for
    # room found it and met the 429 at its end, and gave all it had found back to the share of before: probing up
    # and back down, window after window, the run took 1.7-2.1 x the least time the room left allows. The share now
    # keeps 90 % of what the probe found. Judged by the server's count: the seconds it took the run's calls in
    # (before: 9-54 a second, 18.2 s for what now takes 9.3-11 s)
    seen = await _loaded_beside_another(
        tmp_path, 400, 60, count_rejected=True, other_rate=54, other_for_s=2.0, other_then_rate=6
    )  # a 429 costs a place too
    assert seen.get("429", 0) > 0, "the other integration took no share: proves nothing"
    # issue 15's goal: within 1.5 x the least time the room allows. The other leaves 6 a second for its first two
    # seconds, then 54: (400 - 12) / 54 s more. Judged as a time, not as a rate of the settled seconds: a probe's
    # 429 costs the second it falls in a fifth of the room (a run of 11 s, 1.2 x the least, took 31-55 a second)
    per_s, least_s = seen["per_s"], 2 + (400 - 2 * 6) / 54
    assert len(per_s) <= 1.5 * least_s + 1, f"the run's calls the server took, per second: {per_s}"


@pytest.mark.parametrize("on_s", [2.0, 3.0])
async def test_a_share_follows_another_integration_that_comes_and_goes(tmp_path: Path, on_s: float) -> None:
    # found by tester t25: the other integration takes 54 calls a second for `on_s` seconds, none for as long, and
    # again; the room it leaves averages (6 + 60) / 2 = 33 a second. Every narrowing's 429 restarted the probe's
    # count of quiet windows, a failed probe doubled it up to 8 windows, and the probes that came met the other
    # again: at 2 s on and off the run settled at ~11 calls a second (28 s, 2.2 x the least time); at 3 s the share
    # narrowed by a tenth a window while each of its calls met a 429, ~290 of them for 400 calls. Judged by the
    # server's count: seconds with a call of the run taken, and its 429s (each of which costs a place here)
    seen = await _loaded_beside_another(
        tmp_path, 400, 120, count_rejected=True, other_rate=54, other_for_s=on_s, other_cycle_s=2 * on_s
    )
    assert seen["other_hits"] > 0 and seen.get("429", 0) > 0, "the other integration took no share: proves nothing"
    per_s = seen["per_s"]
    assert len(per_s) <= 1.5 * 400 / 33 + 2, f"the run's calls the server took, per second: {per_s}"
    assert seen["429"] <= 3 * 400 / 10, f"{seen['429']} 429s for 400 calls; per second: {per_s}"
